public import C360Contracts
import C360ServerKit
import C360StoreKit
public import Foundation
public import GRDB
public import GRPCCore
public import Logging
import Metrics
public import ServiceLifecycle
import Synchronization

/// One service's change feed, served to watchers: the `WatchChanges` handler of every service is
/// `try await changes.watch(request, response: response, context: context)`.
///
/// A watch replays the stored events after its position in batches read from the database, then waits for the next
/// commit that appended an event (`AppendObserver`, a transaction observer of inserts into `change_event`) and reads
/// again. Nothing is buffered per watcher: a slow reader holds back only its own next read (each `write` waits for
/// HTTP/2 flow control), so memory stays bounded however far behind it is, and a reader that falls behind simply
/// replays.
///
/// Also a lifecycle `Service`: it prunes events older than the retention, hourly.
public final class ChangeFeed: Service, Sendable {
    /// How many events one response carries at most.
    public static let batchLimit = 500

    private let writer: any DatabaseWriter
    private let retention: Duration
    private let logger: Logger
    private let commits = CommitSignal()
    /// Held here because the writer keeps its observers weakly: the observation lasts as long as the feed.
    private let appends: AppendObserver

    /// The feed in `writer`'s database (migrated with `registerChangeFeed()`), keeping events for `retention`.
    public init(writer: any DatabaseWriter, retention: Duration = .seconds(7 * 86_400), logger: Logger) {
        self.writer = writer
        self.retention = retention
        self.logger = logger
        appends = AppendObserver(commits: commits)
        writer.add(transactionObserver: appends)
    }

    /// Serves one `WatchChanges` call: validates the request, replays, then stays live until the client goes away,
    /// the server drains (`ServerDrain`), or — with `until_caught_up` — the feed is caught up.
    ///
    /// - Throws: INVALID_ARGUMENT for a bad customer id or kind; OUT_OF_RANGE for a position pruned by retention or
    ///   newer than the feed.
    public func watch(
        _ request: Customer360_V1_WatchChangesRequest,
        response: RPCWriter<Customer360_V1_WatchChangesResponse>,
        context: ServerContext
    ) async throws {
        var filter = ChangeFilter()
        if !request.customerID.isEmpty {
            filter.customerID = try Validate.id(request.customerID, field: "customer_id")
        }
        for kind in request.kinds {
            guard case .UNRECOGNIZED = kind else {
                if kind == .unspecified {
                    throw InvalidArgument("kinds", "CHANGE_KIND_UNSPECIFIED is not a kind of change")
                }
                filter.kinds.insert(kind)
                continue
            }
            throw InvalidArgument("kinds", "\(kind) is not a kind of change this version knows")
        }
        guard request.afterSequence <= UInt64(Int64.max) else {
            throw InvalidArgument("after_sequence", "\(request.afterSequence) is beyond any sequence")
        }
        let start = try await startingPoint(request)
        try await ServerDrain.serverStream(context: context) { [self, filter] in
            try await stream(after: start, filter: filter, untilCaughtUp: request.untilCaughtUp, response: response)
        }
    }

    /// Where a watch begins, checked against retention and the head.
    private func startingPoint(_ request: Customer360_V1_WatchChangesRequest) async throws -> Int64 {
        let (head, pruned) = try await writer.read { db in (try ChangeLog.head(db), try ChangeLog.prunedThrough(db)) }
        if request.startAtHead { return head }
        let after = Int64(request.afterSequence)
        if after < pruned {
            throw RPCError(
                code: .outOfRange,
                message: """
                    after_sequence \(after) is older than this feed's retention: events up to \(pruned) were pruned. \
                    Resynchronise from the current state, then watch again with start_at_head (see README, Change feeds).
                    """)
        }
        if after > head {
            throw RPCError(
                code: .outOfRange,
                message: """
                    after_sequence \(after) is newer than this feed's newest event \(head): was the database restored from \
                    an older backup? Resynchronise from the current state, then watch again with start_at_head.
                    """)
        }
        return after
    }

    private func stream(
        after start: Int64, filter: ChangeFilter, untilCaughtUp: Bool,
        response: RPCWriter<Customer360_V1_WatchChangesResponse>
    ) async throws {
        var position = start
        var announced = false
        while true {
            // Read the generation before the batch: a commit after the read changes it, so the wait below returns.
            let generation = commits.generation
            let batch = try await writer.read { [position] db in
                try ChangeLog.batch(db, after: position, filter: filter, limit: Self.batchLimit)
            }
            // Empty batches only announce progress: the first one (so a watcher learns it is caught up), and then
            // only when the position moved past filtered-out events, never more than one per commit.
            if !batch.records.isEmpty || !announced || batch.through > position {
                try await response.write(
                    .with {
                        $0.events = batch.records.map(\.proto)
                        $0.throughSequence = UInt64(batch.through)
                        $0.caughtUp = batch.caughtUp
                    })
                announced = true
            }
            position = batch.through
            if batch.caughtUp {
                if untilCaughtUp { return }
                await commits.wait(past: generation)
            }
        }
    }

    /// Prunes hourly until graceful shutdown.
    public func run() async throws {
        // Ends on graceful shutdown, and on cancellation (the group ending because another member failed).
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await pruneExpired()
            } catch {
                if !Task.isCancelled { logger.warning("change feed pruning failed", metadata: ["error": "\(error)"]) }
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(3_600)) }
        }
    }

    /// Deletes events older than the retention.
    ///
    /// - Returns: How many were deleted.
    @discardableResult
    public func pruneExpired(now: Date = Date()) async throws -> Int {
        let cutoff = now.adding(.zero - retention)
        let deleted = try await writer.write { db in try ChangeLog.prune(db, before: cutoff) }
        if deleted > 0 {
            logger.info("pruned change feed", metadata: ["events": "\(deleted)", "before": "\(cutoff)"])
        }
        return deleted
    }
}

/// Signals `commits` after each committed transaction that inserted into `change_event`.
///
/// In place of GRDB's `DatabaseRegionObservation`: the writer asks every observer about every statement it executes,
/// and a region observer answers by building the statement's region (a set of lower-cased column names) each time.
/// On interaction-service's ingest that was a quarter of the cost of each counter upsert. Asking "an insert into
/// `change_event`?" compares one table name.
private final class AppendObserver: TransactionObserver, Sendable {
    private let commits: CommitSignal
    /// Whether the transaction in progress appended; only the writer's connection touches it, one statement at a time.
    private let appended = Atomic<Bool>(false)

    init(commits: CommitSignal) {
        self.commits = commits
    }

    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool {
        guard case .insert(let table) = eventKind else { return false }
        return table == ChangeRecord.databaseTableName
    }

    func databaseDidChange() {
        appended.store(true, ordering: .relaxed)
        stopObservingDatabaseChangesUntilNextTransaction()
    }

    func databaseDidChange(with event: DatabaseEvent) {
        databaseDidChange()
    }

    func databaseDidCommit(_ db: Database) {
        if appended.exchange(false, ordering: .relaxed) { commits.signal() }
    }

    func databaseDidRollback(_ db: Database) {
        appended.store(false, ordering: .relaxed)
    }
}

/// Wakes watchers when a transaction appended events: a generation number and the continuations waiting past one.
final class CommitSignal: Sendable {
    private struct State {
        var generation: UInt64 = 0
        var nextWaiter = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Mutex(State())

    var generation: UInt64 { state.withLock { $0.generation } }

    func signal() {
        let waiters = state.withLock { state in
            state.generation &+= 1
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once the generation is past `generation`, or at once when the calling task is cancelled.
    func wait(past generation: UInt64) async {
        let id = state.withLock { state in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state in
                    if state.generation != generation || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }
}

import C360StoreKit
public import Foundation
public import GRDB
public import Logging
import Metrics
public import ServiceLifecycle

/// A table of customers waiting for work a change feed asked for (re-read their facts, re-score them), filled inside
/// the feed consumer's transaction so each change is queued exactly once. A customer already queued keeps its due
/// time, so a burst of changes is worked once; an entry is removed only when no change arrived while it was worked.
public struct CustomerQueue: Sendable {
    /// One queued customer.
    public struct Entry: Sendable, Equatable, FetchableRecord, Decodable {
        public var customerId: String
        /// Not before this instant (Unix ms).
        public var dueAt: Int64
        /// How many changes queued it; compared when the entry is finished.
        public var changes: Int64

        public init(customerId: String, dueAt: Int64, changes: Int64) {
            self.customerId = customerId
            self.dueAt = dueAt
            self.changes = changes
        }
    }

    /// The queue's table.
    public let table: String

    public init(table: String) {
        self.table = table
    }

    /// Creates the table; call from the owning service's migrations.
    public func create(_ db: Database) throws {
        try db.create(table: table) { t in
            t.primaryKey("customerId", .text)
            t.column("dueAt", .integer).notNull().indexed()
            t.column("changes", .integer).notNull()
        }
    }

    /// Queues `customerID` to be worked at `due`, or counts one more change if it is queued already.
    public func enqueue(_ db: Database, customerID: String, due: Date) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO \(table) (customerId, dueAt, changes) VALUES (?, ?, 1)
                ON CONFLICT (customerId) DO UPDATE SET changes = changes + 1
                """
        ).execute(arguments: [customerID, due.unixMillis])
    }

    /// Up to `limit` entries due by `now`, earliest first, and the earliest due time of the rest.
    ///
    /// - Parameter excluded: Customers whose entries can be neither worked nor postponed now (fenced by a move): left
    ///   out of both answers, read past rather than handed back again and again ahead of the others. The queue is then
    ///   read whole, which happens only while a move runs.
    public func due(
        _ db: Database, at now: Date, limit: Int, excluding excluded: ((String) -> Bool)? = nil
    ) throws -> (due: [Entry], next: Date?) {
        if let excluded {
            let waiting = try Entry.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY dueAt").filter {
                !excluded($0.customerId)
            }
            return (
                Array(waiting.prefix { $0.dueAt <= now.unixMillis }.prefix(limit)),
                waiting.first.map { Date(unixMillis: $0.dueAt) }
            )
        }
        let due = try Entry.fetchAll(
            db, sql: "SELECT * FROM \(table) WHERE dueAt <= ? ORDER BY dueAt LIMIT ?",
            arguments: [now.unixMillis, limit])
        let next = try Int64.fetchOne(db, sql: "SELECT MIN(dueAt) FROM \(table)")
        return (due, next.map(Date.init(unixMillis:)))
    }

    /// Removes a worked entry unless changes arrived meanwhile; then it is due again at `retryAt`.
    public func finish(_ db: Database, _ entry: Entry, retryAt: Date) throws {
        try db.execute(
            sql: "DELETE FROM \(table) WHERE customerId = ? AND changes = ?",
            arguments: [entry.customerId, entry.changes])
        if db.changesCount == 0 { try postpone(db, customerID: entry.customerId, until: retryAt) }
    }

    /// Keeps an entry that could not be worked now for a later attempt.
    public func postpone(_ db: Database, customerID: String, until: Date) throws {
        try db.execute(
            sql: "UPDATE \(table) SET dueAt = ? WHERE customerId = ?",
            arguments: [until.unixMillis, customerID])
    }

    /// Forgets a customer (erased, merged away).
    public func remove(_ db: Database, customerID: String) throws {
        try db.execute(sql: "DELETE FROM \(table) WHERE customerId = ?", arguments: [customerID])
    }

    /// Entries waiting.
    public func depth(_ db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)") ?? 0
    }
}

/// Works a `CustomerQueue` as its entries fall due, `concurrency` customers at a time, until graceful shutdown. A
/// customer whose work throws stays queued and is retried after `retryAfterFailure`.
public struct CustomerQueueWorker: Service {
    let queue: CustomerQueue
    let writer: any DatabaseWriter
    let logger: Logger
    let concurrency: Int
    let retryAfterFailure: Duration
    /// Metric names: `<metric>_queue_depth` (gauge) and `<metric>_total{outcome}` (counter).
    let metric: String
    let now: @Sendable () -> Date
    /// The customers to leave out of a look at the queue, read in its transaction (`CustomerQueue.due(excluding:)`);
    /// nil when there are none.
    let excluded: @Sendable (Database) throws -> ((String) -> Bool)?
    let work: @Sendable (String) async throws -> Void

    /// The longest idle wait between looks at the queue.
    static var idleWait: Duration { .milliseconds(250) }

    public init(
        queue: CustomerQueue, writer: any DatabaseWriter, logger: Logger, metric: String, concurrency: Int = 8,
        retryAfterFailure: Duration = .seconds(5), now: @escaping @Sendable () -> Date = Date.init,
        excluding excluded: @escaping @Sendable (Database) throws -> ((String) -> Bool)? = { _ in nil },
        work: @escaping @Sendable (String) async throws -> Void
    ) {
        self.queue = queue
        self.writer = writer
        self.logger = logger
        self.metric = metric
        self.concurrency = concurrency
        self.retryAfterFailure = retryAfterFailure
        self.now = now
        self.excluded = excluded
        self.work = work
    }

    public func run() async {
        await cancelWhenGracefulShutdown {
            let depth = Gauge(label: "\(metric)_queue_depth")
            while !Task.isCancelled {
                let now = now()
                let due: [CustomerQueue.Entry]
                let next: Date?
                do {
                    let snapshot = try await writer.read { db in
                        (
                            try queue.due(db, at: now, limit: concurrency * 8, excluding: try excluded(db)),
                            try queue.depth(db)
                        )
                    }
                    (due, next) = snapshot.0
                    depth.record(snapshot.1)
                } catch {
                    if !Task.isCancelled {
                        logger.warning("\(queue.table) unreadable", metadata: ["error": "\(error)"])
                    }
                    try? await Task.sleep(for: retryAfterFailure)
                    continue
                }
                if due.isEmpty {
                    let untilNext = next.map { Duration.milliseconds(max(0, $0.unixMillis - now.unixMillis)) }
                    try? await Task.sleep(for: min(untilNext ?? Self.idleWait, Self.idleWait))
                    continue
                }
                await withTaskGroup(of: Void.self) { group in
                    for (index, entry) in due.enumerated() {
                        if index >= concurrency { await group.next() }
                        group.addTask { await process(entry) }
                    }
                }
            }
        }
    }

    /// Thrown by the work for a customer that cannot be worked yet and is expected to be later (a move's copy, which
    /// this process acts on once the shard map gives it the customer): the entry waits, without a warning.
    public struct NotYet: Error {
        public init() {}
    }

    /// Works one entry and settles it.
    func process(_ entry: CustomerQueue.Entry) async {
        do {
            try await work(entry.customerId)
            Counter(label: "\(metric)_total", dimensions: [("outcome", "done")]).increment()
            let retry = now().adding(.seconds(1))
            try await writer.write { db in try queue.finish(db, entry, retryAt: retry) }
        } catch is NotYet {
            Counter(label: "\(metric)_total", dimensions: [("outcome", "waiting")]).increment()
            let until = now().adding(retryAfterFailure)
            try? await writer.write { db in try queue.postpone(db, customerID: entry.customerId, until: until) }
        } catch {
            guard !Task.isCancelled else { return }
            Counter(label: "\(metric)_total", dimensions: [("outcome", "retried")]).increment()
            logger.info(
                "\(queue.table): postponed", metadata: ["customer_id": "\(entry.customerId)", "error": "\(error)"])
            let until = now().adding(retryAfterFailure)
            try? await writer.write { db in try queue.postpone(db, customerID: entry.customerId, until: until) }
        }
    }
}

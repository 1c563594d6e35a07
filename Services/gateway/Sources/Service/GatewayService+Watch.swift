import C360Clients
public import C360Contracts
import C360ServerKit
import Foundation
public import GRPCCore
import Logging
import Synchronization

extension GatewayService {
    /// Streams one customer's 360° view: the whole view first (cause "initial"), then, for as long as the client
    /// listens, the sections whose service reported a change about that customer on its change feed (`WatchChanges`),
    /// a burst of changes coalesced into one update.
    ///
    /// Same validation, roles, audit and redaction as `GetCustomer360`: the read is audited once, when the first view
    /// is assembled. A merged-away id is followed to its survivor, at the start and when the watched customer is
    /// merged away while watched (a whole view of the survivor, cause "CHANGE_KIND_CUSTOMER_MERGED"). A service whose
    /// feed is down only stops its own sections from updating; its feed is retried with backoff (see
    /// `Customer360Watch`). Ends with UNAVAILABLE when the gateway drains, and stops every feed when the client goes
    /// away.
    public func watchCustomer360(
        request: Customer360_V1_WatchCustomer360Request, response: RPCWriter<Customer360_V1_Customer360Update>,
        context: ServerContext
    ) async throws {
        let requested = try Validate.id(request.customerID, field: "customer_id")
        guard (0...100).contains(request.timelineLimit) else {
            throw InvalidArgument("timeline_limit", "must be 0 (default 20) to 100, not \(request.timelineLimit)")
        }
        let watch = Customer360Watch(
            peers: peers, requested: requested,
            timelineLimit: request.timelineLimit == 0 ? 20 : Int(request.timelineLimit),
            redacting: !showsPersonalData, response: response,
            logger: RequestContext.logger(or: Logger(label: "customer360.gateway.watch")))
        try await ServerDrain.serverStream(context: context) {
            try await watch.run { assemble in
                try await audited(.read, customer: requested, context: context) {
                    let view = try await assemble()
                    return (view, view.customerID)
                }
            }
        }
    }
}

/// One `WatchCustomer360` call: follows the four services' change feeds for one customer and writes an update of
/// the view whenever one of them reports a change about that customer.
///
/// Each watch goes through *epochs*, one per customer id it follows (a merge moves it to the survivor):
/// 1. open `WatchChanges` on profile-, interaction-, feedback- and success-service, each filtered to the customer and
///    starting at its feed's head, and wait until each named its head (or failed once, or the peers' deadline passed);
/// 2. assemble the whole view and write it — after the feeds reached their heads, so no change committed after the
///    view was read can be missed;
/// 3. collect the sections the feeds report as changed in a `WatchInbox` and, a short `coalescing` window after the
///    first of a burst, assemble and write only those, until the customer is merged away.
///
/// Memory stays bounded however slow the client: while a write waits for the client, changes only mark sections in
/// the inbox (a set of at most every section), never queue events or views.
///
/// A feed that fails is retried with backoff from the last position it reported, so nothing is missed while it was
/// down; only a feed that has to start over at its head (never reached, or its position fell out of the retention)
/// refreshes its sections once it is back, with cause "resync", since what changed meanwhile is unknown.
struct Customer360Watch: Sendable {
    /// A section of the view.
    typealias Section = Customer360Section

    /// A service with a change feed and the sections its changes touch.
    enum Source: CaseIterable, Sendable {
        case profile, interaction, feedback, success

        var identity: ServiceIdentity {
            switch self {
            case .profile: .profile
            case .interaction: .interaction
            case .feedback: .feedback
            case .success: .success
            }
        }

        /// The sections a change on this service's feed may alter: every change of a service re-reads everything
        /// the view shows from it (one call per service, except profile's consents).
        var sections: Set<Section> { Set(Section.allCases.filter { $0.service.name == identity.name }) }
    }

    /// How an epoch ended: the watch moves on to another customer id.
    struct Move: Sendable {
        /// The customer to follow next (the survivor of a merge).
        var customerID: String
    }

    /// How long after the first change of a burst the update is assembled: a thousand touchpoints in a second make a
    /// handful of updates, not a thousand.
    static let coalescing: Duration = .milliseconds(150)
    /// The first and the longest wait before a failed feed is opened again.
    static let firstBackoff: Duration = .milliseconds(100)
    static let maxBackoff: Duration = .seconds(5)
    /// How many times in a row an assembled view may name another customer than the one followed before the watch
    /// takes it as it is (a merge chain is flattened by profile-service, so one move is the rule).
    static let maxMovesWithoutUpdate = 3
    /// The cause of the first update.
    static let initialCause = "initial"
    /// The cause of an update of a feed that had to start over at its head.
    static let resyncCause = "resync"

    let peers: Peers
    /// The id the client asked for.
    let requested: String
    let timelineLimit: Int
    /// Whether the caller's role may not see personal data.
    let redacting: Bool
    let response: RPCWriter<Customer360_V1_Customer360Update>
    let logger: Logger

    /// Assembles the first view inside the audit of the read: `audit` runs its argument and answers its view.
    typealias Audit =
        @Sendable (_ assemble: () async throws -> Customer360_V1_Customer360View) async throws
        -> Customer360_V1_Customer360View

    /// Follows the customer until the task is cancelled (the client went away, the gateway drains) or the customer
    /// cannot be found any more.
    ///
    /// - Throws: NOT_FOUND for an unknown customer, or one deleted or erased while watched; CancellationError when
    ///   cancelled.
    func run(audit: @escaping Audit) async throws {
        var customerID = requested
        var audit: Audit? = audit
        var written = false
        var moves = 0
        while true {
            let move = try await epoch(
                following: customerID, cause: written ? Self.name(of: .customerMerged) : Self.initialCause,
                audit: audit, mayMove: moves < Self.maxMovesWithoutUpdate
            ) {
                written = true
                moves = 0
            }
            audit = nil
            moves += 1
            logger.info(
                "watched customer moved to its survivor",
                metadata: [
                    "customer_id": "\(customerID)", "survivor_id": "\(move.customerID)",
                ])
            customerID = move.customerID
        }
    }

    /// One epoch: feeds for `customerID`, the whole view, then updates until the customer is merged away.
    ///
    /// - Parameters:
    ///   - cause: The cause of this epoch's whole view.
    ///   - audit: Wraps the assembly of the whole view, for the first epoch only.
    ///   - mayMove: Whether a whole view naming another customer moves the watch on instead of being written.
    ///   - wrote: Called after each update written.
    private func epoch(
        following customerID: String, cause: String, audit: Audit?, mayMove: Bool, wrote: () -> Void
    ) async throws -> Move {
        let inbox = WatchInbox(customerID: customerID)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            defer { group.cancelAll() }
            let (heads, reached) = AsyncStream<Void>.makeStream()
            for source in Source.allCases {
                group.addTask {
                    await follow(source, customerID: customerID, inbox: inbox) {
                        reached.yield()
                        return inbox.viewWentAhead
                    }
                }
            }
            await Self.untilHeads(heads, count: Source.allCases.count, deadline: peers.deadline)
            // Before the inbox is emptied: a feed naming its head from here on may have missed a change the view
            // below does not show, so it refreshes its sections (see `follow`).
            inbox.viewGoesAhead()
            reached.finish()

            // Changes reported from here on come again as an update: those committed while the view is read are in it
            // already, which is harmless; none is lost.
            _ = inbox.take()
            let assemble = { try await view(of: customerID, sections: Set(Section.allCases)) }
            let whole: Customer360_V1_Customer360View
            if let audit {
                whole = try await audit(assemble)
            } else {
                whole = try await assemble()
            }
            if whole.customerID != customerID, !whole.customerID.isEmpty, mayMove {
                // Asked for a merged-away id, or merged while the feeds opened: follow the survivor.
                return Move(customerID: whole.customerID)
            }
            try await response.write(update(whole, sections: Set(Section.allCases), cause: cause))
            wrote()
            return try await updates(following: customerID, inbox: inbox, wrote: wrote)
        }
    }

    /// Writes an update for every burst of changes in `inbox`, until the customer is merged away.
    private func updates(following customerID: String, inbox: WatchInbox, wrote: () -> Void) async throws -> Move {
        while true {
            await inbox.wait()
            try await Task.sleep(for: Self.coalescing)
            let pending = inbox.take()
            if let survivor = pending.survivor { return Move(customerID: survivor) }
            guard !pending.sections.isEmpty else { continue }
            let view: Customer360_V1_Customer360View
            do {
                view = try await self.view(of: customerID, sections: pending.sections)
            } catch let error as RPCError where error.code == .notFound {
                throw RPCError(
                    code: .notFound,
                    message: """
                        customer \(customerID) no longer exists: it was deleted or erased while watched (\(error.message))
                        """)
            }
            // The merge event was missed (profile's feed was down): the view names the survivor.
            if view.customerID != customerID, !view.customerID.isEmpty { return Move(customerID: view.customerID) }
            try await response.write(update(view, sections: pending.sections, cause: pending.cause))
            wrote()
        }
    }

    /// The view of `customerID` with `sections` filled and the others unset, redacted for the caller's role.
    private func view(of customerID: String, sections: Set<Section>) async throws -> Customer360_V1_Customer360View {
        let wanted = sections.count == Section.allCases.count ? [] : sections
        var view = try await Customer360Assembler(peers: peers)
            .view(for: .with { $0.customerID = customerID }, wanted: wanted, timelineLimit: timelineLimit)
        if sections.contains(.profile) {
            // The id the client asked for, once the watch follows its survivor, as GetCustomer360 would say.
            if view.resolvedFrom.isEmpty, view.customerID != requested { view.resolvedFrom = requested }
        } else {
            // The assembler asks profile-service in any case (it says whether the customer still exists).
            view.clearProfile()
            view.resolvedFrom = ""
        }
        if redacting { Redaction.redact(&view) }
        return view
    }

    private func update(_ view: Customer360_V1_Customer360View, sections: Set<Section>, cause: String)
        -> Customer360_V1_Customer360Update
    {
        .with {
            $0.view = view
            $0.sections = Section.allCases.filter(sections.contains).map(\.rawValue)
            $0.cause = cause
        }
    }

    /// Returns when `count` feeds reached their heads (or failed once), or after `deadline`.
    private static func untilHeads(_ heads: AsyncStream<Void>, count: Int, deadline: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                var reached = 0
                for await _ in heads {
                    reached += 1
                    if reached == count { return }
                }
            }
            group.addTask { try? await Task.sleep(for: deadline) }
            await group.next()
            group.cancelAll()
        }
    }

    // MARK: - Feeds

    /// Follows `source`'s feed for `customerID` until cancelled, marking the sections its changes touch in `inbox`;
    /// calls `reachedHead` once, when the feed first named its head or first failed. `reachedHead` answers whether
    /// the whole view went ahead without this feed (its wait ran out on a slow peer): then a change committed before
    /// the feed's head — a merge of the watched customer, say — is neither in the view nor on the feed, so the feed's
    /// sections are read again, as after an outage.
    private func follow(
        _ source: Source, customerID: String, inbox: WatchInbox, reachedHead: @escaping @Sendable () -> Bool
    ) async {
        let state = FeedState()
        var backoff = Self.firstBackoff
        while !Task.isCancelled {
            var request = Customer360_V1_WatchChangesRequest.with { $0.customerID = customerID }
            if let position = state.position {
                request.afterSequence = position
            } else {
                request.startAtHead = true
            }
            do {
                try await watchChanges(source, request) { batches in
                    for try await batch in batches.messages {
                        if state.reached(), reachedHead() { state.refresh = true }
                        if state.position == nil, state.refresh {
                            // Started over at the head: what changed before it is unknown, so re-read it all once.
                            inbox.post(source.sections, cause: Self.resyncCause)
                            state.refresh = false
                        }
                        for event in batch.events { inbox.post(event, from: source) }
                        state.position = max(state.position ?? 0, batch.throughSequence)
                    }
                }
                // The feed never ends by itself; the peer ended it (e.g. draining): open it again.
            } catch let error as RPCError where error.code == .outOfRange {
                // Our position fell out of the feed's retention (or the feed was restored from an older backup).
                logger.notice(
                    "change feed position out of range; starting over at the head",
                    metadata: [
                        "source": "\(source.identity.name)", "customer_id": "\(customerID)",
                    ])
                state.position = nil
                state.refresh = true
            } catch  where Task.isCancelled {
                return
            } catch {
                logger.info(
                    "change feed interrupted; its sections wait for it",
                    metadata: [
                        "source": "\(source.identity.name)", "customer_id": "\(customerID)", "error": "\(error)",
                        "retry_in": "\(backoff)",
                    ])
            }
            if state.reached() {
                // Failed before naming its head: the first view goes ahead without this feed and is refreshed once
                // the feed is back.
                _ = reachedHead()
            }
            if state.position == nil { state.refresh = true }
            // A stream that delivered something before it broke starts the backoff over.
            if state.delivered() { backoff = Self.firstBackoff }
            do {
                try await Task.sleep(for: backoff)
            } catch {
                return
            }
            backoff = min(backoff * 2, Self.maxBackoff)
        }
    }

    /// Opens `source`'s `WatchChanges` with `request` (no deadline: the stream is open-ended; failing at once when
    /// the service cannot be reached) and hands its batches to `body`.
    private func watchChanges(
        _ source: Source, _ request: Customer360_V1_WatchChangesRequest,
        _ body: @escaping @Sendable (StreamingClientResponse<Customer360_V1_WatchChangesResponse>) async throws -> Void
    ) async throws {
        var options = CallOptions.defaults
        options.waitForReady = false
        switch source {
        case .profile: try await peers.profile.watchChanges(request, options: options, onResponse: body)
        case .interaction: try await peers.interaction.watchChanges(request, options: options, onResponse: body)
        case .feedback: try await peers.feedback.watchChanges(request, options: options, onResponse: body)
        case .success: try await peers.success.watchChanges(request, options: options, onResponse: body)
        }
    }

    /// Where one feed is, shared between its loop and the stream's response handler.
    private final class FeedState: Sendable {
        private struct Values {
            var position: UInt64?
            var refresh = false
            var reachedHead = false
            /// The position moved since `delivered()` was last asked.
            var delivered = false
        }

        private let values = Mutex(Values())

        /// The last sequence the feed reported as considered; `nil` before it named its head.
        var position: UInt64? {
            get { values.withLock { $0.position } }
            set {
                values.withLock { values in
                    if newValue != nil, newValue != values.position { values.delivered = true }
                    values.position = newValue
                }
            }
        }

        /// Whether the feed reported anything since the last time this was asked.
        func delivered() -> Bool {
            values.withLock { values in
                defer { values.delivered = false }
                return values.delivered
            }
        }

        /// Whether the feed's sections need re-reading once it names its head.
        var refresh: Bool {
            get { values.withLock { $0.refresh } }
            set { values.withLock { $0.refresh = newValue } }
        }

        /// True the first time only: the head was reached (or the first attempt failed).
        func reached() -> Bool {
            values.withLock { values in
                defer { values.reachedHead = true }
                return !values.reachedHead
            }
        }
    }

    // MARK: - Change kinds

    /// The enum value names of `ChangeKind`, from the contracts ("CHANGE_KIND_TOUCHPOINT_RECORDED").
    private static let kindNames: [Int: String] = {
        var names: [Int: String] = [:]
        for file in ContractCatalog.current.files where file.package == "customer360.v1" {
            for kinds in file.enumType where kinds.name == "ChangeKind" {
                for value in kinds.value { names[Int(value.number)] = value.name }
            }
        }
        return names
    }()

    /// The contract's name of `kind`, as updates give it in `cause`.
    static func name(of kind: Customer360_V1_ChangeKind) -> String {
        kindNames[kind.rawValue] ?? "CHANGE_KIND_\(kind.rawValue)"
    }
}

/// The changes a watch has not sent yet, merged: the sections they touch (each at most once), the kind of the latest,
/// and the survivor when the watched customer was merged away. However many changes arrive while an update is being
/// assembled or written, this stays the size of one set of sections.
final class WatchInbox: Sendable {
    /// What is pending.
    struct Pending: Sendable {
        var sections: Set<Customer360Watch.Section> = []
        /// The latest change's kind name, or "resync".
        var cause = ""
        /// Set when the watched customer was merged into this one.
        var survivor: String?

        var isEmpty: Bool { sections.isEmpty && survivor == nil }
    }

    private struct State {
        var pending = Pending()
        var waiter: CheckedContinuation<Void, Never>?
        var viewWentAhead = false
    }

    /// The customer the watch follows.
    let customerID: String
    private let state = Mutex(State())

    init(customerID: String) {
        self.customerID = customerID
    }

    /// Whether the epoch stopped waiting for the feeds' heads and reads its whole view (`viewGoesAhead()`).
    var viewWentAhead: Bool { state.withLock { $0.viewWentAhead } }

    /// Records that the whole view is read now, whether or not every feed named its head.
    func viewGoesAhead() {
        state.withLock { $0.viewWentAhead = true }
    }

    /// Marks what `event`, from `source`'s feed, changed.
    func post(_ event: Customer360_V1_ChangeEvent, from source: Customer360Watch.Source) {
        if source == .profile, event.kind == .customerMerged, event.customerID == customerID,
            !event.relatedCustomerID.isEmpty
        {
            merged(into: event.relatedCustomerID)
        } else {
            post(source.sections, cause: Customer360Watch.name(of: event.kind))
        }
    }

    /// Marks `sections` as changed by `cause`.
    func post(_ sections: Set<Customer360Watch.Section>, cause: String) {
        wake { pending in
            pending.sections.formUnion(sections)
            pending.cause = cause
        }
    }

    /// Records that the watched customer was merged into `survivor`.
    func merged(into survivor: String) {
        wake { $0.survivor = survivor }
    }

    /// Everything pending, leaving nothing (a survivor stays: the epoch is over).
    func take() -> Pending {
        state.withLock { state in
            defer { state.pending = Pending(survivor: state.pending.survivor) }
            return state.pending
        }
    }

    /// Returns once something is pending, or at once when the calling task is cancelled.
    func wait() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state in
                    if !state.pending.isEmpty || Task.isCancelled { return true }
                    state.waiter = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            state.withLock { state in
                defer { state.waiter = nil }
                return state.waiter
            }?.resume()
        }
    }

    private func wake(_ change: (inout Pending) -> Void) {
        let waiter = state.withLock { state in
            change(&state.pending)
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }
}

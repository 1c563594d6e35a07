import C360ChangeFeed
public import C360Contracts
public import C360ServerKit
import C360StoreKit
public import Foundation
public import GRDB

/// A customer waiting to be re-scored because something that moves a health component changed.
public struct RescoreRequest: Codable, Sendable, Equatable {
    public var customerId: String
    /// Not before this instant (Unix ms): the first change plus the coalescing delay, so a burst is scored once.
    public var dueAt: Int64
    /// How many changes arrived; the entry is removed only if none arrived while it was being scored.
    public var changes: Int64

}

extension RescoreRequest: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "rescore_queue"
}

extension SuccessStore {
    /// The migration that adds the re-score queue; registered after the change feed's.
    static func registerRescoreQueue(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v2: re-score queue") { db in
            try db.create(table: RescoreRequest.databaseTableName) { t in
                t.primaryKey("customerId", .text)
                t.column("dueAt", .integer).notNull().indexed()
                t.column("changes", .integer).notNull()
            }
        }
    }

    /// The kinds of change on interaction- and feedback-service's feeds that move a health component.
    public static let rescoringChanges: [Customer360_V1_ChangeKind] = [
        .touchpointRecorded, .purchaseRecorded, .ticketOpened, .ticketUpdated, .ticketResolved,
        .responseRecorded, .churnReasonRecorded, .customerRekeyed,
    ]

    /// Queues the customers `events` are about, inside the feed consumer's transaction (so a change is queued exactly
    /// once); a customer already queued keeps its due time, so a burst of changes is scored once.
    ///
    /// On a shard, only its own customers are queued: a peer's feed names every customer of the peer's shard. A
    /// customer being moved away (fenced) is left to the new owner, which scores every customer that arrives.
    public static func enqueueRescores(
        _ db: Database, for events: [Customer360_V1_ChangeEvent], delay: Duration, now: Date,
        ownership: CustomerOwnership = .everyone
    ) throws {
        let fenced = try SlotFence.fencedCustomers(db)
        for event in events {
            // A re-key moves history to the survivor: that is whose score changed.
            let customerID = event.kind == .customerRekeyed ? event.relatedCustomerID : event.customerID
            guard !customerID.isEmpty else { continue }
            let survivor = try CustomerAlias.survivor(db, of: customerID)
            guard ownership.owns(survivor), fenced?(survivor) != true else { continue }
            try enqueueRescore(db, customerID: survivor, delay: delay, now: now)
        }
    }

    /// The re-score queue, worked as every queue of customers is (`CustomerQueue`): its table has the same columns.
    static let rescoreQueue = CustomerQueue(table: RescoreRequest.databaseTableName)

    static func enqueueRescore(_ db: Database, customerID: String, delay: Duration, now: Date) throws {
        try rescoreQueue.enqueue(db, customerID: customerID, due: now.adding(delay))
    }

    /// Up to `limit` customers due by `now`, earliest first, and the earliest due time of the rest.
    ///
    /// Customers a move has fenced here are left out of both: they cannot be scored or postponed until the move
    /// ends (their rows then leave with the drop, or stay when the fence is lifted), and a due entry that can never
    /// be settled would keep the rescorer from ever waiting.
    public func dueRescores(at now: Date, limit: Int) async throws -> (due: [RescoreRequest], next: Date?) {
        try await writer.read { db in
            let (due, next) = try Self.rescoreQueue.due(
                db, at: now, limit: limit, excluding: try SlotFence.fencedCustomers(db))
            return (due.map { RescoreRequest(customerId: $0.customerId, dueAt: $0.dueAt, changes: $0.changes) }, next)
        }
    }

    /// Removes a scored entry unless changes arrived while it was scored; then it is due again after `retry`.
    public func finishRescore(_ request: RescoreRequest, retry: Duration, now: Date) async throws {
        let entry = CustomerQueue.Entry(customerId: request.customerId, dueAt: request.dueAt, changes: request.changes)
        try await writer.write { db in try Self.rescoreQueue.finish(db, entry, retryAt: now.adding(retry)) }
    }

    /// Keeps an entry that could not be scored now (a peer is down) for a later attempt.
    public func postponeRescore(_ request: RescoreRequest, until: Date) async throws {
        try await writer.write { db in try Self.rescoreQueue.postpone(db, customerID: request.customerId, until: until)
        }
    }

    /// How many customers wait to be re-scored.
    public func rescoreQueueDepth() async throws -> Int {
        try await writer.read { db in try RescoreRequest.fetchCount(db) }
    }
}

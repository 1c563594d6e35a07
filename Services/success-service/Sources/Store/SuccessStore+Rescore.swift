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

    public enum Columns {
        static let customerId = Column(CodingKeys.customerId)
        static let dueAt = Column(CodingKeys.dueAt)
        static let changes = Column(CodingKeys.changes)
    }
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

    static func enqueueRescore(_ db: Database, customerID: String, delay: Duration, now: Date) throws {
        let due = now.adding(delay)
        try db.cachedStatement(
            sql: """
                INSERT INTO rescore_queue (customerId, dueAt, changes) VALUES (?, ?, 1)
                ON CONFLICT (customerId) DO UPDATE SET changes = changes + 1
                """
        ).execute(arguments: [customerID, due.unixMillis])
    }

    /// Up to `limit` customers due by `now`, earliest first, and the earliest due time of the rest.
    ///
    /// Customers a move has fenced here are left out of both: they cannot be scored or postponed until the move
    /// ends (their rows then leave with the drop, or stay when the fence is lifted), and a due entry that can never
    /// be settled would keep the rescorer from ever waiting.
    public func dueRescores(at now: Date, limit: Int) async throws -> (due: [RescoreRequest], next: Date?) {
        try await writer.read { db in
            if let fenced = try SlotFence.fencedCustomers(db) {
                // A move is under way, which is rare and short: the queue is read whole and the fenced left out.
                let waiting = try RescoreRequest.order(RescoreRequest.Columns.dueAt).fetchAll(db).filter {
                    !fenced($0.customerId)
                }
                return (
                    Array(waiting.prefix { $0.dueAt <= now.unixMillis }.prefix(limit)),
                    waiting.first.map { Date(unixMillis: $0.dueAt) }
                )
            }
            let due = try RescoreRequest.filter(RescoreRequest.Columns.dueAt <= now.unixMillis)
                .order(RescoreRequest.Columns.dueAt).limit(limit).fetchAll(db)
            let next = try Int64.fetchOne(db, RescoreRequest.select(min(RescoreRequest.Columns.dueAt)))
            return (due, next.map(Date.init(unixMillis:)))
        }
    }

    /// Removes a scored entry unless changes arrived while it was scored; then it is due again after `retry`.
    public func finishRescore(_ request: RescoreRequest, retry: Duration, now: Date) async throws {
        try await writer.write { db in
            try RescoreRequest.filter(RescoreRequest.Columns.customerId == request.customerId)
                .filter(RescoreRequest.Columns.changes == request.changes).deleteAll(db)
            if db.changesCount == 0 {
                try postponeRescore(db, request.customerId, until: now.adding(retry))
            }
        }
    }

    /// Keeps an entry that could not be scored now (a peer is down) for a later attempt.
    public func postponeRescore(_ request: RescoreRequest, until: Date) async throws {
        try await writer.write { db in try postponeRescore(db, request.customerId, until: until) }
    }

    private func postponeRescore(_ db: Database, _ customerID: String, until: Date) throws {
        try db.execute(
            sql: "UPDATE rescore_queue SET dueAt = ? WHERE customerId = ?",
            arguments: [until.unixMillis, customerID])
    }

    /// How many customers wait to be re-scored.
    public func rescoreQueueDepth() async throws -> Int {
        try await writer.read { db in try RescoreRequest.fetchCount(db) }
    }
}

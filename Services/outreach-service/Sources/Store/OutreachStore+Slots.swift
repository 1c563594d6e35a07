import C360ChangeFeed
import C360ServerKit
public import C360StoreKit
import Foundation
public import GRDB

/// What moves when a customer moves to another shard (`outreach-service reshard`): their read-model facts, tags,
/// consents and channel counts, a pending refresh, segment memberships, messages and journey runs. Segments,
/// templates, journeys and campaigns are definitions every shard holds alike (written on every shard by the router),
/// and so are who merged into whom and who was erased.
///
/// Much here changes without a feed event (a message deferred, a journey run's step, a refresh of facts), so a move
/// catches up from the touch log rather than the feed. Background work acts only on customers this shard
/// owns and has not fenced (`workable`): a customer copied to the target is inert there until the map gives them to
/// it, and one fenced on the source is left for the target.
extension OutreachStore: SlotMovable {
    public var database: any DatabaseWriter { writer }
    public var dataKeys: Keyring { keyring }

    /// In the order rows can be inserted; each customer with rows here has facts, a queued refresh, a message or a run.
    public static let customerTables = [
        CustomerTable(name: CustomerFacts.databaseTableName, customerColumn: "customerId", listsCustomers: true),
        CustomerTable(name: CustomerTag.databaseTableName, customerColumn: "customerId"),
        CustomerTable(name: CustomerConsent.databaseTableName, customerColumn: "customerId"),
        CustomerTable(name: ChannelCount.databaseTableName, customerColumn: "customerId"),
        CustomerTable(name: refreshQueue.table, customerColumn: "customerId", listsCustomers: true),
        CustomerTable(name: SegmentMembership.databaseTableName, customerColumn: "customerId"),
        // Two of a send's three updates of its message need no touch: handing it to its adapter (a fence waits until
        // it is settled, and settling touches it) and noting its outbound touchpoint stored (interaction-service
        // drops the target's repeat by event id).
        CustomerTable(
            name: MessageRecord.databaseTableName, customerColumn: "customerId", listsCustomers: true,
            touchingUpdates: """
                NEW.status IS NOT 'sending' \
                AND NOT (OLD.touchpointRecorded = 0 AND NEW.touchpointRecorded = 1 AND OLD.status IS NEW.status)
                """),
        CustomerTable(name: JourneyRunRecord.databaseTableName, customerColumn: "customerId", listsCustomers: true),
    ]

    /// Definitions first (memberships name their segment), then who merged into whom and who was erased.
    public static let referenceTables = [
        ReferenceTable(name: SegmentRecord.databaseTableName),
        ReferenceTable(name: TemplateRecord.databaseTableName),
        ReferenceTable(name: JourneyRecord.databaseTableName),
        ReferenceTable(name: CampaignRecord.databaseTableName),
        ReferenceTable(name: "customer_merge"),
        ReferenceTable(name: erasedTable),
    ]

    public static var catchUp: SlotCatchUp { .touchLog }

    /// Every customer erased here, by id alone: a copy of one that a move brings in after this shard applied the
    /// erasure is erased on arrival.
    static let erasedTable = "customer_erased"

    /// The migrations that let customers move: messages in `sending` found by index, the erased customers
    /// remembered, and the touch log.
    static func registerSlotMoves(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v9: customers move between shards (touch log, sends in flight, erasures)") { db in
            try db.create(
                index: "message_sending", on: MessageRecord.databaseTableName, columns: ["customerId"],
                condition: Column("status") == MessageStatus.sending.rawValue)
            try db.create(table: erasedTable) { t in
                t.primaryKey("customerId", .text)
            }
        }
        // v9 first kept a row per customer with always-on triggers (development builds of 2026-12-07 only): those go,
        // and the log is made as it is now, written only while a move runs.
        migrator.registerMigration("v10: the touch log written only while a move runs") { db in
            try SlotTouchLog.dropTriggers(db, tables: customerTables)
            try db.execute(sql: "DROP TABLE IF EXISTS slot_touch")
            try SlotTouchLog.create(db)
        }
        SlotFence.register(&migrator)
    }

    /// A campaign still queueing would queue the moving customers on the source after their copy, or not at all once
    /// fenced; a message in `sending` would have its outcome recorded on neither shard. A send ends within seconds; a
    /// large campaign's queueing can take minutes (the mover is then run again), and a message left in `sending` by a
    /// failed settle holds moves off until the process restarts and settles it (`recoverInterruptedSends`).
    public func fenceBlocker(_ db: Database, _ ranges: [ClosedRange<Int>]) throws -> String? {
        if let campaign = try String.fetchOne(
            db,
            CampaignRecord.filter(CampaignRecord.Columns.queueing == true).select(CampaignRecord.Columns.campaignId))
        {
            return "campaign \(campaign) is still queueing its members"
        }
        let sending = try String.fetchAll(
            db,
            MessageRecord.filter(MessageRecord.Columns.status == MessageStatus.sending.rawValue)
                .select(MessageRecord.Columns.customerId))
        if let customer = sending.first(where: { id in ranges.contains { $0.contains(CustomerSlot.of(id)) } }) {
            return "a message to customer \(customer) is with its adapter"
        }
        return nil
    }

    /// An arriving customer is refreshed from the owners once this shard owns them (what changed during the move
    /// reached neither shard's read model); gets the campaigns here they were a member for and have no message of;
    /// and their pending messages reopen a campaign this shard had completed. One this shard erased arrives empty
    /// (`wasErased`) and is erased again, which also queues their new key, if any, for shredding.
    public func customerArrived(_ db: Database, _ customerID: String) throws {
        let now = Date()
        if try wasErased(db, customerID) {
            try Self.erase(db, customerID: customerID, now: now, announce: false)
            return
        }
        try Self.refreshQueue.enqueue(db, customerID: customerID, due: now)
        try Self.queueMissedCampaigns(db, customerID: customerID, now: now)
        let reopened = try String.fetchAll(
            db,
            MessageRecord.filter(MessageRecord.Columns.customerId == customerID)
                .filter(
                    [MessageStatus.queued, .deferred, .sending].contains(MessageRecord.Columns.status)
                )
                .select(MessageRecord.Columns.campaignId).distinct())
        try CampaignRecord.filter(keys: reopened.filter { !$0.isEmpty })
            .filter(CampaignRecord.Columns.completedAt != nil)
            .updateAll(db, CampaignRecord.Columns.completedAt.set(to: nil))
    }

    /// Remembered on every shard by the erasure (`erase`), so a copy that comes after is imported empty.
    public func wasErased(_ db: Database, _ customerID: String) throws -> Bool {
        try Bool.fetchOne(
            db, sql: "SELECT EXISTS (SELECT 1 FROM \(Self.erasedTable) WHERE customerId = ?)", arguments: [customerID])
            == true
    }

    /// A leaving customer's messages go first, so a campaign left with nothing pending here is completed.
    public func customerLeaving(_ db: Database, _ customerID: String) throws {
        let campaigns = try String.fetchAll(
            db,
            MessageRecord.filter(MessageRecord.Columns.customerId == customerID)
                .select(MessageRecord.Columns.campaignId).distinct())
        try MessageRecord.filter(MessageRecord.Columns.customerId == customerID).deleteAll(db)
        for campaign in campaigns where !campaign.isEmpty {
            try Self.completeCampaignIfDone(db, campaign, now: Date())
        }
    }

    /// outreach-service takes no handovers (merges across shards leave each customer's rows where they are).
    public func customerGrew(_ db: Database, _ customerID: String) throws {}

    /// Whether this process may act on a customer now, read once for the caller's transaction: it owns them, and no
    /// move has fenced them here.
    func workable(_ db: Database) throws -> @Sendable (String) -> Bool {
        let ownership = self.ownership
        guard let fenced = try SlotFence.fencedCustomers(db) else { return { ownership.owns($0) } }
        return { ownership.owns($0) && !fenced($0) }
    }

    /// Up to `limit` of `request`'s rows, in its order, about customers this process may act on now (`workable`).
    /// When the first `limit` rows are all others' (only a move leaves them here, and only while it runs), the rows
    /// are read on through one cursor until `limit` are found, rather than page by page with offsets.
    func workableRows<Record: FetchableRecord & TableRecord>(
        _ db: Database, _ request: QueryInterfaceRequest<Record>, customer: KeyPath<Record, String>, limit: Int
    ) throws -> [Record] {
        let workable = try workable(db)
        let first = try request.limit(limit).fetchAll(db)
        let rows = first.filter { workable($0[keyPath: customer]) }
        guard rows.isEmpty, first.count == limit else { return rows }
        return try Array(request.fetchCursor(db).filter { workable($0[keyPath: customer]) }.prefix(limit))
    }

    /// When the next of a queue's entries falls due, as a worker waits for it: when nothing this process may act on
    /// is due now but something is (a move's copy, a fenced customer), the next look is the worker's idle wait, not
    /// at once.
    static func nextDue(_ next: Int64?, due noneDue: Bool, now: Date) -> Date? {
        guard let next else { return nil }
        return noneDue && next <= now.unixMillis ? nil : Date(unixMillis: next)
    }

    /// Where a customer stands for this process's background work.
    public enum Standing: Sendable, Equatable {
        /// Owned here and not fenced: act on them.
        case workable
        /// Held here but not to be acted on now: a move's copy before the map gives them here, or fenced while
        /// moving away.
        case held
        /// Another shard's, with nothing held here.
        case elsewhere
    }

    public func standing(of customerID: String) async throws -> Standing {
        try await writer.read { db in
            if try workable(db)(customerID) { return .workable }
            // A queued refresh holds them too: a customer created just before a move arrives with nothing else.
            let held = try Self.customerTables.filter(\.listsCustomers).contains { table in
                try Bool.fetchOne(
                    db, sql: "SELECT EXISTS (SELECT 1 FROM \(table.name) WHERE customerId = ?)", arguments: [customerID]
                )
                    == true
            }
            return held ? .held : .elsewhere
        }
    }
}

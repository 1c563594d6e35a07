import C360ChangeFeed
import C360Contracts
public import GRDB

extension InteractionStore {
    /// Moves every touchpoint and ticket of `merged` to `survivor` and folds the merged-away customer's counters into
    /// the survivor's (each is a sum, minimum or maximum, so nothing is counted twice). The moved rows are journaled
    /// for an unmerge. Runs inside the transaction of `MergeFollower`, which also stores the feed position; a second
    /// run finds nothing left to move.
    public func rekey(_ db: Database, merged: String, survivor: String) throws {
        for (table, key) in Self.customerTables {
            try MergeJournal.record(db, merged: merged, survivor: survivor, table: table,
                                    keys: "SELECT \(key) AS k FROM \(table) WHERE customerId = ?", arguments: [merged])
            try db.execute(sql: "UPDATE \(table) SET customerId = ? WHERE customerId = ?", arguments: [survivor, merged])
        }
        try db.execute(sql: """
            INSERT INTO customer_summary (\(Self.summaryColumns))
            SELECT ?, touchpoints, firstSeenAt, lastSeenAt, lastInboundAt, orders, refunds, grossMinor, refundedMinor,
                discountedOrders, firstPurchaseAt, lastPurchaseAt, otherCurrencyOrders, openTickets
            FROM customer_summary WHERE customerId = ? AND true
            \(Self.summaryCombination)
            """, arguments: [survivor, merged])
        try db.execute(sql: "DELETE FROM customer_summary WHERE customerId = ?", arguments: [merged])
    }

    /// Moves back the rows `rekey` moved for this merge (rows recorded under the survivor since stay there) and
    /// recomputes both customers' counters from their rows: a minimum or maximum cannot be subtracted.
    public func unrekey(_ db: Database, merged: String, survivor: String) throws {
        for (table, key) in Self.customerTables {
            try db.execute(sql: """
                UPDATE \(table) SET customerId = ? WHERE customerId = ? AND \(key) IN (\(MergeJournal.keysSubquery))
                """, arguments: [merged, survivor, merged, table])
        }
        try recomputeSummary(db, customer: survivor)
        try recomputeSummary(db, customer: merged)
    }

    /// The tables holding rows of one customer, with each row's key.
    private static let customerTables = [("touchpoint", "eventId"), ("ticket", "ticketId")]

    /// Rebuilds one customer's counters by folding their stored touchpoints again, in the order they were stored.
    func recomputeSummary(_ db: Database, customer customerID: String) throws {
        try db.execute(sql: "DELETE FROM customer_summary WHERE customerId = ?", arguments: [customerID])
        let rows = try Row.fetchCursor(db, sql: "SELECT * FROM touchpoint WHERE customerId = ? ORDER BY seq",
                                       arguments: [customerID])
        while let row = try rows.next() {
            try updateSummary(db, with: Touchpoint(row: row))
        }
    }

    /// Every customer this service holds data for (for a merge resync).
    public static func customerIDs(_ db: Database) throws -> [String] {
        try String.fetchAll(db, sql: "SELECT customerId FROM customer_summary UNION SELECT customerId FROM ticket")
    }
}

extension TouchpointKind {
    /// What a stored touchpoint of this kind tells the change feed.
    var change: Customer360_V1_ChangeKind {
        switch self {
        case .purchase, .refund: .purchaseRecorded
        case .ticketOpened: .ticketOpened
        case .ticketResolved: .ticketResolved
        case .ticketReply, .ticketReopened: .ticketUpdated
        default: .touchpointRecorded
        }
    }
}

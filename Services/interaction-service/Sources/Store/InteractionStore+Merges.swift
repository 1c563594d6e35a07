import C360ChangeFeed
import C360Contracts
public import GRDB

extension InteractionStore {
    /// Moves every touchpoint and ticket of `merged` to `survivor` and folds the merged-away customer's counters into
    /// the survivor's (each is a sum, minimum or maximum, so nothing is counted twice). Runs inside the transaction of
    /// `MergeFollower`, which also stores the feed position; a second run finds nothing left to move.
    public static func rekey(_ db: Database, merged: String, survivor: String) throws {
        try db.execute(sql: "UPDATE touchpoint SET customerId = ? WHERE customerId = ?", arguments: [survivor, merged])
        try db.execute(sql: "UPDATE ticket SET customerId = ? WHERE customerId = ?", arguments: [survivor, merged])
        try db.execute(sql: """
            INSERT INTO customer_summary (\(summaryColumns))
            SELECT ?, touchpoints, firstSeenAt, lastSeenAt, lastInboundAt, orders, refunds, grossMinor, refundedMinor,
                discountedOrders, firstPurchaseAt, lastPurchaseAt, otherCurrencyOrders, openTickets
            FROM customer_summary WHERE customerId = ? AND true
            \(summaryCombination)
            """, arguments: [survivor, merged])
        try db.execute(sql: "DELETE FROM customer_summary WHERE customerId = ?", arguments: [merged])
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

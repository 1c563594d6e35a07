import C360ChangeFeed
import C360Contracts
public import GRDB

extension InteractionStore {
    /// Moves every touchpoint and ticket of `merged` to `survivor` and folds the merged-away customer's counters into
    /// the survivor's (each is a sum, minimum or maximum, so nothing is counted twice). The moved rows are journaled
    /// for an unmerge. Runs inside the transaction of `MergeFollower`, which also stores the feed position; a second
    /// run finds nothing left to move.
    public func rekey(_ db: Database, merged: String, survivor: String) throws {
        let survivorSKUs = try Self.skus(db, of: survivor)
        let mergedSKUs = try Self.skus(db, of: merged)
        try Self.moveAffinity(db, from: [survivorSKUs, mergedSKUs], to: [survivorSKUs.union(mergedSKUs)])
        for (table, key) in Self.rekeyedTables {
            try MergeJournal.record(
                db, merged: merged, survivor: survivor, table: table,
                keys: "SELECT \(key) AS k FROM \(table) WHERE customerId = ?", arguments: [merged])
            try db.execute(
                sql: "UPDATE \(table) SET customerId = ? WHERE customerId = ?", arguments: [survivor, merged])
        }
        try db.execute(
            sql: """
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
        for (table, key) in Self.rekeyedTables {
            try db.execute(
                sql: """
                    UPDATE \(table) SET customerId = ? WHERE customerId = ? AND \(key) IN (\(MergeJournal.keysSubquery))
                    """, arguments: [merged, survivor, merged, table])
        }
        let survivorSKUs = try Self.skus(db, of: survivor)
        let mergedSKUs = try Self.skus(db, of: merged)
        try Self.moveAffinity(db, from: [survivorSKUs.union(mergedSKUs)], to: [survivorSKUs, mergedSKUs])
        try recomputeSummary(db, customer: survivor)
        try recomputeSummary(db, customer: merged)
    }

    /// Replaces buyers with the product sets `from` by buyers with the sets `to` in the item-to-item counts: a merge
    /// turns the two customers' baskets into the survivor's combined one, an unmerge the other way round. Without it
    /// a merged customer's basket would be counted twice for what both bought and never for the pairs across the two.
    /// Counts that reach zero are deleted only at the end, so a product's name survives a count passing through zero.
    static func moveAffinity(_ db: Database, from: [Set<String>], to: [Set<String>]) throws {
        try applyAffinity(db, sets: from, sign: -1)
        try applyAffinity(db, sets: to, sign: 1)
        // Only the counts this move lowered, by key: a scan would read every product pair of the catalogue.
        let dropItem = try db.cachedStatement(sql: "DELETE FROM item WHERE sku = ? AND buyers <= 0")
        let dropPair = try db.cachedStatement(sql: "DELETE FROM item_pair WHERE sku = ? AND other = ? AND buyers <= 0")
        for products in from {
            for sku in products {
                try dropItem.execute(arguments: [sku])
                for other in products where other != sku { try dropPair.execute(arguments: [sku, other]) }
            }
        }
    }

    /// Adds (`sign` 1) or removes (-1) one buyer per set to each product and each ordered pair of products in it.
    private static func applyAffinity(_ db: Database, sets: [Set<String>], sign: Int) throws {
        let item = try db.cachedStatement(
            sql: """
                INSERT INTO item (sku, name, buyers) VALUES (?, '', ?)
                ON CONFLICT (sku) DO UPDATE SET buyers = buyers + excluded.buyers
                """)
        let pair = try db.cachedStatement(
            sql: """
                INSERT INTO item_pair (sku, other, buyers) VALUES (?, ?, ?)
                ON CONFLICT (sku, other) DO UPDATE SET buyers = buyers + excluded.buyers
                """)
        for products in sets {
            for sku in products {
                try item.execute(arguments: [sku, sign])
                for other in products where other != sku { try pair.execute(arguments: [sku, other, sign]) }
            }
        }
    }

    /// The tables holding rows of one customer, with each row's key.
    private static let rekeyedTables = [("touchpoint", "eventId"), ("ticket", "ticketId")]

    /// Rebuilds one customer's counters by folding their stored touchpoints again, in the order they were stored.
    func recomputeSummary(_ db: Database, customer customerID: String) throws {
        try db.execute(sql: "DELETE FROM customer_summary WHERE customerId = ?", arguments: [customerID])
        let records = try TouchpointRecord.fetchCursor(
            db, sql: "SELECT * FROM touchpoint WHERE customerId = ? ORDER BY seq",
            arguments: [customerID])
        while let record = try records.next() {
            try updateSummary(db, with: record.domain(keyring: keyring))
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

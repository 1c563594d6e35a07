public import C360StoreKit
public import GRDB

/// What moves when a customer moves to another shard: their touchpoints (renumbered by the target), tickets, counters
/// and merge journal, and their baskets' share of the product co-purchase counts, which each shard keeps for its own
/// customers.
extension InteractionStore: SlotMovable {
    public var database: any DatabaseWriter { writer }
    public var dataKeys: Keyring { keyring }

    public static let customerTables = [
        CustomerTable(name: "touchpoint", customerColumn: "customerId", assignedKey: "seq"),
        CustomerTable(name: "ticket", customerColumn: "customerId", listsCustomers: true),
        // Every customer with a touchpoint has a summary: the list of customers to move.
        CustomerTable(name: "customer_summary", customerColumn: "customerId", listsCustomers: true),
        // What merges into the customer moved here, so an unmerge on the new shard finds it.
        CustomerTable(name: "merge_journal", customerColumn: "survivorId"),
    ]

    public func customerArrived(_ db: Database, _ customerID: String) throws {
        try Self.moveAffinity(db, from: [], to: [Self.skus(db, of: customerID)])
    }

    public func customerLeaving(_ db: Database, _ customerID: String) throws {
        try Self.moveAffinity(db, from: [Self.skus(db, of: customerID)], to: [])
    }

    public func customerGrew(_ db: Database, _ customerID: String) throws {
        try recomputeSummary(db, customer: customerID)
    }
}

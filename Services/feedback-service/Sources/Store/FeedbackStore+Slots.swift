public import C360StoreKit
public import GRDB

/// What moves when a customer moves to another shard: their responses with the theme terms of their comments, their
/// votes, their churn reasons and the merge journal. Surveys and feature requests are reference data every shard
/// holds (their writes are broadcast to every shard), so only a request's vote count, which each shard keeps for its
/// own customers, follows the votes.
extension FeedbackStore: SlotMovable {
    public var database: any DatabaseWriter { writer }
    public var dataKeys: Keyring { keyring }

    /// In the order rows can be inserted: a theme term names its response.
    public static let customerTables = [
        CustomerTable(name: "survey_response", customerColumn: "customerId", assignedKey: "seq", listsCustomers: true),
        CustomerTable(name: "response_term", customerColumn: "customerId"),
        CustomerTable(name: "feature_vote", customerColumn: "customerId", listsCustomers: true),
        CustomerTable(name: "churn_reason", customerColumn: "customerId", assignedKey: "seq", listsCustomers: true),
        CustomerTable(name: "merge_journal", customerColumn: "survivorId"),
    ]

    /// The customer's votes join this shard's tallies.
    public func customerArrived(_ db: Database, _ customerID: String) throws {
        try Self.countVotes(db, of: customerID, by: 1)
    }

    /// The customer's votes leave this shard's tallies, before their rows are deleted or a handover adds to them.
    public func customerLeaving(_ db: Database, _ customerID: String) throws {
        try Self.countVotes(db, of: customerID, by: -1)
    }

    /// Nothing is kept per customer beyond the votes, which `customerLeaving` and `customerArrived` count.
    public func customerGrew(_ db: Database, _ customerID: String) throws {}

    private static func countVotes(_ db: Database, of customerID: String, by change: Int) throws {
        try db.cachedStatement(
            sql: """
                UPDATE feature_request SET votes = votes + ?
                WHERE featureRequestId IN (SELECT featureRequestId FROM feature_vote WHERE customerId = ?)
                """
        ).execute(arguments: [change, customerID])
    }
}

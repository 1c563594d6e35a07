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

    /// Surveys and feature requests, which responses and votes refer to; a request's vote count is each shard's own.
    /// A survey retired on either side stays retired (retiring is for good). (A feature request's status, and its
    /// history, are each shard's as its broadcasts left them.)
    public static let referenceTables = [
        ReferenceTable(
            name: "survey", assignedKey: "seq", refresh: ("surveyId", "active = MIN(active, excluded.active)")),
        ReferenceTable(name: "feature_request", assignedKey: "seq", localColumns: ["votes"]),
    ]

    /// The customer's votes join this shard's tallies, and their theme terms are indexed under this shard's
    /// blind-index key: a term arrives with the source's index of its stem, which groups with nothing here.
    public func customerArrived(_ db: Database, _ customerID: String) throws {
        try Self.countVotes(db, of: customerID, by: 1)
        let update = try db.cachedStatement(
            sql: "UPDATE response_term SET stem = ? WHERE responseId = ? AND stem = ?")
        for term in try ResponseTermRecord.filter(ResponseTermRecord.Columns.customerId == customerID).fetchAll(db) {
            let index = keyring.blindIndex(try keyring.open(term.sealedStem), purpose: Self.themeStemPurpose)
            guard index != term.stem else { continue }
            try update.execute(arguments: [index, term.responseId, term.stem])
        }
    }

    /// The customer's votes leave this shard's tallies, before their rows are deleted or a handover adds to them.
    public func customerLeaving(_ db: Database, _ customerID: String) throws {
        try Self.countVotes(db, of: customerID, by: -1)
    }

    /// Nothing is kept per customer beyond the votes, which `customerLeaving` and `customerArrived` count.
    public func customerGrew(_ db: Database, _ customerID: String) throws {}

    /// A merged customer's vote handed over for a request the survivor voted for on this shard: as a merge on one
    /// shard does (`rekey`), the survivor's vote stays, and the other is journaled whole as dropped instead of as moved,
    /// so an unmerge gives the merged customer their own vote back and leaves the survivor theirs. A vote kept because
    /// it was handed over twice (same instant and channel) is left alone.
    public func handOverKept(_ db: Database, _ customerID: String, table: String, rows: [Row]) throws {
        guard table == "feature_vote" else { return }
        for row in rows {
            let vote = try DroppedVoteRow(row: row)
            let held = try DroppedVoteRow.fetchOne(
                db,
                sql: """
                    SELECT featureRequestId, comment, channel, votedAt FROM feature_vote
                    WHERE featureRequestId = ? AND customerId = ?
                    """, arguments: [vote.featureRequestId, customerID])
            guard let held, held.votedAt != vote.votedAt || held.channel != vote.channel else { continue }
            // The merge that moved it journaled it as moved: which customer's vote it was.
            guard
                let merged = try String.fetchOne(
                    db,
                    sql: """
                        SELECT mergedId FROM merge_journal
                        WHERE survivorId = ? AND tableName = 'feature_vote' AND rowKey = ? LIMIT 1
                        """, arguments: [customerID, vote.featureRequestId])
            else { continue }
            try db.execute(
                sql: """
                    DELETE FROM merge_journal WHERE mergedId = ? AND survivorId = ? AND tableName = 'feature_vote'
                      AND rowKey = ?
                    """, arguments: [merged, customerID, vote.featureRequestId])
            try Self.journalDropped(db, vote, merged: merged, survivor: customerID)
        }
    }

    /// Adds `change` to the count of every request `customerID` voted for: a customer's votes joining (1) or leaving
    /// (−1) this shard's tallies.
    static func countVotes(_ db: Database, of customerID: String, by change: Int) throws {
        try db.cachedStatement(
            sql: """
                UPDATE feature_request SET votes = votes + ?
                WHERE featureRequestId IN (SELECT featureRequestId FROM feature_vote WHERE customerId = ?)
                """
        ).execute(arguments: [change, customerID])
    }
}

import C360ChangeFeed
public import GRDB

extension FeedbackStore {
    /// Moves every response, vote and churn reason of `merged` to `survivor`. Where both voted for the same feature
    /// request the survivor's vote stays and the other leaves the tally, so a merged customer counts once. Runs
    /// inside the transaction of `MergeFollower`, which also stores the feed position; a second run finds nothing.
    public static func rekey(_ db: Database, merged: String, survivor: String) throws {
        try db.execute(sql: "UPDATE survey_response SET customerId = ? WHERE customerId = ?", arguments: [survivor, merged])
        try db.execute(sql: "UPDATE churn_reason SET customerId = ? WHERE customerId = ?", arguments: [survivor, merged])
        try db.execute(sql: "UPDATE OR IGNORE feature_vote SET customerId = ? WHERE customerId = ?",
                       arguments: [survivor, merged])
        // What is left under the merged id are votes the survivor had cast too.
        try db.execute(sql: """
            UPDATE feature_request SET votes = votes - 1
            WHERE featureRequestId IN (SELECT featureRequestId FROM feature_vote WHERE customerId = ?)
            """, arguments: [merged])
        try db.execute(sql: "DELETE FROM feature_vote WHERE customerId = ?", arguments: [merged])
    }

    /// Every customer this service holds data for (for a merge resync).
    public static func customerIDs(_ db: Database) throws -> [String] {
        try String.fetchAll(db, sql: """
            SELECT customerId FROM survey_response UNION SELECT customerId FROM feature_vote
            UNION SELECT customerId FROM churn_reason
            """)
    }
}

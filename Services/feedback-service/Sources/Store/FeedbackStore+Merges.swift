import C360ChangeFeed
import C360StoreKit
import Foundation
public import GRDB

extension FeedbackStore {
    /// Moves every response, vote and churn reason of `merged` to `survivor`. Where both voted for the same feature
    /// request the survivor's vote stays and the other leaves the tally (journaled whole, so an unmerge puts it
    /// back), so a merged customer counts once. Runs inside the transaction of `MergeFollower`, which also stores the
    /// feed position; a second run finds nothing.
    public static func rekey(_ db: Database, merged: String, survivor: String) throws {
        for (table, key) in rekeyedTables {
            try MergeJournal.record(
                db, merged: merged, survivor: survivor, table: table,
                keys: "SELECT \(key) AS k FROM \(table) WHERE customerId = ?", arguments: [merged])
            try db.execute(
                sql: "UPDATE \(table) SET customerId = ? WHERE customerId = ?", arguments: [survivor, merged])
        }
        // Theme terms follow their responses (their words stay sealed under the merged customer's key).
        try db.execute(
            sql: "UPDATE response_term SET customerId = ? WHERE customerId = ?", arguments: [survivor, merged])
        // A vote both cast stays the survivor's; the merged one leaves the tally, kept whole in the journal.
        // The payload is built here, not with SQL's json_object: the comment is sealed bytes, which JSON holds as
        // base64 (and `SealedText` reads back from the column `unrekey` writes it to).
        let doubled = try DroppedVoteRow.fetchAll(
            db,
            sql: """
                SELECT featureRequestId, comment, channel, votedAt
                FROM feature_vote AS mine WHERE customerId = ?1
                  AND EXISTS (SELECT 1 FROM feature_vote WHERE customerId = ?2 AND featureRequestId = mine.featureRequestId)
                """, arguments: [merged, survivor])
        for vote in doubled { try journalDropped(db, vote, merged: merged, survivor: survivor) }
        try db.execute(
            sql: """
                UPDATE feature_request SET votes = votes - 1 WHERE featureRequestId IN (
                    SELECT featureRequestId FROM feature_vote AS mine WHERE customerId = ?1
                      AND EXISTS (SELECT 1 FROM feature_vote WHERE customerId = ?2 AND featureRequestId = mine.featureRequestId))
                """, arguments: [merged, survivor])
        try db.execute(
            sql: """
                DELETE FROM feature_vote WHERE customerId = ?1 AND featureRequestId IN (
                    SELECT featureRequestId FROM feature_vote WHERE customerId = ?2)
                """, arguments: [merged, survivor])
        // The rest move, journaled like the other rows.
        try MergeJournal.record(
            db, merged: merged, survivor: survivor, table: "feature_vote",
            keys: "SELECT featureRequestId AS k FROM feature_vote WHERE customerId = ?",
            arguments: [merged])
        try db.execute(
            sql: "UPDATE feature_vote SET customerId = ? WHERE customerId = ?", arguments: [survivor, merged])
    }

    /// Journals a vote of `merged` that left the tally because `survivor` voted for the same request, whole, so an
    /// unmerge puts it back.
    static func journalDropped(_ db: Database, _ vote: DroppedVoteRow, merged: String, survivor: String) throws {
        var payload: [String: Any] = [
            "comment": vote.comment.isEmpty ? "" : vote.comment.combined.base64EncodedString(),
            "votedAt": vote.votedAt,
        ]
        payload["channel"] = vote.channel
        try MergeJournal.recordDropped(
            db, merged: merged, survivor: survivor, table: "feature_vote_dropped", key: vote.featureRequestId,
            payload: String(
                decoding: try JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys]), as: UTF8.self))
    }

    /// Moves back what `rekey` moved for this merge and puts the dropped double votes back in their tallies; rows the
    /// survivor gained since stay with it.
    public static func unrekey(_ db: Database, merged: String, survivor: String) throws {
        for (table, key) in rekeyedTables + [("feature_vote", "featureRequestId")] {
            try db.execute(
                sql: """
                    UPDATE \(table) SET customerId = ? WHERE customerId = ? AND \(key) IN (\(MergeJournal.keysSubquery))
                    """, arguments: [merged, survivor, merged, table])
        }
        try db.execute(
            sql: """
                UPDATE response_term SET customerId = ?1 WHERE customerId = ?2 AND responseId IN (
                    SELECT responseId FROM survey_response WHERE customerId = ?1)
                """, arguments: [merged, survivor])
        try db.execute(
            sql: """
                INSERT OR IGNORE INTO feature_vote (featureRequestId, customerId, comment, channel, votedAt)
                SELECT rowKey, ?, json_extract(payload, '$.comment'), json_extract(payload, '$.channel'),
                    json_extract(payload, '$.votedAt')
                FROM merge_journal WHERE mergedId = ? AND tableName = 'feature_vote_dropped'
                """, arguments: [merged, merged])
        try db.execute(
            sql: """
                UPDATE feature_request SET votes = votes + 1 WHERE featureRequestId IN (
                    SELECT rowKey FROM merge_journal WHERE mergedId = ? AND tableName = 'feature_vote_dropped')
                """, arguments: [merged])
    }

    /// The tables whose rows of one customer simply move, with each row's key (votes need care: see `rekey`).
    private static let rekeyedTables = [("survey_response", "responseId"), ("churn_reason", "churnReasonId")]

    /// Every customer this service holds data for (for a merge resync).
    public static func customerIDs(_ db: Database) throws -> [String] {
        try String.fetchAll(
            db,
            sql: """
                SELECT customerId FROM survey_response UNION SELECT customerId FROM feature_vote
                UNION SELECT customerId FROM churn_reason
                """)
    }
}

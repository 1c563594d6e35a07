import C360ChangeFeed
import C360StoreKit
import Foundation
import GRDB

/// What erasing one customer removed.
public struct ErasedFeedback: Sendable, Equatable {
    public var responses = 0
    public var votes = 0
    public var churnReasons = 0
}

/// One chunk of a customer's data, as exported.
public struct FeedbackExportChunk: Sendable {
    public var responses: [SurveyResponse] = []
    public var votes: [FeatureVote] = []
    public var churnReasons: [ChurnReason] = []
}

extension FeedbackStore {
    /// Everything held about one customer, handed to `deliver` in chunks of at most `chunkSize` records, each
    /// read in its own short transaction.
    public func export(
        customer customerID: String, chunkSize: Int = 500, deliver: (FeedbackExportChunk) async throws -> Void
    ) async throws {
        precondition(chunkSize > 0, "chunkSize must be positive")
        var after: Int64 = 0
        while true {
            let start = after
            let rows = try await writer.read { db in
                try SurveyResponseRecord.fetchAll(
                    db,
                    sql: """
                        SELECT * FROM survey_response WHERE customerId = ? AND seq > ? ORDER BY seq LIMIT ?
                        """, arguments: [customerID, start, chunkSize]
                ).map { (try $0.domain(keyring: keyring), $0.seq ?? 0) }
            }
            guard let last = rows.last else { break }
            try await deliver(FeedbackExportChunk(responses: rows.map(\.0)))
            after = last.1
            if rows.count < chunkSize { break }
        }
        let (votes, reasons) = try await writer.read { db in
            let votes = try ExportedVoteRow.fetchAll(
                db,
                sql: """
                    SELECT v.*, f.title FROM feature_vote v JOIN feature_request f USING (featureRequestId)
                    WHERE v.customerId = ? ORDER BY v.votedAt
                    """, arguments: [customerID]
            ).map { try $0.domain(keyring: keyring) }
            let reasons = try ChurnReasonRecord.fetchAll(
                db, sql: "SELECT * FROM churn_reason WHERE customerId = ? ORDER BY seq", arguments: [customerID]
            )
            .map { try $0.domain(keyring: keyring) }
            return (votes, reasons)
        }
        for start in stride(from: 0, to: votes.count, by: chunkSize) {
            try await deliver(FeedbackExportChunk(votes: Array(votes[start..<min(start + chunkSize, votes.count)])))
        }
        for start in stride(from: 0, to: reasons.count, by: chunkSize) {
            try await deliver(
                FeedbackExportChunk(
                    churnReasons: Array(reasons[start..<min(start + chunkSize, reasons.count)])))
        }
    }

    /// Deletes every response, vote and churn reason of one customer in one transaction; their votes leave the
    /// tallies. Erasing again removes nothing. Once committed, the deleted text is purged from the WAL too
    /// (`purgeDeletedData()`), so no file keeps the comments.
    public func erase(customer customerID: String) async throws -> ErasedFeedback {
        let (erased, owners) = try await writer.write { db in
            var erased = ErasedFeedback()
            // Including votes a merge set aside in its journal: their merged customer is in the journal too.
            let owners = try MergeJournal.keyOwners(
                db, of: customerID,
                sealedValues: [
                    "SELECT comment FROM survey_response WHERE customerId = ?",
                    "SELECT comment FROM feature_vote WHERE customerId = ?",
                    "SELECT text FROM churn_reason WHERE customerId = ?",
                    "SELECT surface FROM response_term WHERE customerId = ?",
                ])
            try db.execute(sql: "DELETE FROM survey_response WHERE customerId = ?", arguments: [customerID])
            erased.responses = db.changesCount
            try Self.countVotes(db, of: customerID, by: -1)
            try db.execute(sql: "DELETE FROM feature_vote WHERE customerId = ?", arguments: [customerID])
            erased.votes = db.changesCount
            try db.execute(sql: "DELETE FROM churn_reason WHERE customerId = ?", arguments: [customerID])
            erased.churnReasons = db.changesCount
            try ChangeLog.forget(db, customer: customerID)
            try CustomerAlias.forget(db, customer: customerID)
            try ChangeLog.append(db, .customerDataErased, customer: customerID)
            return (erased, owners)
        }
        // After the commit: what was sealed for these customers, in any copy of this database, is unreadable now.
        try keyring.shred(owners)
        await writer.purgeDeletedData()
        return erased
    }
}

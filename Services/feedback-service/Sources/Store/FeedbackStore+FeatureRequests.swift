import C360ChangeFeed
public import C360StoreKit
public import Foundation
import GRDB

extension FeedbackStore {
    /// Stores a new feature request (with its first vote when given), or, when one with the same id, title and
    /// details exists, records the vote on it and answers it.
    ///
    /// - Throws: `FeedbackError.featureRequestExists` when the id is taken by a different request.
    public func createFeatureRequest(_ request: FeatureRequest, vote: FeatureVote?) async throws -> FeatureRequest {
        try await writer.write { db in
            if let existing = try fetchFeatureRequest(db, id: request.id) {
                guard existing.title == request.title, existing.details == request.details else {
                    throw FeedbackError.featureRequestExists(request.id)
                }
            } else {
                try db.execute(
                    sql: """
                        INSERT INTO feature_request (featureRequestId, title, details, status, votes, createdAt, updatedAt)
                        VALUES (?, ?, ?, ?, 0, ?, ?)
                        """,
                    arguments: [
                        request.id, request.title, request.details, request.status.rawValue,
                        request.createdAt.unixMillis, request.updatedAt.unixMillis,
                    ])
            }
            if let vote { try insertVote(db, vote) }
            return try requireFeatureRequest(db, id: request.id)
        }
    }

    /// Records a customer's vote; a second vote of the same customer changes nothing.
    ///
    /// - Throws: `FeedbackError.featureRequestNotFound`.
    public func vote(_ vote: FeatureVote) async throws -> FeatureRequest {
        try await writer.write { db in
            _ = try requireFeatureRequest(db, id: vote.featureRequestID)
            try insertVote(db, vote)
            return try requireFeatureRequest(db, id: vote.featureRequestID)
        }
    }

    /// Moves a feature request to `status`, keeping the change with its note.
    ///
    /// - Throws: `FeedbackError.featureRequestNotFound` for the request or the one it duplicates.
    public func updateStatus(
        featureRequest id: String, to status: FeatureRequestStatus, note: String, duplicateOf: String, at now: Date
    ) async throws -> FeatureRequest {
        try await writer.write { db in
            let before = try requireFeatureRequest(db, id: id)
            if !duplicateOf.isEmpty { _ = try requireFeatureRequest(db, id: duplicateOf) }
            if status == .shipped, before.status != .shipped {
                // Closing the loop: every voter hears of it, once, with the status change.
                let voters = try String.fetchAll(
                    db, sql: "SELECT customerId FROM feature_vote WHERE featureRequestId = ? ORDER BY customerId",
                    arguments: [id])
                for voter in voters {
                    try ChangeLog.append(db, .featureRequestShipped, customer: voter, subject: id, at: now)
                }
            }
            try db.execute(
                sql: """
                    UPDATE feature_request SET status = ?, statusNote = ?, duplicateOfId = ?, updatedAt = ?
                    WHERE featureRequestId = ?
                    """, arguments: [status.rawValue, note, duplicateOf, now.unixMillis, id])
            try db.execute(
                sql: """
                    INSERT INTO feature_status_change (featureRequestId, status, note, duplicateOfId, changedAt)
                    VALUES (?, ?, ?, ?, ?)
                    """, arguments: [id, status.rawValue, note, duplicateOf, now.unixMillis])
            return try requireFeatureRequest(db, id: id)
        }
    }

    /// Feature requests with the votes cast in the filter's window, in the filter's order, one page after
    /// `position` (sort key, sequence).
    public func featureRequests(
        filter: FeatureRequestFilter, after position: ListPosition?, limit: Int
    ) async throws -> Page<(tally: FeatureRequestTally, position: ListPosition)> {
        try await writer.read { db in
            let (bounds, boundArguments) = InstantBounds(from: filter.from, until: filter.until).sql("v.votedAt")
            var sql = """
                SELECT * FROM (
                    SELECT f.*, (SELECT COUNT(*) FROM feature_vote v WHERE v.featureRequestId = f.featureRequestId\(bounds))
                        AS windowVotes
                    FROM feature_request f WHERE 1
                """
            var arguments = boundArguments
            if !filter.statuses.isEmpty {
                sql += " AND f.status IN (\(databaseQuestionMarks(count: filter.statuses.count)))"
                _ = arguments.append(contentsOf: StatementArguments(filter.statuses.map(\.rawValue).sorted()))
            }
            if !filter.customerID.isEmpty {
                sql +=
                    " AND EXISTS (SELECT 1 FROM feature_vote c WHERE c.featureRequestId = f.featureRequestId AND c.customerId = ?)"
                _ = arguments.append(contentsOf: [filter.customerID])
            }
            sql += ") WHERE 1"
            let key =
                switch filter.order {
                case .votes: "votes"
                case .windowVotes: "windowVotes"
                case .newest: "seq"
                }
            if let position {
                sql += " AND (\(key) < ? OR (\(key) = ? AND seq < ?))"
                _ = arguments.append(contentsOf: [position.key, position.key, position.seq])
            }
            sql += " ORDER BY \(key) DESC, seq DESC LIMIT ?"
            _ = arguments.append(contentsOf: [limit + 1])
            let rows = try FeatureRequestTallyRow.fetchAll(db, sql: sql, arguments: arguments)
            return Page(fetched: rows, limit: limit).map { row in (row.tally, row.listPosition(filter.order)) }
        }
    }

    private func insertVote(_ db: Database, _ vote: FeatureVote) throws {
        var vote = vote
        vote.customerID = try CustomerAlias.survivor(db, of: vote.customerID)
        try db.execute(
            sql: """
                INSERT OR IGNORE INTO feature_vote (featureRequestId, customerId, comment, channel, votedAt)
                VALUES (?, ?, ?, ?, ?)
                """,
            arguments: [
                vote.featureRequestID, vote.customerID, try keyring.seal(vote.comment, for: vote.customerID),
                vote.channel?.rawValue,
                vote.votedAt.unixMillis,
            ])
        guard db.changesCount > 0 else { return }
        try db.execute(
            sql:
                "UPDATE feature_request SET votes = votes + 1, updatedAt = MAX(updatedAt, ?) WHERE featureRequestId = ?",
            arguments: [vote.votedAt.unixMillis, vote.featureRequestID])
        try ChangeLog.append(
            db, .featureVoteRecorded, customer: vote.customerID, subject: vote.featureRequestID,
            at: vote.votedAt)
    }

    func fetchFeatureRequest(_ db: Database, id: String) throws -> FeatureRequest? {
        try FeatureRequestRecord.fetchOne(
            db, sql: "SELECT * FROM feature_request WHERE featureRequestId = ?",
            arguments: [id])?.domain
    }

    private func requireFeatureRequest(_ db: Database, id: String) throws -> FeatureRequest {
        guard let request = try fetchFeatureRequest(db, id: id) else { throw FeedbackError.featureRequestNotFound(id) }
        return request
    }
}

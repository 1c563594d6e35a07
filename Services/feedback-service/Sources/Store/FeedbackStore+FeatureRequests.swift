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
        filter: FeatureRequestFilter, after position: SequencePosition?, limit: Int
    ) async throws -> Page<(tally: FeatureRequestTally, position: SequencePosition)> {
        try await writer.read { db in
            typealias Columns = FeatureRequestRecord.Columns
            typealias Votes = FeatureVoteRecord.Columns
            let feature = TableAlias<FeatureRequestRecord>()
            let votesForIt = FeatureVoteRecord.filter(Votes.featureRequestId == feature[Columns.featureRequestId])
            let windowVotes = votesForIt.filter(Votes.votedAt, from: filter.from, until: filter.until)
                .filter(try owned.expression(db, customer: Votes.customerId))
                .select(count(Votes.customerId))
            var request = FeatureRequestRecord.aliased(feature)
                .annotated(with: windowVotes.sqlExpression.forKey(FeatureRequestTallyRow.windowVotes.name))
                .filter(Columns.status, anyOf: filter.statuses.map(\.rawValue))
            // While this shard holds a move's copies, the stored count takes in their votes: the owned customers'
            // votes are counted instead, and ordered by, so pages follow the counts they answer.
            let ownVotes = try ownedVotes(db)
            if let ownVotes {
                let counted = ownVotes.filter(Votes.featureRequestId == feature[Columns.featureRequestId])
                    .select(count(Votes.customerId))
                request = request.annotated(with: counted.sqlExpression.forKey(FeatureRequestTallyRow.ownVotes.name))
            }
            if !filter.customerID.isEmpty {
                request = request.filter(votesForIt.filter(Votes.customerId == filter.customerID).exists())
            }
            let key: SQLExpression =
                switch filter.order {
                case .votes: ownVotes == nil ? Columns.votes.sqlExpression : FeatureRequestTallyRow.ownVotes.detached
                case .windowVotes: FeatureRequestTallyRow.windowVotes.detached
                case .newest: Columns.seq.sqlExpression
                }
            var rows = try request.page(.descending(key, tie: Columns.seq), after: position, limit: limit)
                .asRequest(of: FeatureRequestTallyRow.self).fetchAll(db)
            for index in rows.indices { rows[index].request.votes = rows[index].ownVotes ?? rows[index].request.votes }
            return Page(fetched: rows, limit: limit).map { row in (row.tally, row.listPosition(filter.order)) }
        }
    }

    private func insertVote(_ db: Database, _ vote: FeatureVote) throws {
        var vote = vote
        vote.customerID = try CustomerAlias.survivor(db, ofWrite: vote.customerID, handOver: handOver)
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
            arguments: [id]
        ).map { try withOwnVotes(db, $0).domain }
    }

    /// `record` with the votes of this shard's own customers (`ownedVotes`).
    private func withOwnVotes(_ db: Database, _ record: FeatureRequestRecord) throws -> FeatureRequestRecord {
        guard let ownVotes = try ownedVotes(db) else { return record }
        var record = record
        record.votes =
            try ownVotes.filter(FeatureVoteRecord.Columns.featureRequestId == record.featureRequestId).fetchCount(db)
        return record
    }

    /// The votes of the customers this shard owns, while it holds a move's copies; `nil` otherwise, when the stored
    /// count is right. The stored count is kept by every vote and by the customers a move brings in or takes out
    /// (`customerArrived`, `customerLeaving`), so while this shard holds a move's copies it counts their votes too,
    /// and the shards' tallies added would count them twice.
    private func ownedVotes(_ db: Database) throws -> QueryInterfaceRequest<FeatureVoteRecord>? {
        guard try owned.ranges(db) != nil else { return nil }
        return FeatureVoteRecord.filter(try owned.expression(db, customer: FeatureVoteRecord.Columns.customerId))
    }

    private func requireFeatureRequest(_ db: Database, id: String) throws -> FeatureRequest {
        guard let request = try fetchFeatureRequest(db, id: id) else { throw FeedbackError.featureRequestNotFound(id) }
        return request
    }
}

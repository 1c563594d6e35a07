import C360StoreKit
public import Foundation
import GRDB

/// Where a batch recompute stands.
public enum BatchState: String, Codable, Sendable {
    case running, interrupted, completed, failed
}

/// A batch recompute of health scores over all customers, with the cursor it resumes from.
public struct HealthBatch: Sendable, Equatable {
    public var id: String
    public var state: BatchState
    public var processed = 0, scored = 0, partial = 0, failed = 0, alertsRaised = 0
    /// The last customer fully processed.
    public var cursorCustomerID = ""
    /// The peer's page token of the page holding the cursor (opaque; re-read on resume).
    public var pageToken = ""
    public var startedAt: Date
    public var updatedAt: Date
    public var finishedAt: Date?
    public var lastError = ""
    public var resumes = 0
    public var activeSince: Date?

    public init(id: String, activeSince: Date?, startedAt: Date) {
        self.id = id
        self.state = .running
        self.activeSince = activeSince
        self.startedAt = startedAt
        self.updatedAt = startedAt
    }
}

extension SuccessStore {
    public func batch(id: String) async throws -> HealthBatch? {
        try await writer.read { db in try fetchBatch(db, id: id) }
    }

    /// Creates a batch, or marks an unfinished one running again for a resume; answers it as stored.
    public func startBatch(_ batch: HealthBatch, resume: Bool) async throws -> HealthBatch {
        try await writer.write { db in
            if resume {
                try db.execute(
                    sql:
                        "UPDATE batch SET state = 'running', resumes = resumes + 1, lastError = '', updatedAt = ? WHERE batchId = ?",
                    arguments: [batch.updatedAt.unixMillis, batch.id])
            } else {
                try db.execute(
                    sql: """
                        INSERT INTO batch (batchId, state, startedAt, updatedAt, activeSince) VALUES (?, 'running', ?, ?, ?)
                        """,
                    arguments: [
                        batch.id, batch.startedAt.unixMillis, batch.updatedAt.unixMillis,
                        batch.activeSince?.unixMillis,
                    ])
            }
            return try fetchBatch(db, id: batch.id)!
        }
    }

    /// Saves a batch's counters, cursor and state.
    public func saveBatch(_ batch: HealthBatch) async throws {
        try await writer.write { db in
            try db.execute(
                sql: """
                    UPDATE batch SET state = ?, processed = ?, scored = ?, partial = ?, failed = ?, alertsRaised = ?,
                        cursorCustomerId = ?, pageToken = ?, updatedAt = ?, finishedAt = ?, lastError = ?
                    WHERE batchId = ?
                    """,
                arguments: [
                    batch.state.rawValue, batch.processed, batch.scored, batch.partial, batch.failed,
                    batch.alertsRaised, batch.cursorCustomerID, batch.pageToken, batch.updatedAt.unixMillis,
                    batch.finishedAt?.unixMillis, batch.lastError, batch.id,
                ])
        }
    }

    /// Marks batches left running by a previous process interrupted, so they can be resumed; answers their ids.
    public func interruptOrphanedBatches(at now: Date) async throws -> [String] {
        try await writer.write { db in
            let ids = try String.fetchAll(db, sql: "SELECT batchId FROM batch WHERE state = 'running'")
            try db.execute(
                sql: """
                    UPDATE batch SET state = 'interrupted', lastError = 'the service stopped while the batch ran', updatedAt = ?
                    WHERE state = 'running'
                    """, arguments: [now.unixMillis])
            return ids
        }
    }

    private func fetchBatch(_ db: Database, id: String) throws -> HealthBatch? {
        try BatchRecord.fetchOne(db.cachedStatement(sql: "SELECT * FROM batch WHERE batchId = ?"), arguments: [id])?
            .domain
    }
}

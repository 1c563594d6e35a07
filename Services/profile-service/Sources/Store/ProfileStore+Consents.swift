import C360ChangeFeed
public import C360ServerKit
public import C360StoreKit
public import Foundation
public import GRDB

/// Where a page of consent history continues: after this decision (decided-at, id), newest first.
public typealias ConsentPosition = KeysetPosition<Date, String>

extension ProfileStore {
    /// Records one consent decision; the customer's current consent for that purpose and channel is whichever
    /// decision has the latest `decidedAt`.
    public func recordConsent(
        customer id: String, purpose: ConsentPurpose, channel: Channel, status: ConsentStatus, source: String,
        decidedAt: Date?
    ) async throws -> ConsentDecision {
        try await writer.write { db in
            let (row, _) = try activeRow(db, resolving: id)
            let recordedAt = now()
            let record = ConsentRecord(
                id: EntityID.generate(), customerId: row.id, purpose: purpose, channel: channel, status: status,
                source: source, decidedAt: decidedAt ?? recordedAt, recordedAt: recordedAt)
            try record.insert(db)
            try touch(db, row.id, change: .consentChanged)
            return record.decision
        }
    }

    /// The current decision for every purpose × channel the customer has decided on.
    public func currentConsents(customer id: String) async throws -> (customerID: String, consents: [ConsentDecision]) {
        try await writer.read { db in
            let (row, _) = try activeRow(db, resolving: id)
            return (row.id, try Self.currentDecisions(db, customerIDs: [row.id])[row.id] ?? [])
        }
    }

    /// Many customers with their current consents in one read: each id resolved (a merged-away id to its survivor),
    /// or the reason it cannot be.
    public func profilesWithConsents(
        _ ids: [String]
    ) async throws -> [Result<(profile: CustomerProfile, consents: [ConsentDecision]), ProfileError>] {
        try await writer.read { db in
            let resolved = try activeRows(db, resolving: ids)
            var seen = Set<String>()
            let rows = resolved.compactMap { try? $0.get() }.filter { seen.insert($0.id).inserted }
            let profiles = Dictionary(uniqueKeysWithValues: try profiles(db, rows: rows).map { ($0.id, $0) })
            let consents = try Self.currentDecisions(db, customerIDs: rows.map(\.id))
            return resolved.map { result in
                result.map { row in (profiles[row.id]!, consents[row.id] ?? []) }
            }
        }
    }

    /// The newest decision per purpose × channel of each customer, by customer, in purpose and channel order.
    static func currentDecisions(_ db: Database, customerIDs: [String]) throws -> [String: [ConsentDecision]] {
        guard !customerIDs.isEmpty else { return [:] }
        // One customer (GetConsents, the 360° view) reuses a statement prepared once; a batch's `IN` list of its
        // own length compiles its own.
        let sql = """
            SELECT id, customerId, purpose, channel, status, source, decidedAt, recordedAt FROM (
                SELECT *, ROW_NUMBER() OVER (
                    PARTITION BY customerId, purpose, channel ORDER BY decidedAt DESC, id DESC) AS rank
                FROM consent_decision WHERE customerId IN (\(databaseQuestionMarks(count: customerIDs.count))))
            WHERE rank = 1 ORDER BY customerId, purpose, channel
            """
        let records = try ConsentRecord.fetchAll(
            customerIDs.count == 1 ? db.cachedStatement(sql: sql) : db.makeStatement(sql: sql),
            arguments: StatementArguments(customerIDs))
        return Dictionary(grouping: records, by: \.customerId).mapValues { $0.map(\.decision) }
    }

    /// Every decision, newest first, one page after `position`.
    public func consentHistory(
        customer id: String, after position: ConsentPosition?, limit: Int
    ) async throws -> Page<ConsentDecision> {
        try await writer.read { db in
            let (row, _) = try activeRow(db, resolving: id)
            let records = try ConsentRecord.filter(ConsentRecord.Columns.customerId == row.id).page(
                .descending(ConsentRecord.Columns.decidedAt, tie: ConsentRecord.Columns.id), after: position,
                limit: limit
            ).fetchAll(db)
            return Page(fetched: records, limit: limit)
                .map(\.decision)
        }
    }
}

extension ConsentRecord {
    var decision: ConsentDecision {
        ConsentDecision(
            id: id, purpose: purpose, channel: channel, status: status, source: source,
            decidedAt: decidedAt, recordedAt: recordedAt)
    }
}

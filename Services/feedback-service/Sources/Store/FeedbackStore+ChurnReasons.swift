import C360ChangeFeed
import C360StoreKit
public import Foundation
import GRDB

extension FeedbackStore {
    /// Stores a churn reason, unless its id is already stored.
    public func record(_ reason: ChurnReason) async throws -> RecordOutcome<ChurnReason> {
        try await writer.write { db in
            if let existing = try ChurnReasonRecord.fetchOne(
                db, sql: "SELECT * FROM churn_reason WHERE churnReasonId = ?", arguments: [reason.id])
            {
                return .duplicate(try existing.domain(keyring: keyring))
            }
            var reason = reason
            reason.customerID = try CustomerAlias.survivor(db, ofWrite: reason.customerID, handOver: handOver)
            try db.execute(
                sql: """
                    INSERT INTO churn_reason (churnReasonId, customerId, category, text, sentimentScore, sentimentLabel,
                        sentimentLanguage, churnedAt, channel, recordedBy, recordedAt)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    reason.id, reason.customerID, reason.category.rawValue,
                    try keyring.seal(reason.text, for: reason.customerID), reason.sentiment?.score,
                    reason.sentiment?.label.rawValue, reason.sentiment?.language.rawValue, reason.churnedAt.unixMillis,
                    reason.channel?.rawValue, reason.recordedBy, reason.recordedAt.unixMillis,
                ])
            try ChangeLog.append(
                db, .churnReasonRecorded, customer: reason.customerID, subject: reason.id,
                at: reason.recordedAt)
            return .stored(reason)
        }
    }

    /// Churn reasons churned in [from, until) counted by category, with distinct customers.
    public func churnReasonTally(from: Date?, until: Date?) async throws -> ChurnReasonTally {
        try await writer.read { db in
            typealias Columns = ChurnReasonRecord.Columns
            let churned = ChurnReasonRecord.all().filter(Columns.churnedAt, from: from, until: until)
                .filter(try owned.expression(db, customer: Columns.customerId))
            let reasons = count(Columns.churnReasonId).forKey(ChurnTotalsRow.CodingKeys.reasons)
            let customers = count(distinct: Columns.customerId).forKey(ChurnTotalsRow.CodingKeys.customers)
            let categories = try churned.select(Columns.category, reasons, customers).group(Columns.category)
                .order(Column(ChurnTotalsRow.CodingKeys.reasons).detached.desc, Columns.category)
                .asRequest(of: ChurnCategoryCountRow.self).fetchAll(db).map(\.count)
            let totals = try churned.select(reasons, customers).asRequest(of: ChurnTotalsRow.self).fetchOne(db)
            return ChurnReasonTally(
                categories: categories, reasons: totals?.reasons ?? 0,
                churnedCustomers: totals?.customers ?? 0)
        }
    }
}

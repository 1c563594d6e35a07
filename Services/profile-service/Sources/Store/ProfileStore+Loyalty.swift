import C360ChangeFeed
public import C360StoreKit
public import Foundation
import GRDB

extension ProfileStore {
    /// Adds (positive `delta`) or redeems (negative `delta`) points in one transaction with its history entry.
    ///
    /// A `transactionID` the customer already used with the same request is answered from history without applying
    /// it twice; one used for anything else is refused.
    ///
    /// Earned points become a lot that expires at `expiresAt` (when the loyalty program sets an expiry); a redemption
    /// draws down the lots that expire soonest.
    ///
    /// - Throws: `ProfileError.insufficientPoints` when a redemption would take the balance below zero.
    public func applyPoints(
        _ delta: Int64, reason: String, transactionID: String?, expiresAt: Date? = nil, customer id: String
    ) async throws -> (customerID: String, account: LoyaltyAccount) {
        try await writer.write { db in
            var (row, _) = try activeRow(db, resolving: id)
            let fingerprint = "\(row.id)|\(delta)|\(reason)"
            if let transactionID, let existing = try LoyaltyRecord.fetchOne(db, key: transactionID) {
                guard existing.requestFingerprint == fingerprint else {
                    throw ProfileError.transactionReused(transactionID)
                }
                return (row.id, try account(db, row))
            }
            let balance = row.loyaltyBalance + delta
            guard balance >= 0 else {
                throw ProfileError.insufficientPoints(customer: row.id, balance: row.loyaltyBalance, requested: -delta)
            }
            let timestamp = now()
            row.loyaltyBalance = balance
            if delta > 0 { row.loyaltyLifetime += delta }
            if delta < 0 { try Self.drawLots(db, customer: row.id, points: -delta) }
            row.updatedAt = timestamp
            try row.update(db)
            let lot = delta > 0 ? expiresAt : nil
            try LoyaltyRecord(
                id: transactionID ?? EntityID.generate(), customerId: row.id, pointsDelta: delta, reason: reason,
                occurredAt: timestamp, balanceAfter: balance, requestFingerprint: fingerprint,
                remaining: lot == nil ? nil : delta, expiresAt: lot
            ).insert(db)
            try ChangeLog.append(db, .loyaltyChanged, customer: row.id, at: timestamp)
            return (row.id, try account(db, row))
        }
    }

    /// The customer's current loyalty standing.
    public func loyalty(customer id: String) async throws -> (customerID: String, account: LoyaltyAccount) {
        try await writer.read { db in
            let (row, _) = try activeRow(db, resolving: id)
            return (row.id, try account(db, row))
        }
    }

    /// The row's standing with its soonest-expiring points.
    func account(_ db: Database, _ row: CustomerRecord) throws -> LoyaltyAccount {
        var account = row.loyaltyAccount
        account.expiring = try Self.soonestExpiry(db, customer: row.id)
        return account
    }

    /// Earns and redemptions, newest first, one page after the entry with the id `afterID`.
    ///
    /// Ordered by insertion (`rowid`), which is the order the balance moved in even when client-chosen transaction
    /// ids do not sort by time.
    public func loyaltyHistory(
        customer id: String, after afterID: String?, limit: Int
    ) async throws -> Page<LoyaltyEntry> {
        try await writer.read { db in
            let (row, _) = try activeRow(db, resolving: id)
            var request = LoyaltyRecord.filter(LoyaltyRecord.Columns.customerId == row.id)
            if let afterID {
                request = request.filter(
                    Column.rowID
                        < LoyaltyRecord.filter(LoyaltyRecord.Columns.id == afterID).select(Column.rowID).sqlExpression
                )
            }
            let records = try request.order(Column.rowID.desc).limit(limit + 1).fetchAll(db)
            return Page(fetched: records, limit: limit).map {
                LoyaltyEntry(
                    transactionID: $0.id, pointsDelta: $0.pointsDelta, reason: $0.reason,
                    occurredAt: $0.occurredAt, balanceAfter: $0.balanceAfter, rewardDeltaMinor: $0.rewardDeltaMinor)
            }
        }
    }
}

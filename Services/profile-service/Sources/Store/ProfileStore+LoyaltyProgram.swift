public import C360ChangeFeed
public import C360Contracts
import C360StoreKit
public import Foundation
public import GRDB

/// A purchase or refund as interaction-service recorded it: what the loyalty program applies.
public struct PurchaseFact: Sendable, Equatable {
    public enum Kind: String, Sendable, Codable {
        case purchase, refund
    }

    public var touchpointID: String
    public var kind: Kind
    public var orderID: String
    /// Charged after discounts (purchase) or given back (refund), positive.
    public var amountMinor: Int64
    public var currencyCode: String
    public var occurredAt: Date

    public init(
        touchpointID: String, kind: Kind, orderID: String, amountMinor: Int64, currencyCode: String,
        occurredAt: Date
    ) {
        self.touchpointID = touchpointID
        self.kind = kind
        self.orderID = orderID
        self.amountMinor = amountMinor
        self.currencyCode = currencyCode
        self.occurredAt = occurredAt
    }
}

/// What one evaluation of a customer by the loyalty program changed.
public struct LoyaltyEvaluation: Sendable, Equatable {
    public var customerID: String
    /// Purchases and refunds applied for the first time.
    public var applied: Int
    public var pointsDelta: Int64
    public var rewardDeltaMinor: Int64
    public var tier: LoyaltyTier
    public var windowNetSpendMinor: Int64
}

extension ProfileStore {
    /// Customers whose purchases the loyalty program has to look at, filled from interaction-service's feed in the
    /// transaction that stores the feed position.
    public static let loyaltyQueue = CustomerQueue(table: "loyalty_queue")

    /// interaction-service's changes that move a customer's loyalty: a purchase or refund recorded, and touchpoints
    /// re-keyed to a survivor by a merge (its window spend grew).
    public static let loyaltyChanges: [Customer360_V1_ChangeKind] = [.purchaseRecorded, .customerRekeyed]

    /// Queues the customers of `events` for evaluation after `delay` (a burst of purchases is read once).
    ///
    /// - Parameter owns: Whether this process keeps the customer (a shard keeps its slots' customers only).
    public static func queueLoyalty(
        _ db: Database, for events: [Customer360_V1_ChangeEvent], delay: Duration, now: Date,
        owns: (String) -> Bool = { _ in true }
    ) throws {
        let due = now.adding(delay)
        for event in events {
            let id = event.kind == .customerRekeyed ? event.relatedCustomerID : event.customerID
            guard !id.isEmpty, owns(id) else { continue }
            try loyaltyQueue.enqueue(db, customerID: id, due: due)
        }
    }

    /// Queues every customer the program has given a tier, so tiers follow the window as old purchases leave it.
    ///
    /// - Returns: How many were queued.
    public func queueTierReview(now: Date) async throws -> Int {
        try await queueActiveCustomers(
            where: CustomerRecord.Columns.windowSpendMinor != 0 && CustomerRecord.Columns.windowSpendMinor != nil,
            now: now)
    }

    /// Queues every active customer (after the program's feed position fell out of interaction-service's retention).
    public func queueLoyaltyForEveryone(now: Date) async throws -> Int {
        try await queueActiveCustomers(where: true.sqlExpression, now: now)
    }

    /// Queues the active customers matching `condition` for evaluation now, in one transaction.
    private func queueActiveCustomers(where condition: SQLExpression, now: Date) async throws -> Int {
        try await writer.write { db in
            let ids = try String.fetchAll(
                db,
                CustomerRecord.select(CustomerRecord.Columns.id)
                    .filter(CustomerRecord.Columns.state == CustomerRecord.State.active.rawValue)
                    .filter(condition))
            // A customer fenced while moving is evaluated on arrival (`customerArrived`); one being merged into another
            // shard's customer, there.
            let fenced = try Self.busyCustomers(db)
            let queued = ids.filter { !(fenced?($0) ?? false) }
            for id in queued { try Self.loyaltyQueue.enqueue(db, customerID: id, due: now) }
            return queued.count
        }
    }

    /// Applies a customer's purchases and refunds to their loyalty in one transaction: each touchpoint not applied
    /// before earns (or, for a refund, takes back) points and cashback, then the tier is set from the net spend of
    /// `purchases` within the program's window.
    ///
    /// - Parameters:
    ///   - purchases: Every purchase and refund of the customer within the program's window (older ones neither earn
    ///     nor count: history imported later does not flood balances).
    ///   - id: The customer; a merged-away id applies to the survivor.
    /// - Throws: `ProfileError` when the customer is unknown, deleted or erased.
    public func applyPurchases(
        _ purchases: [PurchaseFact], customer id: String, program: LoyaltyProgram
    ) async throws -> LoyaltyEvaluation {
        try await writer.write { db in
            var (row, _) = try activeRow(db, resolving: id)
            let timestamp = now()
            let windowStart = program.windowStart(endingAt: timestamp)
            let counted = purchases.filter { $0.currencyCode == program.currencyCode && $0.occurredAt >= windowStart }
            let known = Set(
                try String.fetchAll(
                    db,
                    LoyaltyPurchaseRecord
                        .select(LoyaltyPurchaseRecord.Columns.touchpointId)
                        .filter(purchases.map(\.touchpointID).contains(LoyaltyPurchaseRecord.Columns.touchpointId))))
            let before = row
            let heldTier = row.spendTier ?? .bronze
            var applied = 0
            for purchase in purchases.sorted(by: { $0.occurredAt < $1.occurredAt })
            where !known.contains(purchase.touchpointID) {
                applied += 1
                let counts = purchase.currencyCode == program.currencyCode && purchase.occurredAt >= windowStart
                var points: Int64 = 0
                var cashback: Int64 = 0
                if counts {
                    switch purchase.kind {
                    case .purchase:
                        points = program.points(forAmountMinor: purchase.amountMinor)
                        cashback = program.cashback(forAmountMinor: purchase.amountMinor, tier: heldTier)
                    case .refund:
                        let owed = try Self.takeBack(db, for: purchase)
                        points = -min(owed.points, row.loyaltyBalance)
                        cashback = -min(owed.cashbackMinor, row.rewardBalanceMinor ?? 0)
                    }
                }
                try LoyaltyPurchaseRecord(
                    touchpointId: purchase.touchpointID, customerId: row.id, orderId: purchase.orderID,
                    kind: purchase.kind, amountMinor: purchase.amountMinor, currencyCode: purchase.currencyCode,
                    occurredAt: purchase.occurredAt, points: points, cashbackMinor: cashback, appliedAt: timestamp
                ).insert(db)
                guard points != 0 || cashback != 0 else { continue }
                row.loyaltyBalance += points
                if points > 0 { row.loyaltyLifetime += points }
                if points < 0 { try Self.drawLots(db, customer: row.id, points: -points) }
                if cashback != 0 { row.rewardBalanceMinor = (row.rewardBalanceMinor ?? 0) + cashback }
                let expires = points > 0 ? program.expiry(ofPointsEarnedAt: timestamp) : nil
                try LoyaltyRecord(
                    id: EntityID.generate(), customerId: row.id, pointsDelta: points,
                    reason: purchase.kind == .purchase
                        ? "order \(purchase.orderID)" : "refund of order \(purchase.orderID)",
                    occurredAt: timestamp, balanceAfter: row.loyaltyBalance,
                    requestFingerprint: "\(purchase.kind.rawValue):\(purchase.touchpointID)",
                    remaining: expires == nil ? nil : points, expiresAt: expires,
                    rewardDeltaMinor: cashback == 0 ? nil : cashback
                ).insert(db)
            }
            let spend = counted.reduce(Int64(0)) { $0 + ($1.kind == .purchase ? $1.amountMinor : -$1.amountMinor) }
            row.windowSpendMinor = spend
            row.spendTier = program.tier(forNetSpendMinor: max(spend, 0))
            let changed =
                row.loyaltyBalance != before.loyaltyBalance || row.spendTier != before.spendTier
                || row.rewardBalanceMinor != before.rewardBalanceMinor
                || row.windowSpendMinor != before.windowSpendMinor
            if changed {
                row.updatedAt = timestamp
                try row.update(db)
                try ChangeLog.append(db, .loyaltyChanged, customer: row.id, at: timestamp)
            }
            return LoyaltyEvaluation(
                customerID: row.id, applied: applied, pointsDelta: row.loyaltyBalance - before.loyaltyBalance,
                rewardDeltaMinor: (row.rewardBalanceMinor ?? 0) - (before.rewardBalanceMinor ?? 0),
                tier: row.spendTier ?? .bronze, windowNetSpendMinor: spend)
        }
    }

    /// What a refund takes back: the refunded share of the points and cashback its order's purchases were credited,
    /// less what earlier refunds of the order took back already. A refund of an order that earned nothing (bought
    /// before the window, or in another currency) takes nothing.
    static func takeBack(_ db: Database, for refund: PurchaseFact) throws -> (points: Int64, cashbackMinor: Int64) {
        let rows = try LoyaltyPurchaseRecord.filter(LoyaltyPurchaseRecord.Columns.orderId == refund.orderID).fetchAll(
            db)
        let bought = rows.filter { $0.kind == .purchase }
        let refunded = rows.filter { $0.kind == .refund }
        let paid = bought.reduce(Int64(0)) { $0 + $1.amountMinor }
        guard paid > 0 else { return (0, 0) }
        func share(credited: Int64, alreadyTaken: Int64) -> Int64 {
            guard credited > 0 else { return 0 }
            let part =
                refund.amountMinor >= paid
                ? credited : Int64((Double(credited) * Double(refund.amountMinor) / Double(paid)).rounded(.down))
            return max(0, min(part, credited - alreadyTaken))
        }
        return (
            share(credited: bought.reduce(0) { $0 + $1.points }, alreadyTaken: refunded.reduce(0) { $0 - $1.points }),
            share(
                credited: bought.reduce(0) { $0 + $1.cashbackMinor },
                alreadyTaken: refunded.reduce(0) { $0 - $1.cashbackMinor })
        )
    }

    /// Takes `points` out of the customer's expiring lots, soonest expiry first, so the points a redemption or refund
    /// uses are the ones about to be lost. Points without a lot (earned before a program set an expiry) come last.
    static func drawLots(_ db: Database, customer id: String, points: Int64) throws {
        var left = points
        let lots =
            try LoyaltyRecord
            .filter(LoyaltyRecord.Columns.customerId == id && LoyaltyRecord.Columns.remaining > 0)
            .order(LoyaltyRecord.Columns.expiresAt)
            .fetchAll(db)
        for var lot in lots where left > 0 {
            let take = min(lot.remaining ?? 0, left)
            lot.remaining = (lot.remaining ?? 0) - take
            left -= take
            try lot.update(db)
        }
    }

    /// Expires the points of lots whose time has come, up to `limit` lots per transaction: each customer gets one
    /// "points expired" entry and a lower balance (never below zero), and a loyalty change on the feed.
    ///
    /// - Returns: How many lots expired; call again while it answers `limit`.
    public func expirePoints(now: Date, limit: Int = 500) async throws -> Int {
        try await writer.write { db in
            let lots =
                try LoyaltyRecord
                .filter(LoyaltyRecord.Columns.remaining > 0 && LoyaltyRecord.Columns.expiresAt <= now)
                // A customer fenced while moving has their lots expired on the shard they move to; one being merged
                // into another shard's customer, there.
                .filter(
                    sql: """
                        NOT EXISTS (SELECT 1 FROM slot_fence WHERE c360_slot(customerId) BETWEEN firstSlot AND lastSlot) \
                        AND customerId NOT IN (SELECT familyId FROM family_transfer_out)
                        """
                )
                .order(LoyaltyRecord.Columns.customerId)
                .limit(limit)
                .fetchAll(db)
            let timestamp = self.now()
            for (customerID, owned) in Dictionary(grouping: lots, by: \.customerId) {
                let due = owned.reduce(Int64(0)) { $0 + ($1.remaining ?? 0) }
                for var lot in owned {
                    lot.remaining = 0
                    try lot.update(db)
                }
                guard var row = try CustomerRecord.fetchOne(db, key: customerID), row.state == .active else { continue }
                let taken = min(due, row.loyaltyBalance)
                guard taken > 0 else { continue }
                row.loyaltyBalance -= taken
                row.updatedAt = timestamp
                try row.update(db)
                try LoyaltyRecord(
                    id: EntityID.generate(), customerId: customerID, pointsDelta: -taken, reason: "points expired",
                    occurredAt: timestamp, balanceAfter: row.loyaltyBalance, requestFingerprint: "expiry"
                ).insert(db)
                try ChangeLog.append(db, .loyaltyChanged, customer: customerID, at: timestamp)
            }
            return lots.count
        }
    }

    /// The customer's lot that expires soonest, with its points.
    static func soonestExpiry(_ db: Database, customer id: String) throws -> (points: Int64, at: Date)? {
        guard
            let lot =
                try LoyaltyRecord
                .filter(LoyaltyRecord.Columns.customerId == id && LoyaltyRecord.Columns.remaining > 0)
                .order(LoyaltyRecord.Columns.expiresAt)
                .fetchOne(db),
            let at = lot.expiresAt, let points = lot.remaining
        else { return nil }
        return (points, at)
    }
}

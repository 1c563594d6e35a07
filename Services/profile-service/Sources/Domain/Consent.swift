public import C360ServerKit
public import Foundation

/// What a consent is for.
public enum ConsentPurpose: String, Codable, Sendable, CaseIterable {
    case marketing, analytics, personalization
    case serviceMessages = "service_messages"
    case thirdPartySharing = "third_party_sharing"
}

/// Whether the customer agreed.
public enum ConsentStatus: String, Codable, Sendable {
    case granted, withdrawn
}

/// One consent decision: for one purpose on one channel, when the customer made it, where we captured it.
public struct ConsentDecision: Sendable, Equatable {
    public var id: String
    public var purpose: ConsentPurpose
    public var channel: Channel
    public var status: ConsentStatus
    public var source: String
    public var decidedAt: Date
    public var recordedAt: Date
}

/// A customer's points balance, lifetime total and the tier it earns, and what a loyalty program adds to it.
public struct LoyaltyAccount: Sendable, Equatable {
    public var balance: Int64
    public var lifetimeEarned: Int64
    /// The tier the loyalty program gave by net spend over its window; nil until a program evaluated the customer.
    public var spendTier: LoyaltyTier?
    /// Net spend over the program's window at its last evaluation (minor units); nil without a program.
    public var windowNetSpendMinor: Int64?
    /// Unspent cashback in the program's currency (minor units); nil until a program credited any.
    public var rewardBalanceMinor: Int64?
    /// The points that expire soonest and when; nil when none expire.
    public var expiring: (points: Int64, at: Date)?

    /// The program's tier when it evaluated the customer, otherwise the tier of lifetime points.
    public var tier: LoyaltyTier { spendTier ?? LoyaltyTier(lifetimePoints: lifetimeEarned) }

    public init(
        balance: Int64, lifetimeEarned: Int64, spendTier: LoyaltyTier? = nil, windowNetSpendMinor: Int64? = nil,
        rewardBalanceMinor: Int64? = nil, expiring: (points: Int64, at: Date)? = nil
    ) {
        self.balance = balance
        self.lifetimeEarned = lifetimeEarned
        self.spendTier = spendTier
        self.windowNetSpendMinor = windowNetSpendMinor
        self.rewardBalanceMinor = rewardBalanceMinor
        self.expiring = expiring
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.balance == rhs.balance && lhs.lifetimeEarned == rhs.lifetimeEarned && lhs.spendTier == rhs.spendTier
            && lhs.windowNetSpendMinor == rhs.windowNetSpendMinor && lhs.rewardBalanceMinor == rhs.rewardBalanceMinor
            && lhs.expiring?.points == rhs.expiring?.points && lhs.expiring?.at == rhs.expiring?.at
    }
}

/// One earn (positive delta) or redemption (negative delta).
public struct LoyaltyEntry: Sendable, Equatable {
    public var transactionID: String
    public var pointsDelta: Int64
    public var reason: String
    public var occurredAt: Date
    public var balanceAfter: Int64
    /// Cashback credited (positive) or taken back (negative) with this entry, in the program's currency.
    public var rewardDeltaMinor: Int64?
}

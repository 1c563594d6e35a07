public import C360ServerKit
public import Foundation

/// What a consent is for.
public enum ConsentPurpose: String, Codable, Sendable, CaseIterable {
    case marketing, analytics, personalization, serviceMessages = "service_messages"
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

/// A customer's points balance, lifetime total and the tier it earns.
public struct LoyaltyAccount: Sendable, Equatable {
    public var balance: Int64
    public var lifetimeEarned: Int64
    public var tier: LoyaltyTier { LoyaltyTier(lifetimePoints: lifetimeEarned) }

    public init(balance: Int64, lifetimeEarned: Int64) {
        self.balance = balance
        self.lifetimeEarned = lifetimeEarned
    }
}

/// One earn (positive delta) or redemption (negative delta).
public struct LoyaltyEntry: Sendable, Equatable {
    public var transactionID: String
    public var pointsDelta: Int64
    public var reason: String
    public var occurredAt: Date
    public var balanceAfter: Int64
}

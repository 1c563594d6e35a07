public import C360ServerKit
public import Foundation

/// Why a customer left, in categories that can be counted.
public enum ChurnReasonCategory: String, Codable, Sendable, CaseIterable {
    case price, competitor
    case missingFeature = "missing_feature"
    case productQuality = "product_quality"
    case supportExperience = "support_experience"
    case poorFit = "poor_fit"
    case lowUsage = "low_usage"
    case onboarding, budget
    case businessClosed = "business_closed"
    case other
}

/// One recorded reason for one customer's churn.
public struct ChurnReason: Sendable, Equatable {
    /// Client-chosen; the idempotency key.
    public var id: String
    public var customerID: String
    public var category: ChurnReasonCategory
    /// The customer's own words, if any.
    public var text: String
    /// Sentiment of `text`; `nil` without text.
    public var sentiment: Sentiment?
    public var churnedAt: Date
    public var channel: Channel?
    /// The agent or CSM who recorded it; empty when the customer did.
    public var recordedBy: String
    public var recordedAt: Date

    public init(
        id: String, customerID: String, category: ChurnReasonCategory, text: String, sentiment: Sentiment?,
        churnedAt: Date, channel: Channel?, recordedBy: String, recordedAt: Date
    ) {
        self.id = id
        self.customerID = customerID
        self.category = category
        self.text = text
        self.sentiment = sentiment
        self.churnedAt = churnedAt
        self.channel = channel
        self.recordedBy = recordedBy
        self.recordedAt = recordedAt
    }
}

/// How many reasons of one category, from how many customers.
public struct ChurnReasonCount: Sendable, Equatable {
    public var category: ChurnReasonCategory
    public var reasons: Int
    public var customers: Int

    public init(category: ChurnReasonCategory, reasons: Int, customers: Int) {
        self.category = category
        self.reasons = reasons
        self.customers = customers
    }
}

/// Churn reasons counted over a window.
public struct ChurnReasonTally: Sendable, Equatable {
    /// Most reasons first; only categories that occur.
    public var categories: [ChurnReasonCount]
    /// Every reason recorded (a customer may give several).
    public var reasons: Int
    /// Distinct customers who churned.
    public var churnedCustomers: Int
}

extension ChurnReason {
    /// The client-sent fields a retried churn reason must repeat (`churn_reason_id` is the idempotency key), as
    /// stored. `churned_at` defaults to the time of the call, so a request without it is not compared on it.
    public static let idempotencyFields = IdempotencyFields<ChurnReason>()
        .comparing("customer_id") { $0.customerID }
        .comparing("category") { $0.category }
        .comparing("text") { $0.text }
        .comparing("churned_at") { $0.churnedAt.unixMillis }
        .comparing("channel") { $0.channel }
        .comparing("recorded_by") { $0.recordedBy }
}

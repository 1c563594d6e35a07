public import Foundation

/// What one source told us, or why it could not.
public enum Fact<Value: Sendable>: Sendable {
    case known(Value)
    /// The source answered, but not with these facts (it refused the question); the reason says how.
    case missing(String)
    /// The source's service could not be reached (unavailable, or out of time): asking again later may work, so a
    /// batch stops here rather than scoring on without it.
    case unreachable(String)

    /// Whether the source could not be reached.
    public var isUnreachable: Bool {
        if case .unreachable = self { return true }
        return false
    }
}

/// Engagement facts from interaction-service.
public struct EngagementFacts: Sendable, Equatable {
    public var totalTouchpoints: Int
    /// Latest touchpoint the customer made (inbound), or of any kind when none was inbound.
    public var lastActiveAt: Date?
    /// Distinct days with an inbound touchpoint in the last 30 days.
    public var activeDays30: Int
    public var touchpoints30: Int

    public init(totalTouchpoints: Int, lastActiveAt: Date?, activeDays30: Int, touchpoints30: Int) {
        self.totalTouchpoints = totalTouchpoints
        self.lastActiveAt = lastActiveAt
        self.activeDays30 = activeDays30
        self.touchpoints30 = touchpoints30
    }
}

/// Support facts from interaction-service.
public struct SupportFacts: Sendable, Equatable {
    public var ticketsOpened: Int
    public var ticketsOpen: Int
    public var ticketsResolved: Int
    /// 0…1; `nil` without resolved tickets.
    public var firstContactResolutionRate: Double?
    /// `nil` without an agent reply.
    public var meanFirstResponseTime: TimeInterval?

    public init(
        ticketsOpened: Int, ticketsOpen: Int, ticketsResolved: Int, firstContactResolutionRate: Double?,
        meanFirstResponseTime: TimeInterval?
    ) {
        self.ticketsOpened = ticketsOpened
        self.ticketsOpen = ticketsOpen
        self.ticketsResolved = ticketsResolved
        self.firstContactResolutionRate = firstContactResolutionRate
        self.meanFirstResponseTime = meanFirstResponseTime
    }
}

/// Commerce facts from interaction-service.
public struct CommercialFacts: Sendable, Equatable {
    public var orders: Int
    public var lastPurchaseAt: Date?
    /// Repeat-purchase rate, 0…1; `nil` without orders.
    public var repeatPurchaseRate: Double?
    /// Predictive CLV ÷ historic CLV: above 1 the customer is expected to spend more than they have so far.
    public var clvTrend: Double?

    public init(orders: Int, lastPurchaseAt: Date?, repeatPurchaseRate: Double?, clvTrend: Double?) {
        self.orders = orders
        self.lastPurchaseAt = lastPurchaseAt
        self.repeatPurchaseRate = repeatPurchaseRate
        self.clvTrend = clvTrend
    }
}

/// Feedback facts from feedback-service: the latest answer of each type and the comments' mean sentiment.
public struct FeedbackFacts: Sendable, Equatable {
    public var latestNps: Int?
    public var latestCsat: Int?
    public var latestCes: Int?
    /// −1…1; `nil` without comments.
    public var meanSentiment: Double?

    public init(latestNps: Int? = nil, latestCsat: Int? = nil, latestCes: Int? = nil, meanSentiment: Double? = nil) {
        self.latestNps = latestNps
        self.latestCsat = latestCsat
        self.latestCes = latestCes
        self.meanSentiment = meanSentiment
    }
}

/// Everything a health score is computed from, each source known or missing with a reason.
public struct HealthFacts: Sendable {
    public var engagement: Fact<EngagementFacts>
    public var support: Fact<SupportFacts>
    public var commercial: Fact<CommercialFacts>
    public var feedback: Fact<FeedbackFacts>
    /// The customer's goals (this service's own data, so always known; possibly none).
    public var goals: [Goal]

    public init(
        engagement: Fact<EngagementFacts>, support: Fact<SupportFacts>, commercial: Fact<CommercialFacts>,
        feedback: Fact<FeedbackFacts>, goals: [Goal]
    ) {
        self.engagement = engagement
        self.support = support
        self.commercial = commercial
        self.feedback = feedback
        self.goals = goals
    }
}

public import C360ServerKit
public import Foundation

// The inputs and results of interaction-service's statistics. The calculators (one file each in Stats/) are pure
// functions over these types, so every formula is tested with hand-computed numbers and no database.

/// One touchpoint as the engagement and best-contact calculators see it.
public struct ActivityEvent: Hashable, Sendable {
    public var occurredAt: Date
    public var channel: Channel
    public var direction: TouchpointDirection

    public init(occurredAt: Date, channel: Channel, direction: TouchpointDirection) {
        self.occurredAt = occurredAt
        self.channel = channel
        self.direction = direction
    }
}

/// Lifetime activity counters of one customer, maintained on ingest.
public struct ActivityTotals: Hashable, Sendable {
    public var touchpoints: Int64
    public var firstSeenAt: Date?
    public var lastSeenAt: Date?
    public var lastInboundAt: Date?

    public init(touchpoints: Int64 = 0, firstSeenAt: Date? = nil, lastSeenAt: Date? = nil, lastInboundAt: Date? = nil) {
        self.touchpoints = touchpoints
        self.firstSeenAt = firstSeenAt
        self.lastSeenAt = lastSeenAt
        self.lastInboundAt = lastInboundAt
    }
}

/// Touchpoints in the `days` days before `asOf`.
public struct EngagementWindow: Hashable, Sendable {
    public var days: Int
    public var touchpoints: Int64
    public var inbound: Int64
    public var outbound: Int64
    /// Distinct UTC calendar days with at least one touchpoint.
    public var activeDays: Int
    public var byChannel: [Channel: Int64]
}

/// How much a customer interacts with us.
public struct EngagementStats: Hashable, Sendable {
    public var asOf: Date
    /// 7, 30 and 90 days, in that order.
    public var windows: [EngagementWindow]
    public var totals: ActivityTotals
}

/// Lifetime commerce counters of one customer in the reporting currency, maintained on ingest.
public struct CommerceTotals: Hashable, Sendable {
    public var orders: Int64
    public var refunds: Int64
    public var grossMinor: Int64
    public var refundedMinor: Int64
    public var discountedOrders: Int64
    public var firstPurchaseAt: Date?
    public var lastPurchaseAt: Date?
    /// Purchases in another currency: counted here, left out of every sum.
    public var otherCurrencyOrders: Int64

    public init(
        orders: Int64 = 0, refunds: Int64 = 0, grossMinor: Int64 = 0, refundedMinor: Int64 = 0,
        discountedOrders: Int64 = 0, firstPurchaseAt: Date? = nil, lastPurchaseAt: Date? = nil,
        otherCurrencyOrders: Int64 = 0
    ) {
        self.orders = orders
        self.refunds = refunds
        self.grossMinor = grossMinor
        self.refundedMinor = refundedMinor
        self.discountedOrders = discountedOrders
        self.firstPurchaseAt = firstPurchaseAt
        self.lastPurchaseAt = lastPurchaseAt
        self.otherCurrencyOrders = otherCurrencyOrders
    }

    /// Historic CLV: the sum of net purchases.
    public var netMinor: Int64 { grossMinor - refundedMinor }

    /// What RFM scores this customer by; nil without a purchase in the reporting currency.
    public var rfmInput: RfmInput? {
        guard orders > 0, let lastPurchaseAt else { return nil }
        return RfmInput(lastPurchaseAt: lastPurchaseAt, orders: orders, netMinor: netMinor)
    }
}

/// Deployment settings of the commerce formulas.
public struct CommerceSettings: Hashable, Sendable {
    /// ISO-4217 code all sums are kept in.
    public var currency: String
    /// Expected customer lifetime for predictive CLV.
    public var expectedLifetimeYears: Double
    /// The shortest span purchases per year is computed over, so one recent order does not extrapolate wildly.
    public var minimumTenure: TimeInterval
    /// Discount-driven: at least this many orders…
    public var discountDrivenMinimumOrders: Int64
    /// …and at least this share of them with a discount code.
    public var discountDrivenShare: Double

    public init(
        currency: String = "USD", expectedLifetimeYears: Double = 3, minimumTenure: TimeInterval = 90 * 86_400,
        discountDrivenMinimumOrders: Int64 = 3, discountDrivenShare: Double = 0.8
    ) {
        self.currency = currency
        self.expectedLifetimeYears = expectedLifetimeYears
        self.minimumTenure = minimumTenure
        self.discountDrivenMinimumOrders = discountDrivenMinimumOrders
        self.discountDrivenShare = discountDrivenShare
    }
}

/// Named RFM segments.
public enum RfmSegment: String, Hashable, Sendable, CaseIterable {
    case champions, loyal
    case potentialLoyalist = "potential_loyalist"
    case new, promising
    case needsAttention = "needs_attention"
    case aboutToSleep = "about_to_sleep"
    case atRisk = "at_risk"
    case cannotLose = "cannot_lose"
    case hibernating, lost
    case noPurchases = "no_purchases"
}

/// One customer's recency, frequency and monetary quintile scores (5 is best) and the segment they name.
public struct RfmScore: Hashable, Sendable {
    public var recency: Int
    public var frequency: Int
    public var monetary: Int
    public var segment: RfmSegment
}

/// What the RFM quintiles are computed from, per customer with at least one purchase.
public struct RfmInput: Hashable, Sendable {
    public var lastPurchaseAt: Date
    public var orders: Int64
    public var netMinor: Int64

    public init(lastPurchaseAt: Date, orders: Int64, netMinor: Int64) {
        self.lastPurchaseAt = lastPurchaseAt
        self.orders = orders
        self.netMinor = netMinor
    }
}

/// The four cut points (20th, 40th, 60th, 80th percentile) of each RFM dimension over the customer base.
public struct RfmCutPoints: Hashable, Sendable {
    /// Days since the last purchase.
    public var recencyDays: [Double]
    public var frequency: [Double]
    public var monetaryMinor: [Double]

    public init(recencyDays: [Double], frequency: [Double], monetaryMinor: [Double]) {
        self.recencyDays = recencyDays
        self.frequency = frequency
        self.monetaryMinor = monetaryMinor
    }
}

/// What a customer buys and is worth.
public struct CommerceStats: Hashable, Sendable {
    public var asOf: Date
    public var currency: String
    public var totals: CommerceTotals
    public var averageOrderValueMinor: Int64?
    /// Orders after the first.
    public var repeatOrders: Int64
    /// (orders − 1) ÷ orders; nil without orders.
    public var repeatPurchaseRate: Double?
    /// Discounted orders ÷ orders; nil without orders.
    public var discountShare: Double?
    public var discountDriven: Bool
    public var historicCLVMinor: Int64
    /// AOV × purchases per year × expected lifetime years; nil without orders.
    public var predictiveCLVMinor: Int64?
    public var purchasesPerYear: Double?
    public var expectedLifetimeYears: Double
    /// Nil when the customer never purchased (segment no_purchases has no scores).
    public var rfm: RfmScore?
}

/// One customer's support experience (or the whole base's, for global KPIs).
public struct SupportStats: Hashable, Sendable {
    public var ticketsOpened: Int64
    public var ticketsOpen: Int64
    public var ticketsResolved: Int64
    public var ticketsResolvedFirstContact: Int64
    /// Resolved at first contact ÷ resolved; nil when none resolved.
    public var firstContactResolutionRate: Double?
    public var reopens: Int64
    /// How many tickets have a first response, and the sum of those first response times (mergeable).
    public var firstResponseCount: Int64
    public var firstResponseTotal: TimeInterval
    public var resolutionTotal: TimeInterval
    public var meanFirstResponseTime: TimeInterval?
    public var medianFirstResponseTime: TimeInterval?
    public var meanResolutionTime: TimeInterval?
    /// First response times counted into `SupportStats.histogramBounds` (the last bucket is everything above).
    public var firstResponseHistogram: [Int64]
    public var selfServiceSessions: Int64
    /// Self-service sessions not followed by a ticket from the same customer within the deflection window.
    public var deflectedSessions: Int64
    public var deflectionRate: Double?
    public var lastTicketAt: Date?

    /// Upper bounds of the first-response histogram buckets, in seconds: 5 min, 15 min, 1 h, 4 h, 1 day, 3 days.
    public static let histogramBounds: [TimeInterval] = [300, 900, 3_600, 14_400, 86_400, 259_200]
}

/// A self-service session and whether the same customer opened a ticket soon after.
public struct SelfServiceSession: Hashable, Sendable {
    public var customerID: String
    public var at: Date

    public init(customerID: String, at: Date) {
        self.customerID = customerID
        self.at = at
    }
}

/// Reach of one channel: inbound interactions and their share of all inbound interactions.
public struct ChannelReach: Hashable, Sendable {
    public var channel: Channel
    public var interactions: Int64
    public var score: Double
}

/// When and where a customer is most likely to answer.
public struct BestContactTime: Hashable, Sendable {
    public var bestChannel: Channel?
    /// 0 = Monday 00:00–00:59 … 167 = Sunday 23:00–23:59, in `timeZone`.
    public var bestHourOfWeek: Int?
    public var timeZone: String
    public var sampleSize: Int64
    /// Every channel with inbound interactions, most first.
    public var channels: [ChannelReach]
    /// Up to five busiest hours of the week, most first, as (hour of week, interactions).
    public var topHours: [(hourOfWeek: Int, interactions: Int64)]

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.bestChannel == rhs.bestChannel && lhs.bestHourOfWeek == rhs.bestHourOfWeek && lhs.timeZone == rhs.timeZone
            && lhs.sampleSize == rhs.sampleSize && lhs.channels == rhs.channels
            && lhs.topHours.map(\.hourOfWeek) == rhs.topHours.map(\.hourOfWeek)
            && lhs.topHours.map(\.interactions) == rhs.topHours.map(\.interactions)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(bestChannel)
        hasher.combine(bestHourOfWeek)
        hasher.combine(sampleSize)
    }
}

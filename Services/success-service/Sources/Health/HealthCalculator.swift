public import Foundation

/// Turns a customer's facts into a health score that explains itself (ARCHITECTURE.md): each component 0–100, the
/// score their weighted mean over the components present (weights renormalised), banded green / yellow / red.
///
/// Component formulas (each documented with its inputs in the score itself):
/// - engagement: ½ recency (100 when last active ≤ 7 days ago, falling linearly to 0 at 90 days) + ½ frequency
///   (active days in the last 30, 8 or more = 100);
/// - feedback: mean of the latest NPS (0–10 → 0–100), CSAT (1–5 → 0–100), CES (1–7 → 0–100) and comment
///   sentiment (−1…1 → 0–100) that exist;
/// - goals: per goal achieved 100, missed 0, else progress against the time elapsed (keeping pace = 100); mean;
/// - support: ½ open tickets (none = 100, −25 each) + ¼ first-contact resolution + ¼ first response time
///   (≤ 1 h = 100, falling linearly to 0 at 48 h), over the parts that exist;
/// - commercial: ⅗ purchase recency (≤ 30 days = 100, falling linearly to 0 at 365 days) + ⅖ CLV trend
///   (predictive ÷ historic CLV, 1 = 50, 2 or more = 100).
public struct HealthCalculator: Sendable {
    public let configuration: HealthConfiguration

    public init(configuration: HealthConfiguration = .default) {
        self.configuration = configuration
    }

    /// The components and the score of `facts` at `now`, or `nil` with the reasons when no component exists.
    public func evaluate(_ facts: HealthFacts, at now: Date) -> Evaluation {
        var present: [(HealthComponentKind, Double, [String: String], String)] = []
        var missing: [MissingHealthComponent] = []
        func add(_ kind: HealthComponentKind, _ result: ComponentResult) {
            guard (configuration.weights[kind] ?? 0) > 0 else {
                missing.append(MissingHealthComponent(kind: kind, reason: "weighted 0 in this deployment"))
                return
            }
            switch result {
            case .value(let value, let inputs, let explanation):
                present.append((kind, min(100, max(0, value)), inputs, explanation))
            case .missing(let reason):
                missing.append(MissingHealthComponent(kind: kind, reason: reason))
            }
        }
        add(.engagement, engagement(facts.engagement, now: now))
        add(.feedback, feedback(facts.feedback))
        add(.goals, goals(facts.goals, now: now))
        add(.support, support(facts.support))
        add(.commercial, commercial(facts.commercial, now: now))

        let totalWeight = present.reduce(0) { $0 + (configuration.weights[$1.0] ?? 0) }
        guard totalWeight > 0 else { return Evaluation(score: nil, components: [], missing: missing) }
        let components = present.map { kind, value, inputs, explanation in
            let weight = configuration.weights[kind] ?? 0
            return HealthComponent(
                kind: kind, value: value, weight: weight, effectiveWeight: weight / totalWeight,
                inputs: inputs, explanation: explanation)
        }
        let score = components.reduce(0) { $0 + $1.value * $1.effectiveWeight }
        return Evaluation(score: score, components: components, missing: missing)
    }

    /// The outcome of `evaluate`.
    public struct Evaluation: Sendable {
        /// `nil` when no component could be computed.
        public var score: Double?
        public var components: [HealthComponent]
        public var missing: [MissingHealthComponent]
    }

    enum ComponentResult {
        case value(Double, [String: String], String)
        case missing(String)
    }

    // MARK: - Components

    func engagement(_ fact: Fact<EngagementFacts>, now: Date) -> ComponentResult {
        guard case .known(let facts) = fact else { return .missing(Self.reason(fact)) }
        guard facts.totalTouchpoints > 0, let lastActive = facts.lastActiveAt else { return .missing("no touchpoints") }
        let days = max(0, now.timeIntervalSince(lastActive) / 86_400)
        let recency = Self.falling(days, fullUntil: 7, zeroAt: 90)
        let frequency = min(1, Double(facts.activeDays30) / 8) * 100
        return .value(
            0.5 * recency + 0.5 * frequency,
            [
                "last_active_days": Self.format(days), "active_days_30d": "\(facts.activeDays30)",
                "touchpoints_30d": "\(facts.touchpoints30)",
            ], "last active \(Self.format(days)) days ago, active on \(facts.activeDays30) of the last 30 days")
    }

    func feedback(_ fact: Fact<FeedbackFacts>) -> ComponentResult {
        guard case .known(let facts) = fact else { return .missing(Self.reason(fact)) }
        var parts: [Double] = []
        var inputs: [String: String] = [:]
        if let nps = facts.latestNps {
            parts.append(Double(nps) / 10 * 100)
            inputs["latest_nps"] = "\(nps)"
        }
        if let csat = facts.latestCsat {
            parts.append(Double(csat - 1) / 4 * 100)
            inputs["latest_csat"] = "\(csat)"
        }
        if let ces = facts.latestCes {
            parts.append(Double(ces - 1) / 6 * 100)
            inputs["latest_ces"] = "\(ces)"
        }
        if let sentiment = facts.meanSentiment {
            parts.append((sentiment + 1) / 2 * 100)
            inputs["mean_sentiment"] = Self.format(sentiment)
        }
        guard !parts.isEmpty else { return .missing("no survey responses") }
        return .value(
            parts.reduce(0, +) / Double(parts.count), inputs,
            "mean of \(inputs.keys.sorted().joined(separator: ", ")) on a 0–100 scale")
    }

    func goals(_ goals: [Goal], now: Date) -> ComponentResult {
        guard let value = GoalTracking.goalsScore(goals, at: now) else { return .missing("no goals") }
        let counted = goals.filter { $0.status != .cancelled }
        let statuses = counted.map { GoalTracking.status(of: $0, at: now) }
        let achieved = statuses.filter { $0 == .achieved }.count
        let missed = statuses.filter { $0 == .missed }.count
        return .value(
            value,
            [
                "goals": "\(counted.count)", "achieved": "\(achieved)", "missed": "\(missed)",
                "at_risk": "\(statuses.filter { $0 == .atRisk }.count)",
            ],
            "\(counted.count) goals: \(achieved) achieved, \(missed) missed, the rest scored by progress against time")
    }

    func support(_ fact: Fact<SupportFacts>) -> ComponentResult {
        guard case .known(let facts) = fact else { return .missing(Self.reason(fact)) }
        guard facts.ticketsOpened > 0 else { return .missing("no support tickets") }
        var weighted: [(Double, Double)] = [(max(0, 100 - 25 * Double(facts.ticketsOpen)), 0.5)]
        var inputs = ["open_tickets": "\(facts.ticketsOpen)", "tickets": "\(facts.ticketsOpened)"]
        if let fcr = facts.firstContactResolutionRate {
            weighted.append((fcr * 100, 0.25))
            inputs["first_contact_resolution"] = Self.format(fcr)
        }
        if let response = facts.meanFirstResponseTime {
            weighted.append((Self.falling(response / 3600, fullUntil: 1, zeroAt: 48), 0.25))
            inputs["mean_first_response_hours"] = Self.format(response / 3600)
        }
        let value = weighted.reduce(0) { $0 + $1.0 * $1.1 } / weighted.reduce(0) { $0 + $1.1 }
        return .value(
            value, inputs,
            "\(facts.ticketsOpen) open of \(facts.ticketsOpened) tickets, with resolution and response times")
    }

    func commercial(_ fact: Fact<CommercialFacts>, now: Date) -> ComponentResult {
        guard case .known(let facts) = fact else { return .missing(Self.reason(fact)) }
        guard facts.orders > 0, let last = facts.lastPurchaseAt else { return .missing("no purchases") }
        let days = max(0, now.timeIntervalSince(last) / 86_400)
        var weighted: [(Double, Double)] = [(Self.falling(days, fullUntil: 30, zeroAt: 365), 0.6)]
        var inputs = ["orders": "\(facts.orders)", "last_purchase_days": Self.format(days)]
        if let trend = facts.clvTrend {
            weighted.append((min(1, trend / 2) * 100, 0.4))
            inputs["clv_trend"] = Self.format(trend)
        }
        let value = weighted.reduce(0) { $0 + $1.0 * $1.1 } / weighted.reduce(0) { $0 + $1.1 }
        return .value(value, inputs, "\(facts.orders) orders, the last \(Self.format(days)) days ago")
    }

    // MARK: - Helpers

    /// 100 up to `fullUntil`, then linearly down to 0 at `zeroAt`.
    static func falling(_ x: Double, fullUntil: Double, zeroAt: Double) -> Double {
        if x <= fullUntil { return 100 }
        if x >= zeroAt { return 0 }
        return (zeroAt - x) / (zeroAt - fullUntil) * 100
    }

    static func reason<Value>(_ fact: Fact<Value>) -> String {
        switch fact {
        case .known: ""
        case .missing(let reason), .unreachable(let reason): reason
        }
    }

    static func format(_ value: Double) -> String {
        String(format: "%.2f", value).replacingOccurrences(of: ".00", with: "")
    }
}

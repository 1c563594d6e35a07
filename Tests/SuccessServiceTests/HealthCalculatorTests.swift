import Foundation
import Testing

@testable import C360Success

private let now = Fixed.now
private let day = Fixed.day
private let calculator = HealthCalculator()

/// `.known(value)`, or missing with `reason` when there is no value.
private func known<Value: Sendable>(_ value: Value?, else reason: String) -> Fact<Value> {
    guard let value else { return .missing(reason) }
    return .known(value)
}

/// Facts with only the given sources known; the others missing as if their service were down.
private func facts(
    engagement: EngagementFacts? = nil, support: SupportFacts? = nil, commercial: CommercialFacts? = nil,
    feedback: FeedbackFacts? = nil, goals: [Goal] = []
) -> HealthFacts {
    HealthFacts(
        engagement: known(engagement, else: "interaction-service unavailable"),
        support: known(support, else: "interaction-service unavailable"),
        commercial: known(commercial, else: "interaction-service unavailable"),
        feedback: known(feedback, else: "feedback-service unavailable"), goals: goals)
}

/// The single component `facts` yields, checked to be the whole score (its weight renormalised to 1).
private func only(_ kind: HealthComponentKind, _ facts: HealthFacts) throws -> HealthComponent {
    let evaluation = calculator.evaluate(facts, at: now)
    try #require(evaluation.components.count == 1)
    let component = try #require(evaluation.components.first)
    #expect(component.kind == kind)
    #expect(isClose(component.effectiveWeight, 1))
    #expect(isClose(evaluation.score, component.value))
    return component
}

/// Why `kind` is missing when nothing else is known besides it.
private func missingReason(_ kind: HealthComponentKind, _ facts: HealthFacts) -> String? {
    calculator.evaluate(facts, at: now).missing.first { $0.kind == kind }?.reason
}

@Suite("Health calculator: component formulas")
struct HealthComponentFormulaTests {
    @Test("engagement: last active 7 days ago on 8 of the last 30 days → 100")
    func engagementFull() throws {
        let engagement = try only(
            .engagement,
            facts(
                engagement: EngagementFacts(
                    totalTouchpoints: 40, lastActiveAt: now - 7 * day, activeDays30: 8, touchpoints30: 12)))
        #expect(isClose(engagement.value, 100))
        #expect(engagement.weight == 0.30)
        #expect(engagement.inputs == ["last_active_days": "7", "active_days_30d": "8", "touchpoints_30d": "12"])
        #expect(!engagement.explanation.isEmpty)
    }

    @Test("engagement: last active 48.5 days ago on 4 days → ½ × 50 + ½ × 50 = 50")
    func engagementHalf() throws {
        // Recency falls linearly from 100 at 7 days to 0 at 90: (90 − 48.5) ÷ 83 = ½. Frequency 4 ÷ 8 = ½.
        let engagement = try only(
            .engagement,
            facts(
                engagement: EngagementFacts(
                    totalTouchpoints: 9, lastActiveAt: now - 48.5 * day, activeDays30: 4, touchpoints30: 5)))
        #expect(isClose(engagement.value, 50))
    }

    @Test("engagement: last active 120 days ago and no active day → 0; without touchpoints it is missing")
    func engagementNone() throws {
        let gone = try only(
            .engagement,
            facts(
                engagement: EngagementFacts(
                    totalTouchpoints: 3, lastActiveAt: now - 120 * day, activeDays30: 0, touchpoints30: 0)))
        #expect(isClose(gone.value, 0))

        let never = facts(
            engagement: EngagementFacts(
                totalTouchpoints: 0, lastActiveAt: nil, activeDays30: 0,
                touchpoints30: 0))
        #expect(missingReason(.engagement, never) == "no touchpoints")
    }

    @Test("feedback: NPS 8, CSAT 4, no CES, sentiment 0.5 → mean(80, 75, 75) = 76.67")
    func feedbackMean() throws {
        let feedback = try only(
            .feedback,
            facts(
                feedback: FeedbackFacts(
                    latestNps: 8, latestCsat: 4,
                    meanSentiment: 0.5)))
        #expect(isClose(feedback.value, (80 + 75 + 75) / 3.0))
        #expect(isClose(feedback.value, 76.67, tolerance: 0.005))
        #expect(feedback.weight == 0.25)
        #expect(Set(feedback.inputs.keys) == ["latest_nps", "latest_csat", "mean_sentiment"])
    }

    @Test("feedback: each scale's ends map to 100 and 0, CES 4 alone to 50; without answers it is missing")
    func feedbackScales() throws {
        let best = try only(
            .feedback,
            facts(
                feedback: FeedbackFacts(
                    latestNps: 10, latestCsat: 5, latestCes: 7,
                    meanSentiment: 1)))
        #expect(isClose(best.value, 100))
        let worst = try only(
            .feedback,
            facts(
                feedback: FeedbackFacts(
                    latestNps: 0, latestCsat: 1, latestCes: 1,
                    meanSentiment: -1)))
        #expect(isClose(worst.value, 0))
        // CES on 1–7: (4 − 1) ÷ 6 = ½.
        let effort = try only(.feedback, facts(feedback: FeedbackFacts(latestCes: 4)))
        #expect(isClose(effort.value, 50))
        #expect(effort.inputs == ["latest_ces": "4"])

        #expect(missingReason(.feedback, facts(feedback: FeedbackFacts())) == "no survey responses")
    }

    @Test("support: 1 open of 4, FCR 0.5, first response 1 h → (75 × ½ + 50 × ¼ + 100 × ¼) ÷ 1 = 75")
    func supportAll() throws {
        let support = try only(
            .support,
            facts(
                support: SupportFacts(
                    ticketsOpened: 4, ticketsOpen: 1, ticketsResolved: 3, firstContactResolutionRate: 0.5,
                    meanFirstResponseTime: Fixed.hour)))
        #expect(isClose(support.value, 75))
        #expect(support.weight == 0.15)
        #expect(support.inputs["open_tickets"] == "1" && support.inputs["tickets"] == "4")
    }

    @Test("support: the weights are renormalised over the parts that exist; open tickets floor at 0")
    func supportParts() throws {
        // Only open tickets: 100 − 2 × 25 = 50.
        let openOnly = try only(
            .support,
            facts(
                support: SupportFacts(
                    ticketsOpened: 3, ticketsOpen: 2, ticketsResolved: 1, firstContactResolutionRate: nil,
                    meanFirstResponseTime: nil)))
        #expect(isClose(openOnly.value, 50))
        #expect(openOnly.inputs["first_contact_resolution"] == nil)

        // None open, first response 24.5 h ((48 − 24.5) ÷ 47 = ½ → 50): (100 × ½ + 50 × ¼) ÷ ¾ = 83.33.
        let slow = try only(
            .support,
            facts(
                support: SupportFacts(
                    ticketsOpened: 2, ticketsOpen: 0, ticketsResolved: 2, firstContactResolutionRate: nil,
                    meanFirstResponseTime: 24.5 * Fixed.hour)))
        #expect(isClose(slow.value, (100 * 0.5 + 50 * 0.25) / 0.75))

        // Six open → 0 (not negative), FCR 1 → 100, first response 48 h → 0: (0 + 25 + 0) ÷ 1 = 25.
        let swamped = try only(
            .support,
            facts(
                support: SupportFacts(
                    ticketsOpened: 8, ticketsOpen: 6, ticketsResolved: 2, firstContactResolutionRate: 1,
                    meanFirstResponseTime: 48 * Fixed.hour)))
        #expect(isClose(swamped.value, 25))

        let none = facts(
            support: SupportFacts(
                ticketsOpened: 0, ticketsOpen: 0, ticketsResolved: 0,
                firstContactResolutionRate: nil, meanFirstResponseTime: nil))
        #expect(missingReason(.support, none) == "no support tickets")
    }

    @Test("commercial: last purchase 30 days ago, CLV trend 1 → 100 × 0.6 + 50 × 0.4 = 80")
    func commercialAll() throws {
        let commercial = try only(
            .commercial,
            facts(
                commercial: CommercialFacts(
                    orders: 5, lastPurchaseAt: now - 30 * day, repeatPurchaseRate: 0.8, clvTrend: 1)))
        #expect(isClose(commercial.value, 80))
        #expect(commercial.weight == 0.10)
        #expect(commercial.inputs["orders"] == "5" && commercial.inputs["clv_trend"] == "1")
    }

    @Test(
        "commercial: recency alone when there is no trend; a trend of 2 or more is 100; without purchases it is missing"
    )
    func commercialParts() throws {
        // (365 − 197.5) ÷ 335 = ½.
        let recencyOnly = try only(
            .commercial,
            facts(
                commercial: CommercialFacts(
                    orders: 1, lastPurchaseAt: now - 197.5 * day, repeatPurchaseRate: 0, clvTrend: nil)))
        #expect(isClose(recencyOnly.value, 50))

        // 400 days → recency 0; trend 3 capped at 100: 0 × 0.6 + 100 × 0.4 = 40.
        let lapsed = try only(
            .commercial,
            facts(
                commercial: CommercialFacts(
                    orders: 7, lastPurchaseAt: now - 400 * day, repeatPurchaseRate: 0.5, clvTrend: 3)))
        #expect(isClose(lapsed.value, 40))

        let noOrders = facts(
            commercial: CommercialFacts(
                orders: 0, lastPurchaseAt: nil, repeatPurchaseRate: nil,
                clvTrend: nil))
        #expect(missingReason(.commercial, noOrders) == "no purchases")
        let noDate = facts(
            commercial: CommercialFacts(
                orders: 2, lastPurchaseAt: nil, repeatPurchaseRate: nil,
                clvTrend: 1))
        #expect(missingReason(.commercial, noDate) == "no purchases")
    }

    @Test("goals: achieved 100, missed 0, a quarter done at half time 50, cancelled left out → 50")
    func goalsComponent() throws {
        let goals = [
            makeGoal("behind", current: 25, created: now - 10 * day, due: now + 10 * day),
            makeGoal("done", current: 100, created: now - 10 * day, due: now + 10 * day, status: .achieved),
            makeGoal("late", current: 50, created: now - 20 * day, due: now - day),
            makeGoal("dropped", current: 0, created: now - 20 * day, due: now - day, status: .cancelled),
        ]
        let component = try only(.goals, facts(goals: goals))
        #expect(isClose(component.value, 50))
        let goalsScore = try #require(GoalTracking.goalsScore(goals, at: now))
        #expect(isClose(component.value, goalsScore))
        #expect(component.weight == 0.20)
        #expect(component.inputs == ["goals": "3", "achieved": "1", "missed": "1", "at_risk": "1"])

        let cancelledOnly = facts(goals: [goals[3]])
        #expect(missingReason(.goals, cancelledOnly) == "no goals")
        #expect(missingReason(.goals, facts()) == "no goals")
    }
}

@Suite("Health calculator: the weighted score")
struct HealthScoreWeightingTests {
    @Test("all five components: 100 × 0.30 + 76.67 × 0.25 + 50 × 0.20 + 75 × 0.15 + 80 × 0.10 = 78.42, green")
    func allComponents() throws {
        let evaluation = calculator.evaluate(
            facts(
                engagement: EngagementFacts(
                    totalTouchpoints: 40, lastActiveAt: now - 7 * day, activeDays30: 8,
                    touchpoints30: 12),
                support: SupportFacts(
                    ticketsOpened: 4, ticketsOpen: 1, ticketsResolved: 3,
                    firstContactResolutionRate: 0.5, meanFirstResponseTime: Fixed.hour),
                commercial: CommercialFacts(
                    orders: 5, lastPurchaseAt: now - 30 * day, repeatPurchaseRate: 0.8,
                    clvTrend: 1),
                feedback: FeedbackFacts(latestNps: 8, latestCsat: 4, meanSentiment: 0.5),
                goals: [makeGoal("behind", current: 25, created: now - 10 * day, due: now + 10 * day)]), at: now)

        #expect(evaluation.missing.isEmpty)
        #expect(evaluation.components.map(\.kind) == HealthComponentKind.allCases)
        let values = evaluation.components.map(\.value)
        let expectedValues = [100, 230.0 / 3, 50, 75, 80]
        for (value, expected) in zip(values, expectedValues) {
            #expect(isClose(value, expected), "\(values)")
        }
        #expect(isClose(evaluation.components.map(\.effectiveWeight).reduce(0, +), 1))
        let expected = 100 * 0.30 + 230.0 / 3 * 0.25 + 50 * 0.20 + 75 * 0.15 + 80 * 0.10
        let score = try #require(evaluation.score)
        #expect(isClose(score, expected))
        #expect(isClose(score, 78.42, tolerance: 0.005))
        #expect(HealthConfiguration.default.band(of: score) == .green)
    }

    @Test("only engagement 100 and feedback 0: weights 0.3/0.55 and 0.25/0.55 → 54.55; the missing keep their reasons")
    func renormalised() throws {
        let evaluation = calculator.evaluate(
            HealthFacts(
                engagement: .known(
                    EngagementFacts(
                        totalTouchpoints: 20, lastActiveAt: now - day, activeDays30: 9,
                        touchpoints30: 15)),
                support: .missing("interaction-service deadline exceeded"),
                commercial: .known(
                    CommercialFacts(orders: 0, lastPurchaseAt: nil, repeatPurchaseRate: nil, clvTrend: nil)),
                feedback: .known(FeedbackFacts(latestNps: 0)),
                goals: []), at: now)

        #expect(evaluation.components.map(\.kind) == [.engagement, .feedback])
        let engagement = try #require(evaluation.components.first)
        let feedback = try #require(evaluation.components.last)
        #expect(isClose(engagement.value, 100) && isClose(feedback.value, 0))
        #expect(engagement.weight == 0.30 && feedback.weight == 0.25)
        #expect(isClose(engagement.effectiveWeight, 0.30 / 0.55))
        #expect(isClose(feedback.effectiveWeight, 0.25 / 0.55))
        #expect(isClose(evaluation.score, 100 * 0.30 / 0.55))
        #expect(isClose(evaluation.score, 54.55, tolerance: 0.005))
        #expect(
            evaluation.missing == [
                MissingHealthComponent(kind: .goals, reason: "no goals"),
                MissingHealthComponent(kind: .support, reason: "interaction-service deadline exceeded"),
                MissingHealthComponent(kind: .commercial, reason: "no purchases"),
            ])
    }

    @Test("custom weights engagement 1, feedback 1, the rest 0: engagement 100 and feedback 0 → 50")
    func customWeights() throws {
        let weights = try HealthConfiguration.weights(
            parsing: "engagement=1,feedback=1,goals=0,support=0,commercial=0")
        let custom = HealthCalculator(
            configuration: HealthConfiguration(
                weights: weights, greenAt: 80, redBelow: 50, dropPoints: 10, dropWindowDays: 14))
        let evaluation = custom.evaluate(
            facts(
                engagement: EngagementFacts(
                    totalTouchpoints: 20, lastActiveAt: now - day, activeDays30: 9,
                    touchpoints30: 15),
                feedback: FeedbackFacts(latestNps: 0)), at: now)
        #expect(isClose(evaluation.score, 50))
        #expect(evaluation.components.allSatisfy { isClose($0.effectiveWeight, 0.5) })
        let score = try #require(evaluation.score)
        #expect(custom.configuration.band(of: score) == .yellow)
    }

    @Test("no component at all → no score, every component missing with its reason")
    func nothing() {
        let evaluation = calculator.evaluate(facts(), at: now)
        #expect(evaluation.score == nil)
        #expect(evaluation.components.isEmpty)
        #expect(
            evaluation.missing == [
                MissingHealthComponent(kind: .engagement, reason: "interaction-service unavailable"),
                MissingHealthComponent(kind: .feedback, reason: "feedback-service unavailable"),
                MissingHealthComponent(kind: .goals, reason: "no goals"),
                MissingHealthComponent(kind: .support, reason: "interaction-service unavailable"),
                MissingHealthComponent(kind: .commercial, reason: "interaction-service unavailable"),
            ])
    }
}

@Suite("Health configuration: bands, weights, version")
struct HealthConfigurationTests {
    @Test("default bands: 70 green, 69.99 yellow, 40 yellow, 39.99 red")
    func defaultBands() {
        let configuration = HealthConfiguration.default
        #expect(configuration.band(of: 100) == .green)
        #expect(configuration.band(of: 70) == .green)
        #expect(configuration.band(of: 69.99) == .yellow)
        #expect(configuration.band(of: 40) == .yellow)
        #expect(configuration.band(of: 39.99) == .red)
        #expect(configuration.band(of: 0) == .red)
    }

    @Test("custom bands green ≥ 80, red < 50: 80 green, 79.99 yellow, 50 yellow, 49.99 red")
    func customBands() throws {
        let configuration = try HealthConfiguration(
            weights: HealthConfiguration.default.weights, greenAt: 80, redBelow: 50, dropPoints: 10,
            dropWindowDays: 14
        ).validated()
        #expect(configuration.band(of: 80) == .green)
        #expect(configuration.band(of: 79.99) == .yellow)
        #expect(configuration.band(of: 50) == .yellow)
        #expect(configuration.band(of: 49.99) == .red)
        // 70 is green by default but yellow here.
        #expect(configuration.band(of: 70) == .yellow)
    }

    @Test("weights(parsing:) accepts component=weight for every component, relative weights and white space")
    func parsesWeights() throws {
        let text = "engagement=0.3,feedback=0.25,goals=0.2,support=0.15,commercial=0.1"
        #expect(try HealthConfiguration.weights(parsing: text) == HealthConfiguration.default.weights)

        let relative = try HealthConfiguration.weights(
            parsing: " Engagement = 3, feedback=2.5 ,goals=2,support=1.5,COMMERCIAL=1")
        #expect(relative[.engagement] == 3 && relative[.feedback] == 2.5 && relative[.commercial] == 1)
        // Used relative to each other: the same version as the default.
        let configuration = HealthConfiguration(
            weights: relative, greenAt: 70, redBelow: 40, dropPoints: 15,
            dropWindowDays: 30)
        #expect(configuration.version == HealthConfiguration.default.version)
    }

    @Test("weights(parsing:) refuses a missing, unknown, negative or non-numeric weight and weights summing to 0")
    func refusesWeights() {
        let cases: [(text: String, mentions: String)] = [
            ("engagement=0.3,feedback=0.25,goals=0.2,support=0.15", "commercial"),
            ("engagement=0.3,feedback=0.25,goals=0.2,support=0.15,commercial=0.1,loyalty=0.1", "loyalty"),
            ("engagement=-0.3,feedback=0.25,goals=0.2,support=0.15,commercial=0.1", "engagement=-0.3"),
            ("engagement=lots,feedback=0.25,goals=0.2,support=0.15,commercial=0.1", "engagement=lots"),
            ("engagement=0.3,feedback,goals=0.2,support=0.15,commercial=0.1", "feedback"),
            ("engagement=0,feedback=0,goals=0,support=0,commercial=0", "sum to 0"),
            ("", "engagement"),
        ]
        for (text, mentions) in cases {
            let error = #expect(throws: HealthConfigurationError.self, "\(text)") {
                _ = try HealthConfiguration.weights(parsing: text)
            }
            #expect(error?.description.contains(mentions) == true, "\(text): \(error?.description ?? "")")
        }
    }

    @Test("version names the weights in percent, the bands and the drop rule")
    func version() {
        #expect(HealthConfiguration.default.version == "w30-25-20-15-10/g70-r40/d15in30")
        let custom = HealthConfiguration(
            weights: HealthConfiguration.default.weights, greenAt: 75.5, redBelow: 40,
            dropPoints: 10, dropWindowDays: 14)
        #expect(custom.version == "w30-25-20-15-10/g75.5-r40/d10in14")
    }

    @Test("validated() refuses red-below above green-at and a drop rule without points")
    func validation() throws {
        _ = try HealthConfiguration.default.validated()
        let inverted = HealthConfiguration(
            weights: HealthConfiguration.default.weights, greenAt: 40, redBelow: 70,
            dropPoints: 15, dropWindowDays: 30)
        #expect(throws: HealthConfigurationError.self) { _ = try inverted.validated() }
        let noDrop = HealthConfiguration(
            weights: HealthConfiguration.default.weights, greenAt: 70, redBelow: 40,
            dropPoints: 0, dropWindowDays: 30)
        #expect(throws: HealthConfigurationError.self) { _ = try noDrop.validated() }
    }
}

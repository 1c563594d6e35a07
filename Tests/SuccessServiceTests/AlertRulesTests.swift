import Foundation
import Testing

@testable import C360Success

private let now = Fixed.now
private let day = Fixed.day
private let rules = AlertRules(configuration: .default, defaultOwner: "csm-default")

/// A new score of `value`, banded by `configuration`, with its 30-day change when given.
private func score(
    _ value: Double, change30d: Double? = nil, configuration: HealthConfiguration = .default
) -> HealthScore {
    HealthScore(
        id: "hs-1", customerID: Customers.ada, score: value, band: configuration.band(of: value),
        components: [], missing: [], computedAt: now, previousScore: nil, change30d: change30d,
        configVersion: configuration.version)
}

@Suite("Alert rules: churn risk and score drop")
struct ScoreAlertRuleTests {
    @Test("entering red from yellow raises churn risk")
    func fromYellow() {
        let drafts = rules.alerts(for: score(35), previousBand: .yellow, openKinds: [])
        #expect(
            drafts == [
                AlertRules.Draft(
                    kind: .churnRisk, message: "Health entered red from yellow at 35",
                    details: ["score": "35", "previous_band": "yellow"])
            ])
    }

    @Test("a first score in red raises churn risk; the score is shown rounded")
    func firstScore() {
        let drafts = rules.alerts(for: score(12.6), previousBand: nil, openKinds: [])
        #expect(
            drafts == [
                AlertRules.Draft(
                    kind: .churnRisk, message: "Health entered red at 13",
                    details: ["score": "13", "previous_band": "none"])
            ])
    }

    @Test("no churn risk when already red, when one is open, or outside red")
    func noChurnRisk() {
        #expect(rules.alerts(for: score(20), previousBand: .red, openKinds: []).isEmpty)
        #expect(rules.alerts(for: score(20), previousBand: .yellow, openKinds: [.churnRisk]).isEmpty)
        #expect(rules.alerts(for: score(40), previousBand: .green, openKinds: []).isEmpty)
        // Another open kind does not hold churn risk back.
        let drafts = rules.alerts(for: score(20), previousBand: .green, openKinds: [.scoreDrop, .goalOverdue])
        #expect(drafts.map(\.kind) == [.churnRisk])
    }

    @Test("a change of exactly −15 within 30 days raises a score drop; −14.9 does not")
    func scoreDrop() {
        let drop = rules.alerts(for: score(50, change30d: -15), previousBand: .green, openKinds: [])
        #expect(
            drop == [
                AlertRules.Draft(
                    kind: .scoreDrop, message: "Health fell from 65 to 50 within 30 days",
                    details: ["from": "65", "to": "50", "change": "-15"])
            ])
        #expect(rules.alerts(for: score(50, change30d: -14.9), previousBand: .green, openKinds: []).isEmpty)
        #expect(rules.alerts(for: score(50, change30d: 12), previousBand: .yellow, openKinds: []).isEmpty)
        #expect(rules.alerts(for: score(50, change30d: -30), previousBand: .green, openKinds: [.scoreDrop]).isEmpty)
    }

    @Test("falling from green into red by 45 raises both churn risk and score drop")
    func both() {
        let drafts = rules.alerts(for: score(30, change30d: -45), previousBand: .green, openKinds: [])
        #expect(drafts.map(\.kind) == [.churnRisk, .scoreDrop])
        #expect(drafts.last?.details == ["from": "75", "to": "30", "change": "-45"])
    }

    @Test("a deployment's drop rule (10 points in 14 days) applies")
    func customDrop() {
        let configuration = HealthConfiguration(
            weights: HealthConfiguration.default.weights, greenAt: 70,
            redBelow: 40, dropPoints: 10, dropWindowDays: 14)
        let custom = AlertRules(configuration: configuration, defaultOwner: "csm-default")
        let drafts = custom.alerts(
            for: score(60, change30d: -10, configuration: configuration),
            previousBand: .yellow, openKinds: [])
        #expect(drafts.map(\.message) == ["Health fell from 70 to 60 within 14 days"])
        let small = custom.alerts(
            for: score(60, change30d: -9.9, configuration: configuration),
            previousBand: .yellow, openKinds: [])
        #expect(small.isEmpty)
    }
}

@Suite("Alert rules: overdue goals, playbooks and owners")
struct GoalAlertRuleTests {
    @Test("goal-overdue drafts only for active plans' overdue goals not yet alerted")
    func overdueGoals() throws {
        let start = now - 30 * day
        let active = makePlan(
            "plan-active", created: start,
            goals: [
                makeGoal("g-overdue", current: 50, created: start, due: now - day),
                makeGoal("g-alerted", current: 10, created: start, due: now - 2 * day),
                makeGoal("g-future", current: 10, created: start, due: now + day),
                makeGoal("g-achieved", current: 100, created: start, due: now - day, status: .achieved),
                makeGoal("g-cancelled", current: 0, created: start, due: now - day, status: .cancelled),
                makeGoal("g-due-now", current: 0, created: start, due: now),
            ])
        let cancelledPlan = makePlan(
            "plan-cancelled", status: .cancelled, created: start,
            goals: [makeGoal("g-old", created: start, due: now - day)])
        let draftPlan = makePlan(
            "plan-draft", status: .draft, created: start,
            goals: [makeGoal("g-draft", created: start, due: now - day)])

        let drafts = rules.overdueGoalAlerts(
            plans: [active, cancelledPlan, draftPlan], alertedGoals: ["g-alerted"],
            at: now)
        #expect(drafts.map(\.goalID) == ["g-overdue", "g-due-now"])
        #expect(drafts.allSatisfy { $0.kind == .goalOverdue && $0.planID == "plan-active" })
        let first = try #require(drafts.first)
        #expect(first.details["goal"] == "Goal g-overdue")
        #expect(first.details["due_at"] == "2026-09-20T14:13:20Z")
        #expect(first.message.hasPrefix("Goal \"Goal g-overdue\" was due 2026-09-20"), "\(first.message)")
        #expect(first.message.hasSuffix("is at 50 %"), "\(first.message)")

        #expect(
            rules.overdueGoalAlerts(plans: [active], alertedGoals: ["g-overdue", "g-alerted", "g-due-now"], at: now)
                .isEmpty)
        #expect(rules.overdueGoalAlerts(plans: [active], alertedGoals: [], at: now - 3 * day).isEmpty)
    }

    @Test("each alert kind has its playbook step and due time")
    func playbooks() {
        let churn = rules.playbook(for: .churnRisk)
        #expect(churn.name == "churn-risk/call" && churn.due == 2 * day && !churn.title.isEmpty)
        let drop = rules.playbook(for: .scoreDrop)
        #expect(drop.name == "score-drop/review" && drop.due == 3 * day && !drop.instructions.isEmpty)
        let overdue = rules.playbook(for: .goalOverdue)
        #expect(overdue.name == "goal-overdue/replan" && overdue.due == 5 * day)
    }

    @Test("tasks go to the CSM of the active plan, else to the default owner")
    func owner() {
        let cancelled = makePlan("plan-old", csm: "csm-old", status: .cancelled)
        let active = makePlan("plan-new", csm: "csm-new", status: .active)
        let draft = makePlan("plan-draft", csm: "csm-draft", status: .draft)
        #expect(rules.owner(plans: [cancelled, active, draft]) == "csm-new")
        #expect(rules.owner(plans: [cancelled, draft]) == "csm-default")
        #expect(rules.owner(plans: []) == "csm-default")
    }
}

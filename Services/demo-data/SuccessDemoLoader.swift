import C360Clients
import C360Contracts
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import SwiftProtobuf

/// Gives about 30 % of the demo customers (mostly onboarding, active and at-risk ones) a success plan owned by one of
/// three CSMs, with one to three goals on metrics customers actually track (some that should fall, like tickets per
/// week), due from 20 days ago to four months ahead, progress check-ins on most goals and one or two milestones. Then
/// has success-service recompute every customer's health in a batch, printing its progress every second, and shows
/// the customers with the lowest health and the band counts.
struct SuccessDemoLoader {
    let success: Customer360_V1_SuccessService.Client<PeerTransport>
    var generator: DemoGenerator
    let now: Date

    private let options = CallOptions.deadline(.seconds(10))
    private let day: TimeInterval = 86_400

    /// How long to keep polling a batch before leaving it to run on its own.
    private let batchPatience: Duration = .seconds(600)

    /// What was created, for the summary.
    private struct Counts {
        var plans = 0
        var existing = 0
        var goals = 0
        var progress = 0
        var milestones = 0
    }

    mutating func load(customers: [Customer360_V1_Customer]) async throws {
        var chosen: [Customer360_V1_Customer] = []
        for customer in customers where generator.chance(Self.planChance(customer.lifecycleStage)) {
            chosen.append(customer)
        }
        print(
            "demo-data: creating success plans for \(chosen.count) of \(customers.count) customers "
                + "in success-service…")
        var counts = Counts()
        for (index, customer) in chosen.enumerated() {
            try await createPlan(for: customer, counts: &counts)
            if (index + 1) % 20 == 0 || index + 1 == chosen.count {
                print("demo-data: \(index + 1)/\(chosen.count) success plans")
            }
        }
        let existing = counts.existing > 0 ? " (\(counts.existing) already there, left as they were)" : ""
        print(
            "demo-data: \(counts.plans) success plans with \(counts.goals) goals, \(counts.progress) progress "
                + "check-ins and \(counts.milestones) milestones\(existing)")

        try await recomputeHealth()
        let names = customers.map { customer in
            (customer.customerID, "\(customer.givenName) \(customer.familyName)".trimmingCharacters(in: .whitespaces))
        }
        try await showHealth(names: Dictionary(names, uniquingKeysWith: { first, _ in first }))
    }

    /// The share of customers at each lifecycle stage that has a success plan: customers being onboarded, active
    /// ones and those at risk most often; leads, prospects and churned customers rarely. About 30 % overall.
    private static func planChance(_ stage: Customer360_V1_LifecycleStage) -> Double {
        switch stage {
        case .onboarding, .active, .atRisk: 0.45
        case .prospect: 0.1
        default: 0.05
        }
    }

    // MARK: - Plans, goals, progress, milestones

    /// Creates one customer's plan with its goals and milestones, then records progress check-ins on most goals.
    private mutating func createPlan(for customer: Customer360_V1_Customer, counts: inout Counts) async throws {
        let suffix = String(customer.customerID.suffix(12))
        let owner = generator.pick(DemoSuccessPlans.csms)
        let kind = DemoSuccessPlans.kind(for: customer.lifecycleStage, using: &generator)
        let startsAt = now.addingTimeInterval(-Double.random(in: 20...150, using: &generator) * day)
        let endsAt = startsAt.addingTimeInterval(Double.random(in: 180...365, using: &generator) * day)
        let templates = DemoSuccessPlans.goals.shuffled(using: &generator)
        let goalCount = Int.random(in: 1...3, using: &generator)

        var goals: [Customer360_V1_SuccessGoal] = []
        // For each goal, the share of the way from baseline to target reached at each check-in (empty: none yet).
        var checkIns: [[Double]] = []
        for (index, template) in templates.prefix(goalCount).enumerated() {
            let baseline = Double(Int.random(in: template.baseline, using: &generator))
            var target = (baseline * Double.random(in: template.factor, using: &generator)).rounded()
            if target == baseline { target += template.factor.lowerBound < 1 ? -1 : 1 }
            let dueInDays = Double.random(in: -20...120, using: &generator)
            goals.append(
                .with {
                    $0.goalID = "demo-goal-\(suffix)-\(index + 1)"
                    $0.title = template.title
                    $0.metric = template.metric
                    $0.unit = template.unit
                    $0.baselineValue = baseline
                    $0.targetValue = target
                    $0.dueAt = Google_Protobuf_Timestamp(date: now.addingTimeInterval(dueInDays * day))
                })
            checkIns.append(trajectory(overdue: dueInDays < 0, lagging: kind.lagging))
        }

        var milestones: [Customer360_V1_SuccessMilestone] = []
        let milestoneTitles = DemoSuccessPlans.milestones.shuffled(using: &generator)
        let milestoneCount = Int.random(in: 1...2, using: &generator)
        for (index, title) in milestoneTitles.prefix(milestoneCount).enumerated() {
            let dueAt = startsAt.addingTimeInterval(Double.random(in: 10...150, using: &generator) * day)
            let linked = index == 0 && generator.chance(0.5) ? goals[0].goalID : ""
            let status: Customer360_V1_MilestoneStatus =
                dueAt > now
                ? .pending
                : generator.chance(0.8) ? .done : .missed
            milestones.append(
                .with {
                    $0.milestoneID = "demo-milestone-\(suffix)-\(index + 1)"
                    $0.title = title
                    $0.dueAt = Google_Protobuf_Timestamp(date: dueAt)
                    $0.status = status
                    if status == .done {
                        $0.completedAt = Google_Protobuf_Timestamp(date: dueAt.addingTimeInterval(-day))
                    }
                    $0.goalID = linked
                })
        }

        let plan: Customer360_V1_SuccessPlan
        do {
            plan = try await success.createSuccessPlan(
                .with {
                    $0.customerID = customer.customerID
                    $0.planID = "demo-plan-\(suffix)"
                    $0.title = kind.title
                    $0.summary = kind.summary
                    $0.csmOwnerID = owner
                    $0.status = .active
                    $0.startsAt = Google_Protobuf_Timestamp(date: startsAt)
                    $0.endsAt = Google_Protobuf_Timestamp(date: endsAt)
                    $0.goals = goals
                    $0.milestones = milestones
                }, options: options)
        } catch let error as RPCError where error.code == .alreadyExists {
            counts.existing += 1 // a plan under this id from an earlier run (--force), with other content
            return
        }
        guard plan.createdAt.date >= now.addingTimeInterval(-1) else {
            counts.existing += 1 // the same plan from an earlier run: its goals have their progress already
            return
        }
        counts.plans += 1
        counts.goals += goals.count
        counts.milestones += milestones.count

        for (goal, shares) in zip(goals, checkIns) {
            for (index, share) in shares.enumerated() {
                let value = (goal.baselineValue + (goal.targetValue - goal.baselineValue) * share).rounded()
                let last = index == shares.count - 1
                _ = try await success.recordGoalProgress(
                    .with {
                        $0.customerID = customer.customerID
                        $0.planID = plan.planID
                        $0.goalID = goal.goalID
                        $0.progressID = "\(goal.goalID)-progress-\(index + 1)"
                        $0.currentValue = value
                        // Earlier check-ins a week apart; the latest one now, so a target reached is reached today.
                        if !last {
                            $0.recordedAt = Google_Protobuf_Timestamp(
                                date: now.addingTimeInterval(-Double(shares.count - 1 - index) * 7 * day))
                        }
                        $0.note = generator.pick(DemoSuccessPlans.notes)
                        $0.recordedBy = generator.pick([owner, owner, "customer-admin", "system"])
                    }, options: options)
                counts.progress += 1
            }
        }
    }

    /// The check-ins of one goal as shares of the way to its target, rising: none for about a quarter of the goals;
    /// overdue goals either reached the target late or stalled; the goals of lagging plans barely moved.
    private mutating func trajectory(overdue: Bool, lagging: Bool) -> [Double] {
        guard generator.chance(0.75) else { return [] }
        let reached: Double
        if overdue {
            reached = generator.chance(0.5) ? 1 : Double.random(in: 0.3...0.8, using: &generator)
        } else if lagging {
            reached = Double.random(in: 0.05...0.3, using: &generator)
        } else {
            reached = generator.chance(0.15) ? 1 : Double.random(in: 0.3...0.9, using: &generator)
        }
        let count = Int.random(in: 1...3, using: &generator)
        return (1...count).map { reached * Double($0) / Double(count) }
    }

    // MARK: - Health

    /// Starts a batch recompute of every customer's health and reports its progress every second until it ends.
    private func recomputeHealth() async throws {
        let batchID = "demo-\(Int(now.timeIntervalSince1970))"
        print("demo-data: recomputing every customer's health score in success-service (batch \(batchID))…")
        var batch: Customer360_V1_HealthBatch
        do {
            batch = try await success.startBatchRecompute(.with { $0.batchID = batchID }, options: options)
        } catch let error as RPCError where error.code == .failedPrecondition {
            print("demo-data: success-service is busy with another batch, so none was started: \(error.message)")
            return
        }
        let began = ContinuousClock.now
        while batch.state == .running {
            guard ContinuousClock.now - began < batchPatience else {
                print(
                    "demo-data: batch \(batchID) is still running after \(batchPatience); "
                        + "GetBatchStatus tells how it ends")
                return
            }
            try await Task.sleep(for: .seconds(1))
            batch = try await success.getBatchStatus(.with { $0.batchID = batchID }, options: options)
            print(
                "demo-data: health batch: \(batch.processed) customers scored so far, "
                    + "\(batch.alertsRaised) alerts raised")
        }
        switch batch.state {
        case .completed:
            print(
                "demo-data: health batch done: \(batch.processed) customers (\(batch.scored) with every "
                    + "component, \(batch.partial) with some missing, \(batch.failed) not scored), "
                    + "\(batch.alertsRaised) alerts raised")
        case .interrupted, .failed:
            let error = batch.lastError.isEmpty ? "no error recorded" : batch.lastError
            print(
                "demo-data: health batch \(batchID) stopped after \(batch.processed) customers: \(error); "
                    + "StartBatchRecompute with batch_id \"\(batchID)\" resumes it")
        default:
            print("demo-data: health batch \(batchID) ended in state \(batch.state)")
        }
    }

    /// Prints the five customers with the lowest health (red or yellow) and the health summary.
    private func showHealth(names: [String: String]) async throws {
        let atRisk = try await success.listAtRisk(
            .with {
                $0.bands = [.red, .yellow]
                $0.page.pageSize = 5
            }, options: options)
        if atRisk.customers.isEmpty {
            print("demo-data: no customer's health is red or yellow")
        } else {
            print("demo-data: the \(atRisk.customers.count) customers with the lowest health:")
            for customer in atRisk.customers {
                let name = names[customer.customerID].map { " \($0)" } ?? ""
                let owner = customer.csmOwnerID.isEmpty ? "no success plan" : "CSM \(customer.csmOwnerID)"
                let score = String(format: "%5.1f", customer.latest.score)
                let band = Self.name(of: customer.latest.band)
                let alerts = "\(customer.openAlerts) open alert\(customer.openAlerts == 1 ? "" : "s")"
                print("    \(score) \(band)  \(customer.customerID)\(name)  \(alerts), \(owner)")
            }
        }
        let summary = try await success.getHealthSummary(.init(), options: options)
        let mean: Double = summary.customersScored > 0 ? summary.scoreSum / Double(summary.customersScored) : 0
        let meanText = String(format: "%.1f", mean)
        let alertCounts = summary.openAlerts.map { "\(Self.name(of: $0.kind)) \($0.count)" }
        let alerts = alertCounts.isEmpty ? "none" : alertCounts.joined(separator: ", ")
        print(
            "demo-data: health of \(summary.customersScored) customers: \(summary.green) green, "
                + "\(summary.yellow) yellow, \(summary.red) red (mean \(meanText)); open alerts: \(alerts); "
                + "\(summary.overdueTasks) overdue playbook tasks")
    }

    private static func name(of band: Customer360_V1_HealthBand) -> String {
        switch band {
        case .green: "green "
        case .yellow: "yellow"
        case .red: "red   "
        default: "?     "
        }
    }

    private static func name(of kind: Customer360_V1_AlertKind) -> String {
        switch kind {
        case .churnRisk: "churn risk"
        case .goalOverdue: "goal overdue"
        case .scoreDrop: "score drop"
        default: "other"
        }
    }
}

/// A goal customers commonly set: what is measured, in which unit, where it usually starts and how far it should go.
struct DemoGoalTemplate {
    var title: String
    var metric: String
    var unit: String
    /// Where the metric usually is when the goal is set.
    var baseline: ClosedRange<Int>
    /// The target as a multiple of the baseline; below 1 for a metric that should fall.
    var factor: ClosedRange<Double>
}

/// One kind of success plan: its title and summary, and whether its customer's goals tend to lag.
struct DemoPlanKind {
    var title: String
    var summary: String
    var lagging: Bool
}

/// The CSMs, plan kinds, goals, milestones and check-in notes demo success plans are made of.
enum DemoSuccessPlans {
    static let csms = ["csm-neda", "csm-omid", "csm-sam"]

    static let goals: [DemoGoalTemplate] = [
        DemoGoalTemplate(
            title: "Grow adoption across the team", metric: "weekly active seats", unit: "seats",
            baseline: 5...40, factor: 1.5...2.5),
        DemoGoalTemplate(
            title: "Make ordering a habit", metric: "orders per month", unit: "orders",
            baseline: 2...20, factor: 1.5...2.2),
        DemoGoalTemplate(
            title: "Cut the support load", metric: "tickets per week", unit: "tickets",
            baseline: 8...30, factor: 0.3...0.6),
        DemoGoalTemplate(
            title: "Roll dashboards out to every team", metric: "teams using dashboards", unit: "teams",
            baseline: 1...3, factor: 3...5),
        DemoGoalTemplate(
            title: "Get new staff productive sooner", metric: "days to a new user's first order",
            unit: "days", baseline: 10...30, factor: 0.2...0.4),
        DemoGoalTemplate(
            title: "Bring customers back", metric: "repeat purchase rate", unit: "%",
            baseline: 10...30, factor: 1.5...2),
    ]

    static let milestones = [
        "Kick-off call with the customer's team", "Admin training done", "ERP integration live",
        "First quarterly business review", "Executive sponsor check-in", "Usage report shared with the customer",
    ]

    static let notes = [
        "From the monthly usage export", "Reported by the customer's admin", "Agreed in the QBR",
        "Checked on the weekly call", "", "",
    ]

    /// The kind of plan a customer at `stage` gets: onboarding plans for new customers, recovery plans (whose goals
    /// lag) for those at risk, adoption, expansion or renewal plans for the others.
    static func kind(for stage: Customer360_V1_LifecycleStage, using generator: inout DemoGenerator) -> DemoPlanKind {
        switch stage {
        case .onboarding:
            return DemoPlanKind(
                title: "Onboarding plan",
                summary: "Get the customer live and using the product within 90 days.",
                lagging: generator.chance(0.2))
        case .atRisk, .churned:
            return DemoPlanKind(
                title: "Recovery plan",
                summary: "Win back trust after a rough quarter: fewer tickets, more use.",
                lagging: generator.chance(0.7))
        default:
            let (title, summary) = generator.pick([
                ("Adoption plan", "Spread the product from the pilot team to the whole company."),
                ("Expansion plan", "Grow orders and seats ahead of the next contract."),
                ("Renewal readiness", "Show the value delivered before the renewal talk."),
            ])
            return DemoPlanKind(title: title, summary: summary, lagging: generator.chance(0.25))
        }
    }
}

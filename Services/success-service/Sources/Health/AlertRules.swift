public import Foundation

/// When a new health score or an overdue goal calls for an alert, and what playbook task each alert creates.
public struct AlertRules: Sendable {
    public let configuration: HealthConfiguration
    /// Owner of tasks for customers without an active plan.
    public let defaultOwner: String

    public init(configuration: HealthConfiguration, defaultOwner: String) {
        self.configuration = configuration
        self.defaultOwner = defaultOwner
    }

    /// An alert to raise, before it has an id.
    public struct Draft: Sendable, Equatable {
        public var kind: AlertKind
        public var message: String
        public var details: [String: String]
        public var planID = ""
        public var goalID = ""
    }

    /// Alerts a new score raises: churn risk on entering red (from another band or as the first score), a score
    /// drop when it fell by the threshold within the window. A kind already open for the customer is not raised again.
    public func alerts(for score: HealthScore, previousBand: HealthBand?, openKinds: Set<AlertKind>) -> [Draft] {
        var drafts: [Draft] = []
        let shown = HealthCalculator.format(score.score.rounded())
        if score.band == .red, previousBand != .red, !openKinds.contains(.churnRisk) {
            let from = previousBand.map { "from \($0.rawValue) " } ?? ""
            drafts.append(
                Draft(
                    kind: .churnRisk, message: "Health entered red \(from)at \(shown)",
                    details: ["score": shown, "previous_band": previousBand?.rawValue ?? "none"]))
        }
        if let change = score.change30d, change <= -configuration.dropPoints, !openKinds.contains(.scoreDrop) {
            let peak = HealthCalculator.format((score.score - change).rounded())
            drafts.append(
                Draft(
                    kind: .scoreDrop,
                    message: "Health fell from \(peak) to \(shown) within \(configuration.dropWindowDays) days",
                    details: ["from": peak, "to": shown, "change": HealthCalculator.format(change)]))
        }
        return drafts
    }

    /// A goal-overdue alert for each overdue goal that has no alert yet.
    public func overdueGoalAlerts(plans: [SuccessPlan], alertedGoals: Set<String>, at now: Date) -> [Draft] {
        plans.filter { $0.status == .active }.flatMap { plan in
            plan.goals.filter { GoalTracking.isOverdue($0, at: now) && !alertedGoals.contains($0.id) }.map { goal in
                Draft(
                    kind: .goalOverdue,
                    message:
                        "Goal \"\(goal.title)\" was due \(goal.dueAt.formatted(.iso8601.year().month().day())) and is at \(Int((goal.progress * 100).rounded())) %",
                    details: [
                        "goal": goal.title, "progress": HealthCalculator.format(goal.progress),
                        "due_at": goal.dueAt.formatted(.iso8601),
                    ],
                    planID: plan.id, goalID: goal.id)
            }
        }
    }

    /// The playbook step an alert kind calls for: its name, title, instructions and how long the owner has.
    public func playbook(for kind: AlertKind) -> (name: String, title: String, instructions: String, due: TimeInterval)
    {
        switch kind {
        case .churnRisk:
            (
                "churn-risk/call", "Call the customer: health is red",
                "Call within 2 days, find what is blocking them, agree next steps and record them on the success plan.",
                2 * 86_400
            )
        case .scoreDrop:
            (
                "score-drop/review", "Review the account: health dropped",
                "Review recent tickets, feedback and usage to find the cause of the drop, then contact the customer.",
                3 * 86_400
            )
        case .goalOverdue:
            (
                "goal-overdue/replan", "Agree a new plan for an overdue goal",
                "Meet the customer to agree a new due date or a smaller target, and update the goal.", 5 * 86_400
            )
        }
    }

    /// The owner of tasks for a customer: the CSM of their active plan, else the deployment's default.
    public func owner(plans: [SuccessPlan]) -> String {
        plans.first { $0.status == .active }?.csmOwnerID ?? defaultOwner
    }
}

public import Foundation

/// Where a plan stands.
public enum PlanStatus: String, Codable, Sendable, CaseIterable {
    case draft, active, completed, cancelled
}

/// Where a goal stands. Not started, on track, at risk and missed are derived from progress against time;
/// achieved and cancelled are set.
public enum GoalStatus: String, Codable, Sendable, CaseIterable {
    case notStarted = "not_started"
    case onTrack = "on_track"
    case atRisk = "at_risk"
    case achieved, missed, cancelled
}

/// Where a milestone stands.
public enum MilestoneStatus: String, Codable, Sendable, CaseIterable {
    case pending, done, missed, cancelled
}

/// A customer's success plan: what they want to achieve with us, owned by a customer success manager.
public struct SuccessPlan: Sendable, Equatable {
    public var id: String
    public var customerID: String
    public var title: String
    public var summary: String
    /// The customer success manager who owns the plan.
    public var csmOwnerID: String
    public var status: PlanStatus
    public var startsAt: Date
    public var endsAt: Date?
    public var goals: [Goal] = []
    public var milestones: [Milestone] = []
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: String, customerID: String, title: String, summary: String, csmOwnerID: String,
        status: PlanStatus, startsAt: Date, endsAt: Date?, createdAt: Date
    ) {
        self.id = id
        self.customerID = customerID
        self.title = title
        self.summary = summary
        self.csmOwnerID = csmOwnerID
        self.status = status
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.createdAt = createdAt
        self.updatedAt = createdAt
    }

    /// Mean progress over the goals that are not cancelled, 0…1; `nil` without such goals.
    public var progress: Double? {
        let counted = goals.filter { $0.status != .cancelled }
        guard !counted.isEmpty else { return nil }
        return counted.map(\.progress).reduce(0, +) / Double(counted.count)
    }
}

/// A goal defined from the customer's side: a metric moving from a baseline to a target by a due date.
public struct Goal: Sendable, Equatable {
    public var id: String
    public var planID: String
    public var title: String
    /// What is measured, in the customer's words.
    public var metric: String
    public var unit: String
    public var baselineValue: Double
    public var targetValue: Double
    /// Latest recorded value (the baseline until progress is recorded).
    public var currentValue: Double
    public var dueAt: Date
    /// As stored: achieved and cancelled are final; the other values are refreshed by `GoalTracking`.
    public var status: GoalStatus
    public var createdAt: Date
    public var achievedAt: Date?
    public var updatedAt: Date

    public init(
        id: String, planID: String, title: String, metric: String, unit: String, baselineValue: Double,
        targetValue: Double, dueAt: Date, createdAt: Date
    ) {
        self.id = id
        self.planID = planID
        self.title = title
        self.metric = metric
        self.unit = unit
        self.baselineValue = baselineValue
        self.targetValue = targetValue
        self.currentValue = baselineValue
        self.dueAt = dueAt
        self.status = .notStarted
        self.createdAt = createdAt
        self.updatedAt = createdAt
    }

    /// (current − baseline) ÷ (target − baseline), clamped to 0…1; works for metrics that should fall, too.
    public var progress: Double {
        guard targetValue != baselineValue else { return 1 }
        return min(1, max(0, (currentValue - baselineValue) / (targetValue - baselineValue)))
    }

    /// achieved_at − created_at; `nil` until achieved.
    public var timeToGoal: TimeInterval? {
        achievedAt.map { $0.timeIntervalSince(createdAt) }
    }
}

/// A checkpoint on the way through a plan.
public struct Milestone: Sendable, Equatable {
    public var id: String
    public var planID: String
    public var title: String
    public var dueAt: Date?
    public var status: MilestoneStatus
    public var completedAt: Date?
    /// The goal it advances; empty if none.
    public var goalID: String

    public init(
        id: String, planID: String, title: String, dueAt: Date?, status: MilestoneStatus = .pending,
        completedAt: Date? = nil, goalID: String = ""
    ) {
        self.id = id
        self.planID = planID
        self.title = title
        self.dueAt = dueAt
        self.status = status
        self.completedAt = completedAt
        self.goalID = goalID
    }
}

/// One recorded value of a goal's metric.
public struct GoalProgressEntry: Sendable, Equatable {
    public var id: String
    public var goalID: String
    public var value: Double
    public var recordedAt: Date
    public var note: String
    public var recordedBy: String

    public init(id: String, goalID: String, value: Double, recordedAt: Date, note: String, recordedBy: String) {
        self.id = id
        self.goalID = goalID
        self.value = value
        self.recordedAt = recordedAt
        self.note = note
        self.recordedBy = recordedBy
    }
}

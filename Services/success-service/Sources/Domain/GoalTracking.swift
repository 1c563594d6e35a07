public import Foundation

/// Where a goal stands against time: the rules that derive not started / on track / at risk / missed, and the
/// goal KPIs (time-to-goal, achievement rate).
public enum GoalTracking {
    /// A goal is on track while its progress is at least this share of the time elapsed towards its due date.
    public static let onTrackShare = 0.9

    /// The share of the time from creation to due date that has passed at `now`, 0…1.
    public static func elapsedShare(of goal: Goal, at now: Date) -> Double {
        let span = goal.dueAt.timeIntervalSince(goal.createdAt)
        guard span > 0 else { return 1 }
        return min(1, max(0, now.timeIntervalSince(goal.createdAt) / span))
    }

    /// The status a goal has at `now`: achieved and cancelled stay; past its due date it is missed; without
    /// progress not started; otherwise on track while progress keeps up with 90 % of the time elapsed.
    public static func status(of goal: Goal, at now: Date) -> GoalStatus {
        switch goal.status {
        case .achieved, .cancelled: return goal.status
        default: break
        }
        if goal.progress >= 1 { return .achieved }
        if now >= goal.dueAt { return .missed }
        if goal.progress == 0 { return elapsedShare(of: goal, at: now) > 1 - onTrackShare ? .atRisk : .notStarted }
        return goal.progress >= onTrackShare * elapsedShare(of: goal, at: now) ? .onTrack : .atRisk
    }

    /// Whether a goal is past its due date without being achieved (or cancelled).
    public static func isOverdue(_ goal: Goal, at now: Date) -> Bool {
        goal.status != .achieved && goal.status != .cancelled && goal.progress < 1 && now >= goal.dueAt
    }

    /// The goals' health for the GOALS component, averaged: achieved, on track and not yet started (within the
    /// first 10 % of its time) 100; missed 0; at risk its progress against the time elapsed (half way through at a
    /// quarter of the target = 50); `nil` without goals that count.
    public static func goalsScore(_ goals: [Goal], at now: Date) -> Double? {
        let counted = goals.filter { $0.status != .cancelled }
        guard !counted.isEmpty else { return nil }
        let values = counted.map { goal -> Double in
            switch status(of: goal, at: now) {
            case .achieved, .onTrack, .notStarted, .cancelled: return 100
            case .missed: return 0
            case .atRisk:
                let elapsed = elapsedShare(of: goal, at: now)
                return elapsed == 0 ? 100 : min(1, goal.progress / elapsed) * 100
            }
        }
        return values.reduce(0, +) / Double(values.count)
    }
}

/// Goal KPIs as mergeable counts and sums.
public struct SuccessKpis: Sendable, Equatable {
    /// Goals considered (not cancelled).
    public var goals = 0
    public var achieved = 0
    public var missed = 0
    /// Open goals past their due date.
    public var overdue = 0
    /// Sum of time-to-goal over achieved goals.
    public var timeToGoalTotal: TimeInterval = 0
    public var activePlans = 0

    public init() {}

    /// achieved ÷ (achieved + missed); `nil` while no goal has an outcome.
    public var achievementRate: Double? {
        achieved + missed == 0 ? nil : Double(achieved) / Double(achieved + missed)
    }

    /// timeToGoalTotal ÷ achieved; `nil` without achieved goals.
    public var meanTimeToGoal: TimeInterval? {
        achieved == 0 ? nil : timeToGoalTotal / Double(achieved)
    }

    /// Counts one goal as it stands at `now`.
    public mutating func add(_ goal: Goal, at now: Date) {
        let status = GoalTracking.status(of: goal, at: now)
        guard status != .cancelled else { return }
        goals += 1
        switch status {
        case .achieved:
            achieved += 1
            timeToGoalTotal += goal.timeToGoal ?? 0
        case .missed:
            missed += 1
            overdue += 1
        default: break
        }
    }
}

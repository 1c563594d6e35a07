public import C360Contracts
import C360ServerKit
import C360StoreKit
import Foundation
public import GRPCCore

extension SuccessService {
    public func addGoal(
        request: Customer360_V1_AddGoalRequest, context: ServerContext
    ) async throws -> Customer360_V1_SuccessGoal {
        let customerID = try await readableCustomer(request.customerID)
        let planID = try Validate.clientID(request.planID, field: "plan_id")
        guard request.hasGoal else { throw InvalidArgument("goal", "is required") }
        let goal = try SuccessRequests.goal(request.goal, planID: planID, now: now())
        return try await store.addGoal(goal, customerID: customerID).proto(at: now())
    }

    public func updateGoal(
        request: Customer360_V1_UpdateGoalRequest, context: ServerContext
    ) async throws -> Customer360_V1_SuccessGoal {
        let customerID = try await readableCustomer(request.customerID)
        let planID = try Validate.clientID(request.planID, field: "plan_id")
        let goalID = try Validate.clientID(request.goalID, field: "goal_id")
        let title =
            request.hasTitle ? try Validate.text(request.title, field: "title", maxLength: 200, required: true) : nil
        let metric =
            request.hasMetric ? try Validate.text(request.metric, field: "metric", maxLength: 200, required: true) : nil
        let unit = request.hasUnit ? try Validate.text(request.unit, field: "unit", maxLength: 50) : nil
        let dueAt = request.hasDueAt ? try SuccessRequests.date(request.dueAt, field: "due_at") : nil
        let status: GoalStatus?
        switch request.status {
        case .unspecified: status = nil
        case .achieved: status = .achieved
        case .cancelled: status = .cancelled
        default:
            throw InvalidArgument(
                "status", "only ACHIEVED or CANCELLED can be set; the others follow from progress against time")
        }
        let baseline = request.hasBaselineValue ? request.baselineValue : nil
        let target = request.hasTargetValue ? request.targetValue : nil
        let instant = now()
        return try await store.updateGoal(id: goalID, planID: planID, customerID: customerID) { goal in
            if let title { goal.title = title }
            if let metric { goal.metric = metric }
            if let unit { goal.unit = unit }
            if let dueAt { goal.dueAt = dueAt }
            if let baseline { goal.baselineValue = baseline }
            if let target { goal.targetValue = target }
            guard goal.targetValue != goal.baselineValue, goal.targetValue.isFinite, goal.baselineValue.isFinite else {
                throw InvalidArgument("target_value", "must be a finite number different from baseline_value")
            }
            if let status, goal.status != status {
                goal.status = status
                if status == .achieved { goal.achievedAt = instant }
            } else if goal.status != .achieved, goal.status != .cancelled {
                goal.status = GoalTracking.status(of: goal, at: instant)
            }
            if goal.status == .achieved, goal.achievedAt == nil { goal.achievedAt = instant }
            goal.updatedAt = instant
        }.proto(at: instant)
    }

    public func recordGoalProgress(
        request: Customer360_V1_RecordGoalProgressRequest, context: ServerContext
    ) async throws -> Customer360_V1_SuccessGoal {
        let customerID = try await readableCustomer(request.customerID)
        let planID = try Validate.clientID(request.planID, field: "plan_id")
        let goalID = try Validate.clientID(request.goalID, field: "goal_id")
        let progressID = try Validate.clientID(request.progressID, field: "progress_id")
        guard request.currentValue.isFinite else { throw InvalidArgument("current_value", "must be a finite number") }
        let recordedAt =
            request.hasRecordedAt ? try Validate.instant(request.recordedAt, field: "recorded_at", now: now()) : now()
        let note = try Validate.text(request.note, field: "note", maxLength: 2000)
        let recordedBy = try Validate.text(request.recordedBy, field: "recorded_by", maxLength: 128)
        let entry = GoalProgressEntry(
            id: progressID, goalID: goalID, value: request.currentValue, recordedAt: recordedAt,
            note: note, recordedBy: recordedBy)
        return try await store.recordProgress(entry, planID: planID, customerID: customerID, at: now()).proto(at: now())
    }

    public func listGoalProgress(
        request: Customer360_V1_ListGoalProgressRequest, context: ServerContext
    ) async throws -> Customer360_V1_ListGoalProgressResponse {
        let customerID = try await readableCustomer(request.customerID)
        let planID = try Validate.clientID(request.planID, field: "plan_id")
        let goalID = try Validate.clientID(request.goalID, field: "goal_id")
        let limit = try Validate.pageSize(request.page.pageSize)
        let fingerprint = [customerID, planID, goalID].joined(separator: "\u{1F}")
        let token: PageToken<InstantPosition>? = try Validate.pageToken(request.page.pageToken, filter: fingerprint)
        let page = try await store.progress(
            goalID: goalID, planID: planID, customerID: customerID,
            after: token?.position, limit: limit)
        return .with {
            $0.progress = page.items.map(\.entry.proto)
            $0.page.nextPageToken = page.nextToken(filter: fingerprint) { $0.position }
        }
    }

    public func addMilestone(
        request: Customer360_V1_AddMilestoneRequest, context: ServerContext
    ) async throws -> Customer360_V1_SuccessMilestone {
        let customerID = try await readableCustomer(request.customerID)
        let planID = try Validate.clientID(request.planID, field: "plan_id")
        guard request.hasMilestone else { throw InvalidArgument("milestone", "is required") }
        let milestone = try SuccessRequests.milestone(request.milestone, planID: planID)
        return try await store.addMilestone(milestone, customerID: customerID).proto
    }

    public func updateMilestone(
        request: Customer360_V1_UpdateMilestoneRequest, context: ServerContext
    ) async throws -> Customer360_V1_SuccessMilestone {
        let customerID = try await readableCustomer(request.customerID)
        let planID = try Validate.clientID(request.planID, field: "plan_id")
        let milestoneID = try Validate.clientID(request.milestoneID, field: "milestone_id")
        let title =
            request.hasTitle ? try Validate.text(request.title, field: "title", maxLength: 200, required: true) : nil
        let dueAt = request.hasDueAt ? try SuccessRequests.date(request.dueAt, field: "due_at") : nil
        let completedAt =
            request.hasCompletedAt ? try SuccessRequests.date(request.completedAt, field: "completed_at") : nil
        let goalID = request.hasGoalID ? try Validate.text(request.goalID, field: "goal_id", maxLength: 128) : nil
        let status = request.status == .unspecified ? nil : MilestoneStatus(proto: request.status)
        if request.status != .unspecified, status == nil {
            throw InvalidArgument("status", "is not a milestone status")
        }
        let instant = now()
        return try await store.updateMilestone(id: milestoneID, planID: planID, customerID: customerID) { milestone in
            if let title { milestone.title = title }
            if let dueAt { milestone.dueAt = dueAt }
            if let goalID { milestone.goalID = goalID }
            if let status {
                milestone.status = status
                milestone.completedAt = status == .done ? (completedAt ?? milestone.completedAt ?? instant) : nil
            } else if let completedAt {
                milestone.completedAt = completedAt
            }
        }.proto
    }
}

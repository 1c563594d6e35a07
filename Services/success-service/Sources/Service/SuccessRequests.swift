import C360Contracts
import C360ServerKit
import C360StoreKit
import Foundation
import SwiftProtobuf

/// Validation of success-service requests: protobuf in, validated domain values out, or `InvalidArgument` naming
/// the first wrong field.
enum SuccessRequests {
    /// Goals and milestones a plan may be created with.
    static let maxChildren = 50

    /// A client-chosen id, or a fresh UUIDv7 when empty.
    static func chosenID(_ value: String, field: String) throws(InvalidArgument) -> String {
        value.isEmpty ? EntityID.generate() : try Validate.clientID(value, field: field)
    }

    /// A plan's or goal's date: any valid timestamp after 1970.
    static func date(_ timestamp: Google_Protobuf_Timestamp, field: String) throws(InvalidArgument) -> Date {
        let date = try Validate.timestamp(timestamp, field: field)
        guard timestamp.seconds > 0 else { throw InvalidArgument(field, "must be after 1970-01-01") }
        return date
    }

    static func goal(
        _ message: Customer360_V1_SuccessGoal, planID: String, now: Date, field: String = "goal"
    ) throws(InvalidArgument) -> Goal {
        let id = try chosenID(message.goalID, field: "\(field).goal_id")
        let title = try Validate.text(message.title, field: "\(field).title", maxLength: 200, required: true)
        let metric = try Validate.text(message.metric, field: "\(field).metric", maxLength: 200, required: true)
        let unit = try Validate.text(message.unit, field: "\(field).unit", maxLength: 50)
        guard message.baselineValue.isFinite, message.targetValue.isFinite else {
            throw InvalidArgument("\(field).target_value", "baseline and target must be finite numbers")
        }
        guard message.targetValue != message.baselineValue else {
            throw InvalidArgument("\(field).target_value", "must differ from baseline_value (\(message.baselineValue))")
        }
        guard message.hasDueAt else { throw InvalidArgument("\(field).due_at", "is required") }
        let dueAt = try date(message.dueAt, field: "\(field).due_at")
        return Goal(
            id: id, planID: planID, title: title, metric: metric, unit: unit,
            baselineValue: message.baselineValue, targetValue: message.targetValue, dueAt: dueAt, createdAt: now)
    }

    static func milestone(
        _ message: Customer360_V1_SuccessMilestone, planID: String, field: String = "milestone"
    ) throws(InvalidArgument) -> Milestone {
        let id = try chosenID(message.milestoneID, field: "\(field).milestone_id")
        let title = try Validate.text(message.title, field: "\(field).title", maxLength: 200, required: true)
        let dueAt = message.hasDueAt ? try date(message.dueAt, field: "\(field).due_at") : nil
        var status = MilestoneStatus.pending
        if message.status != .unspecified {
            guard let value = MilestoneStatus(proto: message.status) else {
                throw InvalidArgument("\(field).status", "is not a milestone status")
            }
            status = value
        }
        let goalID = try Validate.text(message.goalID, field: "\(field).goal_id", maxLength: 128)
        return Milestone(
            id: id, planID: planID, title: title, dueAt: dueAt, status: status,
            completedAt: status == .done ? (message.hasCompletedAt ? message.completedAt.date : nil) : nil,
            goalID: goalID)
    }

    static func plan(
        _ request: Customer360_V1_CreateSuccessPlanRequest, customerID: String, now: Date
    ) throws(InvalidArgument) -> SuccessPlan {
        let id = try chosenID(request.planID, field: "plan_id")
        let title = try Validate.text(request.title, field: "title", maxLength: 200, required: true)
        let summary = try Validate.text(request.summary, field: "summary", maxLength: 5000)
        let owner = try Validate.text(request.csmOwnerID, field: "csm_owner_id", maxLength: 128, required: true)
        var status = PlanStatus.active
        if request.status != .unspecified {
            guard let value = PlanStatus(proto: request.status) else {
                throw InvalidArgument("status", "is not a plan status")
            }
            status = value
        }
        let startsAt = request.hasStartsAt ? try date(request.startsAt, field: "starts_at") : now
        let endsAt = request.hasEndsAt ? try date(request.endsAt, field: "ends_at") : nil
        if let endsAt, endsAt <= startsAt { throw InvalidArgument("ends_at", "must be after starts_at") }
        guard request.goals.count <= maxChildren else { throw InvalidArgument("goals", "at most \(maxChildren) goals") }
        guard request.milestones.count <= maxChildren else {
            throw InvalidArgument("milestones", "at most \(maxChildren) milestones")
        }
        var plan = SuccessPlan(
            id: id, customerID: customerID, title: title, summary: summary, csmOwnerID: owner,
            status: status, startsAt: startsAt, endsAt: endsAt, createdAt: now)
        for (index, goal) in request.goals.enumerated() {
            plan.goals.append(try self.goal(goal, planID: id, now: now, field: "goals[\(index)]"))
        }
        for (index, milestone) in request.milestones.enumerated() {
            plan.milestones.append(try self.milestone(milestone, planID: id, field: "milestones[\(index)]"))
        }
        return plan
    }
}

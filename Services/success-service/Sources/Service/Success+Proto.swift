public import C360Contracts
public import Foundation
import SwiftProtobuf

// The public protobuf form of success-service's domain values (what clients and the gateway see).

extension Google_Protobuf_Timestamp {
    init(_ date: Date) { self.init(date: date) }
}

extension Google_Protobuf_Duration {
    init(interval: TimeInterval) {
        let seconds = interval.rounded(.towardZero)
        self.init(seconds: Int64(seconds), nanos: Int32(((interval - seconds) * 1e9).rounded()))
    }
}

extension Goal {
    /// The goal as seen at `now` (its derived status refreshed).
    public func proto(at now: Date) -> Customer360_V1_SuccessGoal {
        .with {
            $0.goalID = id
            $0.planID = planID
            $0.title = title
            $0.metric = metric
            $0.unit = unit
            $0.baselineValue = baselineValue
            $0.targetValue = targetValue
            $0.currentValue = currentValue
            $0.dueAt = .init(dueAt)
            $0.status = GoalTracking.status(of: self, at: now).proto
            $0.createdAt = .init(createdAt)
            if let achievedAt { $0.achievedAt = .init(achievedAt) }
            $0.progress = progress
            if let timeToGoal { $0.timeToGoal = .init(interval: timeToGoal) }
            $0.updatedAt = .init(updatedAt)
        }
    }
}

extension Milestone {
    public var proto: Customer360_V1_SuccessMilestone {
        .with {
            $0.milestoneID = id
            $0.planID = planID
            $0.title = title
            if let dueAt { $0.dueAt = .init(dueAt) }
            $0.status = status.proto
            if let completedAt { $0.completedAt = .init(completedAt) }
            $0.goalID = goalID
        }
    }
}

extension SuccessPlan {
    public func proto(at now: Date) -> Customer360_V1_SuccessPlan {
        .with {
            $0.planID = id
            $0.customerID = customerID
            $0.title = title
            $0.summary = summary
            $0.csmOwnerID = csmOwnerID
            $0.status = status.proto
            $0.startsAt = .init(startsAt)
            if let endsAt { $0.endsAt = .init(endsAt) }
            $0.goals = goals.map { $0.proto(at: now) }
            $0.milestones = milestones.map(\.proto)
            $0.createdAt = .init(createdAt)
            $0.updatedAt = .init(updatedAt)
            if let progress { $0.progress = progress }
        }
    }
}

extension GoalProgressEntry {
    public var proto: Customer360_V1_GoalProgress {
        .with {
            $0.progressID = id
            $0.goalID = goalID
            $0.value = value
            $0.recordedAt = .init(recordedAt)
            $0.note = note
            $0.recordedBy = recordedBy
        }
    }
}

extension HealthScore {
    public var proto: Customer360_V1_HealthScore {
        .with {
            $0.healthScoreID = id
            $0.customerID = customerID
            $0.score = score
            $0.band = band.proto
            $0.components = components.sorted { $0.kind < $1.kind }.map { component in
                .with {
                    $0.kind = component.kind.proto
                    $0.value = component.value
                    $0.weight = component.weight
                    $0.effectiveWeight = component.effectiveWeight
                    $0.inputs = component.inputs
                    $0.explanation = component.explanation
                }
            }
            $0.missingComponents = missing.map { missing in
                .with {
                    $0.kind = missing.kind.proto
                    $0.reason = missing.reason
                }
            }
            $0.computedAt = .init(computedAt)
            if let previousScore { $0.previousScore = previousScore }
            if let change30d { $0.change30D = change30d }
            $0.configVersion = configVersion
            $0.batchID = batchID
        }
    }
}

extension Alert {
    public var proto: Customer360_V1_Alert {
        .with {
            $0.alertID = id
            $0.customerID = customerID
            $0.kind = kind.proto
            $0.state = state.proto
            $0.message = message
            $0.details = details
            $0.raisedAt = .init(raisedAt)
            if let acknowledgedAt { $0.acknowledgedAt = .init(acknowledgedAt) }
            $0.acknowledgedBy = acknowledgedBy
            if let resolvedAt { $0.resolvedAt = .init(resolvedAt) }
            $0.resolvedBy = resolvedBy
            $0.healthScoreID = healthScoreID
            $0.planID = planID
            $0.goalID = goalID
            $0.taskID = taskID
        }
    }
}

extension AlertEvent {
    public var proto: Customer360_V1_AlertEvent {
        .with {
            $0.eventID = id
            $0.eventType =
                switch type {
                case .raised: .raised
                case .acknowledged: .acknowledged
                case .resolved: .resolved
                }
            $0.alert = alert.proto
            $0.occurredAt = .init(occurredAt)
        }
    }
}

extension PlaybookTask {
    public var proto: Customer360_V1_PlaybookTask {
        .with {
            $0.taskID = id
            $0.customerID = customerID
            $0.alertID = alertID
            $0.playbook = playbook
            $0.title = title
            $0.instructions = instructions
            $0.ownerID = ownerID
            $0.dueAt = .init(dueAt)
            $0.status = status.proto
            $0.createdAt = .init(createdAt)
            if let completedAt { $0.completedAt = .init(completedAt) }
            $0.completedBy = completedBy
            $0.outcomeNote = outcomeNote
        }
    }
}

extension HealthBatch {
    public var proto: Customer360_V1_HealthBatch {
        .with {
            $0.batchID = id
            $0.state = state.proto
            $0.processed = Int64(processed)
            $0.scored = Int64(scored)
            $0.partial = Int64(partial)
            $0.failed = Int64(failed)
            $0.alertsRaised = Int64(alertsRaised)
            $0.cursorCustomerID = cursorCustomerID
            $0.startedAt = .init(startedAt)
            $0.updatedAt = .init(updatedAt)
            if let finishedAt { $0.finishedAt = .init(finishedAt) }
            $0.lastError = lastError
            $0.resumes = Int32(resumes)
            if let activeSince { $0.activeSince = .init(activeSince) }
        }
    }
}

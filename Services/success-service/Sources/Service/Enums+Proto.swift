public import C360Contracts

// Enum mappings between success-service's domain and its protobuf contract (same case names on both sides).
// `init?(proto:)` answers nil for UNSPECIFIED and for values this build does not know.

extension PlanStatus {
    public init?(proto: Customer360_V1_SuccessPlanStatus) {
        switch proto {
        case .draft: self = .draft
        case .active: self = .active
        case .completed: self = .completed
        case .cancelled: self = .cancelled
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    public var proto: Customer360_V1_SuccessPlanStatus {
        switch self {
        case .draft: .draft
        case .active: .active
        case .completed: .completed
        case .cancelled: .cancelled
        }
    }
}

extension GoalStatus {
    public init?(proto: Customer360_V1_GoalStatus) {
        switch proto {
        case .notStarted: self = .notStarted
        case .onTrack: self = .onTrack
        case .atRisk: self = .atRisk
        case .achieved: self = .achieved
        case .missed: self = .missed
        case .cancelled: self = .cancelled
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    public var proto: Customer360_V1_GoalStatus {
        switch self {
        case .notStarted: .notStarted
        case .onTrack: .onTrack
        case .atRisk: .atRisk
        case .achieved: .achieved
        case .missed: .missed
        case .cancelled: .cancelled
        }
    }
}

extension MilestoneStatus {
    public init?(proto: Customer360_V1_MilestoneStatus) {
        switch proto {
        case .pending: self = .pending
        case .done: self = .done
        case .missed: self = .missed
        case .cancelled: self = .cancelled
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    public var proto: Customer360_V1_MilestoneStatus {
        switch self {
        case .pending: .pending
        case .done: .done
        case .missed: .missed
        case .cancelled: .cancelled
        }
    }
}

extension HealthBand {
    public init?(proto: Customer360_V1_HealthBand) {
        switch proto {
        case .green: self = .green
        case .yellow: self = .yellow
        case .red: self = .red
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    public var proto: Customer360_V1_HealthBand {
        switch self {
        case .green: .green
        case .yellow: .yellow
        case .red: .red
        }
    }
}

extension HealthComponentKind {
    public var proto: Customer360_V1_HealthComponentKind {
        switch self {
        case .engagement: .engagement
        case .feedback: .feedback
        case .goals: .goals
        case .support: .support
        case .commercial: .commercial
        }
    }
}

extension AlertKind {
    public init?(proto: Customer360_V1_AlertKind) {
        switch proto {
        case .churnRisk: self = .churnRisk
        case .goalOverdue: self = .goalOverdue
        case .scoreDrop: self = .scoreDrop
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    public var proto: Customer360_V1_AlertKind {
        switch self {
        case .churnRisk: .churnRisk
        case .goalOverdue: .goalOverdue
        case .scoreDrop: .scoreDrop
        }
    }
}

extension AlertState {
    public init?(proto: Customer360_V1_AlertState) {
        switch proto {
        case .open: self = .open
        case .acknowledged: self = .acknowledged
        case .resolved: self = .resolved
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    public var proto: Customer360_V1_AlertState {
        switch self {
        case .open: .open
        case .acknowledged: .acknowledged
        case .resolved: .resolved
        }
    }
}

extension TaskStatus {
    public init?(proto: Customer360_V1_PlaybookTaskStatus) {
        switch proto {
        case .open: self = .open
        case .done: self = .done
        case .cancelled: self = .cancelled
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    public var proto: Customer360_V1_PlaybookTaskStatus {
        switch self {
        case .open: .open
        case .done: .done
        case .cancelled: .cancelled
        }
    }
}

extension BatchState {
    public var proto: Customer360_V1_HealthBatchState {
        switch self {
        case .running: .running
        case .interrupted: .interrupted
        case .completed: .completed
        case .failed: .failed
        }
    }
}

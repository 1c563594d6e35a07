import C360Contracts

extension RfmSegment {
    var proto: Customer360_V1_RfmSegment {
        switch self {
        case .champions: .champions
        case .loyal: .loyal
        case .potentialLoyalist: .potentialLoyalist
        case .new: .new
        case .promising: .promising
        case .needsAttention: .needsAttention
        case .aboutToSleep: .aboutToSleep
        case .atRisk: .atRisk
        case .cannotLose: .cannotLose
        case .hibernating: .hibernating
        case .lost: .lost
        case .noPurchases: .noPurchases
        }
    }
}

public import C360Contracts

// Enum mappings between feedback-service's domain and its protobuf contract (same case names on both sides).
// `init?(proto:)` answers nil for UNSPECIFIED and for values this build does not know.

extension SurveyType {
    public init?(proto: Customer360_V1_SurveyType) {
        switch proto {
        case .nps: self = .nps
        case .csat: self = .csat
        case .ces: self = .ces
        case .custom: self = .custom
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    public var proto: Customer360_V1_SurveyType {
        switch self {
        case .nps: .nps
        case .csat: .csat
        case .ces: .ces
        case .custom: .custom
        }
    }
}

extension NpsCategory {
    public var proto: Customer360_V1_NpsCategory {
        switch self {
        case .promoter: .promoter
        case .passive: .passive
        case .detractor: .detractor
        }
    }
}

extension SentimentLabel {
    public init?(proto: Customer360_V1_SentimentLabel) {
        switch proto {
        case .negative: self = .negative
        case .neutral: self = .neutral
        case .positive: self = .positive
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    public var proto: Customer360_V1_SentimentLabel {
        switch self {
        case .negative: .negative
        case .neutral: .neutral
        case .positive: .positive
        }
    }
}

extension ScoreTrend {
    public var proto: Customer360_V1_ScoreTrend {
        switch self {
        case .insufficientData: .insufficientData
        case .improving: .improving
        case .stable: .stable
        case .declining: .declining
        }
    }
}

extension FeatureRequestStatus {
    public init?(proto: Customer360_V1_FeatureRequestStatus) {
        switch proto {
        case .open: self = .open
        case .underReview: self = .underReview
        case .planned: self = .planned
        case .inProgress: self = .inProgress
        case .shipped: self = .shipped
        case .declined: self = .declined
        case .duplicate: self = .duplicate
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    public var proto: Customer360_V1_FeatureRequestStatus {
        switch self {
        case .open: .open
        case .underReview: .underReview
        case .planned: .planned
        case .inProgress: .inProgress
        case .shipped: .shipped
        case .declined: .declined
        case .duplicate: .duplicate
        }
    }
}

extension ChurnReasonCategory {
    public init?(proto: Customer360_V1_ChurnReasonCategory) {
        switch proto {
        case .price: self = .price
        case .competitor: self = .competitor
        case .missingFeature: self = .missingFeature
        case .productQuality: self = .productQuality
        case .supportExperience: self = .supportExperience
        case .poorFit: self = .poorFit
        case .lowUsage: self = .lowUsage
        case .onboarding: self = .onboarding
        case .budget: self = .budget
        case .businessClosed: self = .businessClosed
        case .other: self = .other
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    public var proto: Customer360_V1_ChurnReasonCategory {
        switch self {
        case .price: .price
        case .competitor: .competitor
        case .missingFeature: .missingFeature
        case .productQuality: .productQuality
        case .supportExperience: .supportExperience
        case .poorFit: .poorFit
        case .lowUsage: .lowUsage
        case .onboarding: .onboarding
        case .budget: .budget
        case .businessClosed: .businessClosed
        case .other: .other
        }
    }
}

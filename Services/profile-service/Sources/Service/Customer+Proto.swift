import C360Contracts
import C360ServerKit
import Foundation
import SwiftProtobuf

// The one place where profile-service's domain types and its protobuf messages meet.

extension CustomerProfile {
    var proto: Customer360_V1_Customer {
        .with { message in
            message.customerID = id
            message.identifiers = identifiers.map(\.proto)
            message.givenName = givenName
            message.familyName = familyName
            message.demographics = .with {
                $0.birthYear = Int32(birthYear ?? 0)
                $0.city = city
                $0.countryCode = countryCode
                $0.language = language
                $0.company = company
            }
            message.preferences = .with {
                $0.preferredChannel = preferredChannel?.proto ?? .unspecified
                $0.preferredLanguage = preferredLanguage
                if let quietHours { $0.quietHours = quietHours.proto }
            }
            message.tags = tags
            message.attributes = attributes
            message.traits = traits.map(\.proto)
            message.lifecycleStage = lifecycleStage?.proto ?? .unspecified
            message.loyaltyTier = loyalty.tier.proto
            message.loyaltyPoints = loyalty.balance
            message.createdAt = Google_Protobuf_Timestamp(date: createdAt)
            message.updatedAt = Google_Protobuf_Timestamp(date: updatedAt)
            message.mergedIds = mergedIDs
            message.resolvedFrom = resolvedFrom ?? ""
        }
    }
}

extension Identifier {
    var proto: Customer360_V1_Identifier {
        .with {
            $0.kind = kind.proto
            $0.value = value
        }
    }
}

extension IdentifierKind {
    init?(proto: Customer360_V1_IdentifierKind) {
        switch proto {
        case .email: self = .email
        case .phone: self = .phone
        case .crmID: self = .crmID
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    var proto: Customer360_V1_IdentifierKind {
        switch self {
        case .email: .email
        case .phone: .phone
        case .crmID: .crmID
        }
    }
}

extension LifecycleStage {
    init?(proto: Customer360_V1_LifecycleStage) {
        switch proto {
        case .lead: self = .lead
        case .prospect: self = .prospect
        case .onboarding: self = .onboarding
        case .active: self = .active
        case .atRisk: self = .atRisk
        case .churned: self = .churned
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    var proto: Customer360_V1_LifecycleStage {
        switch self {
        case .lead: .lead
        case .prospect: .prospect
        case .onboarding: .onboarding
        case .active: .active
        case .atRisk: .atRisk
        case .churned: .churned
        }
    }
}

extension LoyaltyTier {
    var proto: Customer360_V1_LoyaltyTier {
        switch self {
        case .bronze: .bronze
        case .silver: .silver
        case .gold: .gold
        case .platinum: .platinum
        }
    }
}

extension QuietHours {
    var proto: Customer360_V1_QuietHours {
        .with {
            $0.startMinute = Int32(startMinute)
            $0.endMinute = Int32(endMinute)
            $0.timeZone = timeZone
        }
    }
}

extension Trait {
    var proto: Customer360_V1_Trait {
        .with {
            $0.key = key
            $0.value = value.proto
            $0.updatedAt = Google_Protobuf_Timestamp(date: updatedAt)
        }
    }
}

extension TraitValue {
    var proto: Customer360_V1_TraitValue {
        .with {
            switch self {
            case .string(let value): $0.stringValue = value
            case .number(let value): $0.numberValue = value
            case .bool(let value): $0.boolValue = value
            }
        }
    }
}

extension ConsentPurpose {
    init?(proto: Customer360_V1_ConsentPurpose) {
        switch proto {
        case .marketing: self = .marketing
        case .analytics: self = .analytics
        case .personalization: self = .personalization
        case .serviceMessages: self = .serviceMessages
        case .thirdPartySharing: self = .thirdPartySharing
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    var proto: Customer360_V1_ConsentPurpose {
        switch self {
        case .marketing: .marketing
        case .analytics: .analytics
        case .personalization: .personalization
        case .serviceMessages: .serviceMessages
        case .thirdPartySharing: .thirdPartySharing
        }
    }
}

extension ConsentStatus {
    init?(proto: Customer360_V1_ConsentStatus) {
        switch proto {
        case .granted: self = .granted
        case .withdrawn: self = .withdrawn
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    var proto: Customer360_V1_ConsentStatus {
        switch self {
        case .granted: .granted
        case .withdrawn: .withdrawn
        }
    }
}

extension ConsentDecision {
    var proto: Customer360_V1_ConsentState {
        .with {
            $0.purpose = purpose.proto
            $0.channel = channel.proto
            $0.status = status.proto
            $0.source = source
            $0.decidedAt = Google_Protobuf_Timestamp(date: decidedAt)
            $0.recordedAt = Google_Protobuf_Timestamp(date: recordedAt)
        }
    }
}

extension LoyaltyAccount {
    /// - Parameter program: Names the currency of the reward balance and the window's spend.
    func proto(customerID: String, program: LoyaltyProgram? = nil) -> Customer360_V1_LoyaltyAccount {
        .with {
            $0.customerID = customerID
            $0.balance = balance
            $0.lifetimeEarned = lifetimeEarned
            $0.tier = tier.proto
            if let program {
                let currency = program.currencyCode
                $0.rewardBalance = .with {
                    $0.amountMinor = rewardBalanceMinor ?? 0
                    $0.currencyCode = currency
                }
                $0.windowNetSpend = .with {
                    $0.amountMinor = windowNetSpendMinor ?? 0
                    $0.currencyCode = currency
                }
            }
            if let expiring {
                $0.expiringPoints = expiring.points
                $0.expiringAt = Google_Protobuf_Timestamp(date: expiring.at)
            }
        }
    }
}

extension LoyaltyProgram {
    var proto: Customer360_V1_LoyaltyProgram {
        .with {
            $0.version = version
            $0.currencyCode = currencyCode
            $0.earnPoints = earnPoints
            $0.earnPerAmountMinor = earnPerAmountMinor
            $0.tierWindowDays = Int32(tierWindowDays)
            $0.tiers = tiers.map { rule in
                .with {
                    $0.tier = rule.tier.proto
                    $0.minNetSpendMinor = rule.minNetSpendMinor
                    $0.cashbackBasisPoints = Int32(rule.cashbackBasisPoints)
                }
            }
            $0.pointsExpireAfterDays = Int32(pointsExpireAfterDays)
        }
    }
}

extension LoyaltyEntry {
    func proto(program: LoyaltyProgram?) -> Customer360_V1_LoyaltyTransaction {
        .with {
            $0.transactionID = transactionID
            $0.pointsDelta = pointsDelta
            $0.reason = reason
            $0.occurredAt = Google_Protobuf_Timestamp(date: occurredAt)
            $0.balanceAfter = balanceAfter
            if let rewardDeltaMinor, let program {
                $0.rewardDelta = .with {
                    $0.amountMinor = rewardDeltaMinor
                    $0.currencyCode = program.currencyCode
                }
            }
        }
    }
}

import C360Contracts
import C360ServerKit
import C360StoreKit
import Foundation
import SwiftProtobuf

extension Google_Protobuf_Timestamp {
    init(unixMillis: Int64) { self.init(date: Date(unixMillis: unixMillis)) }
}

extension MessagePurpose {
    init?(proto: Customer360_V1_MessagePurpose) {
        switch proto {
        case .marketing: self = .marketing
        case .service: self = .service
        default: return nil
        }
    }

    var proto: Customer360_V1_MessagePurpose {
        switch self {
        case .marketing: .marketing
        case .service: .service
        }
    }
}

extension MessageStatus {
    var proto: Customer360_V1_MessageStatus {
        switch self {
        case .queued, .sending: .queued
        case .deferred: .deferred
        case .sent: .sent
        case .suppressed: .suppressed
        case .failed: .failed
        }
    }
}

extension SegmentRecord {
    func proto(size: Int) -> Customer360_V1_Segment {
        .with {
            $0.segmentID = segmentId
            $0.name = name
            $0.description_p = description
            $0.rule = (try? Customer360_V1_SegmentRule(serializedBytes: rule)) ?? .init()
            $0.size = Int64(size)
            $0.createdAt = .init(unixMillis: createdAt)
            $0.updatedAt = .init(unixMillis: updatedAt)
        }
    }
}

extension TemplateRecord {
    var proto: Customer360_V1_MessageTemplate {
        .with {
            $0.templateID = templateId
            $0.name = name
            $0.purpose = purpose.proto
            $0.defaultLanguage = defaultLanguage
            $0.variants = variants.map { variant in
                .with {
                    $0.channel = variant.channel.proto
                    $0.language = variant.language
                    $0.subject = variant.subject
                    $0.body = variant.body
                }
            }
            $0.createdAt = .init(unixMillis: createdAt)
            $0.updatedAt = .init(unixMillis: updatedAt)
        }
    }
}

extension MessageRecord {
    /// The message as clients see it, with `content` opened from its sealed columns (`OutreachStore.content(of:)`).
    func proto(_ content: MessageContent) -> Customer360_V1_OutboundMessage {
        .with {
            $0.messageID = messageId
            $0.customerID = customerId
            $0.templateID = templateId
            $0.campaignID = campaignId
            $0.idempotencyKey = idempotencyKey
            $0.purpose = purpose.proto
            $0.channel = Channel(rawValue: channel)?.proto ?? .unspecified
            $0.status = status.proto
            $0.statusReason = statusReason
            $0.createdAt = .init(unixMillis: createdAt)
            if status.isPending { $0.scheduledFor = .init(unixMillis: scheduledFor) }
            if let sentAt { $0.sentAt = .init(unixMillis: sentAt) }
            $0.attempts = Int32(attempts)
            $0.recipient = content.recipient
            $0.subject = content.subject
            $0.body = content.body
            $0.language = language
        }
    }
}

extension CampaignRecord {
    func proto(_ counts: CampaignCounts) -> Customer360_V1_Campaign {
        .with {
            $0.campaignID = campaignId
            $0.segmentID = segmentId
            $0.templateID = templateId
            $0.status = queueing ? .queueing : completedAt == nil ? .sending : .completed
            $0.total = Int64(counts.total)
            $0.queued = Int64((counts.byStatus[.queued] ?? 0) + (counts.byStatus[.sending] ?? 0))
            $0.deferred = Int64(counts.byStatus[.deferred] ?? 0)
            $0.sent = Int64(counts.byStatus[.sent] ?? 0)
            $0.suppressed = Int64(counts.byStatus[.suppressed] ?? 0)
            $0.failed = Int64(counts.byStatus[.failed] ?? 0)
            $0.startedAt = .init(unixMillis: startedAt)
            if let completedAt { $0.completedAt = .init(unixMillis: completedAt) }
            $0.suppressDiscountDriven = suppressDiscountDriven
        }
    }
}

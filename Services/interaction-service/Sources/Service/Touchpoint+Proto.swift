public import C360Contracts
import C360ServerKit
import Foundation
import SwiftProtobuf

// The one place where interaction-service's domain values become protobuf messages. Public so Swift clients and tools
// (demo data, the benchmark) speak the contract with the same mapping instead of a copy.

extension Touchpoint {
    public var proto: Customer360_V1_Touchpoint {
        .with { message in
            message.eventID = eventID
            message.customerID = customerID
            message.occurredAt = Google_Protobuf_Timestamp(date: occurredAt)
            message.channel = channel.proto
            message.kind = kind.proto
            message.direction = direction.proto
            message.agentID = agentID
            message.ticketID = ticketID
            message.campaignID = campaignID
            if let duration { message.duration = .seconds(duration) }
            if let purchase { message.purchase = purchase.proto }
            message.attributes = attributes
            message.body = body
            if let recordedAt { message.recordedAt = Google_Protobuf_Timestamp(date: recordedAt) }
        }
    }
}

extension Purchase {
    public var proto: Customer360_V1_Purchase {
        .with { message in
            message.orderID = orderID
            message.amount = amount.proto
            message.discountCode = discountCode
            if let discountAmount { message.discountAmount = discountAmount.proto }
            message.items = items.map { item in
                .with {
                    $0.sku = item.sku
                    $0.quantity = Int32(item.quantity)
                    $0.unitPrice = item.unitPrice.proto
                    $0.name = item.name
                }
            }
        }
    }
}

extension Money {
    public var proto: Customer360_V1_Money {
        .with {
            $0.amountMinor = amountMinor
            $0.currencyCode = currency
        }
    }
}

extension Ticket {
    var proto: Customer360_V1_Ticket {
        .with { message in
            message.ticketID = ticketID
            message.customerID = customerID
            message.subject = subject
            message.status = status.proto
            message.priority = priority.proto
            message.channel = channel.proto
            message.openedAt = Google_Protobuf_Timestamp(date: openedAt)
            if let firstResponseAt { message.firstResponseAt = Google_Protobuf_Timestamp(date: firstResponseAt) }
            if let resolvedAt { message.resolvedAt = Google_Protobuf_Timestamp(date: resolvedAt) }
            if let firstResponseTime { message.firstResponseTime = .seconds(firstResponseTime) }
            if let resolutionTime { message.resolutionTime = .seconds(resolutionTime) }
            message.agentReplyCount = Int32(agentReplyCount)
            message.customerReplyCount = Int32(customerReplyCount)
            message.reopenCount = Int32(reopenCount)
            message.assignedAgentID = assignedAgentID
            if let firstContactResolution { message.firstContactResolution = firstContactResolution }
            message.openedEventID = openedEventID
            message.updatedAt = Google_Protobuf_Timestamp(date: updatedAt)
        }
    }
}

extension Google_Protobuf_Duration {
    /// A duration from seconds, to millisecond precision.
    static func seconds(_ value: TimeInterval) -> Self {
        Google_Protobuf_Duration(rounding: value, rule: .toNearestOrAwayFromZero)
    }
}

extension Google_Protobuf_Timestamp {
    init(_ date: Date?) {
        self = date.map { Google_Protobuf_Timestamp(date: $0) } ?? Google_Protobuf_Timestamp()
    }
}

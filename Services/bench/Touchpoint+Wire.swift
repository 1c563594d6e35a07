import C360Contracts
import C360ServerKit
import Foundation
import InteractionService
import SwiftProtobuf

// The benchmark's own domain → protobuf conversion: interaction-service's converters are internal to its module, and
// an executable cannot `@testable import` it. This is what a client of the service would write.

extension Touchpoint {
    /// The `RecordTouchpoints` stream message a client sends for this touchpoint: the customer id at the top level
    /// (where a router would look), the touchpoint's own customer id left empty as the contract allows.
    var streamMessage: Customer360_V1_RecordTouchpointsRequest {
        .with {
            $0.customerID = customerID
            $0.touchpoint = wireMessage
        }
    }

    /// The touchpoint as a protobuf message, without `customer_id` and `recorded_at` (the service sets those).
    var wireMessage: Customer360_V1_Touchpoint {
        .with { message in
            message.eventID = eventID
            message.occurredAt = Google_Protobuf_Timestamp(unixMillis: occurredAt.benchUnixMillis)
            message.channel = channel.proto
            message.kind = kind.wireValue
            message.direction = direction.wireValue
            message.agentID = agentID
            message.ticketID = ticketID
            message.campaignID = campaignID
            if let duration {
                let millis = Int64((duration * 1000).rounded())
                message.duration = Google_Protobuf_Duration(
                    seconds: millis / 1000, nanos: Int32(millis % 1000) * 1_000_000)
            }
            if let purchase { message.purchase = purchase.wireMessage }
            message.attributes = attributes
            message.body = body
        }
    }
}

extension Purchase {
    /// The purchase as a protobuf message.
    var wireMessage: Customer360_V1_Purchase {
        .with { message in
            message.orderID = orderID
            message.amount = amount.wireMessage
            message.discountCode = discountCode
            if let discountAmount { message.discountAmount = discountAmount.wireMessage }
            message.items = items.map { item in
                Customer360_V1_PurchaseItem.with {
                    $0.sku = item.sku
                    $0.quantity = Int32(item.quantity)
                    $0.unitPrice = item.unitPrice.wireMessage
                    $0.name = item.name
                }
            }
        }
    }
}

extension Money {
    /// The amount as a protobuf message.
    var wireMessage: Customer360_V1_Money {
        .with {
            $0.amountMinor = amountMinor
            $0.currencyCode = currency
        }
    }
}

extension TouchpointKind {
    /// The protobuf enum value of the same name.
    var wireValue: Customer360_V1_TouchpointKind {
        switch self {
        case .pageView: .pageView
        case .message: .message
        case .call: .call
        case .purchase: .purchase
        case .refund: .refund
        case .login: .login
        case .featureUse: .featureUse
        case .campaignSent: .campaignSent
        case .campaignOpen: .campaignOpen
        case .campaignClick: .campaignClick
        case .ticketOpened: .ticketOpened
        case .ticketReply: .ticketReply
        case .ticketResolved: .ticketResolved
        case .ticketReopened: .ticketReopened
        case .selfService: .selfService
        case .signup: .signup
        case .cartAdd: .cartAdd
        case .visit: .visit
        case .surveySent: .surveySent
        case .other: .other
        }
    }
}

extension TouchpointDirection {
    /// The protobuf enum value of the same name.
    var wireValue: Customer360_V1_TouchpointDirection {
        switch self {
        case .inbound: .inbound
        case .outbound: .outbound
        }
    }
}

extension Google_Protobuf_Timestamp {
    /// An exact timestamp from Unix milliseconds (no floating-point round trip).
    init(unixMillis: Int64) {
        let seconds = unixMillis >= 0 ? unixMillis / 1000 : (unixMillis - 999) / 1000
        self.init(seconds: seconds, nanos: Int32(unixMillis - seconds * 1000) * 1_000_000)
    }
}

extension Date {
    /// Unix milliseconds, rounded as the store rounds them.
    var benchUnixMillis: Int64 {
        Int64((timeIntervalSince1970 * 1000).rounded())
    }
}

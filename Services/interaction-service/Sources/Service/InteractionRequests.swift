import C360Contracts
import C360ServerKit
import Foundation
import SwiftProtobuf

/// Validation of interaction-service requests: protobuf in, validated domain values out, or `InvalidArgument`
/// naming the first wrong field. Customer ids are checked for shape here and resolved against profile-service
/// by the handlers.
enum InteractionRequests {
    /// The longest a touchpoint (a call, a session) may last: a year, far past any real one.
    static let maximumDurationSeconds: Int64 = 366 * 86_400
    /// The largest amount one purchase, refund or line may carry, in minor units (10^15: ten trillion of a
    /// two-decimal currency). Sums over a customer's orders are kept in 64-bit integers, so an unbounded amount would
    /// overflow them.
    static let maximumAmountMinor: Int64 = 1_000_000_000_000_000

    /// A touchpoint as sent, for `customerID` (already shape-checked). `field` prefixes field names.
    static func touchpoint(
        _ message: Customer360_V1_Touchpoint, customerID: String, now: Date, field: String = "touchpoint"
    ) throws(InvalidArgument) -> Touchpoint {
        let eventID = try Validate.clientID(message.eventID, field: "\(field).event_id")
        guard message.customerID.isEmpty || message.customerID == customerID else {
            throw InvalidArgument("\(field).customer_id", "must be empty or equal to the request's customer_id")
        }
        guard message.hasOccurredAt else { throw InvalidArgument("\(field).occurred_at", "is required") }
        let occurredAt = try Validate.instant(message.occurredAt, field: "\(field).occurred_at", now: now)
        guard let channel = Channel(proto: message.channel) else {
            throw InvalidArgument(
                "\(field).channel", "is required (WEB, APP, EMAIL, SMS, PUSH, CHAT, PHONE, SOCIAL or IN_STORE)")
        }
        guard let kind = TouchpointKind(proto: message.kind) else {
            throw InvalidArgument("\(field).kind", "is required")
        }
        guard let direction = TouchpointDirection(proto: message.direction) else {
            throw InvalidArgument("\(field).direction", "is required (INBOUND or OUTBOUND)")
        }
        var touchpoint = Touchpoint(
            eventID: eventID, customerID: customerID, occurredAt: occurredAt, channel: channel,
            kind: kind, direction: direction)
        touchpoint.agentID = try Validate.text(message.agentID, field: "\(field).agent_id", maxLength: 128)
        touchpoint.ticketID = try Validate.text(message.ticketID, field: "\(field).ticket_id", maxLength: 128)
        touchpoint.campaignID = try Validate.text(message.campaignID, field: "\(field).campaign_id", maxLength: 128)
        touchpoint.body = try Validate.text(message.body, field: "\(field).body", maxLength: 10_000)
        if kind.isTicketEvent, touchpoint.ticketID.isEmpty {
            throw InvalidArgument("\(field).ticket_id", "is required for \(kind.rawValue) events")
        }
        if kind == .ticketReply, direction == .outbound, touchpoint.agentID.isEmpty {
            throw InvalidArgument("\(field).agent_id", "is required for an agent's reply")
        }
        if message.hasDuration {
            touchpoint.duration = try Validate.duration(
                message.duration, field: "\(field).duration",
                maximum: maximumDurationSeconds)
        }
        if kind.isCommerce {
            guard message.hasPurchase else {
                throw InvalidArgument("\(field).purchase", "is required for \(kind.rawValue) events")
            }
            touchpoint.purchase = try purchase(message.purchase, field: "\(field).purchase")
        } else if message.hasPurchase {
            throw InvalidArgument("\(field).purchase", "is only allowed on purchase and refund events")
        }
        touchpoint.attributes = try attributes(message.attributes, field: "\(field).attributes")
        return touchpoint
    }

    static func channel(_ value: Customer360_V1_Channel, field: String = "channel") throws(InvalidArgument) -> Channel {
        guard let channel = Channel(proto: value) else { throw InvalidArgument(field, "is not a known channel") }
        return channel
    }

    static func money(_ message: Customer360_V1_Money, field: String) throws(InvalidArgument) -> Money {
        guard message.amountMinor >= 0 else { throw InvalidArgument("\(field).amount_minor", "must not be negative") }
        guard message.amountMinor <= maximumAmountMinor else {
            throw InvalidArgument(
                "\(field).amount_minor", "is \(message.amountMinor); the maximum is \(maximumAmountMinor)")
        }
        let code = message.currencyCode
        guard code.utf8.count == 3, code.unicodeScalars.allSatisfy({ ("A"..."Z").contains($0) }) else {
            throw InvalidArgument(
                "\(field).currency_code",
                "'\(code.prefix(8))' is not an ISO-4217 code (three capital letters, e.g. USD, IRR)")
        }
        return Money(message.amountMinor, code)
    }

    static func purchase(_ message: Customer360_V1_Purchase, field: String) throws(InvalidArgument) -> Purchase {
        let orderID = try Validate.text(message.orderID, field: "\(field).order_id", maxLength: 128, required: true)
        guard message.hasAmount else { throw InvalidArgument("\(field).amount", "is required") }
        let amount = try money(message.amount, field: "\(field).amount")
        var purchase = Purchase(
            orderID: orderID, amount: amount,
            discountCode: try Validate.text(message.discountCode, field: "\(field).discount_code", maxLength: 64))
        if message.hasDiscountAmount {
            let discount = try money(message.discountAmount, field: "\(field).discount_amount")
            guard discount.currency == amount.currency else {
                throw InvalidArgument(
                    "\(field).discount_amount.currency_code", "must be \(amount.currency), the purchase's currency")
            }
            purchase.discountAmount = discount
        }
        guard message.items.count <= 500 else { throw InvalidArgument("\(field).items", "at most 500 items") }
        for (index, item) in message.items.enumerated() {
            let itemField = "\(field).items[\(index)]"
            let sku = try Validate.text(item.sku, field: "\(itemField).sku", maxLength: 128, required: true)
            guard item.quantity >= 1 else { throw InvalidArgument("\(itemField).quantity", "must be at least 1") }
            guard item.hasUnitPrice else { throw InvalidArgument("\(itemField).unit_price", "is required") }
            let price = try money(item.unitPrice, field: "\(itemField).unit_price")
            guard price.currency == amount.currency else {
                throw InvalidArgument(
                    "\(itemField).unit_price.currency_code", "must be \(amount.currency), the purchase's currency")
            }
            purchase.items.append(
                PurchaseItem(
                    sku: sku, quantity: Int(item.quantity), unitPrice: price,
                    name: try Validate.text(item.name, field: "\(itemField).name", maxLength: 200)))
        }
        return purchase
    }

    static func attributes(_ map: [String: String], field: String) throws(InvalidArgument) -> [String: String] {
        guard map.count <= 50 else { throw InvalidArgument(field, "has \(map.count) entries; the maximum is 50") }
        var result: [String: String] = [:]
        for key in map.keys.sorted() {
            guard (1...64).contains(key.count), !key.contains(where: { $0.isWhitespace || $0.isNewline }) else {
                throw InvalidArgument("\(field)[\(key.prefix(64))]", "keys must be 1 to 64 characters without spaces")
            }
            result[key] = try Validate.text(map[key] ?? "", field: "\(field)[\(key)]", maxLength: 1024)
        }
        return result
    }

    static func filter(
        range: Customer360_V1_TimeRange?, channels: [Customer360_V1_Channel], kinds: [Customer360_V1_TouchpointKind],
        ticketID: String
    ) throws(InvalidArgument) -> TimelineFilter {
        var filter = TimelineFilter()
        (filter.from, filter.until) = try Validate.window(range, field: "time_range")
        for (index, channel) in channels.enumerated() {
            guard let value = Channel(proto: channel) else {
                throw InvalidArgument("channels[\(index)]", "is not a channel")
            }
            filter.channels.insert(value)
        }
        for (index, kind) in kinds.enumerated() {
            guard let value = TouchpointKind(proto: kind) else {
                throw InvalidArgument("kinds[\(index)]", "is not a touchpoint kind")
            }
            filter.kinds.insert(value)
        }
        filter.ticketID = try Validate.text(ticketID, field: "ticket_id", maxLength: 128)
        return filter
    }
}

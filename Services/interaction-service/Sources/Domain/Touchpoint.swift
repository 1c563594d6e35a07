public import C360ServerKit
public import Foundation

/// What kind of thing happened at a touchpoint; stored by name.
public enum TouchpointKind: String, Codable, Sendable, CaseIterable {
    case pageView = "page_view"
    case message, call, purchase, refund, login
    case featureUse = "feature_use"
    case campaignSent = "campaign_sent"
    case campaignOpen = "campaign_open"
    case campaignClick = "campaign_click"
    case ticketOpened = "ticket_opened"
    case ticketReply = "ticket_reply"
    case ticketResolved = "ticket_resolved"
    case ticketReopened = "ticket_reopened"
    case selfService = "self_service"
    case signup
    case cartAdd = "cart_add"
    case visit
    case surveySent = "survey_sent"
    case other

    /// Kinds that belong to a support ticket's thread and must name it.
    public var isTicketEvent: Bool {
        [.ticketOpened, .ticketReply, .ticketResolved, .ticketReopened].contains(self)
    }

    /// Kinds that carry purchase details.
    public var isCommerce: Bool { self == .purchase || self == .refund }
}

/// Who started a touchpoint.
public enum TouchpointDirection: String, Codable, Sendable {
    /// From the customer to us.
    case inbound
    /// From us (an agent, a campaign, the system) to the customer.
    case outbound
}

/// An amount in a currency's minor units with its ISO-4217 code.
public struct Money: Hashable, Codable, Sendable {
    public var amountMinor: Int64
    public var currency: String

    public init(_ amountMinor: Int64, _ currency: String) {
        self.amountMinor = amountMinor
        self.currency = currency
    }
}

/// One line of an order.
public struct PurchaseItem: Hashable, Codable, Sendable {
    public var sku: String
    public var quantity: Int
    public var unitPrice: Money
    public var name: String

    public init(sku: String, quantity: Int, unitPrice: Money, name: String = "") {
        self.sku = sku
        self.quantity = quantity
        self.unitPrice = unitPrice
        self.name = name
    }
}

/// The money side of a purchase or refund.
public struct Purchase: Hashable, Codable, Sendable {
    public var orderID: String
    /// For a purchase the amount charged after discounts; for a refund the amount given back (positive).
    public var amount: Money
    /// Empty when no code was used; a purchase with a code counts as discounted.
    public var discountCode: String
    public var discountAmount: Money?
    public var items: [PurchaseItem]

    public init(
        orderID: String, amount: Money, discountCode: String = "", discountAmount: Money? = nil,
        items: [PurchaseItem] = []
    ) {
        self.orderID = orderID
        self.amount = amount
        self.discountCode = discountCode
        self.discountAmount = discountAmount
        self.items = items
    }
}

/// One thing that happened between a customer and us, validated and normalised.
public struct Touchpoint: Hashable, Sendable {
    /// Client-chosen and unique across the system: the idempotency key.
    public var eventID: String
    /// The customer it is stored under (the survivor when the sender named a merged-away id).
    public var customerID: String
    public var occurredAt: Date
    public var channel: Channel
    public var kind: TouchpointKind
    public var direction: TouchpointDirection
    public var agentID: String
    public var ticketID: String
    public var campaignID: String
    /// Seconds; nil when not meaningful.
    public var duration: TimeInterval?
    /// Set exactly for purchases and refunds.
    public var purchase: Purchase?
    public var attributes: [String: String]
    public var body: String
    /// When the service stored it; nil before it is stored.
    public var recordedAt: Date?

    public init(
        eventID: String, customerID: String, occurredAt: Date, channel: Channel, kind: TouchpointKind,
        direction: TouchpointDirection, agentID: String = "", ticketID: String = "", campaignID: String = "",
        duration: TimeInterval? = nil, purchase: Purchase? = nil, attributes: [String: String] = [:],
        body: String = "", recordedAt: Date? = nil
    ) {
        self.eventID = eventID
        self.customerID = customerID
        self.occurredAt = occurredAt
        self.channel = channel
        self.kind = kind
        self.direction = direction
        self.agentID = agentID
        self.ticketID = ticketID
        self.campaignID = campaignID
        self.duration = duration
        self.purchase = purchase
        self.attributes = attributes
        self.body = body
        self.recordedAt = recordedAt
    }
}

extension Touchpoint {
    /// The client-sent fields a retried event must repeat (`event_id` is the idempotency key), in contract order and
    /// as stored: instants and durations at the millisecond, text trimmed, the customer as resolved.
    public static let idempotencyFields = IdempotencyFields<Touchpoint>()
        .comparing("customer_id") { $0.customerID }
        .comparing("occurred_at") { $0.occurredAt.unixMillis }
        .comparing("channel") { $0.channel }
        .comparing("kind") { $0.kind }
        .comparing("direction") { $0.direction }
        .comparing("agent_id") { $0.agentID }
        .comparing("ticket_id") { $0.ticketID }
        .comparing("campaign_id") { $0.campaignID }
        .comparing("duration") { $0.duration.map { ($0 * 1000).rounded() } }
        .comparing("purchase") { $0.purchase }
        .comparing("attributes") { $0.attributes }
        .comparing("body") { $0.body }
}

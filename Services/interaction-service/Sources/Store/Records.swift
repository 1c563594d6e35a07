import C360ServerKit
import C360StoreKit
import Foundation
public import GRDB

// interaction-service's tables as GRDB records, one type per table, with the row shapes of its aggregate and
// projection queries, and their conversions to and from the domain types: the one place where columns meet
// `Touchpoint`, `Ticket` and the statistics inputs.
//
// Instants are Unix-millisecond `Int64` columns (`UnixMillis.swift`): records keep the column type and the domain
// conversions turn them into `Date`s. What a customer or an agent writes — a touchpoint's body and attributes (a
// ticket's subject arrives there), a ticket's subject — is stored sealed under the customer's data key (`Keyring`),
// so the database and its backups hold ciphertext that erasing the customer makes unreadable; records hold it as
// `SealedText` and the conversions open it with the store's keyring. Purchases (products and amounts) stay in the
// clear: the statistics and the item-to-item counts read them in SQL.
//
// Enum columns decode into the domain enums, so a value this version does not know fails the read with GRDB's
// `RowDecodingError`, which names the column, the row and the query. `Channel` (C360ServerKit) decodes through its
// `Codable` conformance, as in profile-service's records, so an unknown channel fails with a `DecodingError` that
// names the column and the value but not the row: a `DatabaseValueConvertible` conformance belongs beside the type
// in Shared/, not in each service (two services linked into one binary would declare it twice).
//
// Writes on the ingest path stay hand-written SQL through cached statements (`Touchpoint.insertArguments`,
// `Ticket.arguments`, `InteractionStore.updateSummary`): a record's persistence methods build their statement on
// every call, which a million-event ingest measurably pays for (see `ChangeLog.append`).

/// A row of `touchpoint`: one stored event.
struct TouchpointRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "touchpoint"

    /// The insertion sequence (the rowid): timeline positions break ties of `occurredAt` with it. Every stored row
    /// has one; nil only for a record not yet inserted.
    var seq: Int64?
    var eventId: String
    var customerId: String
    var occurredAt: Int64
    var recordedAt: Int64
    var channel: Channel
    var kind: TouchpointKind
    var direction: TouchpointDirection
    var agentId: String
    var ticketId: String
    var campaignId: String
    var durationMs: Int64?
    /// `Purchase` as JSON (`JSONColumn`), in the clear.
    var purchase: String?
    /// The attributes as a JSON object, sealed; nil when there are none.
    var attributes: SealedText?
    var body: SealedText

    /// The table's columns in their order, which `init(row:)` reads by position; a test holds it to the schema.
    static let tableColumns = [
        "seq", "eventId", "customerId", "occurredAt", "recordedAt", "channel", "kind", "direction", "agentId",
        "ticketId", "campaignId", "durationMs", "purchase", "attributes", "body",
    ]

    /// Reads a `SELECT *` row (every read of this record is one) by position, not through `Decodable`, whose keyed
    /// containers look each column up by name: that was a third of GetCustomerStats' read of its recent touchpoints
    /// in a perf profile. A value this version does not know still fails the read, naming the column.
    init(row: Row) throws {
        seq = try row.decode(atIndex: 0)
        eventId = try row.decode(atIndex: 1)
        customerId = try row.decode(atIndex: 2)
        occurredAt = try row.decode(atIndex: 3)
        recordedAt = try row.decode(atIndex: 4)
        channel = try row.channel(atIndex: 5)
        kind = try row.decode(atIndex: 6)
        direction = try row.decode(atIndex: 7)
        agentId = try row.decode(atIndex: 8)
        ticketId = try row.decode(atIndex: 9)
        campaignId = try row.decode(atIndex: 10)
        durationMs = try row.decode(atIndex: 11)
        purchase = try row.decode(atIndex: 12)
        attributes = try row.decode(atIndex: 13)
        body = try row.decode(atIndex: 14)
    }

    enum Columns {
        static let seq = Column(CodingKeys.seq)
        static let eventId = Column(CodingKeys.eventId)
        static let customerId = Column(CodingKeys.customerId)
        static let occurredAt = Column(CodingKeys.occurredAt)
        static let channel = Column(CodingKeys.channel)
        static let kind = Column(CodingKeys.kind)
        static let ticketId = Column(CodingKeys.ticketId)
    }

    /// The timeline's order, newest first; the insertion sequence breaks ties of instants.
    static let timelineOrder = KeysetOrder.descending(Columns.occurredAt, tie: Columns.seq)

    /// The touchpoint, its body and attributes opened with `keyring`.
    func domain(keyring: Keyring) throws -> Touchpoint {
        Touchpoint(
            eventID: eventId, customerID: customerId, occurredAt: Date(unixMillis: occurredAt), channel: channel,
            kind: kind, direction: direction, agentID: agentId, ticketID: ticketId, campaignID: campaignId,
            duration: durationMs.map { Double($0) / 1000 },
            purchase: try purchase.map { try JSONColumn.decode(Purchase.self, $0) },
            attributes: try attributes.map { try JSONColumn.decode([String: String].self, keyring.open($0)) } ?? [:],
            body: try keyring.open(body), recordedAt: Date(unixMillis: recordedAt))
    }

    /// Where this row stands in a timeline.
    var timelinePosition: TimelinePosition {
        TimelinePosition(key: occurredAt, tie: seq ?? 0)
    }
}

extension Touchpoint {
    /// The columns the ingest's cached INSERT writes (all but `seq`).
    static let columns = """
        eventId, customerId, occurredAt, recordedAt, channel, kind, direction, agentId, ticketId, campaignId, \
        durationMs, purchase, attributes, body
        """

    /// Arguments in `columns` order.
    func insertArguments(recordedAt: Date, keyring: Keyring) throws -> StatementArguments {
        [
            eventID, customerID, occurredAt.unixMillis, recordedAt.unixMillis, channel.rawValue, kind.rawValue,
            direction.rawValue, agentID, ticketID, campaignID, duration.map { Int64(($0 * 1000).rounded()) },
            try purchase.map(JSONColumn.encode),
            attributes.isEmpty ? nil : try keyring.seal(JSONColumn.encode(attributes), for: customerID),
            try keyring.seal(body, for: customerID),
        ]
    }
}

/// A row of `ticket`: a support ticket with the timings and counters its thread has produced so far.
struct TicketRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "ticket"

    var ticketId: String
    var customerId: String
    var subject: SealedText
    var status: TicketStatus
    var priority: TicketPriority
    var channel: Channel
    var openedAt: Int64
    var firstResponseAt: Int64?
    var resolvedAt: Int64?
    var agentReplyCount: Int
    var customerReplyCount: Int
    var reopenCount: Int
    var assignedAgentId: String
    var openedEventId: String
    var updatedAt: Int64

    /// The table's columns in their order, which `init(row:)` reads by position; a test holds it to the schema.
    static let tableColumns = [
        "ticketId", "customerId", "subject", "status", "priority", "channel", "openedAt", "firstResponseAt",
        "resolvedAt", "agentReplyCount", "customerReplyCount", "reopenCount", "assignedAgentId", "openedEventId",
        "updatedAt",
    ]

    /// Reads a `SELECT *` row (every read of this record is one) by position, as `TouchpointRecord` does: every
    /// GetCustomerStats reads the customer's tickets twice (support statistics and open tickets).
    init(row: Row) throws {
        ticketId = try row.decode(atIndex: 0)
        customerId = try row.decode(atIndex: 1)
        subject = try row.decode(atIndex: 2)
        status = try row.decode(atIndex: 3)
        priority = try row.decode(atIndex: 4)
        channel = try row.channel(atIndex: 5)
        openedAt = try row.decode(atIndex: 6)
        firstResponseAt = try row.decode(atIndex: 7)
        resolvedAt = try row.decode(atIndex: 8)
        agentReplyCount = try row.decode(atIndex: 9)
        customerReplyCount = try row.decode(atIndex: 10)
        reopenCount = try row.decode(atIndex: 11)
        assignedAgentId = try row.decode(atIndex: 12)
        openedEventId = try row.decode(atIndex: 13)
        updatedAt = try row.decode(atIndex: 14)
    }

    enum Columns {
        static let ticketId = Column(CodingKeys.ticketId)
        static let customerId = Column(CodingKeys.customerId)
        static let status = Column(CodingKeys.status)
        static let openedAt = Column(CodingKeys.openedAt)
    }

    /// The ticket, its subject opened with `keyring`.
    func domain(keyring: Keyring) throws -> Ticket {
        var ticket = statisticsDomain
        ticket.subject = try keyring.open(subject)
        return ticket
    }

    /// The ticket without its subject, for statistics over many customers' tickets: they never read the subject,
    /// and opening it would cost a key per customer.
    var statisticsDomain: Ticket {
        Ticket(
            ticketID: ticketId, customerID: customerId, subject: "", status: status, priority: priority,
            channel: channel, openedAt: Date(unixMillis: openedAt),
            firstResponseAt: firstResponseAt.map(Date.init(unixMillis:)),
            resolvedAt: resolvedAt.map(Date.init(unixMillis:)), agentReplyCount: agentReplyCount,
            customerReplyCount: customerReplyCount, reopenCount: reopenCount, assignedAgentID: assignedAgentId,
            openedEventID: openedEventId, updatedAt: Date(unixMillis: updatedAt))
    }
}

extension Ticket {
    /// The columns the ingest's cached INSERT OR REPLACE writes.
    static let columns = """
        ticketId, customerId, subject, status, priority, channel, openedAt, firstResponseAt, resolvedAt, \
        agentReplyCount, customerReplyCount, reopenCount, assignedAgentId, openedEventId, updatedAt
        """

    /// Arguments in `columns` order.
    func arguments(keyring: Keyring) throws -> StatementArguments {
        [
            ticketID, customerID, try keyring.seal(subject, for: customerID), status.rawValue, priority.rawValue,
            channel.rawValue, openedAt.unixMillis, firstResponseAt?.unixMillis, resolvedAt?.unixMillis, agentReplyCount,
            customerReplyCount, reopenCount, assignedAgentID, openedEventID, updatedAt.unixMillis,
        ]
    }
}

/// A row of `customer_summary`: one customer's lifetime counters, kept up to date on ingest
/// (`InteractionStore.updateSummary`) so statistics never scan a customer's whole history.
struct CustomerSummaryRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "customer_summary"

    var customerId: String
    var touchpoints: Int64
    var firstSeenAt: Int64
    var lastSeenAt: Int64
    var lastInboundAt: Int64?
    var orders: Int64
    var refunds: Int64
    var grossMinor: Int64
    var refundedMinor: Int64
    var discountedOrders: Int64
    var firstPurchaseAt: Int64?
    var lastPurchaseAt: Int64?
    var otherCurrencyOrders: Int64
    var openTickets: Int64

    /// The table's columns in their order, which `init(row:)` reads by position; a test holds it to the schema.
    static let tableColumns = [
        "customerId", "touchpoints", "firstSeenAt", "lastSeenAt", "lastInboundAt", "orders", "refunds", "grossMinor",
        "refundedMinor", "discountedOrders", "firstPurchaseAt", "lastPurchaseAt", "otherCurrencyOrders", "openTickets",
    ]

    /// Reads a `SELECT *` row (every read of this record is one) by position, as `TouchpointRecord` does: one per
    /// GetCustomerStats, and one per buyer when the RFM segments and the dashboard read every buyer's counters.
    init(row: Row) throws {
        customerId = try row.decode(atIndex: 0)
        touchpoints = try row.decode(atIndex: 1)
        firstSeenAt = try row.decode(atIndex: 2)
        lastSeenAt = try row.decode(atIndex: 3)
        lastInboundAt = try row.decode(atIndex: 4)
        orders = try row.decode(atIndex: 5)
        refunds = try row.decode(atIndex: 6)
        grossMinor = try row.decode(atIndex: 7)
        refundedMinor = try row.decode(atIndex: 8)
        discountedOrders = try row.decode(atIndex: 9)
        firstPurchaseAt = try row.decode(atIndex: 10)
        lastPurchaseAt = try row.decode(atIndex: 11)
        otherCurrencyOrders = try row.decode(atIndex: 12)
        openTickets = try row.decode(atIndex: 13)
    }

    enum Columns {
        static let customerId = Column(CodingKeys.customerId)
        static let lastSeenAt = Column(CodingKeys.lastSeenAt)
        static let orders = Column(CodingKeys.orders)
    }

    var activityTotals: ActivityTotals {
        ActivityTotals(
            touchpoints: touchpoints, firstSeenAt: Date(unixMillis: firstSeenAt),
            lastSeenAt: Date(unixMillis: lastSeenAt), lastInboundAt: lastInboundAt.map(Date.init(unixMillis:)))
    }

    var commerceTotals: CommerceTotals {
        CommerceTotals(
            orders: orders, refunds: refunds, grossMinor: grossMinor, refundedMinor: refundedMinor,
            discountedOrders: discountedOrders, firstPurchaseAt: firstPurchaseAt.map(Date.init(unixMillis:)),
            lastPurchaseAt: lastPurchaseAt.map(Date.init(unixMillis:)), otherCurrencyOrders: otherCurrencyOrders)
    }

    var customerActivity: CustomerActivity {
        CustomerActivity(customerID: customerId, totals: activityTotals, orders: orders, openTickets: openTickets)
    }
}

// MARK: - Row shapes of projections

/// The engagement view of a touchpoint: `SELECT occurredAt, channel, direction FROM touchpoint`.
struct ActivityEventRow: Decodable, FetchableRecord {
    var occurredAt: Int64
    // Raw names, not the enums: the engagement and best-contact statistics leave out an event whose channel or
    // direction this version does not know instead of failing, as they always have.
    var channel: String
    var direction: String

    /// By position, as its one query selects them: every GetCustomerStats reads all of its customer's events.
    init(row: Row) throws {
        occurredAt = try row.decode(atIndex: 0)
        channel = try row.decode(atIndex: 1)
        direction = try row.decode(atIndex: 2)
    }

    var activityEvent: ActivityEvent? {
        guard let channel = Channel(rawValue: channel), let direction = TouchpointDirection(rawValue: direction)
        else { return nil }
        return ActivityEvent(occurredAt: Date(unixMillis: occurredAt), channel: channel, direction: direction)
    }
}

/// Recency, frequency and monetary inputs of one buyer: `SELECT lastPurchaseAt, orders, … AS netMinor`.
struct RfmInputRow: Decodable, FetchableRecord {
    var lastPurchaseAt: Int64
    var orders: Int64
    var netMinor: Int64

    var rfmInput: RfmInput {
        RfmInput(lastPurchaseAt: Date(unixMillis: lastPurchaseAt), orders: orders, netMinor: netMinor)
    }
}

/// A self-service touchpoint: `SELECT customerId, occurredAt FROM touchpoint`.
struct SelfServiceRow: Decodable, FetchableRecord {
    var customerId: String
    var occurredAt: Int64

    var session: SelfServiceSession { SelfServiceSession(customerID: customerId, at: Date(unixMillis: occurredAt)) }
}

/// A ticket's opening: `SELECT customerId, openedAt FROM ticket`.
struct TicketOpeningRow: Decodable, FetchableRecord {
    var customerId: String
    var openedAt: Int64

    var opening: (customerID: String, at: Date) { (customerId, Date(unixMillis: openedAt)) }
}

extension Row {
    /// A `Channel` column read by position (`Channel` decodes through `Codable`, see the top of this file).
    func channel(atIndex index: Int) throws -> Channel {
        let name: String = try decode(atIndex: index)
        guard let channel = Channel(rawValue: name) else {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: [], debugDescription: "column \(index): '\(name)' is not a channel this version knows"))
        }
        return channel
    }
}

// The module's own enums are stored by their raw (snake_case) names.
extension TouchpointKind: DatabaseValueConvertible {}
extension TouchpointDirection: DatabaseValueConvertible {}
extension TicketStatus: DatabaseValueConvertible {}
extension TicketPriority: DatabaseValueConvertible {}

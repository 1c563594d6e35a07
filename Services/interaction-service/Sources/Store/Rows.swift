import C360StoreKit
import C360ServerKit
import Foundation
import GRDB

// Conversions between domain values and database rows, kept in one place. Raw SQL with cached statements is used
// on the ingest path, where a record type's per-row overhead shows at a million events.
//
// What a customer or an agent writes — a touchpoint's body and attributes (a ticket's subject arrives there), a
// ticket's subject — is stored sealed under the customer's data key (`Keyring`), so the database and its backups hold
// ciphertext that erasing the customer makes unreadable. Purchases (products and amounts) stay in the clear: the
// statistics and the item-to-item counts read them in SQL.

extension Touchpoint {
    static let columns = """
        eventId, customerId, occurredAt, recordedAt, channel, kind, direction, agentId, ticketId, campaignId, \
        durationMs, purchase, attributes, body
        """

    /// Arguments in `columns` order.
    func insertArguments(recordedAt: Date, keyring: Keyring) throws -> StatementArguments {
        [eventID, customerID, occurredAt.unixMillis, recordedAt.unixMillis, channel.rawValue, kind.rawValue,
         direction.rawValue, agentID, ticketID, campaignID, duration.map { Int64(($0 * 1000).rounded()) },
         try purchase.map(JSONColumn.encode),
         attributes.isEmpty ? nil : try keyring.seal(JSONColumn.encode(attributes), for: customerID),
         try keyring.seal(body, for: customerID)]
    }

    init(row: Row, keyring: Keyring) throws {
        guard let channel = Channel(rawValue: row["channel"]), let kind = TouchpointKind(rawValue: row["kind"]),
              let direction = TouchpointDirection(rawValue: row["direction"])
        else { throw DatabaseError(message: "touchpoint \(row["eventId"] ?? "?") has an unknown enum value") }
        self.init(
            eventID: row["eventId"], customerID: row["customerId"], occurredAt: Date(unixMillis: row["occurredAt"]),
            channel: channel, kind: kind, direction: direction, agentID: row["agentId"], ticketID: row["ticketId"],
            campaignID: row["campaignId"], duration: (row["durationMs"] as Int64?).map { Double($0) / 1000 },
            purchase: try (row["purchase"] as String?).map { try JSONColumn.decode(Purchase.self, $0) },
            attributes: try (row["attributes"] as SealedText?).map {
                try JSONColumn.decode([String: String].self, keyring.open($0))
            } ?? [:],
            body: try keyring.open(row["body"]), recordedAt: Date(unixMillis: row["recordedAt"]))
    }

    /// The engagement view of this row.
    static func activityEvent(row: Row) -> ActivityEvent? {
        guard let channel = Channel(rawValue: row["channel"]),
              let direction = TouchpointDirection(rawValue: row["direction"]) else { return nil }
        return ActivityEvent(occurredAt: Date(unixMillis: row["occurredAt"]), channel: channel, direction: direction)
    }
}

extension Ticket {
    static let columns = """
        ticketId, customerId, subject, status, priority, channel, openedAt, firstResponseAt, resolvedAt, \
        agentReplyCount, customerReplyCount, reopenCount, assignedAgentId, openedEventId, updatedAt
        """

    func arguments(keyring: Keyring) throws -> StatementArguments {
        [ticketID, customerID, try keyring.seal(subject, for: customerID), status.rawValue, priority.rawValue, channel.rawValue, openedAt.unixMillis,
         firstResponseAt?.unixMillis, resolvedAt?.unixMillis, agentReplyCount, customerReplyCount, reopenCount,
         assignedAgentID, openedEventID, updatedAt.unixMillis]
    }

    init(row: Row, keyring: Keyring) throws {
        try self.init(statisticsRow: row)
        subject = try keyring.open(row["subject"])
    }

    /// A ticket without its subject, for statistics over many customers' tickets: they never read the subject, and
    /// opening it would cost a key per customer.
    init(statisticsRow row: Row) throws {
        guard let status = TicketStatus(rawValue: row["status"]), let priority = TicketPriority(rawValue: row["priority"]),
              let channel = Channel(rawValue: row["channel"])
        else { throw DatabaseError(message: "ticket \(row["ticketId"] ?? "?") has an unknown enum value") }
        self.init(
            ticketID: row["ticketId"], customerID: row["customerId"], subject: "", status: status,
            priority: priority, channel: channel, openedAt: Date(unixMillis: row["openedAt"]),
            firstResponseAt: (row["firstResponseAt"] as Int64?).map(Date.init(unixMillis:)),
            resolvedAt: (row["resolvedAt"] as Int64?).map(Date.init(unixMillis:)),
            agentReplyCount: row["agentReplyCount"], customerReplyCount: row["customerReplyCount"],
            reopenCount: row["reopenCount"], assignedAgentID: row["assignedAgentId"],
            openedEventID: row["openedEventId"], updatedAt: Date(unixMillis: row["updatedAt"]))
    }
}

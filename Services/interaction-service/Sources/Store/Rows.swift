import C360StoreKit
import C360ServerKit
import Foundation
import GRDB

// Conversions between domain values and database rows, kept in one place. Raw SQL with cached statements is used
// on the ingest path, where a record type's per-row overhead shows at a million events.

extension Touchpoint {
    static let columns = """
        eventId, customerId, occurredAt, recordedAt, channel, kind, direction, agentId, ticketId, campaignId, \
        durationMs, purchase, attributes, body
        """

    /// Arguments in `columns` order.
    func insertArguments(recordedAt: Date) throws -> StatementArguments {
        [eventID, customerID, occurredAt.unixMillis, recordedAt.unixMillis, channel.rawValue, kind.rawValue,
         direction.rawValue, agentID, ticketID, campaignID, duration.map { Int64(($0 * 1000).rounded()) },
         try purchase.map(JSONColumn.encode), attributes.isEmpty ? nil : try JSONColumn.encode(attributes), body]
    }

    init(row: Row) throws {
        guard let channel = Channel(rawValue: row["channel"]), let kind = TouchpointKind(rawValue: row["kind"]),
              let direction = TouchpointDirection(rawValue: row["direction"])
        else { throw DatabaseError(message: "touchpoint \(row["eventId"] ?? "?") has an unknown enum value") }
        self.init(
            eventID: row["eventId"], customerID: row["customerId"], occurredAt: Date(unixMillis: row["occurredAt"]),
            channel: channel, kind: kind, direction: direction, agentID: row["agentId"], ticketID: row["ticketId"],
            campaignID: row["campaignId"], duration: (row["durationMs"] as Int64?).map { Double($0) / 1000 },
            purchase: try (row["purchase"] as String?).map { try JSONColumn.decode(Purchase.self, $0) },
            attributes: try (row["attributes"] as String?).map { try JSONColumn.decode([String: String].self, $0) } ?? [:],
            body: row["body"], recordedAt: Date(unixMillis: row["recordedAt"]))
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

    var arguments: StatementArguments {
        [ticketID, customerID, subject, status.rawValue, priority.rawValue, channel.rawValue, openedAt.unixMillis,
         firstResponseAt?.unixMillis, resolvedAt?.unixMillis, agentReplyCount, customerReplyCount, reopenCount,
         assignedAgentID, openedEventID, updatedAt.unixMillis]
    }

    init(row: Row) throws {
        guard let status = TicketStatus(rawValue: row["status"]), let priority = TicketPriority(rawValue: row["priority"]),
              let channel = Channel(rawValue: row["channel"])
        else { throw DatabaseError(message: "ticket \(row["ticketId"] ?? "?") has an unknown enum value") }
        self.init(
            ticketID: row["ticketId"], customerID: row["customerId"], subject: row["subject"], status: status,
            priority: priority, channel: channel, openedAt: Date(unixMillis: row["openedAt"]),
            firstResponseAt: (row["firstResponseAt"] as Int64?).map(Date.init(unixMillis:)),
            resolvedAt: (row["resolvedAt"] as Int64?).map(Date.init(unixMillis:)),
            agentReplyCount: row["agentReplyCount"], customerReplyCount: row["customerReplyCount"],
            reopenCount: row["reopenCount"], assignedAgentID: row["assignedAgentId"],
            openedEventID: row["openedEventId"], updatedAt: Date(unixMillis: row["updatedAt"]))
    }
}

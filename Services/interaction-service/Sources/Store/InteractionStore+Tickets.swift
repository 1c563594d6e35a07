public import C360StoreKit
public import Foundation
import GRDB

/// Where a ticket list continues: after this (opened-at, ticket id) position, newest first.
public struct TicketPosition: Codable, Sendable, Equatable {
    public var openedAt: Int64
    public var ticketID: String
}

extension InteractionStore {
    /// One ticket of one customer.
    public func ticket(_ ticketID: String, customer customerID: String) async throws -> Ticket {
        let found = try await writer.read { db in try ticket(db, id: ticketID) }
        guard let found else { throw InteractionError.ticketNotFound(ticketID) }
        guard found.customerID == customerID else {
            throw InteractionError.ticketOfOtherCustomer(ticket: ticketID, customer: customerID)
        }
        return found
    }

    /// The ticket an already-stored event belongs to, for idempotent retries of ticket RPCs.
    public func ticket(forEvent eventID: String) async throws -> Ticket? {
        try await writer.read { db in
            guard let event = try storedTouchpoint(db, eventID: eventID), !event.ticketID.isEmpty else { return nil }
            return try ticket(db, id: event.ticketID)
        }
    }

    /// One customer's tickets, newest opened first, optionally by status and opening time.
    public func tickets(
        customer customerID: String, statuses: Set<TicketStatus>, openedFrom: Date?, openedUntil: Date?,
        after position: TicketPosition?, limit: Int
    ) async throws -> Page<Ticket> {
        try await writer.read { db in
            var sql = "SELECT * FROM ticket WHERE customerId = ?"
            var arguments: StatementArguments = [customerID]
            if !statuses.isEmpty {
                sql += " AND status IN (\(databaseQuestionMarks(count: statuses.count)))"
                _ = arguments.append(contentsOf: StatementArguments(statuses.map(\.rawValue).sorted()))
            }
            if let openedFrom {
                sql += " AND openedAt >= ?"
                _ = arguments.append(contentsOf: [openedFrom.unixMillis])
            }
            if let openedUntil {
                sql += " AND openedAt < ?"
                _ = arguments.append(contentsOf: [openedUntil.unixMillis])
            }
            if let position {
                sql += " AND (openedAt < ? OR (openedAt = ? AND ticketId < ?))"
                _ = arguments.append(contentsOf: [position.openedAt, position.openedAt, position.ticketID])
            }
            sql += " ORDER BY openedAt DESC, ticketId DESC LIMIT ?"
            _ = arguments.append(contentsOf: [limit + 1])
            return try Page(fetched: try TicketRecord.fetchAll(db, sql: sql, arguments: arguments), limit: limit)
                .map { try $0.domain(keyring: keyring) }
        }
    }
}

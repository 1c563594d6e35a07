public import C360StoreKit
public import Foundation
import GRDB

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
        after position: InstantPosition?, limit: Int
    ) async throws -> Page<Ticket> {
        try await writer.read { db in
            try tickets(
                db, customer: customerID, statuses: statuses, openedFrom: openedFrom, openedUntil: openedUntil,
                after: position, limit: limit)
        }
    }

    func tickets(
        _ db: Database, customer customerID: String, statuses: Set<TicketStatus>, openedFrom: Date?,
        openedUntil: Date?, after position: InstantPosition?, limit: Int
    ) throws -> Page<Ticket> {
        typealias Columns = TicketRecord.Columns
        let records = try TicketRecord.filter(Columns.customerId == customerID)
            .filter(Columns.status, anyOf: statuses.map(\.rawValue))
            .filter(Columns.openedAt, from: openedFrom, until: openedUntil)
            .page(.descending(Columns.openedAt, tie: Columns.ticketId), after: position, limit: limit)
            .preparedOnce.fetchAll(db) // a few statuses and optional bounds: a bounded set of texts
        return try Page(fetched: records, limit: limit)
            .map { try $0.domain(keyring: keyring) }
    }
}

import Foundation

/// The support-ticket state machine: how each ticket touchpoint changes a ticket. Both the ticket RPCs and plain
/// ingest of ticket events go through it, so a ticket's state always matches its thread.
enum TicketTransitions {
    /// The ticket after `event`; `ticket` is its current state (nil when it does not exist yet).
    static func apply(_ event: Touchpoint, to ticket: Ticket?, now: Date) throws(InteractionError) -> Ticket {
        if event.kind == .ticketOpened {
            guard ticket == nil else { throw .ticketExists(event.ticketID) }
            return Ticket(
                ticketID: event.ticketID, customerID: event.customerID,
                subject: event.attributes["subject"] ?? "",
                status: .open, priority: event.attributes["priority"].flatMap(TicketPriority.init) ?? .normal,
                channel: event.channel, openedAt: event.occurredAt, assignedAgentID: event.agentID,
                openedEventID: event.eventID, updatedAt: now)
        }
        guard var ticket else { throw .ticketNotFound(event.ticketID) }
        guard ticket.customerID == event.customerID else {
            throw .ticketOfOtherCustomer(ticket: ticket.ticketID, customer: event.customerID)
        }
        switch event.kind {
        case .ticketReply:
            guard ticket.status != .resolved else { throw .ticketResolved(ticket.ticketID) }
            if event.direction == .outbound {
                ticket.agentReplyCount += 1
                if ticket.firstResponseAt == nil { ticket.firstResponseAt = event.occurredAt }
                if ticket.assignedAgentID.isEmpty { ticket.assignedAgentID = event.agentID }
                ticket.status = .awaitingCustomer
            } else {
                ticket.customerReplyCount += 1
                ticket.status = .open
            }
        case .ticketResolved:
            guard ticket.status != .resolved else { throw .ticketResolved(ticket.ticketID) }
            ticket.status = .resolved
            ticket.resolvedAt = event.occurredAt
        case .ticketReopened:
            guard ticket.status == .resolved else { throw .ticketNotResolved(ticket.ticketID) }
            ticket.status = .open
            ticket.resolvedAt = nil
            ticket.reopenCount += 1
        default:
            return ticket
        }
        ticket.updatedAt = now
        return ticket
    }
}

public import C360Contracts
import C360ServerKit
import C360StoreKit
import Foundation
public import GRPCCore
import SwiftProtobuf

extension InteractionService {
    public func openTicket(
        request: Customer360_V1_OpenTicketRequest, context: ServerContext
    ) async throws -> Customer360_V1_Ticket {
        let requested = try Validate.id(request.customerID, field: "customer_id")
        let eventID = try Validate.clientID(request.eventID, field: "event_id")
        let subject = try Validate.text(request.subject, field: "subject", maxLength: 200, required: true)
        guard let channel = Channel(proto: request.channel) else { throw InvalidArgument("channel", "is required") }
        var attributes = try InteractionRequests.attributes(request.attributes, field: "attributes")
        attributes["subject"] = subject
        attributes["priority"] = (TicketPriority(proto: request.priority) ?? .normal).rawValue
        var event = Touchpoint(
            eventID: eventID, customerID: requested,
            occurredAt: try occurredAt(request.hasOccurredAt ? request.occurredAt : nil),
            channel: channel, kind: .ticketOpened, direction: .inbound,
            agentID: try Validate.text(request.agentID, field: "agent_id", maxLength: 128),
            ticketID: EntityID.generate(), attributes: attributes,
            body: try Validate.text(request.body, field: "body", maxLength: 10_000))
        event.customerID = try await customers.resolveForWrite(requested)
        // The ticket id is generated for each call, so a retry's differs; the time too when the client left it out.
        return try await record(event, ignoring: request.hasOccurredAt ? ["ticket_id"] : ["ticket_id", "occurred_at"])
    }

    public func replyToTicket(
        request: Customer360_V1_ReplyToTicketRequest, context: ServerContext
    ) async throws -> Customer360_V1_Ticket {
        let direction: TouchpointDirection
        switch request.author {
        case .agent: direction = .outbound
        case .customer: direction = .inbound
        default: throw InvalidArgument("author", "is required: AGENT or CUSTOMER")
        }
        var event = try await ticketEvent(
            customerID: request.customerID, ticketID: request.ticketID, eventID: request.eventID, kind: .ticketReply,
            direction: direction, channel: request.channel,
            occurredAt: request.hasOccurredAt ? request.occurredAt : nil,
            agentID: request.agentID, body: request.body)
        if direction == .outbound, event.agentID.isEmpty {
            throw InvalidArgument("agent_id", "is required for an agent's reply")
        }
        if request.hasDuration {
            event.duration = try Validate.duration(
                request.duration, field: "duration",
                maximum: InteractionRequests.maximumDurationSeconds)
        }
        return try await record(event, ignoring: request.hasOccurredAt ? [] : ["occurred_at"])
    }

    public func resolveTicket(
        request: Customer360_V1_ResolveTicketRequest, context: ServerContext
    ) async throws -> Customer360_V1_Ticket {
        let event = try await ticketEvent(
            customerID: request.customerID, ticketID: request.ticketID, eventID: request.eventID, kind: .ticketResolved,
            direction: .outbound, channel: .unspecified, occurredAt: request.hasOccurredAt ? request.occurredAt : nil,
            agentID: request.agentID, body: request.resolutionNote)
        return try await record(event, ignoring: request.hasOccurredAt ? [] : ["occurred_at"])
    }

    public func reopenTicket(
        request: Customer360_V1_ReopenTicketRequest, context: ServerContext
    ) async throws -> Customer360_V1_Ticket {
        let event = try await ticketEvent(
            customerID: request.customerID, ticketID: request.ticketID, eventID: request.eventID, kind: .ticketReopened,
            direction: .inbound, channel: request.channel, occurredAt: request.hasOccurredAt ? request.occurredAt : nil,
            agentID: "", body: request.reason)
        return try await record(event, ignoring: request.hasOccurredAt ? [] : ["occurred_at"])
    }

    public func getTicket(
        request: Customer360_V1_GetTicketRequest, context: ServerContext
    ) async throws -> Customer360_V1_Ticket {
        let customerID = try await readableCustomer(request.customerID)
        let ticketID = try Validate.text(request.ticketID, field: "ticket_id", maxLength: 128, required: true)
        return try await store.ticket(ticketID, customer: customerID).proto
    }

    public func listTickets(
        request: Customer360_V1_ListTicketsRequest, context: ServerContext
    ) async throws -> Customer360_V1_ListTicketsResponse {
        let customerID = try await readableCustomer(request.customerID)
        var statuses = Set<TicketStatus>()
        for (index, status) in request.statuses.enumerated() {
            guard let value = TicketStatus(proto: status) else {
                throw InvalidArgument("statuses[\(index)]", "is not a ticket status")
            }
            statuses.insert(value)
        }
        let (from, until) = try Validate.window(request.opened, isSet: request.hasOpened, field: "opened")
        let limit = try Validate.pageSize(request.page.pageSize)
        let fingerprint = [
            customerID, statuses.map(\.rawValue).sorted().joined(separator: ","),
            "\(from?.timeIntervalSince1970 ?? 0)", "\(until?.timeIntervalSince1970 ?? 0)",
        ].joined(separator: "|")
        let token: PageToken<InstantPosition>? = try Validate.pageToken(request.page.pageToken, filter: fingerprint)
        let page = try await store.tickets(
            customer: customerID, statuses: statuses, openedFrom: from, openedUntil: until,
            after: token?.position, limit: limit)
        return .with {
            $0.tickets = page.items.map(\.proto)
            $0.page.nextPageToken = page.nextToken(filter: fingerprint) {
                InstantPosition(key: $0.openedAt.unixMillis, tie: $0.ticketID)
            }
        }
    }

    // MARK: - Helpers

    /// A validated reply, resolution or reopening of an existing ticket of the (resolved) customer.
    private func ticketEvent(
        customerID: String, ticketID: String, eventID: String, kind: TouchpointKind, direction: TouchpointDirection,
        channel: Customer360_V1_Channel, occurredAt: Google_Protobuf_Timestamp?, agentID: String, body: String
    ) async throws -> Touchpoint {
        let requested = try Validate.id(customerID, field: "customer_id")
        let ticketID = try Validate.text(ticketID, field: "ticket_id", maxLength: 128, required: true)
        let eventID = try Validate.clientID(eventID, field: "event_id")
        let at = try self.occurredAt(occurredAt)
        let agentID = try Validate.text(agentID, field: "agent_id", maxLength: 128)
        let body = try Validate.text(
            body, field: kind == .ticketResolved ? "resolution_note" : (kind == .ticketReopened ? "reason" : "body"),
            maxLength: 10_000)
        let owner = try await customers.resolveForWrite(requested)
        let ticket = try await store.ticket(ticketID, customer: owner)
        let resolvedChannel = channel == .unspecified ? ticket.channel : try InteractionRequests.channel(channel)
        return Touchpoint(
            eventID: eventID, customerID: owner, occurredAt: at, channel: resolvedChannel, kind: kind,
            direction: direction, agentID: agentID, ticketID: ticketID, body: body)
    }

    /// Stores a ticket event and answers the ticket; a retried event id answers the ticket it belongs to, and an
    /// event id reused for a different event is refused. `ignoring` names fields the service filled in itself.
    private func record(_ event: Touchpoint, ignoring: Set<String>) async throws -> Customer360_V1_Ticket {
        switch try await store.ingest([event])[0] {
        case .duplicate(let existing):
            try Touchpoint.idempotencyFields.check(
                event, against: existing, keyField: "event_id", key: event.eventID,
                ignoring: ignoring)
            fallthrough
        case .stored:
            guard let ticket = try await store.ticket(forEvent: event.eventID) else {
                throw InvalidArgument(
                    "event_id", "\(event.eventID) was already used for an event that is not about a ticket")
            }
            return ticket.proto
        case .rejected(let error):
            throw error
        }
    }

    private func occurredAt(_ timestamp: Google_Protobuf_Timestamp?) throws(InvalidArgument) -> Date {
        guard let timestamp else { return now() }
        return try Validate.instant(timestamp, field: "occurred_at", now: now())
    }
}

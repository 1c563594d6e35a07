public import C360ServerKit
public import Foundation

/// Where a support ticket stands.
public enum TicketStatus: String, Codable, Sendable, CaseIterable {
    /// Waiting for an agent: new, reopened, or the customer replied last.
    case open
    /// An agent replied last; waiting for the customer.
    case awaitingCustomer = "awaiting_customer"
    case resolved
}

/// How urgent a ticket is.
public enum TicketPriority: String, Codable, Sendable, CaseIterable {
    case low, normal, high, urgent
}

/// A support ticket: a thread of touchpoints with the timings derived from it.
public struct Ticket: Hashable, Sendable {
    public var ticketID: String
    public var customerID: String
    public var subject: String
    public var status: TicketStatus
    public var priority: TicketPriority
    public var channel: Channel
    public var openedAt: Date
    /// The first agent reply.
    public var firstResponseAt: Date?
    /// The latest resolution; nil while open.
    public var resolvedAt: Date?
    public var agentReplyCount: Int
    public var customerReplyCount: Int
    public var reopenCount: Int
    public var assignedAgentID: String
    public var openedEventID: String
    public var updatedAt: Date

    /// First agent reply − opened.
    public var firstResponseTime: TimeInterval? { firstResponseAt.map { $0.timeIntervalSince(openedAt) } }
    /// Latest resolution − opened.
    public var resolutionTime: TimeInterval? { resolvedAt.map { $0.timeIntervalSince(openedAt) } }

    /// Resolved with a single agent reply and never reopened (ARCHITECTURE.md's FCR, read strictly: a reopened
    /// ticket was not resolved at first contact). Nil while unresolved.
    public var firstContactResolution: Bool? {
        guard status == .resolved else { return nil }
        return agentReplyCount == 1 && reopenCount == 0
    }

    public init(
        ticketID: String, customerID: String, subject: String, status: TicketStatus, priority: TicketPriority,
        channel: Channel, openedAt: Date, firstResponseAt: Date? = nil, resolvedAt: Date? = nil,
        agentReplyCount: Int = 0, customerReplyCount: Int = 0, reopenCount: Int = 0, assignedAgentID: String = "",
        openedEventID: String, updatedAt: Date
    ) {
        self.ticketID = ticketID
        self.customerID = customerID
        self.subject = subject
        self.status = status
        self.priority = priority
        self.channel = channel
        self.openedAt = openedAt
        self.firstResponseAt = firstResponseAt
        self.resolvedAt = resolvedAt
        self.agentReplyCount = agentReplyCount
        self.customerReplyCount = customerReplyCount
        self.reopenCount = reopenCount
        self.assignedAgentID = assignedAgentID
        self.openedEventID = openedEventID
        self.updatedAt = updatedAt
    }
}

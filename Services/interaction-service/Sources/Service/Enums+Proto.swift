public import C360Contracts

// Enum mappings between interaction-service's domain and its protobuf contract (same case names on both sides).

extension TouchpointKind {
    public init?(proto: Customer360_V1_TouchpointKind) {
        switch proto {
        case .pageView: self = .pageView
        case .message: self = .message
        case .call: self = .call
        case .purchase: self = .purchase
        case .refund: self = .refund
        case .login: self = .login
        case .featureUse: self = .featureUse
        case .campaignSent: self = .campaignSent
        case .campaignOpen: self = .campaignOpen
        case .campaignClick: self = .campaignClick
        case .ticketOpened: self = .ticketOpened
        case .ticketReply: self = .ticketReply
        case .ticketResolved: self = .ticketResolved
        case .ticketReopened: self = .ticketReopened
        case .selfService: self = .selfService
        case .signup: self = .signup
        case .cartAdd: self = .cartAdd
        case .visit: self = .visit
        case .surveySent: self = .surveySent
        case .other: self = .other
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    public var proto: Customer360_V1_TouchpointKind {
        switch self {
        case .pageView: .pageView
        case .message: .message
        case .call: .call
        case .purchase: .purchase
        case .refund: .refund
        case .login: .login
        case .featureUse: .featureUse
        case .campaignSent: .campaignSent
        case .campaignOpen: .campaignOpen
        case .campaignClick: .campaignClick
        case .ticketOpened: .ticketOpened
        case .ticketReply: .ticketReply
        case .ticketResolved: .ticketResolved
        case .ticketReopened: .ticketReopened
        case .selfService: .selfService
        case .signup: .signup
        case .cartAdd: .cartAdd
        case .visit: .visit
        case .surveySent: .surveySent
        case .other: .other
        }
    }
}

extension TouchpointDirection {
    public init?(proto: Customer360_V1_TouchpointDirection) {
        switch proto {
        case .inbound: self = .inbound
        case .outbound: self = .outbound
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    public var proto: Customer360_V1_TouchpointDirection {
        switch self {
        case .inbound: .inbound
        case .outbound: .outbound
        }
    }
}

extension TicketStatus {
    public init?(proto: Customer360_V1_TicketStatus) {
        switch proto {
        case .`open`: self = .`open`
        case .awaitingCustomer: self = .awaitingCustomer
        case .resolved: self = .resolved
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    public var proto: Customer360_V1_TicketStatus {
        switch self {
        case .`open`: .open
        case .awaitingCustomer: .awaitingCustomer
        case .resolved: .resolved
        }
    }
}

extension TicketPriority {
    public init?(proto: Customer360_V1_TicketPriority) {
        switch proto {
        case .low: self = .low
        case .normal: self = .normal
        case .high: self = .high
        case .urgent: self = .urgent
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    public var proto: Customer360_V1_TicketPriority {
        switch self {
        case .low: .low
        case .normal: .normal
        case .high: .high
        case .urgent: .urgent
        }
    }
}

public import GRPCCore

/// Everything that can go wrong in interaction-service besides a malformed field (`InvalidArgument`) or an unknown
/// customer (`CustomerLookupError`), each with the precise gRPC status and a sentence a person can act on.
public enum InteractionError: Error, Equatable, Sendable, RPCErrorConvertible {
    case ticketNotFound(String)
    case ticketExists(String)
    case ticketOfOtherCustomer(ticket: String, customer: String)
    case ticketResolved(String)
    case ticketNotResolved(String)

    public var rpcErrorCode: RPCError.Code {
        switch self {
        case .ticketNotFound: .notFound
        case .ticketExists: .alreadyExists
        case .ticketOfOtherCustomer, .ticketResolved, .ticketNotResolved: .failedPrecondition
        }
    }

    public var rpcErrorMessage: String {
        switch self {
        case .ticketNotFound(let id): "ticket \(id) does not exist"
        case .ticketExists(let id): "ticket \(id) already exists"
        case .ticketOfOtherCustomer(let ticket, let customer):
            "ticket \(ticket) does not belong to customer \(customer)"
        case .ticketResolved(let id): "ticket \(id) is resolved; reopen it first"
        case .ticketNotResolved(let id): "ticket \(id) is not resolved, so it cannot be reopened"
        }
    }
}

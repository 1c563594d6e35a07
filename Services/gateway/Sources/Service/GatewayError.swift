public import GRPCCore

/// What can go wrong in the gateway itself, each with the precise gRPC status and an actionable sentence.
public enum GatewayError: Error, Equatable, Sendable, RPCErrorConvertible {
    case missingCredentials
    case unknownCredentials
    case inactiveCredentials(String)
    case notPermitted(role: Role, method: String, needed: Role)
    case notExposed(method: String)
    case keyNotFound(String)
    case keyExists(String)
    case authorityUnavailable
    case auditNotStored
    case replicaNotAccepted(String)
    case lastAdminKey(String)
    case storedValue(String)
    case rateLimited(keyID: String, limit: String, retryAfter: Double)

    public var rpcErrorCode: RPCError.Code {
        switch self {
        case .missingCredentials, .unknownCredentials, .inactiveCredentials: .unauthenticated
        case .notPermitted, .notExposed: .permissionDenied
        case .keyNotFound: .notFound
        case .keyExists: .alreadyExists
        case .authorityUnavailable: .unavailable
        case .auditNotStored, .replicaNotAccepted: .internalError
        case .lastAdminKey: .failedPrecondition
        case .storedValue: .internalError
        case .rateLimited: .resourceExhausted
        }
    }

    public var rpcErrorMessage: String {
        switch self {
        case .missingCredentials: "no API key: send 'authorization: Bearer <secret>'"
        case .unknownCredentials: "the API key is not known to this gateway"
        case .inactiveCredentials(let id): "API key \(id) is revoked or expired; ask an admin for a new one"
        case .notPermitted(let role, let method, let needed):
            "the \(role.rawValue) role may not call \(method): it needs the \(needed.rawValue) role or higher"
        case .notExposed(let method): "\(method) has no access policy in the contracts, so the gateway refuses it"
        case .keyNotFound(let id): "API key \(id) does not exist"
        case .keyExists(let id): "another API key has the id \(id) or the same secret; create the key again"
        case .authorityUnavailable:
            "the gateway authority, which keeps the API keys and the audit log, is not answering; retry shortly"
        case .auditNotStored:
            "the call was carried out, but its audit record could not be stored (the gateway authority did not take it); check its effect before repeating it"
        case .replicaNotAccepted(let reason):
            "this gateway replica is not accepted by its authority (\(reason)); its operator must check --authority-token-file or its certificate"
        case .lastAdminKey(let id): "API key \(id) is the last active admin key; create another admin key first"
        case .storedValue(let detail): "the gateway database holds a value this version cannot read: \(detail)"
        case .rateLimited(let id, let limit, let retryAfter):
            "API key \(id) is over its rate limit (\(limit)); retry in \(Int(retryAfter.rounded(.up))) s"
        }
    }
}

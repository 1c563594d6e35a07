public import GRPCCore

/// A request field that cannot be accepted; answers `invalidArgument` naming the field, so the caller knows exactly
/// what to fix. Every service raises it from its validation code; nothing is stored when it is thrown.
public struct InvalidArgument: Error, Equatable, RPCErrorConvertible, CustomStringConvertible {
    /// The request field, in proto spelling (`identifiers[0].value`, `page.page_size`).
    public var field: String
    /// What is wrong and, where it helps, what would be right.
    public var reason: String

    public init(_ field: String, _ reason: String) {
        self.field = field
        self.reason = reason
    }

    public var rpcErrorCode: RPCError.Code { .invalidArgument }
    public var rpcErrorMessage: String { "\(field): \(reason)" }
    public var description: String { rpcErrorMessage }
}

extension RPCError.Code {
    /// The status name as the gRPC specification spells it ("INVALID_ARGUMENT"), for per-item results of batches.
    public var canonicalName: String {
        switch self {
        case .cancelled: "CANCELLED"
        case .unknown: "UNKNOWN"
        case .invalidArgument: "INVALID_ARGUMENT"
        case .deadlineExceeded: "DEADLINE_EXCEEDED"
        case .notFound: "NOT_FOUND"
        case .alreadyExists: "ALREADY_EXISTS"
        case .permissionDenied: "PERMISSION_DENIED"
        case .resourceExhausted: "RESOURCE_EXHAUSTED"
        case .failedPrecondition: "FAILED_PRECONDITION"
        case .aborted: "ABORTED"
        case .outOfRange: "OUT_OF_RANGE"
        case .unimplemented: "UNIMPLEMENTED"
        case .internalError: "INTERNAL"
        case .unavailable: "UNAVAILABLE"
        case .dataLoss: "DATA_LOSS"
        case .unauthenticated: "UNAUTHENTICATED"
        default: "UNKNOWN"
        }
    }
}

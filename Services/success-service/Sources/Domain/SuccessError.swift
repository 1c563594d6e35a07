public import GRPCCore

/// Everything that can go wrong in success-service besides a malformed field (`InvalidArgument`) or an unknown
/// customer (`CustomerLookupError`), each with the precise gRPC status and a sentence a person can act on.
public enum SuccessError: Error, Equatable, Sendable, RPCErrorConvertible {
    case planNotFound(String)
    case planExists(String)
    case goalNotFound(String)
    case goalExists(String)
    case milestoneNotFound(String)
    case milestoneExists(String)
    case progressExists(String)
    case healthScoreNotFound(customer: String)
    case alertNotFound(String)
    case alertResolved(String)
    case taskNotFound(String)
    case taskCancelled(String)
    case taskExists(String)
    case batchNotFound(String)
    case batchRunning(String)
    /// No component could be computed; `peersUnreachable` when a peer that could have given one was unreachable.
    case noHealthFacts(customer: String, reasons: String, peersUnreachable: Bool)

    public var rpcErrorCode: RPCError.Code {
        switch self {
        case .planNotFound, .goalNotFound, .milestoneNotFound, .healthScoreNotFound, .alertNotFound, .taskNotFound,
            .batchNotFound:
            .notFound
        case .planExists, .goalExists, .milestoneExists, .progressExists, .taskExists: .alreadyExists
        case .alertResolved, .taskCancelled, .batchRunning: .failedPrecondition
        case .noHealthFacts: .unavailable
        }
    }

    public var rpcErrorMessage: String {
        switch self {
        case .planNotFound(let id): "success plan \(id) does not exist for this customer"
        case .planExists(let id): "success plan \(id) already exists with other content; choose another plan_id"
        case .goalNotFound(let id): "goal \(id) does not exist in this plan"
        case .goalExists(let id): "goal \(id) already exists with other content; choose another goal_id"
        case .milestoneNotFound(let id): "milestone \(id) does not exist in this plan"
        case .milestoneExists(let id): "milestone \(id) already exists with other content; choose another milestone_id"
        case .progressExists(let id): "progress \(id) was already recorded for another goal; choose another progress_id"
        case .healthScoreNotFound(let customer):
            "no health score has been computed for customer \(customer); call ComputeHealthScore first"
        case .alertNotFound(let id): "alert \(id) does not exist for this customer"
        case .alertResolved(let id): "alert \(id) is resolved and can no longer be acknowledged"
        case .taskNotFound(let id): "playbook task \(id) does not exist for this customer"
        case .taskCancelled(let id): "playbook task \(id) was cancelled and cannot be completed"
        case .taskExists(let id): "playbook task \(id) already exists with other content; choose another task_id"
        case .batchNotFound(let id): "batch \(id) does not exist"
        case .batchRunning(let id): "batch \(id) is still running; wait for it or resume it with its id"
        case .noHealthFacts(let customer, let reasons, _):
            "no health component could be computed for customer \(customer) (\(reasons)); retry when the peers are back"
        }
    }
}

public import GRPCCore

/// Everything that can go wrong in outreach-service besides a malformed field (`InvalidArgument`) or an unknown
/// customer (`CustomerLookupError`), each with the precise gRPC status and a sentence a person can act on.
public enum OutreachError: Error, Equatable, Sendable, RPCErrorConvertible {
    case segmentNotFound(String)
    case segmentExists(String)
    case segmentInUse(segment: String, campaign: String)
    case templateNotFound(String)
    case messageNotFound(String)
    case idempotencyKeyReused(key: String, field: String)
    case campaignNotFound(String)
    case campaignExists(String)
    case customerNotInReadModel(String)
    case journeyNotFound(String)
    case journeyReference(field: String, detail: String)
    case slotsMoving(campaign: String)

    public var rpcErrorCode: RPCError.Code {
        switch self {
        case .segmentNotFound, .templateNotFound, .messageNotFound, .campaignNotFound, .journeyNotFound: .notFound
        case .segmentExists, .idempotencyKeyReused, .campaignExists: .alreadyExists
        case .segmentInUse, .customerNotInReadModel, .journeyReference: .failedPrecondition
        case .slotsMoving: .unavailable
        }
    }

    public var rpcErrorMessage: String {
        switch self {
        case .segmentNotFound(let id): "segment \(id) does not exist; ListSegments shows the segments there are"
        case .segmentExists(let id): "segment \(id) already exists with another definition; choose another segment_id"
        case .segmentInUse(let segment, let campaign):
            "segment \(segment) is the audience of campaign \(campaign), which is still queueing; wait until it is sending"
        case .templateNotFound(let id): "template \(id) does not exist; PutTemplate creates it"
        case .messageNotFound(let id): "message \(id) does not exist"
        case .idempotencyKeyReused(let key, let field):
            "idempotency_key \(key) was already used for a message with another \(field); use a new key for a new message"
        case .campaignNotFound(let id): "campaign \(id) does not exist"
        case .campaignExists(let id):
            "campaign \(id) already exists with another segment or template; choose another campaign_id"
        case .journeyNotFound(let id): "journey \(id) does not exist; PutJourney creates it"
        case .journeyReference(let field, let detail): "\(field): \(detail)"
        case .slotsMoving(let campaign):
            "customers are moving away from this shard; send StartCampaign again with campaign_id \(campaign) once the move ends"
        case .customerNotInReadModel(let id):
            "customer \(id) is not in outreach-service's read model yet (it follows profile-service's feed); retry in a few seconds"
        }
    }
}

public import GRPCCore

/// Everything that can go wrong in feedback-service besides a malformed field (`InvalidArgument`) or an unknown
/// customer (`CustomerLookupError`), each with the precise gRPC status and a sentence a person can act on.
public enum FeedbackError: Error, Equatable, Sendable, RPCErrorConvertible {
    case surveyNotFound(String)
    case surveyExists(String)
    case surveyRetired(String)
    case scoreOutOfScale(score: Int, survey: String, scale: ClosedRange<Int>)
    case featureRequestNotFound(String)
    case featureRequestExists(String)

    public var rpcErrorCode: RPCError.Code {
        switch self {
        case .surveyNotFound, .featureRequestNotFound: .notFound
        case .surveyExists, .featureRequestExists: .alreadyExists
        case .surveyRetired: .failedPrecondition
        case .scoreOutOfScale: .invalidArgument
        }
    }

    public var rpcErrorMessage: String {
        switch self {
        case .surveyNotFound(let id): "survey \(id) does not exist"
        case .surveyExists(let id): "survey \(id) already exists with a different definition; choose another survey_id"
        case .surveyRetired(let id): "survey \(id) is retired and takes no new responses"
        case .scoreOutOfScale(let score, let survey, let scale):
            "score: \(score) is outside survey \(survey)'s scale \(scale.lowerBound)–\(scale.upperBound)"
        case .featureRequestNotFound(let id): "feature request \(id) does not exist"
        case .featureRequestExists(let id):
            "feature request \(id) already exists with a different title or details; choose another feature_request_id"
        }
    }
}

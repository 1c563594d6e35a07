import C360ServerKit
import C360StoreKit
import Foundation
public import GRDB

// feedback-service's tables as GRDB records, one type per table it reads, with the row shapes of its aggregate and
// projection queries, and their conversions to the domain types: the one place where columns meet `Survey`,
// `SurveyResponse`, `FeatureRequest`, `FeatureVote` and `ChurnReason`.
//
// Instants are Unix-millisecond `Int64` columns (`UnixMillis.swift`): records keep the column type and the domain
// conversions turn them into `Date`s. Free text customers write — response comments, vote comments, churn reasons,
// theme terms — is `SealedText`, opened with the store's keyring in the conversion.
//
// Enum columns decode into the domain enums, so a name this version does not know fails the read with GRDB's
// `RowDecodingError`, which names the column, the row and the query. `Channel` (C360ServerKit) decodes through its
// `Codable` conformance, as in profile-service's records, so an unknown channel fails with a `DecodingError` that
// names the column and the value but not the row: a `DatabaseValueConvertible` conformance belongs beside the type
// in Shared/, not in each service (two services linked into one binary would declare it twice).
//
// Writes stay the hand-written INSERT and UPDATE statements of each store method.

/// A row of `survey`.
struct SurveyRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "survey"

    /// The insertion sequence: surveys list newest first by it. Nil only for a record not yet inserted.
    var seq: Int64?
    var surveyId: String
    var type: SurveyType
    var name: String
    var question: String
    var language: String
    var channel: Channel
    var scaleMin: Int
    var scaleMax: Int
    var createdAt: Int64
    var active: Bool

    enum Columns {
        static let seq = Column(CodingKeys.seq)
        static let surveyId = Column(CodingKeys.surveyId)
        static let type = Column(CodingKeys.type)
        static let language = Column(CodingKeys.language)
        static let channel = Column(CodingKeys.channel)
        static let active = Column(CodingKeys.active)
    }

    var domain: Survey {
        Survey(
            id: surveyId, type: type, name: name, question: question, language: language, channel: channel,
            scale: scaleMin...scaleMax, createdAt: Date(unixMillis: createdAt), active: active)
    }

    /// Where this survey stands in the newest-first list.
    var listPosition: SequencePosition { SequencePosition(key: seq ?? 0, tie: seq ?? 0) }
}

/// A row of `survey_response`: one answer with the survey facts scores group by, and its comment's sentiment.
struct SurveyResponseRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "survey_response"

    /// The insertion sequence, which the shard that holds the row assigns.
    var seq: Int64?
    var responseId: String
    var customerId: String
    var surveyId: String
    var surveyType: SurveyType
    var surveyLanguage: String
    var score: Int
    /// Derived from the score of NPS responses, for the score aggregates; reads derive it again.
    var npsCategory: NpsCategory?
    var comment: SealedText
    var commentLanguage: CommentLanguage?
    var sentimentScore: Double?
    var sentimentLabel: SentimentLabel?
    var channel: Channel
    var answeredAt: Int64
    var touchpointId: String
    var ticketId: String
    var recordedAt: Int64

    enum Columns {
        static let seq = Column(CodingKeys.seq)
        static let responseId = Column(CodingKeys.responseId)
        static let customerId = Column(CodingKeys.customerId)
        static let surveyId = Column(CodingKeys.surveyId)
        static let surveyType = Column(CodingKeys.surveyType)
        static let surveyLanguage = Column(CodingKeys.surveyLanguage)
        static let commentLanguage = Column(CodingKeys.commentLanguage)
        static let channel = Column(CodingKeys.channel)
        static let answeredAt = Column(CodingKeys.answeredAt)
        static let sentimentLabel = Column(CodingKeys.sentimentLabel)
    }

    /// The response, its comment opened with `keyring`.
    func domain(keyring: Keyring) throws -> SurveyResponse {
        var response = SurveyResponse(
            id: responseId, customerID: customerId, surveyID: surveyId, surveyType: surveyType,
            surveyLanguage: surveyLanguage, score: score, channel: channel, answeredAt: Date(unixMillis: answeredAt),
            recordedAt: Date(unixMillis: recordedAt))
        response.comment = try keyring.open(comment)
        response.sentiment = .stored(score: sentimentScore, label: sentimentLabel, language: commentLanguage)
        response.touchpointID = touchpointId
        response.ticketID = ticketId
        return response
    }

    /// Where this response stands in the newest-answered-first list: ties broken by the response id, which every
    /// shard holds alike, so shards' lists merge in one order.
    var listPosition: InstantPosition { InstantPosition(key: answeredAt, tie: responseId) }
}

extension Sentiment {
    /// The sentiment the stored columns hold; `nil` when the row has no comment.
    static func stored(score: Double?, label: SentimentLabel?, language: CommentLanguage?) -> Sentiment? {
        guard let score, let label, let language else { return nil }
        return Sentiment(score: score, label: label, language: language)
    }
}

/// A row of `feature_request`.
struct FeatureRequestRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "feature_request"

    /// The insertion sequence: lists order the newest first by it, and break ties of vote counts with it.
    var seq: Int64?
    var featureRequestId: String
    var title: String
    var details: String
    var status: FeatureRequestStatus
    /// Distinct customers who voted.
    var votes: Int
    var createdAt: Int64
    var updatedAt: Int64
    var statusNote: String
    var duplicateOfId: String

    enum Columns {
        static let seq = Column(CodingKeys.seq)
        static let featureRequestId = Column(CodingKeys.featureRequestId)
        static let status = Column(CodingKeys.status)
        static let votes = Column(CodingKeys.votes)
    }

    var domain: FeatureRequest {
        var request = FeatureRequest(
            id: featureRequestId, title: title, details: details,
            createdAt: Date(unixMillis: createdAt))
        request.status = status
        request.votes = votes
        request.updatedAt = Date(unixMillis: updatedAt)
        request.statusNote = statusNote
        request.duplicateOfID = duplicateOfId
        return request
    }
}

/// A row of `feature_vote`: one customer's vote for one feature request.
struct FeatureVoteRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "feature_vote"

    var featureRequestId: String
    var customerId: String
    var comment: SealedText
    var channel: Channel?
    var votedAt: Int64

    enum Columns {
        static let featureRequestId = Column(CodingKeys.featureRequestId)
        static let customerId = Column(CodingKeys.customerId)
        static let votedAt = Column(CodingKeys.votedAt)
    }

    /// The vote, its comment opened with `keyring`.
    func domain(keyring: Keyring) throws -> FeatureVote {
        FeatureVote(
            featureRequestID: featureRequestId, customerID: customerId, comment: try keyring.open(comment),
            channel: channel, votedAt: Date(unixMillis: votedAt))
    }
}

/// A row of `churn_reason`.
struct ChurnReasonRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "churn_reason"

    var seq: Int64?
    var churnReasonId: String
    var customerId: String
    var category: ChurnReasonCategory
    var text: SealedText
    var sentimentScore: Double?
    var sentimentLabel: SentimentLabel?
    var sentimentLanguage: CommentLanguage?
    var churnedAt: Int64
    var channel: Channel?
    var recordedBy: String
    var recordedAt: Int64

    enum Columns {
        static let seq = Column(CodingKeys.seq)
        static let churnReasonId = Column(CodingKeys.churnReasonId)
        static let customerId = Column(CodingKeys.customerId)
        static let category = Column(CodingKeys.category)
        static let churnedAt = Column(CodingKeys.churnedAt)
    }

    /// The reason, its text opened with `keyring`.
    func domain(keyring: Keyring) throws -> ChurnReason {
        ChurnReason(
            id: churnReasonId, customerID: customerId, category: category, text: try keyring.open(text),
            sentiment: .stored(score: sentimentScore, label: sentimentLabel, language: sentimentLanguage),
            churnedAt: Date(unixMillis: churnedAt), channel: channel, recordedBy: recordedBy,
            recordedAt: Date(unixMillis: recordedAt))
    }
}

// MARK: - Row shapes of projections and aggregates

/// A feature request with the votes cast in a list's window: `SELECT f.*, (…) AS windowVotes`.
struct FeatureRequestTallyRow: Decodable, FetchableRecord {
    /// Decoded from the row's own columns: `request` names no column, so GRDB reads the record from the whole row.
    var request: FeatureRequestRecord
    var windowVotes: Int
    /// The votes of the customers this shard owns, selected only while it holds a move's copies.
    var ownVotes: Int?

    var tally: FeatureRequestTally { FeatureRequestTally(request: request.domain, windowVotes: windowVotes) }

    /// The computed column; lists order on it `detached`, as it belongs to no table.
    static let windowVotes = Column(CodingKeys.windowVotes)
    static let ownVotes = Column(CodingKeys.ownVotes)

    /// Where this row stands in a list in `order`.
    func listPosition(_ order: FeatureRequestOrder) -> SequencePosition {
        let seq = request.seq ?? 0
        return switch order {
        case .votes: SequencePosition(key: Int64(request.votes), tie: seq)
        case .windowVotes: SequencePosition(key: Int64(windowVotes), tie: seq)
        case .newest: SequencePosition(key: seq, tie: seq)
        }
    }
}

/// A vote with the title of the request it is for, as exported: `SELECT v.*, f.title`.
struct ExportedVoteRow: Decodable, FetchableRecord {
    /// Decoded from the row's own columns, like `FeatureRequestTallyRow.request`.
    var vote: FeatureVoteRecord
    var title: String

    func domain(keyring: Keyring) throws -> FeatureVote {
        var vote = try vote.domain(keyring: keyring)
        vote.featureRequestTitle = title
        return vote
    }
}

/// A vote a merge drops because the survivor voted for the same request:
/// `SELECT featureRequestId, comment, channel, votedAt FROM feature_vote`.
struct DroppedVoteRow: Decodable, FetchableRecord {
    var featureRequestId: String
    var comment: SealedText
    /// As stored: the merge journal keeps the name, not the enum.
    var channel: String?
    var votedAt: Int64
}

/// Churn reasons of one category: `SELECT category, COUNT(*) AS reasons, COUNT(DISTINCT customerId) AS customers`.
struct ChurnCategoryCountRow: Decodable, FetchableRecord {
    var category: ChurnReasonCategory
    var reasons: Int
    var customers: Int

    var count: ChurnReasonCount { ChurnReasonCount(category: category, reasons: reasons, customers: customers) }
}

/// Churn reasons of every category: `SELECT COUNT(*) AS reasons, COUNT(DISTINCT customerId) AS customers`.
struct ChurnTotalsRow: Decodable, FetchableRecord {
    var reasons: Int
    var customers: Int

    enum CodingKeys: String, CodingKey {
        case reasons, customers
    }
}

/// The score aggregate of one group of responses (`FeedbackStore.aggregates`); the dimension columns are selected
/// only when grouped by.
struct ScoreAggregateRow: Decodable, FetchableRecord {
    /// The aggregates of a group, each named as the property it decodes into.
    static let aggregates = SQL(
        """
        COUNT(*) AS responses,
        COALESCE(SUM(npsCategory = 'promoter'), 0) AS promoters,
        COALESCE(SUM(npsCategory = 'passive'), 0) AS passives,
        COALESCE(SUM(npsCategory = 'detractor'), 0) AS detractors,
        COALESCE(SUM(surveyType = 'csat'), 0) AS csatResponses,
        COALESCE(SUM(surveyType = 'csat' AND score >= 4), 0) AS satisfied,
        COALESCE(SUM(surveyType = 'ces'), 0) AS cesResponses,
        COALESCE(SUM(CASE WHEN surveyType = 'ces' THEN score END), 0) AS cesSum,
        COALESCE(SUM(surveyType = 'custom'), 0) AS customResponses,
        COALESCE(SUM(sentimentLabel = 'positive'), 0) AS positive,
        COALESCE(SUM(sentimentLabel = 'neutral'), 0) AS neutral,
        COALESCE(SUM(sentimentLabel = 'negative'), 0) AS negative,
        TOTAL(sentimentScore) AS sentimentSum
        """)

    var surveyId: String?
    /// The name as stored: a group on a channel this version does not know is answered without its channel.
    var channel: String?
    var surveyLanguage: String?
    var responses: Int
    var promoters: Int
    var passives: Int
    var detractors: Int
    var csatResponses: Int
    var satisfied: Int
    var cesResponses: Int
    var cesSum: Int
    var customResponses: Int
    var positive: Int
    var neutral: Int
    var negative: Int
    var sentimentSum: Double

    var aggregate: ScoreAggregate {
        var aggregate = ScoreAggregate()
        aggregate.responses = responses
        aggregate.nps = NpsCounts(promoters: promoters, passives: passives, detractors: detractors)
        aggregate.csat = CsatCounts(responses: csatResponses, satisfied: satisfied)
        aggregate.ces = CesSums(responses: cesResponses, scoreSum: cesSum)
        aggregate.customResponses = customResponses
        aggregate.sentiment = SentimentTally(
            positive: positive, neutral: neutral, negative: negative,
            scoreSum: sentimentSum)
        return aggregate
    }
}

/// A theme term counted over a period's comments: `SELECT t.stem AS stemIndex, t.sealedStem, COUNT(*) AS comments`.
struct ThemeCandidateRow: Decodable, FetchableRecord {
    /// The blind index of the stem, which terms are grouped by.
    var stemIndex: String
    var sealedStem: SealedText
    var comments: Int
}

/// A comment containing a theme term: `SELECT t.surface, r.responseId`.
struct ThemeSampleRow: Decodable, FetchableRecord {
    var surface: SealedText
    var responseId: String
}

// The module's own enums are stored by their raw (snake_case) names.
extension SurveyType: DatabaseValueConvertible {}
extension NpsCategory: DatabaseValueConvertible {}
extension CommentLanguage: DatabaseValueConvertible {}
extension SentimentLabel: DatabaseValueConvertible {}
extension FeatureRequestStatus: DatabaseValueConvertible {}
extension ChurnReasonCategory: DatabaseValueConvertible {}

/// A theme term of a response comment (`response_term`): the blind index of its stem, which themes are counted by,
/// and the stem and surface form sealed under the key of the customer whose comment holds them.
struct ResponseTermRecord: Codable, FetchableRecord, TableRecord {
    static let databaseTableName = "response_term"
    var responseId: String
    var customerId: String
    var stem: String
    var sealedStem: SealedText
    var surface: SealedText

    enum Columns {
        static let customerId = Column(CodingKeys.customerId)
    }
}

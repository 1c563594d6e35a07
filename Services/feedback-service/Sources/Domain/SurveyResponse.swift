public import C360ServerKit
public import Foundation

/// The NPS group a 0–10 score falls in.
public enum NpsCategory: String, Codable, Sendable, CaseIterable {
    case promoter, passive, detractor

    /// Promoters score 9–10, passives 7–8, detractors 0–6.
    public init(score: Int) {
        switch score {
        case 9...: self = .promoter
        case 7...8: self = .passive
        default: self = .detractor
        }
    }
}

/// One customer's answer to one survey, with the survey facts scores are grouped by copied in.
public struct SurveyResponse: Sendable, Equatable {
    /// Client-chosen; the idempotency key.
    public var id: String
    public var customerID: String
    public var surveyID: String
    public var surveyType: SurveyType
    public var surveyLanguage: String
    public var score: Int
    /// Empty when the customer left no comment.
    public var comment = ""
    /// Sentiment of the comment, with the language it was read in; `nil` without a comment.
    public var sentiment: Sentiment?
    public var channel: Channel
    public var answeredAt: Date
    /// Optional link to the touchpoint that prompted it.
    public var touchpointID = ""
    /// Optional link to the support ticket it is about.
    public var ticketID = ""
    /// When the service stored it.
    public var recordedAt: Date

    public init(
        id: String, customerID: String, surveyID: String, surveyType: SurveyType, surveyLanguage: String,
        score: Int, channel: Channel, answeredAt: Date, recordedAt: Date
    ) {
        self.id = id
        self.customerID = customerID
        self.surveyID = surveyID
        self.surveyType = surveyType
        self.surveyLanguage = surveyLanguage
        self.score = score
        self.channel = channel
        self.answeredAt = answeredAt
        self.recordedAt = recordedAt
    }

    /// An answer to `survey`, with its type and language copied in.
    public init(
        id: String, customerID: String, survey: Survey, score: Int, channel: Channel, answeredAt: Date,
        recordedAt: Date
    ) {
        self.init(
            id: id, customerID: customerID, surveyID: survey.id, surveyType: survey.type,
            surveyLanguage: survey.language, score: score, channel: channel, answeredAt: answeredAt,
            recordedAt: recordedAt)
    }

    /// The NPS category of an NPS response; `nil` for other survey types.
    public var npsCategory: NpsCategory? {
        surveyType == .nps ? NpsCategory(score: score) : nil
    }
}

/// Which responses a list shows; every part optional, combined with AND.
public struct ResponseFilter: Sendable, Hashable {
    public var customerID = ""
    public var surveyID = ""
    public var surveyType: SurveyType?
    public var channel: Channel?
    public var from: Date?
    public var until: Date?
    public var withCommentOnly = false
    public var sentimentLabel: SentimentLabel?

    public init() {}

    /// Identifies the filter inside page tokens.
    public var fingerprint: String {
        [
            customerID, surveyID, surveyType?.rawValue ?? "", channel?.rawValue ?? "",
            from.map { "\($0.timeIntervalSince1970)" } ?? "", until.map { "\($0.timeIntervalSince1970)" } ?? "",
            withCommentOnly ? "c" : "", sentimentLabel?.rawValue ?? "",
        ].joined(separator: "\u{1F}")
    }
}

extension SurveyResponse {
    /// The client-sent fields a retried response must repeat (`response_id` is the idempotency key), as stored.
    public static let idempotencyFields = IdempotencyFields<SurveyResponse>()
        .comparing("survey_id") { $0.surveyID }
        .comparing("customer_id") { $0.customerID }
        .comparing("score") { $0.score }
        .comparing("comment") { $0.comment }
        .comparing("channel") { $0.channel }
        .comparing("answered_at") { $0.answeredAt.unixMillis }
        .comparing("touchpoint_id") { $0.touchpointID }
        .comparing("ticket_id") { $0.ticketID }
}

import C360ServerKit
import C360StoreKit
import Foundation

@testable import C360Feedback

/// A store on a fresh in-memory database with the production configuration.
func makeFeedbackStore(owned: OwnedSlots = .everyone) throws -> FeedbackStore {
    try FeedbackStore(writer: ServiceDatabase.inMemory(), keyring: Keyring.inMemory(), owned: owned)
}

/// Customer ids (well-formed lower-case UUIDs) the tests use; the handler tests' directory knows ada and sara and
/// maps `mergedAway` to ada.
enum Customers {
    static let ada = "01900000-0000-7000-8000-00000000000a"
    static let sara = "01900000-0000-7000-8000-00000000000b"
    static let mergedAway = "01900000-0000-7000-8000-00000000000c"
    static let nora = "01900000-0000-7000-8000-00000000000d"
    static let unknown = "01900000-0000-7000-8000-0000000000ff"
}

/// Fixed instants, in whole seconds so they survive the millisecond round trip through the database exactly.
enum Fixed {
    static let hour: TimeInterval = 3_600
    static let day: TimeInterval = 86_400
    /// 2026-09-21 00:00:00 UTC: the start of a UTC day, for per-day periods.
    static let day0 = Date(timeIntervalSince1970: 1_789_948_800)
    /// 2026-09-21 14:13:20 UTC: the handlers' clock.
    static let now = Date(timeIntervalSince1970: 1_790_000_000)
}

/// A survey of `type` on its fixed scale (custom surveys: 1–10 unless given).
func makeSurvey(
    _ id: String, _ type: SurveyType, language: String = "en", channel: Channel = .email,
    scale: ClosedRange<Int>? = nil, createdAt: Date = Fixed.day0
) -> Survey {
    Survey(
        id: id, type: type, name: "\(id) (\(language))", question: "How was it?", language: language,
        channel: channel, scale: scale ?? type.fixedScale ?? (1...10), createdAt: createdAt)
}

/// An answer to `survey`, on the survey's channel unless given, recorded when it was answered.
func makeResponse(
    _ id: String, customer: String = Customers.ada, survey: Survey, score: Int, channel: Channel? = nil,
    at answeredAt: Date, comment: String = "", sentiment: Sentiment? = nil
) -> SurveyResponse {
    var response = SurveyResponse(
        id: id, customerID: customer, survey: survey, score: score,
        channel: channel ?? survey.channel, answeredAt: answeredAt, recordedAt: answeredAt)
    response.comment = comment
    response.sentiment = sentiment
    return response
}

/// Sentiments as the analyzer would store them.
enum Sentiments {
    static let negative = Sentiment(score: -0.6, label: .negative, language: .english)
    static let neutral = Sentiment(score: 0, label: .neutral, language: .english)
    static let positive = Sentiment(score: 0.5, label: .positive, language: .english)
}

public import C360Contracts
import C360ServerKit
import Foundation
public import GRPCCore
import SwiftProtobuf

extension FeedbackService {
    /// Most periods one GetTopThemes call may span.
    static let maxThemePeriods = 366

    public func analyzeSentiment(
        request: Customer360_V1_AnalyzeSentimentRequest, context: ServerContext
    ) async throws -> Customer360_V1_AnalyzeSentimentResponse {
        let text = try Validate.text(request.text, field: "text", maxLength: 5000, required: true)
        let language = try FeedbackRequests.commentLanguage(request.language, field: "language")
        return .with {
            $0.sentiment = sentiment.analyze(text, language: language ?? LanguageDetector.detect(text)).proto
        }
    }

    public func getTopThemes(
        request: Customer360_V1_GetTopThemesRequest, context: ServerContext
    ) async throws -> Customer360_V1_GetTopThemesResponse {
        var filter = ThemeFilter()
        let (from, until) = try Validate.window(request.hasWindow ? request.window : nil)
        filter.from = from
        let end = until ?? now()
        filter.until = end
        filter.period = try FeedbackRequests.themePeriod(request.period)
        filter.sentimentLabel = SentimentLabel(proto: request.sentimentLabel) ?? .negative
        filter.language = try FeedbackRequests.commentLanguage(request.language, field: "language")
        filter.surveyID = try Validate.text(request.surveyID, field: "survey_id", maxLength: 128)
        guard (0...100).contains(request.limit) else { throw InvalidArgument("limit", "must be 0 (default 10) to 100") }
        filter.limit = request.limit == 0 ? 10 : Int(request.limit)
        if filter.period != .whole {
            guard let from else { throw InvalidArgument("window.start", "is required when a period is given") }
            guard from < end else {
                throw InvalidArgument("window", "start must be before end (or now, when end is unset)")
            }
            guard ThemePeriods.lowerBound(from: from, until: end, period: filter.period) <= Self.maxThemePeriods else {
                throw InvalidArgument(
                    "window", "spans more than \(Self.maxThemePeriods) periods; use a longer period or a shorter window"
                )
            }
        }
        let periods = ThemePeriods.split(from: from, until: end, period: filter.period)
        guard periods.count <= Self.maxThemePeriods else {
            throw InvalidArgument("window", "spans \(periods.count) periods; the maximum is \(Self.maxThemePeriods)")
        }
        let answer = try await store.themes(filter: filter, periods: periods)
        return .with { $0.periods = answer.map(\.proto) }
    }
}

import C360Contracts
import C360ServerKit
import C360StoreKit
import Foundation

/// Validation of feedback-service requests: protobuf in, validated domain values out, or `InvalidArgument` naming
/// the first wrong field. Customer ids are checked for shape here and resolved against profile-service by the
/// handlers; checks that need stored data (the survey's scale) are the handlers' too.
enum FeedbackRequests {
    /// Bounds of a custom survey's scale.
    static let customScaleLimit = 1000

    static func survey(_ request: Customer360_V1_CreateSurveyRequest, now: Date) throws(InvalidArgument) -> Survey {
        let id =
            request.surveyID.isEmpty ? EntityID.generate() : try Validate.clientID(request.surveyID, field: "survey_id")
        guard let type = SurveyType(proto: request.surveyType) else {
            throw InvalidArgument("survey_type", "is required (NPS, CSAT, CES or CUSTOM)")
        }
        let name = try Validate.text(request.name, field: "name", maxLength: 200, required: true)
        let question = try Validate.text(request.question, field: "question", maxLength: 1000, required: true)
        let language = try Validate.language(request.language, field: "language")
        guard !language.isEmpty else { throw InvalidArgument("language", "is required (ISO 639-1, e.g. en, fa)") }
        let channel = try self.channel(request.channel, field: "channel")
        return Survey(
            id: id, type: type, name: name, question: question, language: language, channel: channel,
            scale: try scale(type: type, min: Int(request.scaleMin), max: Int(request.scaleMax)),
            createdAt: now)
    }

    /// NPS, CSAT and CES take their fixed scale (sent as 0, 0 or exactly); custom surveys choose one.
    static func scale(type: SurveyType, min: Int, max: Int) throws(InvalidArgument) -> ClosedRange<Int> {
        if let fixed = type.fixedScale {
            guard (min == 0 && max == 0) || (min == fixed.lowerBound && max == fixed.upperBound) else {
                throw InvalidArgument(
                    "scale_min",
                    "\(type.rawValue.uppercased()) surveys use \(fixed.lowerBound)–\(fixed.upperBound); leave the scale unset (0, 0) or send exactly that"
                )
            }
            return fixed
        }
        guard (-customScaleLimit...customScaleLimit).contains(min), (-customScaleLimit...customScaleLimit).contains(max)
        else {
            throw InvalidArgument(
                "scale_min", "a custom scale must lie within −\(customScaleLimit)…\(customScaleLimit)")
        }
        guard min < max else {
            throw InvalidArgument("scale_max", "must be greater than scale_min (\(min)) for a custom survey")
        }
        return min...max
    }

    static func channel(_ value: Customer360_V1_Channel, field: String) throws(InvalidArgument) -> Channel {
        guard let channel = Channel(proto: value) else {
            throw InvalidArgument(field, "is required (WEB, APP, EMAIL, SMS, PUSH, CHAT, PHONE, SOCIAL or IN_STORE)")
        }
        return channel
    }

    /// A channel that may be left UNSPECIFIED.
    static func optionalChannel(_ value: Customer360_V1_Channel, field: String) throws(InvalidArgument) -> Channel? {
        value == .unspecified ? nil : try channel(value, field: field)
    }

    /// Empty (detect from the text), "en" or "fa".
    static func commentLanguage(_ value: String, field: String) throws(InvalidArgument) -> CommentLanguage? {
        let code = value.trimmingCharacters(in: .whitespaces).lowercased()
        guard !code.isEmpty else { return nil }
        guard let language = CommentLanguage(rawValue: String(code.prefix(2))),
            code.count == 2 || code.dropFirst(2).first == "-"
        else {
            throw InvalidArgument(
                field, "'\(value.prefix(16))' is not supported: leave it empty to detect, or send en or fa")
        }
        return language
    }

    static func responseFilter(_ request: Customer360_V1_ListResponsesRequest) throws(InvalidArgument) -> ResponseFilter
    {
        var filter = ResponseFilter()
        filter.surveyID = try Validate.text(request.surveyID, field: "survey_id", maxLength: 128)
        filter.surveyType = SurveyType(proto: request.surveyType)
        filter.channel = try optionalChannel(request.channel, field: "channel")
        (filter.from, filter.until) = try Validate.window(request.hasWindow ? request.window : nil)
        filter.withCommentOnly = request.withCommentOnly
        filter.sentimentLabel = SentimentLabel(proto: request.sentimentLabel)
        return filter
    }

    static func groupings(_ values: [Customer360_V1_ScoreGrouping]) throws(InvalidArgument) -> [ScoreDimension] {
        var dimensions: [ScoreDimension] = []
        for (index, value) in values.enumerated() {
            let dimension: ScoreDimension
            switch value {
            case .survey: dimension = .survey
            case .channel: dimension = .channel
            case .language: dimension = .language
            case .unspecified, .UNRECOGNIZED:
                throw InvalidArgument("group_by[\(index)]", "must be SURVEY, CHANNEL or LANGUAGE")
            }
            if !dimensions.contains(dimension) { dimensions.append(dimension) }
        }
        return dimensions
    }

    static func themePeriod(_ value: Customer360_V1_ThemePeriod) throws(InvalidArgument) -> ThemePeriod {
        switch value {
        case .unspecified: .whole
        case .day: .day
        case .week: .week
        case .month: .month
        case .UNRECOGNIZED: throw InvalidArgument("period", "is not a known period (DAY, WEEK or MONTH)")
        }
    }
}

public import Foundation

/// Direction of a customer's scores of one survey type.
public enum ScoreTrend: String, Sendable {
    /// Fewer than two responses.
    case insufficientData
    case improving, stable, declining
}

/// One customer's scores of one survey type.
public struct CustomerTypeScore: Sendable, Equatable {
    public var responses: Int
    public var latestScore: Int
    public var latestAnsweredAt: Date
    /// The response before the latest; `nil` with a single response.
    public var previousScore: Int?
    /// Over the customer's responses of this type: NPS −100…100, CSAT % 0…100, CES mean 1…7.
    public var value: Double
    public var trend: ScoreTrend
}

/// One customer's scores over a window: per survey type, the NPS category of their latest answer, and the
/// sentiment of their comments.
public struct CustomerScores: Sendable, Equatable {
    public var nps: CustomerTypeScore?
    public var csat: CustomerTypeScore?
    public var ces: CustomerTypeScore?
    public var latestNpsCategory: NpsCategory?
    public var sentiment: SentimentTally
    /// All responses in the window, every type.
    public var responses: Int
    public var lastAnsweredAt: Date?

    /// A move of at least this share of the scale between the two latest answers is a trend.
    public static let trendThreshold = 0.10

    /// The scores of `responses` (one customer's, in any order).
    public init(responses: [SurveyResponse]) {
        let ordered = responses.sorted { ($0.answeredAt, $0.recordedAt, $0.id) < ($1.answeredAt, $1.recordedAt, $1.id) }
        func score(_ type: SurveyType) -> CustomerTypeScore? {
            Self.typeScore(ordered.filter { $0.surveyType == type }, type: type)
        }
        nps = score(.nps)
        csat = score(.csat)
        ces = score(.ces)
        latestNpsCategory = ordered.last(where: { $0.surveyType == .nps })?.npsCategory
        var sentiment = SentimentTally()
        for case let comment? in ordered.map(\.sentiment) { sentiment.add(comment) }
        self.sentiment = sentiment
        self.responses = ordered.count
        lastAnsweredAt = ordered.last?.answeredAt
    }

    /// `ordered` holds one type's responses, oldest first.
    private static func typeScore(_ ordered: [SurveyResponse], type: SurveyType) -> CustomerTypeScore? {
        guard let latest = ordered.last, let scale = type.fixedScale else { return nil }
        var aggregate = ScoreAggregate()
        for response in ordered { aggregate.add(response) }
        let value: Double? =
            switch type {
            case .nps: aggregate.nps.score
            case .csat: aggregate.csat.percent
            case .ces: aggregate.ces.mean
            case .custom: nil
            }
        let previous = ordered.count >= 2 ? ordered[ordered.count - 2].score : nil
        return CustomerTypeScore(
            responses: ordered.count, latestScore: latest.score, latestAnsweredAt: latest.answeredAt,
            previousScore: previous, value: value ?? 0,
            trend: trend(latest: latest.score, previous: previous, scale: scale))
    }

    /// Latest against previous: a move of at least 10% of the scale's span is improving or declining.
    public static func trend(latest: Int, previous: Int?, scale: ClosedRange<Int>) -> ScoreTrend {
        guard let previous else { return .insufficientData }
        let threshold = Double(scale.upperBound - scale.lowerBound) * trendThreshold
        let change = Double(latest - previous)
        if change >= threshold { return .improving }
        if change <= -threshold { return .declining }
        return .stable
    }
}

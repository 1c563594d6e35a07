/// Mergeable counts and sums of a set of responses, with the scores ARCHITECTURE.md defines derived from them.
/// Every derived score is `nil` when there is nothing to derive it from, never 0.
public struct ScoreAggregate: Sendable, Equatable {
    /// Responses of every type.
    public var responses = 0
    public var nps = NpsCounts()
    public var csat = CsatCounts()
    public var ces = CesSums()
    public var sentiment = SentimentTally()
    /// Responses to custom surveys (scored on their own scales; only counted).
    public var customResponses = 0

    public init() {}

    /// Adds one response.
    public mutating func add(_ response: SurveyResponse) {
        responses += 1
        switch response.surveyType {
        case .nps: nps.add(score: response.score)
        case .csat: csat.add(score: response.score)
        case .ces: ces.add(score: response.score)
        case .custom: customResponses += 1
        }
        if let sentiment = response.sentiment { self.sentiment.add(sentiment) }
    }
}

/// NPS counts: NPS = % promoters (9–10) − % detractors (0–6), −100…100.
public struct NpsCounts: Sendable, Equatable {
    public var promoters = 0, passives = 0, detractors = 0

    public init(promoters: Int = 0, passives: Int = 0, detractors: Int = 0) {
        self.promoters = promoters
        self.passives = passives
        self.detractors = detractors
    }

    public var responses: Int { promoters + passives + detractors }

    /// (promoters − detractors) ÷ responses × 100; `nil` without responses.
    public var score: Double? {
        responses == 0 ? nil : Double(promoters - detractors) / Double(responses) * 100
    }

    public mutating func add(score: Int) {
        switch NpsCategory(score: score) {
        case .promoter: promoters += 1
        case .passive: passives += 1
        case .detractor: detractors += 1
        }
    }
}

/// CSAT counts: the percentage of responses scoring 4 or 5 on the 1–5 scale.
public struct CsatCounts: Sendable, Equatable {
    public var responses = 0, satisfied = 0

    public init(responses: Int = 0, satisfied: Int = 0) {
        self.responses = responses
        self.satisfied = satisfied
    }

    /// satisfied ÷ responses × 100; `nil` without responses.
    public var percent: Double? {
        responses == 0 ? nil : Double(satisfied) / Double(responses) * 100
    }

    public mutating func add(score: Int) {
        responses += 1
        if score >= 4 { satisfied += 1 }
    }
}

/// CES sums: the mean of the 1–7 scale, higher is easier.
public struct CesSums: Sendable, Equatable {
    public var responses = 0, scoreSum = 0

    public init(responses: Int = 0, scoreSum: Int = 0) {
        self.responses = responses
        self.scoreSum = scoreSum
    }

    /// scoreSum ÷ responses; `nil` without responses.
    public var mean: Double? {
        responses == 0 ? nil : Double(scoreSum) / Double(responses)
    }

    public mutating func add(score: Int) {
        responses += 1
        scoreSum += score
    }
}

/// Sentiment over several comments.
public struct SentimentTally: Sendable, Equatable {
    public var positive = 0, neutral = 0, negative = 0
    /// Sum of the comments' scores (for merging).
    public var scoreSum = 0.0
    /// The latest comment's sentiment, when known.
    public var latest: Sentiment?

    public init(positive: Int = 0, neutral: Int = 0, negative: Int = 0, scoreSum: Double = 0) {
        self.positive = positive
        self.neutral = neutral
        self.negative = negative
        self.scoreSum = scoreSum
    }

    public var comments: Int { positive + neutral + negative }

    /// scoreSum ÷ comments; `nil` without comments.
    public var meanScore: Double? { comments == 0 ? nil : scoreSum / Double(comments) }

    /// Adds one comment's sentiment (taken as the latest: add in answer order).
    public mutating func add(_ sentiment: Sentiment) {
        switch sentiment.label {
        case .positive: positive += 1
        case .neutral: neutral += 1
        case .negative: negative += 1
        }
        scoreSum += sentiment.score
        latest = sentiment
    }
}

/// The languages comments are analysed in.
public enum CommentLanguage: String, Codable, Sendable, CaseIterable {
    case english = "en"
    case persian = "fa"
}

/// Coarse sentiment of a text.
public enum SentimentLabel: String, Codable, Sendable, CaseIterable {
    case negative, neutral, positive
}

/// Sentiment of one text: a score in −1…1, its label, and the language it was read in.
public struct Sentiment: Sendable, Equatable {
    public var score: Double
    public var label: SentimentLabel
    public var language: CommentLanguage

    public init(score: Double, label: SentimentLabel, language: CommentLanguage) {
        self.score = score
        self.label = label
        self.language = language
    }
}

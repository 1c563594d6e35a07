/// A language's sentiment vocabulary as written by people: one entry per line or word, parsed once into a
/// `SentimentLexicon`. The data lives in `Lexicons/` (`LexiconSource.english`, `LexiconSource.persian`).
public struct LexiconSource: Sendable {
    public var language: String
    /// "term valence" lines; a term may be several words; valences are on −4…4.
    public var valences: String
    /// Words that flip the sentiment words that follow them (within three tokens).
    public var negators: String
    /// Words that flip the sentiment word before them (within two tokens): Persian negative copulas.
    public var postNegators: String
    /// "term weight" lines: intensifiers (positive weight) and dampeners (negative) of the next sentiment word.
    public var boosters: String
    /// Words after which the clause that follows carries the sentence ("but").
    public var contrastives: String
    /// Words that are never themes.
    public var stopWords: String

    public init(language: String, valences: String, negators: String, postNegators: String, boosters: String,
                contrastives: String, stopWords: String) {
        self.language = language
        self.valences = valences
        self.negators = negators
        self.postNegators = postNegators
        self.boosters = boosters
        self.contrastives = contrastives
        self.stopWords = stopWords
    }
}

/// A language's sentiment vocabulary as written by people: one entry per line or word, parsed once into a
/// `SentimentLexicon`. The shipped vocabularies (`LexiconSource.english`, `LexiconSource.persian`) are read from the
/// tables in `Services/feedback-service/Resources/lexicons/`.
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
    /// Lines of the tables read by `init(language:tables:)` that are no entry (an unknown kind, a word list entry with
    /// a value); empty for well-formed tables.
    public var unreadLines: [String] = []

    public init(
        language: String, valences: String, negators: String, postNegators: String, boosters: String,
        contrastives: String, stopWords: String
    ) {
        self.language = language
        self.valences = valences
        self.negators = negators
        self.postNegators = postNegators
        self.boosters = boosters
        self.contrastives = contrastives
        self.stopWords = stopWords
    }

    /// Reads lexicon tables: tab-separated "kind, term, value" lines, where kind is `valence` or `booster` (with a
    /// value) or `negator`, `post-negator`, `contrastive` or `stop` (without); empty lines and lines starting with
    /// "#" are skipped. Several tables add up, in order (a language's own table, then the shared emoji table).
    public init(language: String, tables: [String]) {
        self.init(
            language: language, valences: "", negators: "", postNegators: "", boosters: "", contrastives: "",
            stopWords: "")
        var valences: [String] = []
        var boosters: [String] = []
        var words: [String: [String]] = [:]
        for table in tables {
            for line in table.split(whereSeparator: \.isNewline) where !line.hasPrefix("#") {
                let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
                switch (String(fields[0]), fields.count) {
                // A missing or bad value is left for PhraseTable, which reports the line as invalid.
                case ("valence", 2...): valences.append(fields.dropFirst().joined(separator: " "))
                case ("booster", 2...): boosters.append(fields.dropFirst().joined(separator: " "))
                case ("negator", 2), ("post-negator", 2), ("contrastive", 2), ("stop", 2):
                    words[String(fields[0]), default: []].append(String(fields[1]))
                default: unreadLines.append(String(line))
                }
            }
        }
        self.valences = valences.joined(separator: "\n")
        self.boosters = boosters.joined(separator: "\n")
        negators = words["negator", default: []].joined(separator: " ")
        postNegators = words["post-negator", default: []].joined(separator: " ")
        contrastives = words["contrastive", default: []].joined(separator: " ")
        stopWords = words["stop", default: []].joined(separator: " ")
    }

    /// English: valences for customer-feedback vocabulary, negators, boosters, contrast words and the stop words
    /// themes skip, then the emoji both languages share.
    static let english = LexiconSource(
        language: "en", tables: [EmbeddedResources.lexiconsEnTsv, EmbeddedResources.lexiconsEmojiTsv]
    )

    /// Persian: valences for customer-feedback vocabulary in written and spoken forms, negators (before the word),
    /// negative copulas and auxiliaries (after it), boosters, contrast words and the stop words themes skip, then the
    /// emoji both languages share.
    static let persian = LexiconSource(
        language: "fa", tables: [EmbeddedResources.lexiconsFaTsv, EmbeddedResources.lexiconsEmojiTsv]
    )
}

/// A language's parsed vocabulary: valences of words and phrases, negators, boosters, contrast words and stop words.
public struct SentimentLexicon: Sendable {
    public let language: CommentLanguage
    let valences: PhraseTable
    let boosters: PhraseTable
    let negators: Set<String>
    let postNegators: Set<String>
    let contrastives: Set<String>
    let stopWords: Set<String>
    private let unreadLines: [String]

    public init(_ source: LexiconSource, language: CommentLanguage) {
        self.language = language
        valences = PhraseTable(lines: source.valences)
        boosters = PhraseTable(lines: source.boosters)
        negators = Self.words(source.negators)
        postNegators = Self.words(source.postNegators)
        contrastives = Self.words(source.contrastives)
        stopWords = Self.words(source.stopWords)
        unreadLines = source.unreadLines
    }

    /// The shipped English lexicon.
    public static let english = SentimentLexicon(.english, language: .english)
    /// The shipped Persian lexicon.
    public static let persian = SentimentLexicon(.persian, language: .persian)

    /// Lines of the source that are no entry: valence and booster lines that are not "term number", table lines of
    /// no known kind (empty for a well-formed lexicon).
    public var invalidLines: [String] { unreadLines + valences.invalidLines + boosters.invalidLines }

    /// Number of valence entries (words and phrases).
    public var valenceCount: Int { valences.count }

    private static func words(_ text: String) -> Set<String> {
        Set(text.split(whereSeparator: \.isWhitespace).flatMap { TextNormalizer.tokens(String($0)) })
    }
}

/// The meaningful terms of a comment, for counting themes: stop words, numbers, emoji, negators, boosters and the
/// generic evaluative words ("terrible", "عالی", which say how but not what) removed; each term stemmed and kept with
/// the form it was written in.
public struct ThemeExtractor: Sendable {
    /// Single sentiment words at least this strong are evaluations, not themes ("slow", "late" stay).
    static let evaluativeValence = 1.8

    private let lexicons: [CommentLanguage: SentimentLexicon]
    private let stopWords: Set<String>

    public init(english: SentimentLexicon = .english, persian: SentimentLexicon = .persian) {
        lexicons = [.english: english, .persian: persian]
        stopWords = english.stopWords.union(persian.stopWords).union(english.negators).union(persian.negators)
            .union(persian.postNegators)
    }

    /// One term of a comment: the stem it is counted under and the word as written.
    public struct Term: Sendable, Hashable {
        public var stem: String
        public var surface: String
    }

    /// The distinct terms of `text` read in `language`, in order of first appearance.
    public func terms(of text: String, language: CommentLanguage) -> [Term] {
        guard let lexicon = lexicons[language] else { return [] }
        var seen = Set<String>()
        var terms: [Term] = []
        for token in TextNormalizer.tokens(text) where isMeaningful(token, lexicon: lexicon) {
            let tokenLanguage: CommentLanguage = token.isPersianWord ? .persian : .english
            let stem = Stemmer.stem(token, language: tokenLanguage)
            if seen.insert(stem).inserted { terms.append(Term(stem: stem, surface: token)) }
        }
        return terms
    }

    private func isMeaningful(_ token: String, lexicon: SentimentLexicon) -> Bool {
        guard token.count >= (token.isPersianWord ? 2 : 3), token.contains(where: \.isLetter) else { return false }
        guard !stopWords.contains(token), lexicon.boosters.value(of: token) == nil else { return false }
        if let valence = lexicon.valences.value(of: token), abs(valence) >= Self.evaluativeValence { return false }
        return true
    }
}

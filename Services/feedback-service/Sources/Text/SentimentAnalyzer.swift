import Foundation

/// Lexicon-based sentiment of short customer texts in English and Persian, in the manner of VADER
/// (Hutto & Gilbert, 2014): sum the valences of the sentiment words and phrases, each adjusted for the intensifiers
/// before it and for negation, weight the clause after a contrast word ("but", "ولی") over the one before, and
/// squash the sum into −1…1.
///
/// Negation comes before the word in English ("not helpful") and mostly after it in Persian, on the copula or verb
/// ("مفید نبود"); both directions are looked at, and a word negated from both sides is negated once (Persian
/// negative concord: "هیچ مشکلی نداشتم" is one negation).
public struct SentimentAnalyzer: Sendable {
    /// Scores above `threshold` are positive, below −`threshold` negative.
    public let threshold: Double
    private let lexicons: [CommentLanguage: SentimentLexicon]

    /// A negated valence is multiplied by this (VADER's constant).
    static let negationFactor = -0.74
    /// How far before a sentiment word negators and boosters reach.
    static let lookBehind = 3
    /// How far after a sentiment word a Persian negative copula reaches.
    static let lookAhead = 2
    /// Weights of the clauses before and after the last contrast word.
    static let beforeContrast = 0.5, afterContrast = 1.5
    /// Each "!" (up to four) adds this in the direction of the sum.
    static let exclamationBoost = 0.292
    /// α of the normalisation score = sum / √(sum² + α).
    static let alpha = 15.0

    public init(threshold: Double = 0.05, english: SentimentLexicon = .english, persian: SentimentLexicon = .persian) {
        self.threshold = threshold
        self.lexicons = [.english: english, .persian: persian]
    }

    /// The sentiment of `text`, read in `language` (detected from the script when `nil`; English when the text has
    /// no letters).
    public func analyze(_ text: String, language: CommentLanguage? = nil) -> Sentiment {
        let language = language ?? LanguageDetector.detect(text) ?? .english
        let tokens = TextNormalizer.tokens(text, boundaries: true)
        let lexicon = lexicons[language] ?? .english
        var sum = clauseWeightedSum(of: tokens, lexicon: lexicon)
        let exclamations = min(text.reduce(0) { $0 + ($1 == "!" ? 1 : 0) }, 4)
        if sum != 0 { sum += Double(exclamations) * Self.exclamationBoost * (sum > 0 ? 1 : -1) }
        let score = max(-1, min(1, sum / (sum * sum + Self.alpha).squareRoot()))
        let label: SentimentLabel = score > threshold ? .positive : score < -threshold ? .negative : .neutral
        return Sentiment(score: score, label: label, language: language)
    }

    /// The sum of the adjusted valences, the clause before the last contrast word damped and the one after raised.
    private func clauseWeightedSum(of tokens: [String], lexicon: SentimentLexicon) -> Double {
        let boosts = boosterWeights(tokens, lexicon: lexicon)
        let contrast = tokens.lastIndex(where: { lexicon.contrastives.contains($0) })
        var sum = 0.0
        var index = 0
        // Negators and boosters reach back to the end of the previous sentiment term or clause, not further.
        var reachStart = 0
        while index < tokens.count {
            if tokens[index] == TextNormalizer.boundary { reachStart = index + 1 }
            guard let (length, valence) = valence(in: tokens, at: index, lexicon: lexicon) else {
                index += 1
                continue
            }
            var value = valence
            for distance in 1...Self.lookBehind where index - distance >= reachStart {
                if let boost = boosts[index - distance] {
                    value += (value > 0 ? boost : -boost) * (1 - 0.05 * Double(distance - 1))
                }
            }
            let term = tokens[index..<index + length]
            if isNegated(tokens, term: term, reachStart: reachStart, lexicon: lexicon) { value *= Self.negationFactor }
            if let contrast { value *= index < contrast ? Self.beforeContrast : Self.afterContrast }
            sum += value
            index += length
            reachStart = index
        }
        return sum
    }

    /// The valence of the longest lexicon term at `index`; a Persian verb negated by its "نمی" prefix that is not
    /// in the lexicon itself takes the negated valence of its "می" form.
    private func valence(in tokens: [String], at index: Int, lexicon: SentimentLexicon) -> (Int, Double)? {
        if let match = lexicon.valences.match(in: tokens, at: index) { return match }
        let token = tokens[index]
        guard lexicon.language == .persian else { return nil }
        if token.hasPrefix("نمی"), let affirmative = lexicon.valences.value(of: "می" + token.dropFirst(3)) {
            return (1, affirmative * Self.negationFactor)
        }
        // A copula or person ending written onto the word ("راضی‌ام", "خوبه", "عالیست").
        for ending in Self.persianEndings where token.hasSuffix(ending) && token.count - ending.count >= 3 {
            if let valence = lexicon.valences.value(of: String(token.dropLast(ending.count))) { return (1, valence) }
        }
        return nil
    }

    /// Persian copula and person endings that attach to an adjective, longest first.
    static let persianEndings = ["هستم", "است", "ایم", "اید", "اند", "ام", "ست", "یم", "ید", "ه", "م"]

    /// For each token position that ends a booster phrase, its weight.
    private func boosterWeights(_ tokens: [String], lexicon: SentimentLexicon) -> [Int: Double] {
        var weights: [Int: Double] = [:]
        var index = 0
        while index < tokens.count {
            if let (length, weight) = lexicon.boosters.match(in: tokens, at: index) {
                weights[index + length - 1] = weight
                index += length
            } else {
                index += 1
            }
        }
        return weights
    }

    /// Whether a negator before the term (within its reach) or a negative copula right after it (within the
    /// clause) flips it. A Persian term that carries its own negation ("کار نمیکنه") is not flipped again by a
    /// "هیچ" before it: Persian negation is concord, not double negation.
    private func isNegated(
        _ tokens: [String], term: ArraySlice<String>, reachStart: Int, lexicon: SentimentLexicon
    ) -> Bool {
        let before = tokens[max(reachStart, term.startIndex - Self.lookBehind)..<term.startIndex]
        if before.contains(where: { lexicon.negators.contains($0) }) {
            let negatedWithin =
                lexicon.language == .persian
                && term.contains { lexicon.postNegators.contains($0) || $0.hasPrefix("نمی") }
            return !negatedWithin
        }
        let after = tokens[term.endIndex..<min(tokens.count, term.endIndex + Self.lookAhead)]
            .prefix { $0 != TextNormalizer.boundary }
        return after.contains(where: { lexicon.postNegators.contains($0) })
    }
}

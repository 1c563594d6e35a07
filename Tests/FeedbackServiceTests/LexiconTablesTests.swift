import Testing

@testable import C360Feedback

/// The lexicons are read from Services/feedback-service/Resources/lexicons/ (en.tsv, fa.tsv and the emoji.tsv both
/// share), compiled in by the EmbedResources plugin. The counts are those of the Swift literals the tables replaced,
/// counted before the move: a table that lost or doubled lines fails here before it shifts any score.
@Suite("the lexicon tables")
struct LexiconTablesTests {
    @Test(
        "English loads every entry it had: 1,354 valences (53 shared emoji), 76 boosters, 52 negators, 7 contrast words, 323 stop words"
    )
    func english() {
        let lexicon = SentimentLexicon.english
        #expect(lexicon.invalidLines.isEmpty, "\(lexicon.invalidLines)")
        #expect(lexicon.valenceCount == 1_354)
        #expect(lexicon.boosters.count == 76)
        #expect(lexicon.negators.count == 52)
        #expect(lexicon.postNegators.isEmpty)
        #expect(lexicon.contrastives.count == 7)
        #expect(lexicon.stopWords.count == 323)
    }

    @Test(
        "Persian loads every entry it had: 1,234 valences (53 shared emoji), 61 boosters, 12 negators, 74 copulas, 5 contrast words, 298 stop words"
    )
    func persian() {
        let lexicon = SentimentLexicon.persian
        #expect(lexicon.invalidLines.isEmpty, "\(lexicon.invalidLines)")
        #expect(lexicon.valenceCount == 1_234)
        #expect(lexicon.boosters.count == 61)
        #expect(lexicon.negators.count == 12)
        #expect(lexicon.postNegators.count == 74)
        #expect(lexicon.contrastives.count == 5)
        #expect(lexicon.stopWords.count == 298)
    }

    @Test("the emoji table is read by both languages alike; the flowers Persian customers send are Persian's alone")
    func sharedEmoji() {
        // Given the same emoji in both lexicons
        for emoji in ["👍", "👎🏽", "❤", "😡", "💩"] {
            // Then each has one valence, the same in both
            let english = SentimentLexicon.english.valences.value(of: emoji)
            #expect(english != nil && english == SentimentLexicon.persian.valences.value(of: emoji), "\(emoji)")
        }
        #expect(SentimentLexicon.persian.valences.value(of: "🌹") == 1.5)
        #expect(SentimentLexicon.english.valences.value(of: "🌹") == nil)
    }

    @Test("a table line of no known kind, or a valence without its number, is reported, not skipped in silence")
    func malformedLines() {
        // Given a table with a good line of each shape, and one with two bad lines
        let source = LexiconSource(
            language: "en",
            tables: [
                "# kind\tterm\tvalue\nvalence\tgood\t1.9\nbooster\tvery\t0.3\nstop\tthe\n",
                "synonym\tfine\tgood\nvalence\tnice\n",
            ])

        // When it is parsed
        let lexicon = SentimentLexicon(source, language: .english)

        // Then the good lines are entries and the bad ones are named
        #expect(lexicon.valenceCount == 1 && lexicon.boosters.count == 1 && lexicon.stopWords == ["the"])
        #expect(lexicon.invalidLines == ["synonym\tfine\tgood", "nice"])
    }
}

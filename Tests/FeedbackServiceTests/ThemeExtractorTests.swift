import C360Feedback
import Testing

/// What counts as a theme term, and how words are grouped under one stem.
@Suite("Theme terms")
struct ThemeExtractorTests {
    let extractor = ThemeExtractor()

    @Test("stop words, numbers and generic evaluations are skipped; subjects stay")
    func meaningfulTerms() {
        let terms = extractor.terms(of: "The delivery was terrible and the refund took 3 weeks", language: .english)
        let surfaces = terms.map(\.surface)
        #expect(surfaces.contains("delivery"))
        #expect(surfaces.contains("refund"))
        #expect(!surfaces.contains("the"))
        #expect(!surfaces.contains("terrible"))
        #expect(!surfaces.contains("3"))
    }

    @Test("a term counts once per comment, under its stem")
    func stems() {
        #expect(Stemmer.stem("deliveries", language: .english) == Stemmer.stem("delivery", language: .english))
        #expect(Stemmer.stem("crashes", language: .english) == Stemmer.stem("crashing", language: .english))
        #expect(Stemmer.stem("crashed", language: .english) == Stemmer.stem("crash", language: .english))
        #expect(Stemmer.stem("سفارشها", language: .persian) == "سفارش")
        let terms = extractor.terms(of: "crashes, crashed, crashing", language: .english)
        #expect(terms.count == 1)
    }

    @Test("Persian comments give Persian subjects")
    func persian() {
        let surfaces = extractor.terms(of: "ارسال سفارش‌ها خیلی دیر بود و پشتیبانی جواب نداد", language: .persian)
            .map(\.surface)
        #expect(surfaces.contains("ارسال"))
        #expect(surfaces.contains("پشتیبانی"))
        #expect(!surfaces.contains("و"))
        #expect(!surfaces.contains("خیلی"))
    }
}

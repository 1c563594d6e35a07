import C360Feedback
import Testing

/// How the analyzer reads negation, intensifiers, contrast and Persian spelling variants.
@Suite("Sentiment analyzer")
struct SentimentAnalyzerTests {
    let analyzer = SentimentAnalyzer()

    private func score(_ text: String, _ language: CommentLanguage? = nil) -> Double {
        analyzer.analyze(text, language: language).score
    }

    @Test("clear English comments get the obvious label and a score within −1…1")
    func english() {
        #expect(analyzer.analyze("The support team was excellent and really helpful").label == .positive)
        #expect(analyzer.analyze("Terrible app, it crashes every time I log in").label == .negative)
        #expect(analyzer.analyze("I changed my address last week").label == .neutral)
        for text in ["great great great great great great great!!!!", "awful awful awful awful awful awful"] {
            #expect((-1...1).contains(score(text)))
        }
    }

    @Test("English negation flips: 'not helpful' is negative, 'no problems' is positive")
    func englishNegation() {
        #expect(score("The agent was helpful") > 0)
        #expect(score("The agent was not helpful") < 0)
        #expect(score("The agent wasn't helpful at all") < 0)
        #expect(score("I had problems with the checkout") < 0)
        #expect(score("I had no problems with the checkout") > 0)
    }

    @Test("intensifiers raise and dampeners lower the strength, never the direction")
    func intensifiers() {
        let plain = score("The delivery was good")
        #expect(score("The delivery was very good") > plain)
        #expect(score("The delivery was slightly good") < plain)
        #expect(score("The delivery was slightly good") > 0)
        #expect(score("The delivery was extremely bad") < score("The delivery was bad"))
    }

    @Test("the clause after 'but' carries the sentence")
    func contrast() {
        #expect(score("The app looks nice but it is slow and crashes constantly") < 0)
        #expect(score("Delivery was a bit slow, but the product is excellent and support was great") > 0)
    }

    @Test("Persian: positive, negative and neutral comments")
    func persian() {
        #expect(analyzer.analyze("خیلی راضی هستم، ارسال سریع بود و پشتیبانی عالی بود").label == .positive)
        #expect(analyzer.analyze("افتضاح بود، سفارشم خراب رسید").label == .negative)
        #expect(analyzer.analyze("آدرسم عوض شده است").label == .neutral)
    }

    @Test("Persian negation on the copula after the word: 'راضی نیستم' is negative, 'بد نبود' is positive")
    func persianNegation() {
        #expect(score("از خرید راضی هستم") > 0)
        #expect(score("از خرید راضی نیستم") < 0)
        #expect(score("کیفیت بد بود") < 0)
        #expect(score("کیفیت بد نبود") > 0)
    }

    @Test("Persian intensifier خیلی strengthens")
    func persianIntensifier() {
        #expect(score("پشتیبانی خیلی خوب بود") > score("پشتیبانی خوب بود"))
    }

    @Test("Persian spelling variants read the same: ZWNJ, a space, or nothing; Arabic ي and ك; Persian digits")
    func persianSpellingVariants() {
        #expect(TextNormalizer.tokens("نمی‌خواهم") == TextNormalizer.tokens("نمیخواهم"))
        #expect(TextNormalizer.tokens("نمی خواهم") == TextNormalizer.tokens("نمیخواهم"))
        #expect(TextNormalizer.tokens("كيفيت") == TextNormalizer.tokens("کیفیت"))
        #expect(TextNormalizer.tokens("سفارش ها ۲ روز") == ["سفارشها", "2", "روز"])
        #expect(score("كيفيت عالي بود") == score("کیفیت عالی بود"))
    }

    @Test("English tokens keep inner apostrophes and split emoji off")
    func tokens() {
        #expect(TextNormalizer.tokens("Don't like it!!👎") == ["don't", "like", "it", "👎"])
        #expect(TextNormalizer.tokens("It’s “fine”") == ["it's", "fine"])
    }

    @Test("the language is detected from the script")
    func languageDetection() {
        #expect(LanguageDetector.detect("The app is great") == .english)
        #expect(LanguageDetector.detect("اپلیکیشن عالی است") == .persian)
        #expect(LanguageDetector.detect("اپ Snapp خیلی خوبه") == .persian)
        #expect(LanguageDetector.detect("👍 100") == nil)
        #expect(analyzer.analyze("پشتیبانی عالی بود").language == .persian)
    }

    @Test("the label threshold is the deployment's")
    func threshold() {
        let strict = SentimentAnalyzer(threshold: 0.9)
        #expect(strict.analyze("The delivery was good").label == .neutral)
        #expect(analyzer.analyze("The delivery was good").label == .positive)
    }
}

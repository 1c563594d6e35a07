import C360Feedback
import Foundation
import Testing

/// ARCHITECTURE.md's formulas, each against numbers worked out by hand.
@Suite("NPS, CSAT and CES formulas")
struct ScoreFormulaTests {
    private func nps(_ scores: [Int]) -> NpsCounts {
        var counts = NpsCounts()
        for score in scores { counts.add(score: score) }
        return counts
    }

    @Test("NPS is % promoters (9–10) − % detractors (0–6): 10, 9, 7, 3 → (2 − 1) ÷ 4 = 25")
    func npsMixed() throws {
        let counts = nps([10, 9, 7, 3])
        #expect(counts.promoters == 2 && counts.passives == 1 && counts.detractors == 1)
        #expect(try #require(counts.score) == 25)
    }

    @Test("category edges: 6 is a detractor, 7 and 8 passives, 9 a promoter")
    func npsEdges() {
        #expect(NpsCategory(score: 0) == .detractor)
        #expect(NpsCategory(score: 6) == .detractor)
        #expect(NpsCategory(score: 7) == .passive)
        #expect(NpsCategory(score: 8) == .passive)
        #expect(NpsCategory(score: 9) == .promoter)
        #expect(NpsCategory(score: 10) == .promoter)
    }

    @Test("all promoters → 100, all detractors → −100, all passives → 0")
    func npsExtremes() {
        #expect(nps([9, 10, 10]).score == 100)
        #expect(nps([0, 6, 3, 1]).score == -100)
        #expect(nps([7, 8]).score == 0)
    }

    @Test("one response is enough: a single 8 → 0, a single 2 → −100")
    func npsOneResponse() {
        #expect(nps([8]).score == 0)
        #expect(nps([2]).score == -100)
    }

    @Test("no responses → no NPS, CSAT or CES at all (never 0)")
    func emptyWindow() {
        let empty = ScoreAggregate()
        #expect(empty.nps.score == nil)
        #expect(empty.csat.percent == nil)
        #expect(empty.ces.mean == nil)
        #expect(empty.sentiment.meanScore == nil)
    }

    @Test("CSAT is the % of 4s and 5s: 5, 4, 2 → 2 ÷ 3 = 66.67 %; 3, 3 → 0 %")
    func csat() throws {
        var counts = CsatCounts()
        for score in [5, 4, 2] { counts.add(score: score) }
        #expect(counts.responses == 3 && counts.satisfied == 2)
        #expect(abs(try #require(counts.percent) - 200.0 / 3) < 1e-9)
        var neutral = CsatCounts()
        for score in [3, 3] { neutral.add(score: score) }
        #expect(neutral.percent == 0)
    }

    @Test("CES is the mean of the 1–7 scale: 7, 4, 5, 1 → 17 ÷ 4 = 4.25")
    func ces() {
        var sums = CesSums()
        for score in [7, 4, 5, 1] { sums.add(score: score) }
        #expect(sums.scoreSum == 17)
        #expect(sums.mean == 4.25)
    }

    @Test("sentiment mean is the sum of scores over the comments: 0.5, −0.25, 0.0 → 0.0833…")
    func sentimentMean() throws {
        var tally = SentimentTally()
        tally.add(Sentiment(score: 0.5, label: .positive, language: .english))
        tally.add(Sentiment(score: -0.25, label: .negative, language: .persian))
        tally.add(Sentiment(score: 0, label: .neutral, language: .english))
        #expect(tally.positive == 1 && tally.negative == 1 && tally.neutral == 1)
        #expect(abs(try #require(tally.meanScore) - 0.25 / 3) < 1e-12)
        #expect(tally.latest?.label == .neutral)
    }

    @Test("trend moves by ≥ 10 % of the scale: NPS 7→8 improves, CSAT 4→3 declines, CES 5→5 is stable")
    func trend() {
        #expect(CustomerScores.trend(latest: 8, previous: 7, scale: 0...10) == .improving)
        #expect(CustomerScores.trend(latest: 3, previous: 4, scale: 1...5) == .declining)
        #expect(CustomerScores.trend(latest: 5, previous: 5, scale: 1...7) == .stable)
        #expect(CustomerScores.trend(latest: 5, previous: nil, scale: 1...7) == .insufficientData)
    }

    @Test("a customer's scores: latest and previous by answer time, value over all, latest NPS category")
    func customerScores() throws {
        let survey = Survey(
            id: "nps", type: .nps, name: "NPS", question: "?", language: "en", channel: .email,
            scale: 0...10, createdAt: Date(timeIntervalSince1970: 0))
        let csatSurvey = Survey(
            id: "csat", type: .csat, name: "CSAT", question: "?", language: "fa", channel: .app,
            scale: 1...5, createdAt: Date(timeIntervalSince1970: 0))
        func response(_ id: String, _ survey: Survey, _ score: Int, day: Double) -> SurveyResponse {
            SurveyResponse(
                id: id, customerID: "c", survey: survey, score: score, channel: .email,
                answeredAt: Date(timeIntervalSince1970: day * 86_400), recordedAt: Date(timeIntervalSince1970: 0))
        }
        // Given out of order: answered on days 1, 3, 2 → by time 10, 4, 6 (latest 6, previous 4).
        let scores = CustomerScores(responses: [
            response("a", survey, 10, day: 1), response("b", survey, 6, day: 3), response("c", survey, 4, day: 2),
            response("d", csatSurvey, 5, day: 1),
        ])
        let nps = try #require(scores.nps)
        #expect(nps.responses == 3 && nps.latestScore == 6 && nps.previousScore == 4)
        #expect(abs(nps.value - (1.0 - 2.0) / 3 * 100) < 1e-9) // one promoter, two detractors
        #expect(nps.trend == .improving)
        #expect(scores.latestNpsCategory == .detractor)
        let csat = try #require(scores.csat)
        #expect(
            csat.responses == 1 && csat.value == 100 && csat.previousScore == nil && csat.trend == .insufficientData)
        #expect(scores.ces == nil)
        #expect(scores.responses == 4)
        #expect(scores.lastAnsweredAt == Date(timeIntervalSince1970: 3 * 86_400))
    }
}

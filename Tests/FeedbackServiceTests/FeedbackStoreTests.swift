import C360ServerKit
import C360StoreKit
import Foundation
import GRDB
import Testing

@testable import C360Feedback

/// `Fixed.day0` plus whole days and hours.
private func at(day: Double = 0, hour: Double = 0) -> Date {
    Fixed.day0.addingTimeInterval(day * Fixed.day + hour * Fixed.hour)
}

private func term(_ stem: String, _ surface: String) -> ThemeExtractor.Term {
    ThemeExtractor.Term(stem: stem, surface: surface)
}

private func featureVote(_ requestID: String, _ customerID: String, at votedAt: Date) -> FeatureVote {
    FeatureVote(featureRequestID: requestID, customerID: customerID, comment: "", channel: .app, votedAt: votedAt)
}

private func churn(
    _ id: String, _ customerID: String, _ category: ChurnReasonCategory, at churnedAt: Date
) -> ChurnReason {
    ChurnReason(
        id: id, customerID: customerID, category: category, text: "", sentiment: nil, churnedAt: churnedAt,
        channel: .email, recordedBy: "csm-1", recordedAt: churnedAt)
}

/// Rows of one table, read straight from the store's database.
private func rowCount(_ store: FeedbackStore, _ table: String) async throws -> Int {
    try await store.writer.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)") ?? 0 }
}

@Suite("Feedback store: surveys and responses")
struct FeedbackStoreResponseTests {
    @Test("creating a survey again with the same definition answers the existing one; a different one is refused")
    func idempotentSurvey() async throws {
        let store = try makeFeedbackStore()
        let nps = makeSurvey("nps-email", .nps)
        #expect(try await store.createSurvey(nps) == nps)

        var retried = nps
        retried.createdAt = nps.createdAt.addingTimeInterval(Fixed.hour)
        // The stored survey, with its original creation time.
        #expect(try await store.createSurvey(retried) == nps)

        var changed = nps
        changed.question = "Would you recommend us to a friend?"
        let different = changed
        await #expect(throws: FeedbackError.surveyExists("nps-email")) { _ = try await store.createSurvey(different) }
        #expect(try await store.survey(id: "nps-email") == nps)
        let all = try await store.surveys(filter: SurveyFilter(), after: nil, limit: 10)
        #expect(all.items.map(\.survey.id) == ["nps-email"] && !all.hasMore)
    }

    @Test("a retired survey refuses new responses and stores nothing; an unknown survey is not found")
    func retired() async throws {
        let store = try makeFeedbackStore()
        let csat = makeSurvey("csat-app", .csat, channel: .app)
        _ = try await store.createSurvey(csat)
        let retired = try await store.retireSurvey(id: "csat-app")
        #expect(!retired.active && retired.sameDefinition(as: csat))
        #expect(try await store.retireSurvey(id: "csat-app").active == false) // retiring again changes nothing

        let late = makeResponse(
            "r1", survey: csat, score: 4, at: at(hour: 1), comment: "slow delivery",
            sentiment: Sentiments.negative)
        await #expect(throws: FeedbackError.surveyRetired("csat-app")) {
            _ = try await store.record(late, terms: [term("slow", "slow"), term("deliveri", "delivery")])
        }
        #expect(try await store.responses(filter: ResponseFilter(), after: nil, limit: 10).items.isEmpty)
        #expect(try await rowCount(store, "survey_response") == 0)
        #expect(try await rowCount(store, "response_term") == 0)

        let ghost = makeSurvey("ghost", .nps)
        await #expect(throws: FeedbackError.surveyNotFound("ghost")) {
            _ = try await store.record(makeResponse("r2", survey: ghost, score: 9, at: at(hour: 1)), terms: [])
        }
        await #expect(throws: FeedbackError.surveyNotFound("ghost")) { _ = try await store.retireSurvey(id: "ghost") }

        // Retired surveys leave the default list and stay in the full one.
        var everything = SurveyFilter()
        everything.includeInactive = true
        #expect(try await store.surveys(filter: SurveyFilter(), after: nil, limit: 10).items.isEmpty)
        let listed = try await store.surveys(filter: everything, after: nil, limit: 10)
        #expect(listed.items.map(\.survey.id) == ["csat-app"])
    }

    @Test("recording a response id twice answers the first response as stored and writes nothing new")
    func duplicate() async throws {
        let store = try makeFeedbackStore()
        let nps = makeSurvey("nps-email", .nps)
        _ = try await store.createSurvey(nps)
        var first = makeResponse(
            "r1", survey: nps, score: 9, at: at(hour: 1), comment: "Fast delivery",
            sentiment: Sentiments.positive)
        first.ticketID = "T-1"
        guard case .stored(let stored) = try await store.record(first, terms: [term("deliveri", "delivery")]) else {
            Issue.record("the first response was not stored")
            return
        }
        #expect(stored == first)

        var retry = first
        retry.score = 2
        retry.comment = ""
        retry.sentiment = nil
        retry.recordedAt = first.recordedAt.addingTimeInterval(60)
        guard case .duplicate(let existing) = try await store.record(retry, terms: []) else {
            Issue.record("the retry was stored a second time")
            return
        }
        #expect(existing == first)
        let all = try await store.responses(filter: ResponseFilter(), after: nil, limit: 10)
        #expect(all.items.map(\.response) == [first])
        #expect(try await rowCount(store, "response_term") == 1)
    }

    @Test("responses page newest answered first, ties by response id (as every shard breaks them), with no overlap")
    func paging() async throws {
        let store = try makeFeedbackStore()
        let nps = makeSurvey("nps-email", .nps)
        _ = try await store.createSurvey(nps)
        // r1 and r2 were answered at the same instant; r2 arrived first, yet comes first by its id, not by arrival.
        for (id, minutes) in [("r0", 0.0), ("r2", 10.0), ("r1", 10.0), ("r3", 20.0)] {
            _ = try await store.record(
                makeResponse(id, survey: nps, score: 8, at: Fixed.day0.addingTimeInterval(minutes * 60)), terms: [])
        }
        _ = try await store.record(
            makeResponse(
                "s0", customer: Customers.sara, survey: nps, score: 3, at: Fixed.day0.addingTimeInterval(900),
                comment: "Too slow", sentiment: Sentiments.negative),
            terms: [])

        var adas = ResponseFilter()
        adas.customerID = Customers.ada
        let first = try await store.responses(filter: adas, after: nil, limit: 2)
        #expect(first.items.map(\.response.id) == ["r3", "r2"] && first.hasMore)
        let position = try #require(first.items.last?.position)
        let second = try await store.responses(filter: adas, after: position, limit: 2)
        #expect(second.items.map(\.response.id) == ["r1", "r0"] && !second.hasMore)
        let firstIDs = Set(first.items.map(\.response.id))
        let secondIDs = Set(second.items.map(\.response.id))
        #expect(firstIDs.isDisjoint(with: secondIDs) && firstIDs.union(secondIDs).count == 4)

        var commented = ResponseFilter()
        commented.withCommentOnly = true
        #expect(try await store.responses(filter: commented, after: nil, limit: 10).items.map(\.response.id) == ["s0"])
    }
}

@Suite("Feedback store: global scores")
struct FeedbackStoreScoreTests {
    /// NPS 10, 9, 8, 6, 0 by email; CSAT 5, 3 in the app (a Persian survey); CES 7, 4 in chat; one custom answer on
    /// the web; a minute apart from `Fixed.day0`. The NPS 0 has a negative comment (−0.6), the CSAT 5 a positive one
    /// (0.5).
    private func seeded() async throws -> FeedbackStore {
        let store = try makeFeedbackStore()
        let nps = makeSurvey("nps", .nps, channel: .email)
        let csat = makeSurvey("csat", .csat, language: "fa", channel: .app)
        let ces = makeSurvey("ces", .ces, channel: .chat)
        let custom = makeSurvey("custom", .custom, channel: .web, scale: 1...10)
        for survey in [nps, csat, ces, custom] { _ = try await store.createSurvey(survey) }
        let answers: [(survey: Survey, score: Int, sentiment: Sentiment?)] = [
            (nps, 10, nil), (nps, 9, nil), (nps, 8, nil), (nps, 6, nil), (nps, 0, Sentiments.negative),
            (csat, 5, Sentiments.positive), (csat, 3, nil), (ces, 7, nil), (ces, 4, nil), (custom, 8, nil),
        ]
        for (index, answer) in answers.enumerated() {
            _ = try await store.record(
                makeResponse(
                    "r\(index)", survey: answer.survey, score: answer.score,
                    at: Fixed.day0.addingTimeInterval(Double(index) * 60),
                    comment: answer.sentiment == nil ? "" : "a comment", sentiment: answer.sentiment),
                terms: [])
        }
        return store
    }

    @Test("overall: 2 promoters, 1 passive, 2 detractors → NPS 0; CSAT 1 of 2 → 50 %; CES (7 + 4) / 2 = 5.5")
    func overall() async throws {
        let store = try await seeded()
        var window = ScoreFilter()
        window.from = Fixed.day0
        window.until = at(day: 1)
        let (overall, groups) = try await store.scores(filter: window, groupedBy: [])
        #expect(groups.isEmpty)
        #expect(overall.responses == 10 && overall.customResponses == 1)
        #expect(overall.nps == NpsCounts(promoters: 2, passives: 1, detractors: 2))
        let nps = try #require(overall.nps.score)
        #expect(abs(nps - 0) < 1e-9) // (2 − 2) / 5 × 100
        #expect(overall.csat == CsatCounts(responses: 2, satisfied: 1))
        let csat = try #require(overall.csat.percent)
        #expect(abs(csat - 50) < 1e-9)
        #expect(overall.ces == CesSums(responses: 2, scoreSum: 11))
        let ces = try #require(overall.ces.mean)
        #expect(abs(ces - 5.5) < 1e-9)
        #expect(overall.sentiment.positive == 1 && overall.sentiment.neutral == 0 && overall.sentiment.negative == 1)
        let sentiment = try #require(overall.sentiment.meanScore)
        #expect(abs(sentiment - (-0.05)) < 1e-9) // (−0.6 + 0.5) / 2
    }

    @Test("filters: the window is half-open; channel and survey language narrow the responses")
    func filters() async throws {
        let store = try await seeded()
        var firstFive = ScoreFilter()
        firstFive.until = Fixed.day0.addingTimeInterval(5 * 60) // r5 answered exactly then: excluded
        let early = try await store.scores(filter: firstFive, groupedBy: []).overall
        #expect(early.responses == 5 && early.nps.responses == 5 && early.csat.responses == 0)

        var email = ScoreFilter()
        email.channel = .email
        let byEmail = try await store.scores(filter: email, groupedBy: []).overall
        #expect(byEmail.responses == 5 && byEmail.customResponses == 0 && byEmail.csat.percent == nil)

        var persian = ScoreFilter()
        persian.language = "fa"
        let inPersian = try await store.scores(filter: persian, groupedBy: []).overall
        #expect(inPersian.responses == 2 && inPersian.csat == CsatCounts(responses: 2, satisfied: 1))
    }

    @Test("grouped by channel: exactly one group per channel with responses, in channel order, other keys empty")
    func byChannel() async throws {
        let store = try await seeded()
        let groups = try await store.scores(filter: ScoreFilter(), groupedBy: [.channel]).groups
        try #require(groups.count == 4)
        #expect(groups.compactMap(\.channel) == [.app, .chat, .email, .web])
        #expect(groups.allSatisfy { $0.surveyID.isEmpty && $0.language.isEmpty })
        #expect(groups.map(\.aggregate.responses) == [2, 2, 5, 1])

        let app = groups[0].aggregate
        #expect(app.csat == CsatCounts(responses: 2, satisfied: 1) && app.nps.score == nil && app.ces.mean == nil)
        #expect(app.sentiment.positive == 1 && app.sentiment.comments == 1)
        let chat = groups[1].aggregate
        let chatMean = try #require(chat.ces.mean)
        #expect(abs(chatMean - 5.5) < 1e-9 && chat.csat.percent == nil && chat.nps.score == nil)
        let email = groups[2].aggregate
        #expect(email.nps == NpsCounts(promoters: 2, passives: 1, detractors: 2))
        let emailNps = try #require(email.nps.score)
        #expect(abs(emailNps) < 1e-9 && email.sentiment.negative == 1)
        let web = groups[3].aggregate
        #expect(web.customResponses == 1 && web.nps.score == nil && web.csat.percent == nil && web.ces.mean == nil)

        let bySurveyAndLanguage = try await store.scores(filter: ScoreFilter(), groupedBy: [.survey, .language]).groups
        #expect(
            bySurveyAndLanguage.map { "\($0.surveyID)/\($0.language)" }
                == ["ces/en", "csat/fa", "custom/en", "nps/en"])
        #expect(bySurveyAndLanguage.allSatisfy { $0.channel == nil })
    }

    @Test("a window with no responses: 0 responses, every derived score nil, no groups")
    func emptyWindow() async throws {
        let store = try await seeded()
        var filter = ScoreFilter()
        filter.from = at(day: 10)
        filter.until = at(day: 11)
        let (overall, groups) = try await store.scores(filter: filter, groupedBy: [.channel, .survey])
        #expect(overall.responses == 0 && overall.customResponses == 0 && groups.isEmpty)
        #expect(overall.nps.score == nil && overall.csat.percent == nil && overall.ces.mean == nil)
        #expect(overall.sentiment.comments == 0 && overall.sentiment.meanScore == nil)
    }
}

@Suite("Feedback store: themes")
struct FeedbackStoreThemeTests {
    /// Two days of comments on an NPS survey, plus one after the window.
    private func seeded() async throws -> FeedbackStore {
        let store = try makeFeedbackStore()
        let nps = makeSurvey("nps", .nps)
        _ = try await store.createSurvey(nps)
        let comments: [(id: String, at: Date, sentiment: Sentiment, terms: [ThemeExtractor.Term])] = [
            ("n1", at(hour: 1), Sentiments.negative, [term("deliveri", "delivery"), term("late", "late")]),
            ("n2", at(hour: 2), Sentiments.negative, [term("deliveri", "deliveries"), term("refund", "refund")]),
            ("n3", at(hour: 3), Sentiments.negative, [term("deliveri", "delivery")]),
            ("n4", at(hour: 4), Sentiments.negative, [term("deliveri", "delivery")]),
            ("p1", at(hour: 5), Sentiments.positive, [term("deliveri", "delivery")]), // not negative
            ("n5", at(hour: 6), Sentiments.negative, []), // a negative comment without terms
            ("m1", at(day: 1, hour: 1), Sentiments.negative, [term("refund", "refunds")]),
            ("m2", at(day: 1, hour: 2), Sentiments.negative, [term("refund", "refund"), term("app", "app")]),
            ("m3", at(day: 1, hour: 3), Sentiments.neutral, [term("app", "app")]), // not negative
            ("m4", at(day: 1, hour: 4), Sentiments.negative, [term("refund", "refund")]),
            ("after", at(day: 2, hour: 1), Sentiments.negative, [term("refund", "refund")]), // after the window
        ]
        for comment in comments {
            _ = try await store.record(
                makeResponse(
                    comment.id, survey: nps, score: 3, at: comment.at, comment: "(comment)",
                    sentiment: comment.sentiment),
                terms: comment.terms)
        }
        return store
    }

    @Test("per day: comments counted per period, most common first, the most written form, up to 3 newest samples")
    func perDay() async throws {
        let store = try await seeded()
        let periods = ThemePeriods.split(from: at(day: 0), until: at(day: 2), period: .day)
        let expectedPeriods: [DateInterval?] = [
            DateInterval(start: at(day: 0), end: at(day: 1)), DateInterval(start: at(day: 1), end: at(day: 2)),
        ]
        #expect(periods == expectedPeriods)
        var filter = ThemeFilter()
        filter.from = at(day: 0)
        filter.until = at(day: 2)
        filter.period = .day
        let themes = try await store.themes(filter: filter, periods: periods)
        try #require(themes.count == 2)

        // Day 1: n1…n5 are negative; "deliveri" in 4 of them (3 × "delivery", 1 × "deliveries"), "late" and
        // "refund" in one each (ties by stem).
        let first = themes[0]
        #expect(first.start == at(day: 0) && first.end == at(day: 1) && first.comments == 5)
        #expect(first.themes.map(\.term) == ["delivery", "late", "refund"])
        #expect(first.themes.map(\.comments) == [4, 1, 1])
        #expect(first.themes.first?.sampleResponseIDs == ["n4", "n3", "n2"])
        #expect(first.themes.map { $0.sampleResponseIDs.count } == [3, 1, 1])

        // Day 2: m1, m2, m4 are negative; "refund" in all three (2 × "refund", 1 × "refunds"), "app" in m2 only.
        let second = themes[1]
        #expect(second.start == at(day: 1) && second.end == at(day: 2) && second.comments == 3)
        #expect(second.themes.map(\.term) == ["refund", "app"])
        #expect(second.themes.map(\.comments) == [3, 1])
        #expect(second.themes.first?.sampleResponseIDs == ["m4", "m2", "m1"])
        #expect(second.themes.last?.sampleResponseIDs == ["m2"])

        var top = filter
        top.limit = 1
        let topOnly = try await store.themes(filter: top, periods: periods)
        #expect(topOnly.map { $0.themes.map(\.term) } == [["delivery"], ["refund"]])
    }

    @Test("the whole window is one period; another label counts other comments")
    func wholeWindow() async throws {
        let store = try await seeded()
        var filter = ThemeFilter()
        filter.from = at(day: 0)
        filter.until = at(day: 2)
        let periods = ThemePeriods.split(from: at(day: 0), until: at(day: 2), period: .whole)
        let whole = try await store.themes(filter: filter, periods: periods)
        try #require(whole.count == 1)
        // 8 negative comments; "deliveri" and "refund" in 4 each (tie by stem), "app" and "late" in 1 each.
        #expect(whole[0].comments == 8)
        #expect(whole[0].themes.map(\.term) == ["delivery", "refund", "app", "late"])
        #expect(whole[0].themes.map(\.comments) == [4, 4, 1, 1])
        #expect(whole[0].themes.allSatisfy { $0.sampleResponseIDs.count <= 3 })

        var neutral = filter
        neutral.sentimentLabel = .neutral
        let neutralThemes = try await store.themes(filter: neutral, periods: periods)
        #expect(neutralThemes.map(\.comments) == [1])
        #expect(neutralThemes.first?.themes.map(\.term) == ["app"])
        #expect(neutralThemes.first?.themes.first?.sampleResponseIDs == ["m3"])
    }
}

@Suite("Feedback store: feature requests and churn reasons")
struct FeedbackStoreFeatureRequestTests {
    @Test("one vote per customer; a different request under a taken id and votes for unknown requests are refused")
    func votes() async throws {
        let store = try makeFeedbackStore()
        let dark = FeatureRequest(
            id: "fr-dark", title: "Dark mode", details: "Easier on the eyes at night",
            createdAt: at())
        let created = try await store.createFeatureRequest(dark, vote: featureVote("fr-dark", Customers.ada, at: at()))
        #expect(created.votes == 1 && created.status == .open && created.title == "Dark mode")
        #expect(created.createdAt == at() && created.updatedAt == at())

        let again = try await store.vote(featureVote("fr-dark", Customers.ada, at: at(hour: 1)))
        #expect(again.votes == 1 && again.updatedAt == at()) // nothing changed
        let second = try await store.vote(featureVote("fr-dark", Customers.sara, at: at(day: 1)))
        #expect(second.votes == 2 && second.updatedAt == at(day: 1))
        // Creating it again with ada's vote: the same request, still 2 votes.
        let recreated = try await store.createFeatureRequest(
            dark, vote: featureVote("fr-dark", Customers.ada, at: at()))
        #expect(recreated.votes == 2)

        var renamed = dark
        renamed.title = "Night mode"
        let different = renamed
        await #expect(throws: FeedbackError.featureRequestExists("fr-dark")) {
            _ = try await store.createFeatureRequest(different, vote: nil)
        }
        await #expect(throws: FeedbackError.featureRequestNotFound("fr-nope")) {
            _ = try await store.vote(featureVote("fr-nope", Customers.ada, at: at()))
        }
        #expect(try await rowCount(store, "feature_vote") == 2)
    }

    @Test("lists order by votes overall, or by the votes cast inside the window")
    func ordering() async throws {
        let store = try makeFeedbackStore()
        // fr-dark: ada on day 0 and sara on day 1; fr-export: ada on day 3; fr-sso: no votes.
        _ = try await store.createFeatureRequest(
            FeatureRequest(id: "fr-dark", title: "Dark mode", details: "", createdAt: at()),
            vote: featureVote("fr-dark", Customers.ada, at: at()))
        _ = try await store.vote(featureVote("fr-dark", Customers.sara, at: at(day: 1)))
        _ = try await store.createFeatureRequest(
            FeatureRequest(id: "fr-export", title: "CSV export", details: "", createdAt: at(hour: 2)), vote: nil)
        _ = try await store.vote(featureVote("fr-export", Customers.ada, at: at(day: 3)))
        _ = try await store.createFeatureRequest(
            FeatureRequest(id: "fr-sso", title: "Single sign-on", details: "", createdAt: at(hour: 3)), vote: nil)

        let byVotes = FeatureRequestFilter() // .votes is the default order
        let all = try await store.featureRequests(filter: byVotes, after: nil, limit: 10)
        #expect(all.items.map(\.tally.request.id) == ["fr-dark", "fr-export", "fr-sso"])
        #expect(all.items.map(\.tally.request.votes) == [2, 1, 0])
        #expect(all.items.map(\.tally.windowVotes) == [2, 1, 0]) // no window: every vote is inside it

        let page1 = try await store.featureRequests(filter: byVotes, after: nil, limit: 2)
        #expect(page1.items.map(\.tally.request.id) == ["fr-dark", "fr-export"] && page1.hasMore)
        let page2 = try await store.featureRequests(filter: byVotes, after: page1.items.last?.position, limit: 2)
        #expect(page2.items.map(\.tally.request.id) == ["fr-sso"] && !page2.hasMore)

        // Days 2–4 hold only ada's vote for fr-export; the others tie at 0, newest first.
        var window = FeatureRequestFilter()
        window.order = .windowVotes
        window.from = at(day: 2)
        window.until = at(day: 4)
        let windowed = try await store.featureRequests(filter: window, after: nil, limit: 10)
        #expect(windowed.items.map(\.tally.request.id) == ["fr-export", "fr-sso", "fr-dark"])
        #expect(windowed.items.map(\.tally.windowVotes) == [1, 0, 0])
        #expect(windowed.items.map(\.tally.request.votes) == [1, 0, 2])

        var sarasVotes = FeatureRequestFilter()
        sarasVotes.customerID = Customers.sara
        #expect(
            try await store.featureRequests(filter: sarasVotes, after: nil, limit: 10).items
                .map(\.tally.request.id) == ["fr-dark"])
    }

    @Test("a DUPLICATE status needs an existing original; a refused change writes nothing")
    func status() async throws {
        let store = try makeFeedbackStore()
        _ = try await store.createFeatureRequest(
            FeatureRequest(id: "fr-dark", title: "Dark mode", details: "", createdAt: at()), vote: nil)
        _ = try await store.createFeatureRequest(
            FeatureRequest(id: "fr-night", title: "Night mode", details: "", createdAt: at()), vote: nil)

        await #expect(throws: FeedbackError.featureRequestNotFound("fr-nope")) {
            _ = try await store.updateStatus(
                featureRequest: "fr-night", to: .duplicate, note: "same", duplicateOf: "fr-nope", at: at(hour: 1))
        }
        await #expect(throws: FeedbackError.featureRequestNotFound("fr-ghost")) {
            _ = try await store.updateStatus(
                featureRequest: "fr-ghost", to: .planned, note: "", duplicateOf: "",
                at: at(hour: 1))
        }
        let unchanged = try await store.writer.read { db in try store.fetchFeatureRequest(db, id: "fr-night") }
        #expect(unchanged?.status == .open && unchanged?.duplicateOfID == "" && unchanged?.updatedAt == at())
        #expect(try await rowCount(store, "feature_status_change") == 0)

        let duplicate = try await store.updateStatus(
            featureRequest: "fr-night", to: .duplicate, note: "same as dark mode", duplicateOf: "fr-dark",
            at: at(hour: 1))
        #expect(duplicate.status == .duplicate && duplicate.duplicateOfID == "fr-dark")
        #expect(duplicate.statusNote == "same as dark mode" && duplicate.updatedAt == at(hour: 1))
        let planned = try await store.updateStatus(
            featureRequest: "fr-night", to: .planned, note: "", duplicateOf: "", at: at(hour: 2))
        #expect(planned.status == .planned && planned.duplicateOfID.isEmpty)
        #expect(try await rowCount(store, "feature_status_change") == 2)

        var plannedOnly = FeatureRequestFilter()
        plannedOnly.statuses = [.planned]
        #expect(
            try await store.featureRequests(filter: plannedOnly, after: nil, limit: 10).items
                .map(\.tally.request.id) == ["fr-night"])
    }

    @Test("churn reasons are idempotent by id and tallied per window: categories most first, distinct customers")
    func churnReasons() async throws {
        let store = try makeFeedbackStore()
        let first = ChurnReason(
            id: "ch-1", customerID: Customers.ada, category: .price, text: "Too expensive for us",
            sentiment: Sentiments.negative, churnedAt: at(), channel: .phone, recordedBy: "csm-7",
            recordedAt: at(hour: 1))
        guard case .stored(let stored) = try await store.record(first) else {
            Issue.record("the churn reason was not stored")
            return
        }
        #expect(stored == first)
        var changed = first
        changed.category = .competitor
        changed.text = ""
        changed.sentiment = nil
        guard case .duplicate(let existing) = try await store.record(changed) else {
            Issue.record("the churn reason was stored a second time")
            return
        }
        #expect(existing == first)

        // Day 0: ada price (above) and competitor, sara price, nora price; day 10: sara support experience.
        for reason in [
            churn("ch-2", Customers.ada, .competitor, at: at(hour: 1)),
            churn("ch-3", Customers.sara, .price, at: at(hour: 2)),
            churn("ch-4", Customers.nora, .price, at: at(hour: 3)),
            churn("ch-5", Customers.sara, .supportExperience, at: at(day: 10)),
        ] {
            _ = try await store.record(reason)
        }
        let dayZero = try await store.churnReasonTally(from: at(), until: at(day: 1))
        #expect(
            dayZero.categories == [
                ChurnReasonCount(category: .price, reasons: 3, customers: 3),
                ChurnReasonCount(category: .competitor, reasons: 1, customers: 1),
            ])
        #expect(dayZero.reasons == 4 && dayZero.churnedCustomers == 3)

        let allTime = try await store.churnReasonTally(from: nil, until: nil)
        #expect(allTime.categories.map(\.category) == [.price, .competitor, .supportExperience])
        #expect(allTime.categories.map(\.reasons) == [3, 1, 1])
        #expect(allTime.reasons == 5 && allTime.churnedCustomers == 3)

        let nothing = try await store.churnReasonTally(from: at(day: 20), until: at(day: 30))
        #expect(nothing.categories.isEmpty && nothing.reasons == 0 && nothing.churnedCustomers == 0)
    }
}

@Suite("Feedback store: export and erasure")
struct FeedbackStorePrivacyTests {
    /// ada: five NPS answers (a2 with theme terms), votes for fr-dark (shared with sara) and fr-export, one churn
    /// reason; sara: one answer with a term and one vote.
    private func seeded() async throws -> FeedbackStore {
        let store = try makeFeedbackStore()
        let nps = makeSurvey("nps", .nps)
        _ = try await store.createSurvey(nps)
        _ = try await store.record(makeResponse("a1", survey: nps, score: 9, at: at()), terms: [])
        _ = try await store.record(
            makeResponse(
                "a2", survey: nps, score: 3, at: at(hour: 1), comment: "Late delivery",
                sentiment: Sentiments.negative),
            terms: [term("late", "late"), term("deliveri", "delivery")])
        _ = try await store.record(
            makeResponse(
                "s1", customer: Customers.sara, survey: nps, score: 5, at: at(hour: 2), comment: "Late again",
                sentiment: Sentiments.negative),
            terms: [term("late", "late")])
        for (id, hour) in [("a3", 3.0), ("a4", 4.0), ("a5", 5.0)] {
            _ = try await store.record(makeResponse(id, survey: nps, score: 8, at: at(hour: hour)), terms: [])
        }
        _ = try await store.createFeatureRequest(
            FeatureRequest(id: "fr-dark", title: "Dark mode", details: "", createdAt: at()),
            vote: featureVote("fr-dark", Customers.ada, at: at()))
        _ = try await store.vote(featureVote("fr-dark", Customers.sara, at: at(hour: 1)))
        _ = try await store.createFeatureRequest(
            FeatureRequest(id: "fr-export", title: "CSV export", details: "", createdAt: at(hour: 1)),
            vote: featureVote("fr-export", Customers.ada, at: at(hour: 2)))
        _ = try await store.record(churn("ch-ada", Customers.ada, .price, at: at(hour: 6)))
        return store
    }

    @Test("export delivers one customer's responses, votes and churn reasons in chunks of at most chunkSize")
    func exportInChunks() async throws {
        let store = try await seeded()
        var chunks: [FeedbackExportChunk] = []
        try await store.export(customer: Customers.ada, chunkSize: 2) { chunk in chunks.append(chunk) }
        let sizes = chunks.map { $0.responses.count + $0.votes.count + $0.churnReasons.count }
        // Responses 2 + 2 + 1, then both votes, then the churn reason.
        #expect(sizes == [2, 2, 1, 2, 1])
        #expect(sizes.allSatisfy { $0 <= 2 })
        #expect(chunks.map(\.responses.count) == [2, 2, 1, 0, 0])
        #expect(chunks.flatMap(\.responses).map(\.id) == ["a1", "a2", "a3", "a4", "a5"])
        #expect(chunks.flatMap(\.responses).allSatisfy { $0.customerID == Customers.ada })
        #expect(chunks.flatMap(\.votes).map(\.featureRequestTitle) == ["Dark mode", "CSV export"])
        #expect(chunks.flatMap(\.churnReasons).map(\.id) == ["ch-ada"])
    }

    @Test("erasure removes responses with their terms, votes (off the tallies) and churn reasons, and is idempotent")
    func erase() async throws {
        let store = try await seeded()
        let erased = try await store.erase(customer: Customers.ada)
        #expect(erased.responses == 5 && erased.votes == 2 && erased.churnReasons == 1)

        let left = try await store.responses(filter: ResponseFilter(), after: nil, limit: 10)
        #expect(left.items.map(\.response.id) == ["s1"])
        #expect(try await rowCount(store, "response_term") == 1) // sara's "late"
        let requests = try await store.featureRequests(filter: FeatureRequestFilter(), after: nil, limit: 10)
        #expect(requests.items.map(\.tally.request.id) == ["fr-dark", "fr-export"])
        #expect(requests.items.map(\.tally.request.votes) == [1, 0])
        var adasVotes = FeatureRequestFilter()
        adasVotes.customerID = Customers.ada
        #expect(try await store.featureRequests(filter: adasVotes, after: nil, limit: 10).items.isEmpty)
        let tally = try await store.churnReasonTally(from: nil, until: nil)
        #expect(tally.reasons == 0 && tally.categories.isEmpty)
        var exported = 0
        try await store.export(customer: Customers.ada, chunkSize: 2) { _ in exported += 1 }
        #expect(exported == 0)

        let again = try await store.erase(customer: Customers.ada)
        #expect(again.responses == 0 && again.votes == 0 && again.churnReasons == 0)
        let after = try await store.featureRequests(filter: FeatureRequestFilter(), after: nil, limit: 10)
        #expect(after.items.map(\.tally.request.votes) == [1, 0])
    }
}

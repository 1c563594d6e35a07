import C360Clients
import C360Contracts
import C360ServerKit
import C360StoreKit
import C360TestSupport
import Foundation
import GRDB
import Testing

@testable import C360ChangeFeed
@testable import C360Feedback

/// feedback-service's customers move between shards whole (`SlotMoves` over `FeedbackStore`): responses with their
/// theme terms, votes in the tallies, churn reasons; sealed text readable under the target's keys. Surveys and feature
/// requests are on both shards already (broadcast), as in production.
@Suite("Moving feedback-service customers between shards (SlotMoves)")
struct FeedbackSlotMoveTests {
    /// Two feedback stores as feedback-0 (owning every slot) and feedback-1 of one map file, holding the same
    /// reference data.
    typealias TwoShards = TwoShardStores<FeedbackStore>

    private static func vote(_ customerID: String) -> FeatureVote {
        FeatureVote(
            featureRequestID: "fr-dark", customerID: customerID, comment: "I read at night", channel: .app,
            votedAt: Fixed.now)
    }

    private static func tally(_ store: FeedbackStore) async throws -> Int {
        try await store.featureRequests(filter: FeatureRequestFilter(), after: nil, limit: 10).items.first?.tally
            .request.votes ?? -1
    }

    @Test("a customer's responses with their themes, vote and churn reason move whole, readable, counted once")
    func customerMovesWhole() async throws {
        let shards = try await TwoShards()
        defer { try? FileManager.default.removeItem(at: shards.mapFile) }
        let store = shards.source
        var response = makeResponse(
            "r-ada", survey: shards.survey, score: 3, at: Fixed.now, comment: "Delivery was late",
            sentiment: Sentiments.negative)
        response.recordedAt = Fixed.now
        _ = try await store.record(
            response,
            terms: [
                ThemeExtractor.Term(stem: "deliveri", surface: "Delivery"), .init(stem: "late", surface: "late"),
            ])
        _ = try await store.record(
            makeResponse("r-sara", customer: Customers.sara, survey: shards.survey, score: 9, at: Fixed.now), terms: [])
        _ = try await store.vote(Self.vote(Customers.ada))
        _ = try await store.record(
            ChurnReason(
                id: "churn-ada", customerID: Customers.ada, category: .price, text: "Too expensive for us",
                sentiment: nil, churnedAt: Fixed.now, channel: .email, recordedBy: "csm-1", recordedAt: Fixed.now))
        #expect(try await Self.tally(store) == 1)

        // The target's own customer wrote of delivery too: themes are counted by a blind index of the stem, keyed
        // per shard, so the moved terms must be indexed again to count with these.
        _ = try await shards.target.record(
            makeResponse(
                "r-nora", customer: Customers.nora, survey: shards.survey, score: 2, at: Fixed.now,
                comment: "delivery again", sentiment: Sentiments.negative),
            terms: [ThemeExtractor.Term(stem: "deliveri", surface: "delivery")])

        let page = try await shards.sourceMoves.exportSlots(.with { $0.slots = ["0-1023"] })
        #expect(Set(page.customers.map(\.customerID)) == [Customers.ada, Customers.sara])
        let ada = try #require(page.customers.first { $0.customerID == Customers.ada })
        #expect(
            Set(ada.tables.map(\.name)) == ["survey_response", "response_term", "feature_vote", "churn_reason"],
            "\(ada.tables.map(\.name))")
        _ = try await shards.targetMoves.importSlotCustomers(.with { $0.customers = page.customers })
        // Copied twice (a mover restarted), it is still one copy, and the vote is counted once.
        _ = try await shards.targetMoves.importSlotCustomers(.with { $0.customers = page.customers })

        let target = shards.target
        var adas = ResponseFilter()
        adas.customerID = Customers.ada
        let responses = try await target.responses(filter: adas, after: nil, limit: 10).items.map(\.response)
        #expect(responses.map(\.id) == ["r-ada"])
        #expect(responses.first?.comment == "Delivery was late", "sealed, opened under the target's key")
        #expect(try await Self.tally(target) == 1)
        var themes = ThemeFilter()
        themes.limit = 5
        let top = try await target.themes(filter: themes, periods: [nil])
        #expect(top.first?.themes.map(\.comments) == [2, 1], "theme terms came with their response, counted as one")
        #expect(top.first?.themes.last?.term == "late")
        #expect(Set(top.first?.themes.first?.sampleResponseIDs ?? []) == ["r-ada", "r-nora"])
        let tally = try await target.churnReasonTally(from: nil, until: nil)
        #expect(tally.reasons == 1 && tally.churnedCustomers == 1)

        // The source gives the slots away: the map moves them, then the drop deletes the rows and the vote's count.
        try ShardMap(
            epoch: 2,
            services: [
                "feedback-service": [
                    .init(shard: "feedback-0", address: "127.0.0.1:1", slots: []),
                    .init(shard: "feedback-1", address: "127.0.0.1:2", slots: ["0-1023"]),
                ]
            ]
        ).json.write(to: shards.mapFile)
        #expect(try #require(shards.sourceMoves.shards).source.reload().epoch == 2)
        let dropped = try await shards.sourceMoves.dropSlots(.with { $0.slots = ["0-1023"] })
        #expect(dropped.dropped == 2 && dropped.done)
        #expect(try await Self.tally(store) == 0)
        #expect(try await store.responses(filter: ResponseFilter(), after: nil, limit: 10).items.isEmpty)
        let leftTerms = try await store.writer.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM response_term") ?? -1
        }
        #expect(leftTerms == 0)
    }

    /// What both shards count across customers, each as the gateway adds them.
    private struct Counted: Equatable {
        var responses = 0
        var votes = 0
        var churned = 0
        var listed: [String] = []
        var themeComments = 0

        init(_ store: FeedbackStore) async throws {
            responses = try await store.scores(filter: ScoreFilter(), groupedBy: []).overall.responses
            votes = try await FeedbackSlotMoveTests.tally(store)
            churned = try await store.churnReasonTally(from: nil, until: nil).reasons
            listed = try await store.responses(filter: ResponseFilter(), after: nil, limit: 10).items.map(\.response.id)
            var themes = ThemeFilter()
            themes.limit = 5
            themeComments = try await store.themes(filter: themes, periods: [nil]).first?.comments ?? -1
        }

        init(responses: Int, votes: Int, churned: Int, listed: [String], themeComments: Int) {
            (self.responses, self.votes, self.churned, self.listed, self.themeComments) =
                (responses, votes, churned, listed, themeComments)
        }
    }

    @Test(
        "reads across customers count a move's copies on the target only once the map gives it their slots, and on the source only until then"
    )
    func readsAcrossCustomersCountEachCustomerOnce() async throws {
        let shards = try await TwoShards(countingOwnSlots: true)
        defer { try? FileManager.default.removeItem(at: shards.mapFile) }
        // ada's response, vote and churn reason on the source; nora's response on the target, written before it took
        // any slot (only the map says whose a row is).
        _ = try await shards.source.record(
            makeResponse(
                "r-ada", survey: shards.survey, score: 3, at: Fixed.now, comment: "late", sentiment: Sentiments.negative
            ),
            terms: [ThemeExtractor.Term(stem: "late", surface: "late")])
        _ = try await shards.source.vote(Self.vote(Customers.ada))
        _ = try await shards.source.record(
            ChurnReason(
                id: "churn-ada", customerID: Customers.ada, category: .price, text: "Too expensive",
                sentiment: nil, churnedAt: Fixed.now, channel: .email, recordedBy: "csm-1", recordedAt: Fixed.now))
        _ = try await shards.target.record(
            makeResponse(
                "r-nora", customer: Customers.nora, survey: shards.survey, score: 2, at: Fixed.now, comment: "late",
                sentiment: Sentiments.negative),
            terms: [ThemeExtractor.Term(stem: "late", surface: "late")])
        let ada = Counted(responses: 1, votes: 1, churned: 1, listed: ["r-ada"], themeComments: 1)
        let none = Counted(responses: 0, votes: 0, churned: 0, listed: [], themeComments: 0)
        let both = Counted(responses: 2, votes: 1, churned: 1, listed: ["r-nora", "r-ada"], themeComments: 2)

        // When ada is copied to the target, the copy counts nowhere yet: the source still owns her
        let page = try await shards.sourceMoves.exportSlots(.with { $0.slots = ["0-1023"] })
        _ = try await shards.targetMoves.importSlotCustomers(
            .with { $0.customers = page.customers.filter { $0.customerID == Customers.ada } })
        #expect(try await Counted(shards.source) == ada)
        #expect(try await Counted(shards.target) == none, "nora's, written before it took any slot, too")

        // When the map gives the slots to the target, she counts there, and no longer on the source, which holds her
        // rows until the drop
        _ = try await shards.sourceMoves.fenceSlots(shards.map.fenceEverySlot)
        #expect(try await Counted(shards.source) == ada, "fenced, still the source's")
        try shards.map.giveEverySlotToTarget()
        #expect(try await Counted(shards.source) == none)
        #expect(try await Counted(shards.target) == both)

        // And after the drop, the shards hold only what they own again: nothing filters
        let dropped = try await shards.sourceMoves.dropSlots(.with { $0.slots = ["0-1023"] })
        #expect(dropped.dropped == 1 && dropped.done)
        #expect(try await Counted(shards.source) == none)
        #expect(try await Counted(shards.target) == both)
        let held = try await shards.source.writer.read { db in try SlotCopies.held(db) }
        #expect(held.isEmpty, "the drop lifted the fence")
    }

    @Test("a shard new to the map takes the surveys and feature requests first, counting only its own votes")
    func newShardTakesReferenceData() async throws {
        let shards = try await TwoShards(targetHoldsReferenceData: false)
        defer { try? FileManager.default.removeItem(at: shards.mapFile) }
        _ = try await shards.source.record(
            makeResponse("r-ada", survey: shards.survey, score: 9, at: Fixed.now), terms: [])
        _ = try await shards.source.vote(Self.vote(Customers.ada))
        _ = try await shards.source.vote(Self.vote(Customers.sara))
        let page = try await shards.sourceMoves.exportSlots(.with { $0.slots = ["0-1023"] })
        // Without the survey and the request, the target cannot hold rows that refer to them.
        await #expect(throws: (any Error).self) {
            _ = try await shards.targetMoves.importSlotCustomers(.with { $0.customers = page.customers })
        }
        let reference = try await shards.sourceMoves.exportSlots(
            .with {
                $0.slots = ["0-1023"]
                $0.referenceData = true
            })
        #expect(reference.referenceTables.map(\.name) == ["survey", "feature_request"])
        #expect(!(reference.referenceTables.last?.columns.contains("votes") ?? true), "each shard counts its own")
        // Twice, as a restarted mover would: rows already there are kept.
        for _ in 0..<2 {
            _ = try await shards.targetMoves.importSlotCustomers(
                .with { $0.referenceTables = reference.referenceTables })
        }
        #expect(try await shards.target.survey(id: "nps-email") == shards.survey)
        #expect(try await Self.tally(shards.target) == 0)
        // Only ada moves: one of the two votes joins the target's tally.
        let ada = page.customers.filter { $0.customerID == Customers.ada }
        _ = try await shards.targetMoves.importSlotCustomers(.with { $0.customers = ada })
        #expect(try await Self.tally(shards.target) == 1)
        await #expect(throws: (any Error).self) {
            _ = try await shards.targetMoves.importSlotCustomers(
                .with { $0.referenceTables = [.with { $0.name = "survey_response" }] })
        }
        // A retire the target missed comes with the next copy; an active survey never revives a retired one.
        _ = try await shards.source.retireSurvey(id: "nps-email")
        let retired = try await shards.sourceMoves.exportSlots(
            .with {
                $0.slots = ["0-1023"]
                $0.referenceData = true
            })
        _ = try await shards.targetMoves.importSlotCustomers(.with { $0.referenceTables = retired.referenceTables })
        #expect(try await shards.target.survey(id: "nps-email").active == false)
        _ = try await shards.targetMoves.importSlotCustomers(.with { $0.referenceTables = reference.referenceTables })
        #expect(try await shards.target.survey(id: "nps-email").active == false, "retired stays retired")
    }

    @Test(
        "a merged customer's vote handed over to a survivor who voted for the same request is dropped, and an unmerge gives each their own back"
    )
    func handoverOfADoubleVote() async throws {
        let shards = try await TwoShards()
        defer { try? FileManager.default.removeItem(at: shards.mapFile) }
        // nora's vote on the source; ada, the survivor, voted for the same request on the target.
        _ = try await shards.source.vote(
            FeatureVote(
                featureRequestID: "fr-dark", customerID: Customers.nora, comment: "nora's reason", channel: .email,
                votedAt: Fixed.day0))
        _ = try await shards.target.vote(Self.vote(Customers.ada))
        // The source applies the merge of nora into ada: nora's vote is now ada's, journaled as moved.
        try await shards.source.writer.write { db in
            try FeedbackStore.rekey(db, merged: Customers.nora, survivor: Customers.ada)
        }
        let page = try await shards.sourceMoves.exportSlots(.with { $0.slots = ["0-1023"] })
        let ada = try #require(page.customers.first { $0.customerID == Customers.ada })
        // The target owns ada: the handover appends her rows there, twice, as a resent handover would.
        try ShardMap(
            epoch: 2,
            services: [
                "feedback-service": [
                    .init(shard: "feedback-0", address: "127.0.0.1:1", slots: []),
                    .init(shard: "feedback-1", address: "127.0.0.1:2", slots: ["0-1023"]),
                ]
            ]
        ).json.write(to: shards.mapFile)
        _ = try #require(shards.targetMoves.shards).source.reload()
        for _ in 0..<2 {
            _ = try await shards.targetMoves.importSlotCustomers(
                .with {
                    $0.customers = [ada]
                    $0.append = true
                })
        }
        #expect(try await Self.tally(shards.target) == 1, "a merged customer counts once")
        func voters() async throws -> [String] {
            try await shards.target.writer.read { db in
                try String.fetchAll(
                    db,
                    sql: "SELECT customerId FROM feature_vote WHERE featureRequestId = 'fr-dark' ORDER BY customerId")
            }
        }
        #expect(try await voters() == [Customers.ada])
        try await shards.target.writer.write { db in
            try FeedbackStore.unrekey(db, merged: Customers.nora, survivor: Customers.ada)
        }
        #expect(try await voters() == [Customers.ada, Customers.nora].sorted(), "each has their own vote again")
        #expect(try await Self.tally(shards.target) == 2)
        let adasVote = try await shards.target.writer.read { db in
            try Int64.fetchOne(
                db, sql: "SELECT votedAt FROM feature_vote WHERE customerId = ? AND featureRequestId = 'fr-dark'",
                arguments: [Customers.ada])
        }
        #expect(adasVote == Fixed.now.unixMillis, "ada kept the vote she cast, not nora's")
    }

    @Test("a merge moves theme terms with their responses and an unmerge moves them back")
    func mergeMovesTerms() async throws {
        let store = try makeFeedbackStore()
        let survey = makeSurvey("nps-email", .nps)
        _ = try await store.createSurvey(survey)
        _ = try await store.record(
            makeResponse("r-nora", customer: Customers.nora, survey: survey, score: 2, at: Fixed.now, comment: "slow"),
            terms: [ThemeExtractor.Term(stem: "slow", surface: "slow")])
        func owners() async throws -> [String] {
            try await store.writer.read { db in
                try String.fetchAll(db, sql: "SELECT customerId FROM response_term")
            }
        }
        try await store.writer.write { db in
            try FeedbackStore.rekey(db, merged: Customers.nora, survivor: Customers.ada)
        }
        #expect(try await owners() == [Customers.ada])
        try await store.writer.write { db in
            try FeedbackStore.unrekey(db, merged: Customers.nora, survivor: Customers.ada)
        }
        #expect(try await owners() == [Customers.nora])
    }
}

extension TwoShardStores<FeedbackStore> {
    /// The survey and the feature request each test's responses and votes refer to.
    var survey: Survey { makeSurvey("nps-email", .nps) }
    var feature: FeatureRequest {
        FeatureRequest(id: "fr-dark", title: "Dark mode", details: "At night", createdAt: Fixed.day0)
    }

    /// - Parameters:
    ///   - targetHoldsReferenceData: Whether the target has the survey and the feature request already (a shard that
    ///     was in the map when they were created), or must take them from the source first.
    ///   - countingOwnSlots: Each store's reads across customers keep to the slots its shard owns, as in a
    ///     deployment (`CustomerOwnership.slots`); otherwise they count every row held.
    init(targetHoldsReferenceData: Bool = true, countingOwnSlots: Bool = false) async throws {
        try self.init(service: "feedback-service", shardPrefix: "feedback") { map, shards in
            try makeFeedbackStore(owned: map.ownedSlots(shards, countingOwnSlots: countingOwnSlots))
        }
        for store in targetHoldsReferenceData ? [source, target] : [source] {
            _ = try await store.createSurvey(survey)
            _ = try await store.createFeatureRequest(feature, vote: nil)
        }
    }
}

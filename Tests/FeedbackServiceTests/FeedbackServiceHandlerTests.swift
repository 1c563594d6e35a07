import C360Clients
import C360Contracts
import C360ServerKit
import C360StoreKit
import C360TestSupport
import Foundation
import GRPCCore
import GRPCInProcessTransport
import SwiftProtobuf
import Testing

@testable import C360Feedback

private typealias Client = Customer360_V1_FeedbackService.Client<InProcessTransport.Client>

/// Runs `body` against a FeedbackService whose clock stands still at `Fixed.now` and whose profile directory knows
/// ada and sara and maps the merged-away id to ada.
private func withFeedbackClient(_ body: @Sendable (Client) async throws -> Void) async throws {
    let directory = StaticCustomerDirectory(
        customers: [Customers.ada, Customers.sara],
        merged: [Customers.mergedAway: Customers.ada])
    let service = FeedbackService(store: try makeFeedbackStore(), customers: directory, now: { Fixed.now })
    try await InProcessServer.withClient(serving: [service]) { client in
        try await body(Customer360_V1_FeedbackService.Client(wrapping: client))
    }
}

/// A valid CreateSurvey request (an English NPS survey by email on the fixed scale) unless told otherwise.
private func surveyRequest(
    _ id: String, type: Customer360_V1_SurveyType = .nps, language: String = "en",
    channel: Customer360_V1_Channel = .email, scaleMin: Int32 = 0, scaleMax: Int32 = 0
) -> Customer360_V1_CreateSurveyRequest {
    .with {
        $0.surveyID = id
        $0.surveyType = type
        $0.name = "\(id) survey"
        $0.question = "How likely are you to recommend us to a friend?"
        $0.language = language
        $0.channel = channel
        $0.scaleMin = scaleMin
        $0.scaleMax = scaleMax
    }
}

/// A RecordResponse request, answered an hour before `Fixed.now` unless told otherwise.
private func answer(
    _ responseID: String, customer: String = Customers.ada, survey: String = "nps", score: Int32,
    at answeredAt: Date = Fixed.now.addingTimeInterval(-Fixed.hour), comment: String = "", language: String = "",
    channel: Customer360_V1_Channel = .unspecified
) -> Customer360_V1_RecordResponseRequest {
    .with {
        $0.customerID = customer
        $0.responseID = responseID
        $0.surveyID = survey
        $0.score = score
        $0.answeredAt = Google_Protobuf_Timestamp(date: answeredAt)
        $0.comment = comment
        $0.commentLanguage = language
        $0.channel = channel
    }
}

/// Every stored response id (all customers), newest answered first.
private func storedResponseIDs(_ feedback: Client) async throws -> [String] {
    try await feedback.listResponses(Customer360_V1_ListResponsesRequest()).responses.map(\.responseID)
}

private func timeRange(from start: Date, until end: Date) -> Customer360_V1_TimeRange {
    .with {
        $0.start = Google_Protobuf_Timestamp(date: start)
        $0.end = Google_Protobuf_Timestamp(date: end)
    }
}

@Suite("FeedbackService RPCs")
struct FeedbackServiceHandlerTests {
    /// One way to break an otherwise valid CreateSurvey request, and the field the answer must name.
    enum SurveyBreakage: String, CaseIterable, Sendable {
        case unspecifiedType, npsOnOneToFive, customMinNotBelowMax, unknownLanguage

        var field: String {
            switch self {
            case .unspecifiedType: "survey_type"
            case .npsOnOneToFive: "scale_min"
            case .customMinNotBelowMax: "scale_max"
            case .unknownLanguage: "language"
            }
        }

        var request: Customer360_V1_CreateSurveyRequest {
            switch self {
            case .unspecifiedType: surveyRequest("bad", type: .unspecified)
            case .npsOnOneToFive: surveyRequest("bad", type: .nps, scaleMin: 1, scaleMax: 5)
            case .customMinNotBelowMax: surveyRequest("bad", type: .custom, scaleMin: 5, scaleMax: 5)
            case .unknownLanguage: surveyRequest("bad", language: "zz")
            }
        }
    }

    @Test(
        "CreateSurvey refuses a malformed definition with INVALID_ARGUMENT naming the field, and stores nothing",
        arguments: SurveyBreakage.allCases)
    func invalidSurvey(breakage: SurveyBreakage) async throws {
        try await withFeedbackClient { feedback in
            let error = await #expect(throws: RPCError.self) { _ = try await feedback.createSurvey(breakage.request) }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.hasPrefix("\(breakage.field):") == true, "\(error?.message ?? "")")
            let surveys = try await feedback.listSurveys(.with { $0.includeInactive = true })
            #expect(surveys.surveys.isEmpty)
        }
    }

    @Test("CreateSurvey fills in the fixed scale, is idempotent, and refuses another definition under the same id")
    func createSurvey() async throws {
        try await withFeedbackClient { feedback in
            let created = try await feedback.createSurvey(surveyRequest("nps"))
            #expect(created.surveyID == "nps" && created.surveyType == .nps && created.active)
            #expect(created.scaleMin == 0 && created.scaleMax == 10 && created.createdAt.date == Fixed.now)
            let again = try await feedback.createSurvey(surveyRequest("nps"))
            #expect(again == created) // the stored survey, unchanged
            let taken = await #expect(throws: RPCError.self) {
                _ = try await feedback.createSurvey(surveyRequest("nps", channel: .sms))
            }
            #expect(taken?.code == .alreadyExists)
            let custom = try await feedback.createSurvey(
                surveyRequest("effort", type: .custom, scaleMin: -2, scaleMax: 2))
            #expect(custom.surveyType == .custom && custom.scaleMin == -2 && custom.scaleMax == 2)
        }
    }

    /// Out of scale → INVALID_ARGUMENT and nothing stored; unknown survey → NOT_FOUND; unknown customer →
    /// FAILED_PRECONDITION; a merged-away id → stored under the survivor.
    @Test(
        "RecordResponse checks the score, the survey and the customer; a merged-away id is stored under the survivor; a reused response_id with another score is refused"
    )
    func recordResponseChecks() async throws {
        try await withFeedbackClient { feedback in
            _ = try await feedback.createSurvey(surveyRequest("nps"))
            for score: Int32 in [11, -1] {
                let error = await #expect(throws: RPCError.self) {
                    _ = try await feedback.recordResponse(answer("r1", score: score))
                }
                #expect(error?.code == .invalidArgument)
                #expect(error?.message.hasPrefix("score:") == true, "\(error?.message ?? "")")
            }
            #expect(try await storedResponseIDs(feedback).isEmpty)

            let unknownSurvey = await #expect(throws: RPCError.self) {
                _ = try await feedback.recordResponse(answer("r2", survey: "no-such-survey", score: 9))
            }
            #expect(unknownSurvey?.code == .notFound)
            let unknownCustomer = await #expect(throws: RPCError.self) {
                _ = try await feedback.recordResponse(answer("r3", customer: Customers.unknown, score: 9))
            }
            #expect(unknownCustomer?.code == .failedPrecondition)
            #expect(unknownCustomer?.message.contains("not known to profile-service") == true)
            #expect(try await storedResponseIDs(feedback).isEmpty)

            let merged = try await feedback.recordResponse(answer("r4", customer: Customers.mergedAway, score: 9))
            #expect(!merged.duplicate && merged.response.customerID == Customers.ada)
            #expect(merged.response.npsCategory == .promoter && merged.response.channel == .email)
            #expect(merged.response.surveyLanguage == "en" && !merged.response.hasSentiment)
            let retried = try await feedback.recordResponse(answer("r4", customer: Customers.mergedAway, score: 9))
            #expect(retried.duplicate && retried.response.score == 9)
            let reused = await #expect(throws: RPCError.self) {
                _ = try await feedback.recordResponse(answer("r4", customer: Customers.mergedAway, score: 2))
            }
            #expect(reused?.code == .alreadyExists)
            #expect(reused?.message.contains("response_id 'r4'") == true, "\(reused?.message ?? "")")
            #expect(reused?.message.contains("(its score differs)") == true, "\(reused?.message ?? "")")
            let adas = try await feedback.listResponses(.with { $0.customerID = Customers.ada })
            #expect(adas.responses.map(\.responseID) == ["r4"])
        }
    }

    @Test("RecordResponse needs answered_at, at most 5 minutes ahead of the clock")
    func answeredAt() async throws {
        try await withFeedbackClient { feedback in
            _ = try await feedback.createSurvey(surveyRequest("nps"))
            var missing = answer("r1", score: 9)
            missing.clearAnsweredAt()
            let farAhead = answer("r2", score: 9, at: Fixed.now.addingTimeInterval(301))
            for request in [missing, farAhead] {
                let error = await #expect(throws: RPCError.self) { _ = try await feedback.recordResponse(request) }
                #expect(error?.code == .invalidArgument)
                #expect(error?.message.hasPrefix("answered_at:") == true, "\(error?.message ?? "")")
            }
            #expect(try await storedResponseIDs(feedback).isEmpty)
            // Four minutes ahead is clock skew, not the future.
            let skewed = try await feedback.recordResponse(
                answer("r3", score: 9, at: Fixed.now.addingTimeInterval(240)))
            #expect(skewed.response.answeredAt.date == Fixed.now.addingTimeInterval(240))
        }
    }

    @Test("a Persian comment is read as Persian with a sentiment; comment_language de is refused")
    func commentLanguage() async throws {
        try await withFeedbackClient { feedback in
            _ = try await feedback.createSurvey(surveyRequest("nps")) // an English survey: the language is detected
            let persian = "ارسال خیلی دیر بود و پشتیبانی هیچ جوابی نداد"
            let recorded = try await feedback.recordResponse(
                answer("r1", customer: Customers.sara, score: 4, comment: persian))
            #expect(recorded.response.comment == persian)
            #expect(recorded.response.commentLanguage == "fa")
            #expect(recorded.response.hasSentiment && recorded.response.sentiment.language == "fa")
            #expect(recorded.response.sentiment.label != .unspecified)
            #expect((-1.0...1.0).contains(recorded.response.sentiment.score))

            let german = await #expect(throws: RPCError.self) {
                _ = try await feedback.recordResponse(
                    answer("r2", score: 4, comment: "Die Lieferung kam viel zu spät", language: "de"))
            }
            #expect(german?.code == .invalidArgument)
            #expect(german?.message.hasPrefix("comment_language:") == true, "\(german?.message ?? "")")
            #expect(try await storedResponseIDs(feedback) == ["r1"])

            let plain = try await feedback.recordResponse(answer("r3", score: 10))
            #expect(plain.response.commentLanguage.isEmpty && !plain.response.hasSentiment)
        }
    }

    @Test("GetScores grouped by CHANNEL: NPS 10 and 6 by email, 9 in chat; CSAT 5 and 2 in the app")
    func scoresByChannel() async throws {
        try await withFeedbackClient { feedback in
            let now = Fixed.now
            let hour = Fixed.hour
            let day = Fixed.day
            _ = try await feedback.createSurvey(surveyRequest("nps", channel: .email))
            _ = try await feedback.createSurvey(surveyRequest("csat", type: .csat, language: "fa", channel: .app))
            _ = try await feedback.recordResponse(answer("n1", survey: "nps", score: 10, at: now - 5 * hour))
            _ = try await feedback.recordResponse(
                answer("n2", customer: Customers.sara, survey: "nps", score: 6, at: now - 4 * hour))
            _ = try await feedback.recordResponse(
                answer("n3", survey: "nps", score: 9, at: now - 3 * hour, channel: .chat))
            _ = try await feedback.recordResponse(answer("c1", survey: "csat", score: 5, at: now - 2 * hour))
            _ = try await feedback.recordResponse(
                answer("c2", customer: Customers.sara, survey: "csat", score: 2, at: now - hour))

            let window = timeRange(from: now - day, until: now)
            let scores = try await feedback.getScores(
                .with {
                    $0.window = window
                    $0.groupBy = [.channel]
                })
            #expect(scores.window == window)
            // 2 promoters and 1 detractor of 3: NPS (2 − 1) / 3 × 100 = 33.3…; CSAT 1 of 2 satisfied: 50 %.
            let overall = scores.overall
            #expect(overall.responses == 5 && overall.customResponses == 0)
            #expect(overall.nps.responses == 3 && overall.nps.promoters == 2 && overall.nps.passives == 0)
            #expect(overall.nps.detractors == 1)
            #expect(overall.nps.hasNps && abs(overall.nps.nps - 100.0 / 3.0) < 1e-9)
            #expect(overall.csat.responses == 2 && overall.csat.satisfied == 1)
            #expect(overall.csat.hasCsatPercent && abs(overall.csat.csatPercent - 50) < 1e-9)
            #expect(overall.ces.responses == 0 && !overall.ces.hasCesMean)

            #expect(scores.groups.map(\.channel) == [.app, .chat, .email])
            #expect(scores.groups.allSatisfy { $0.surveyID.isEmpty && $0.language.isEmpty })
            try #require(scores.groups.count == 3)
            let app = scores.groups[0].aggregate
            #expect(app.responses == 2 && app.csat.satisfied == 1 && abs(app.csat.csatPercent - 50) < 1e-9)
            #expect(app.nps.responses == 0 && !app.nps.hasNps)
            let chat = scores.groups[1].aggregate
            #expect(chat.responses == 1 && chat.nps.promoters == 1 && abs(chat.nps.nps - 100) < 1e-9)
            #expect(!chat.csat.hasCsatPercent)
            let email = scores.groups[2].aggregate
            #expect(email.responses == 2 && email.nps.promoters == 1 && email.nps.detractors == 1)
            #expect(email.nps.hasNps && abs(email.nps.nps) < 1e-9)

            let empty = try await feedback.getScores(
                .with {
                    $0.window = timeRange(from: now - 30 * day, until: now - 20 * day)
                    $0.groupBy = [.channel]
                })
            #expect(empty.overall.responses == 0 && empty.groups.isEmpty)
            #expect(!empty.overall.nps.hasNps && !empty.overall.csat.hasCsatPercent && !empty.overall.ces.hasCesMean)
            #expect(!empty.overall.sentiment.hasMeanScore)
        }
    }

    @Test("GetCustomerScores: NPS 9 then 3 is DECLINING, previous score 9, latest category DETRACTOR")
    func customerTrend() async throws {
        try await withFeedbackClient { feedback in
            _ = try await feedback.createSurvey(surveyRequest("nps"))
            _ = try await feedback.recordResponse(answer("r1", score: 9, at: Fixed.now - 2 * Fixed.hour))
            _ = try await feedback.recordResponse(answer("r2", score: 3, at: Fixed.now - Fixed.hour))
            // Asked under the merged-away id: the survivor's scores.
            let scores = try await feedback.getCustomerScores(.with { $0.customerID = Customers.mergedAway })
            #expect(scores.customerID == Customers.ada && scores.responses == 2)
            #expect(scores.hasNps && scores.nps.responses == 2 && scores.nps.latestScore == 3)
            #expect(scores.nps.hasPreviousScore && scores.nps.previousScore == 9)
            #expect(scores.nps.trend == .declining)
            #expect(abs(scores.nps.value) < 1e-9) // one promoter, one detractor: (1 − 1) / 2 × 100
            #expect(scores.latestNpsCategory == .detractor)
            #expect(!scores.hasCsat && !scores.hasCes && !scores.hasSentiment)
            #expect(scores.lastAnsweredAt.date == Fixed.now - Fixed.hour)
        }
    }

    @Test("GetCustomerScores with recent_comments: the newest commented responses first, none without asking, ≤ 50")
    func customerRecentComments() async throws {
        try await withFeedbackClient { feedback in
            _ = try await feedback.createSurvey(surveyRequest("nps"))
            _ = try await feedback.recordResponse(
                answer("old", score: 9, at: Fixed.now - 5 * Fixed.hour, comment: "Great support"))
            _ = try await feedback.recordResponse(answer("silent", score: 7, at: Fixed.now - 3 * Fixed.hour))
            _ = try await feedback.recordResponse(
                answer("mid", score: 4, at: Fixed.now - 2 * Fixed.hour, comment: "Slow delivery"))
            _ = try await feedback.recordResponse(
                answer("new", score: 2, at: Fixed.now - Fixed.hour, comment: "The app crashes"))

            let plain = try await feedback.getCustomerScores(.with { $0.customerID = Customers.ada })
            #expect(plain.recentComments.isEmpty && plain.responses == 4)
            let two = try await feedback.getCustomerScores(
                .with {
                    $0.customerID = Customers.ada
                    $0.recentComments = 2
                })
            #expect(two.recentComments.map(\.responseID) == ["new", "mid"])
            #expect(two.recentComments.first?.comment == "The app crashes")
            let inWindow = try await feedback.getCustomerScores(
                .with {
                    $0.customerID = Customers.ada
                    $0.recentComments = 50
                    $0.window = timeRange(from: Fixed.now - 6 * Fixed.hour, until: Fixed.now - 90 * 60)
                })
            #expect(inWindow.recentComments.map(\.responseID) == ["mid", "old"])

            let error = await #expect(throws: RPCError.self) {
                _ = try await feedback.getCustomerScores(
                    .with {
                        $0.customerID = Customers.ada
                        $0.recentComments = 51
                    })
            }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.hasPrefix("recent_comments:") == true, "\(error?.message ?? "")")
        }
    }

    @Test("AnalyzeSentiment refuses empty text; GetTopThemes with a period needs a window start")
    func textValidation() async throws {
        try await withFeedbackClient { feedback in
            let empty = await #expect(throws: RPCError.self) {
                _ = try await feedback.analyzeSentiment(.with { $0.text = "" })
            }
            #expect(empty?.code == .invalidArgument)
            #expect(empty?.message.hasPrefix("text:") == true, "\(empty?.message ?? "")")

            let withoutStart: [Customer360_V1_GetTopThemesRequest] = [
                .with { $0.period = .day },
                .with {
                    $0.period = .day
                    $0.window.end = Google_Protobuf_Timestamp(date: Fixed.now)
                },
            ]
            for request in withoutStart {
                let error = await #expect(throws: RPCError.self) { _ = try await feedback.getTopThemes(request) }
                #expect(error?.code == .invalidArgument)
                #expect(error?.message.hasPrefix("window.start:") == true, "\(error?.message ?? "")")
            }

            // From two days before now (14:13:20 UTC) to now: three UTC days, the first and last clipped.
            let themes = try await feedback.getTopThemes(
                .with {
                    $0.period = .day
                    $0.window.start = Google_Protobuf_Timestamp(date: Fixed.now - 2 * Fixed.day)
                })
            #expect(themes.periods.count == 3)
            #expect(themes.periods.first?.range.start.date == Fixed.now - 2 * Fixed.day)
            #expect(themes.periods.last?.range.end.date == Fixed.now)
            #expect(themes.periods.allSatisfy { $0.comments == 0 && $0.themes.isEmpty })
        }
    }

    @Test("UpdateFeatureRequestStatus DUPLICATE needs duplicate_of_id, naming an existing request")
    func duplicateStatus() async throws {
        try await withFeedbackClient { feedback in
            let created = try await feedback.createFeatureRequest(
                .with {
                    $0.customerID = Customers.ada
                    $0.featureRequestID = "fr-night"
                    $0.title = "Night mode"
                })
            #expect(created.votes == 1 && created.status == .open)

            let noOriginal = await #expect(throws: RPCError.self) {
                _ = try await feedback.updateFeatureRequestStatus(
                    .with {
                        $0.featureRequestID = "fr-night"
                        $0.status = .duplicate
                        $0.note = "same as dark mode"
                    })
            }
            #expect(noOriginal?.code == .invalidArgument)
            #expect(noOriginal?.message.hasPrefix("duplicate_of_id:") == true, "\(noOriginal?.message ?? "")")
            let unknownOriginal = await #expect(throws: RPCError.self) {
                _ = try await feedback.updateFeatureRequestStatus(
                    .with {
                        $0.featureRequestID = "fr-night"
                        $0.status = .duplicate
                        $0.duplicateOfID = "fr-dark"
                    })
            }
            #expect(unknownOriginal?.code == .notFound)
            let listed = try await feedback.listFeatureRequests(Customer360_V1_ListFeatureRequestsRequest())
            #expect(listed.featureRequests.map(\.featureRequest.status) == [.open])

            _ = try await feedback.createFeatureRequest(
                .with {
                    $0.featureRequestID = "fr-dark"
                    $0.title = "Dark mode"
                })
            let duplicate = try await feedback.updateFeatureRequestStatus(
                .with {
                    $0.featureRequestID = "fr-night"
                    $0.status = .duplicate
                    $0.duplicateOfID = "fr-dark"
                    $0.note = "same as dark mode"
                })
            #expect(duplicate.status == .duplicate && duplicate.duplicateOfID == "fr-dark")
            #expect(duplicate.statusNote == "same as dark mode" && duplicate.updatedAt.date == Fixed.now)
        }
    }

    @Test("RecordChurnReason needs a category")
    func churnReasonCategory() async throws {
        try await withFeedbackClient { feedback in
            let error = await #expect(throws: RPCError.self) {
                _ = try await feedback.recordChurnReason(
                    .with {
                        $0.customerID = Customers.ada
                        $0.churnReasonID = "ch-1"
                        $0.category = .unspecified
                        $0.text = "Too expensive"
                    })
            }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.hasPrefix("category:") == true, "\(error?.message ?? "")")
            let tally = try await feedback.getChurnReasonTally(Customer360_V1_GetChurnReasonTallyRequest())
            #expect(tally.reasons == 0 && tally.categories.isEmpty)
        }
    }

    @Test("EraseCustomerData removes responses, votes and churn reasons; erasing again reports zeros")
    func eraseTwice() async throws {
        try await withFeedbackClient { feedback in
            _ = try await feedback.createSurvey(surveyRequest("nps"))
            _ = try await feedback.recordResponse(answer("r1", score: 9))
            _ = try await feedback.recordResponse(answer("r2", customer: Customers.sara, score: 7))
            _ = try await feedback.createFeatureRequest(
                .with {
                    $0.customerID = Customers.ada
                    $0.featureRequestID = "fr-dark"
                    $0.title = "Dark mode"
                })
            _ = try await feedback.voteFeatureRequest(
                .with {
                    $0.customerID = Customers.sara
                    $0.featureRequestID = "fr-dark"
                })
            _ = try await feedback.recordChurnReason(
                .with {
                    $0.customerID = Customers.ada
                    $0.churnReasonID = "ch-1"
                    $0.category = .price
                })

            let erased = try await feedback.eraseCustomerData(.with { $0.customerID = Customers.ada })
            #expect(erased.customerID == Customers.ada && erased.responsesErased == 1)
            #expect(erased.votesErased == 1 && erased.churnReasonsErased == 1)
            let again = try await feedback.eraseCustomerData(.with { $0.customerID = Customers.ada })
            #expect(again.customerID == Customers.ada && again.responsesErased == 0)
            #expect(again.votesErased == 0 && again.churnReasonsErased == 0)

            #expect(try await storedResponseIDs(feedback) == ["r2"])
            let requests = try await feedback.listFeatureRequests(Customer360_V1_ListFeatureRequestsRequest())
            #expect(requests.featureRequests.map(\.featureRequest.votes) == [1]) // sara's
            let tally = try await feedback.getChurnReasonTally(Customer360_V1_GetChurnReasonTallyRequest())
            #expect(tally.reasons == 0)
        }
    }

    @Test("ExportCustomerData streams the customer's responses, votes and churn reasons, and nobody else's")
    func exportStream() async throws {
        try await withFeedbackClient { feedback in
            let now = Fixed.now
            let hour = Fixed.hour
            _ = try await feedback.createSurvey(surveyRequest("nps"))
            _ = try await feedback.recordResponse(answer("a1", score: 9, at: now - 3 * hour))
            _ = try await feedback.recordResponse(
                answer("s1", customer: Customers.sara, score: 8, at: now - 2.5 * hour))
            _ = try await feedback.recordResponse(
                answer("a2", customer: Customers.mergedAway, score: 4, at: now - 2 * hour, comment: "Late again"))
            _ = try await feedback.recordResponse(answer("a3", score: 10, at: now - hour))
            _ = try await feedback.createFeatureRequest(
                .with {
                    $0.customerID = Customers.ada
                    $0.featureRequestID = "fr-dark"
                    $0.title = "Dark mode"
                })
            _ = try await feedback.recordChurnReason(
                .with {
                    $0.customerID = Customers.ada
                    $0.churnReasonID = "ch-1"
                    $0.category = .price
                })

            let chunks = try await feedback.exportCustomerData(.with { $0.customerID = Customers.ada }) { response in
                var collected: [Customer360_V1_ExportFeedbackDataResponse] = []
                for try await chunk in response.messages { collected.append(chunk) }
                return collected
            }
            #expect(!chunks.isEmpty)
            let responses = chunks.flatMap(\.responses)
            #expect(responses.map(\.responseID) == ["a1", "a2", "a3"])
            #expect(responses.allSatisfy { $0.customerID == Customers.ada })
            #expect(chunks.flatMap(\.votes).map(\.featureRequestTitle) == ["Dark mode"])
            #expect(chunks.flatMap(\.churnReasons).map(\.churnReasonID) == ["ch-1"])

            let unknown = Customer360_V1_ExportFeedbackDataRequest.with { $0.customerID = Customers.unknown }
            let nobody = try await feedback.exportCustomerData(unknown) { response in
                var collected: [Customer360_V1_ExportFeedbackDataResponse] = []
                for try await chunk in response.messages { collected.append(chunk) }
                return collected
            }
            #expect(nobody.isEmpty)
        }
    }
}

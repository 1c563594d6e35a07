import C360Clients
import C360Contracts
import C360TestSupport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import SwiftProtobuf
import Testing

/// A RecordResponse request; `comment_language` is left empty so the service detects it.
private func answer(
    _ responseID: String, customer: String, survey: String, score: Int32, at answeredAt: Date, comment: String = ""
) -> Customer360_V1_RecordResponseRequest {
    .with {
        $0.responseID = responseID
        $0.customerID = customer
        $0.surveyID = survey
        $0.score = score
        $0.comment = comment
        $0.answeredAt = Google_Protobuf_Timestamp(date: answeredAt)
    }
}

/// What Ada's answers add up to: NPS 10, 7 (given under her merged-away id) and 3 (with a negative comment), CSAT 5
/// and 2, the latest an hour before `now`.
private func expectAdaScores(_ scores: Customer360_V1_CustomerScores, ada: String, now: Date) {
    #expect(scores.customerID == ada)
    #expect(scores.responses == 5)
    #expect(scores.hasLastAnsweredAt && scores.lastAnsweredAt.seconds == Int64(now.timeIntervalSince1970) - 3_600)

    #expect(scores.hasNps)
    #expect(scores.nps.responses == 3)
    #expect(scores.nps.latestScore == 3)
    #expect(scores.nps.latestAnsweredAt.seconds == Int64(now.timeIntervalSince1970) - 2 * 3_600)
    #expect(scores.nps.hasPreviousScore && scores.nps.previousScore == 7)
    #expect(abs(scores.nps.value - 0.0) < 1e-9) // one promoter, one passive, one detractor
    #expect(scores.nps.trend == .declining)
    #expect(scores.latestNpsCategory == .detractor)

    #expect(scores.hasCsat)
    #expect(scores.csat.responses == 2)
    #expect(scores.csat.latestScore == 2)
    #expect(scores.csat.hasPreviousScore && scores.csat.previousScore == 5)
    #expect(abs(scores.csat.value - 50.0) < 1e-9)
    #expect(scores.csat.trend == .declining)

    #expect(!scores.hasCes)
    #expect(scores.hasSentiment && scores.sentiment.comments == 1 && scores.sentiment.negative == 1)
    #expect(scores.sentiment.latest.label == .negative)
}

@Suite("feedback-service and profile-service executables together over TCP")
struct FeedbackServiceProcessTests {
    @Test("responses are checked against the real profile-service, scored, and kept across a kill -9")
    func endToEnd() async throws {
        try await withService("profile-service") { profileProcess, profileClient in
            let profiles = Customer360_V1_ProfileService.Client(wrapping: profileClient)
            let ada = try await profiles.createCustomer(.with { $0.givenName = "Ada" }).customerID
            let duplicate = try await profiles.createCustomer(.with { $0.givenName = "Ada (old account)" }).customerID
            let sara = try await profiles.createCustomer(
                .with {
                    $0.givenName = "سارا"
                    $0.preferences.preferredLanguage = "fa"
                }
            ).customerID
            _ = try await profiles.mergeCustomers(
                .with {
                    $0.customerID = ada
                    $0.mergedID = duplicate
                })
            let unknown = "01900000-0000-7000-8000-0000000000ff"
            let profileAddress = "\(profileProcess.address)"
            // Whole seconds, so instants compare exactly after the millisecond round trip through the database.
            let now = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))
            let hour: TimeInterval = 3_600
            let negativeComment = "The delivery was very late and support never answered."
            let persianComment = "خیلی راضی هستم، ارسال سریع بود و پشتیبانی عالی جواب داد."
            let adaNewestFirst = ["r-csat-3", "r-nps-4", "r-nps-3", "r-nps-1", "r-csat-1"]

            let first = try await ServiceProcess.start(
                "feedback-service", arguments: ["--profile-addr", profileAddress])
            do {
                try await withConnectedClient(to: first.address) { client in
                    try await waitUntilServing(client, process: first)
                    let feedback = Customer360_V1_FeedbackService.Client(wrapping: client)

                    // Surveys: the fixed scales are filled in when left at (0, 0).
                    let npsRequest = Customer360_V1_CreateSurveyRequest.with {
                        $0.surveyID = "it-nps"
                        $0.surveyType = .nps
                        $0.name = "integration NPS (en)"
                        $0.question = "How likely are you to recommend us to a friend or colleague?"
                        $0.language = "en"
                        $0.channel = .email
                    }
                    let nps = try await feedback.createSurvey(npsRequest)
                    #expect(nps.surveyID == "it-nps" && nps.surveyType == .nps && nps.active)
                    #expect(nps.scaleMin == 0 && nps.scaleMax == 10)
                    let npsAgain = try await feedback.createSurvey(npsRequest)
                    #expect(npsAgain.surveyID == "it-nps")
                    #expect(abs(npsAgain.createdAt.date.timeIntervalSince(nps.createdAt.date)) < 0.002)
                    let csat = try await feedback.createSurvey(
                        .with {
                            $0.surveyID = "it-csat"
                            $0.surveyType = .csat
                            $0.name = "integration CSAT (fa)"
                            $0.question = "از خرید خود چقدر راضی بودید؟"
                            $0.language = "fa"
                            $0.channel = .sms
                        })
                    #expect(csat.surveyID == "it-csat" && csat.scaleMin == 1 && csat.scaleMax == 5)

                    // Responses: NPS 10, 9, 7, 3 and CSAT 5, 4, 2, a few hours ago.
                    let promoter = try await feedback.recordResponse(
                        answer("r-nps-1", customer: ada, survey: "it-nps", score: 10, at: now - 5 * hour))
                    #expect(!promoter.duplicate)
                    #expect(promoter.response.customerID == ada && promoter.response.npsCategory == .promoter)
                    #expect(promoter.response.surveyType == .nps && promoter.response.channel == .email)
                    #expect(promoter.response.surveyLanguage == "en")
                    #expect(promoter.response.comment.isEmpty && promoter.response.commentLanguage.isEmpty)
                    #expect(!promoter.response.hasSentiment)

                    let persian = try await feedback.recordResponse(
                        answer(
                            "r-nps-2", customer: sara, survey: "it-nps", score: 9, at: now - 4 * hour,
                            comment: persianComment))
                    #expect(persian.response.customerID == sara && persian.response.npsCategory == .promoter)
                    #expect(persian.response.comment == persianComment)
                    #expect(persian.response.commentLanguage == "fa")
                    #expect(persian.response.hasSentiment && persian.response.sentiment.label == .positive)
                    #expect(persian.response.sentiment.score > 0.05 && persian.response.sentiment.language == "fa")

                    let merged = try await feedback.recordResponse(
                        answer("r-nps-3", customer: duplicate, survey: "it-nps", score: 7, at: now - 3 * hour))
                    #expect(!merged.duplicate)
                    #expect(merged.response.customerID == ada && merged.response.npsCategory == .passive)

                    let detractor = try await feedback.recordResponse(
                        answer(
                            "r-nps-4", customer: ada, survey: "it-nps", score: 3, at: now - 2 * hour,
                            comment: negativeComment))
                    #expect(detractor.response.npsCategory == .detractor)
                    #expect(detractor.response.commentLanguage == "en")
                    #expect(detractor.response.hasSentiment && detractor.response.sentiment.label == .negative)
                    #expect(detractor.response.sentiment.score < -0.05 && detractor.response.sentiment.language == "en")
                    #expect(detractor.response.answeredAt.seconds == Int64(now.timeIntervalSince1970) - 7_200)

                    _ = try await feedback.recordResponse(
                        answer("r-csat-1", customer: ada, survey: "it-csat", score: 5, at: now - 5.5 * hour))
                    _ = try await feedback.recordResponse(
                        answer("r-csat-2", customer: sara, survey: "it-csat", score: 4, at: now - 4.5 * hour))
                    let unhappy = try await feedback.recordResponse(
                        answer("r-csat-3", customer: ada, survey: "it-csat", score: 2, at: now - 1 * hour))
                    #expect(unhappy.response.surveyType == .csat && unhappy.response.npsCategory == .unspecified)
                    #expect(unhappy.response.channel == .sms && unhappy.response.surveyLanguage == "fa")

                    // The same response_id again: the stored response, nothing new.
                    let again = try await feedback.recordResponse(
                        answer(
                            "r-nps-4", customer: ada, survey: "it-nps", score: 3, at: now - 2 * hour,
                            comment: negativeComment))
                    #expect(again.duplicate)
                    #expect(again.response.responseID == "r-nps-4" && again.response.customerID == ada)
                    #expect(again.response.score == 3 && again.response.comment == negativeComment)

                    // Scores outside the survey's scale.
                    let outOfScale: [(survey: String, score: Int32)] = [
                        ("it-nps", 11), ("it-nps", -1), ("it-csat", 0), ("it-csat", 6),
                    ]
                    for (index, wrong) in outOfScale.enumerated() {
                        let request = answer(
                            "r-bad-\(index)", customer: ada, survey: wrong.survey, score: wrong.score, at: now - hour)
                        let error = await #expect(throws: RPCError.self) {
                            _ = try await feedback.recordResponse(request)
                        }
                        #expect(error?.code == .invalidArgument, "score \(wrong.score) on \(wrong.survey)")
                    }

                    // A customer profile-service does not know.
                    let stranger = answer("r-unknown", customer: unknown, survey: "it-nps", score: 8, at: now - hour)
                    let error = await #expect(throws: RPCError.self) {
                        _ = try await feedback.recordResponse(stranger)
                    }
                    #expect(error?.code == .failedPrecondition)

                    // Ada's answers, the merged-away one included, and nothing from the rejected or repeated calls.
                    let adaResponses = try await feedback.listResponses(.with { $0.customerID = ada })
                    #expect(adaResponses.responses.map(\.responseID) == adaNewestFirst)
                    #expect(adaResponses.responses.allSatisfy { $0.customerID == ada })
                    let negatives = try await feedback.listResponses(.with { $0.sentimentLabel = .negative })
                    #expect(negatives.responses.map(\.responseID) == ["r-nps-4"])

                    // Global scores over the last day, hand-computed.
                    let scores = try await feedback.getScores(
                        .with {
                            $0.window = .with { $0.start = Google_Protobuf_Timestamp(date: now - 24 * hour) }
                            $0.groupBy = [.survey]
                        })
                    let overall = scores.overall
                    #expect(overall.responses == 7 && overall.customResponses == 0)
                    #expect(overall.nps.responses == 4)
                    #expect(overall.nps.promoters == 2 && overall.nps.passives == 1 && overall.nps.detractors == 1)
                    #expect(overall.nps.hasNps && abs(overall.nps.nps - 25.0) < 1e-9)
                    #expect(overall.csat.responses == 3 && overall.csat.satisfied == 2)
                    #expect(overall.csat.hasCsatPercent && abs(overall.csat.csatPercent - 200.0 / 3.0) < 1e-9)
                    #expect(overall.ces.responses == 0 && !overall.ces.hasCesMean)
                    #expect(overall.sentiment.comments == 2)
                    #expect(overall.sentiment.positive == 1 && overall.sentiment.negative == 1)
                    let bySurvey = Dictionary(
                        scores.groups.map { ($0.surveyID, $0.aggregate) }, uniquingKeysWith: { first, _ in first })
                    #expect(scores.groups.count == 2)
                    #expect(bySurvey["it-nps"]?.responses == 4 && bySurvey["it-nps"]?.nps.promoters == 2)
                    #expect(bySurvey["it-csat"]?.responses == 3 && bySurvey["it-csat"]?.csat.satisfied == 2)

                    // A window without responses: zero counts and no derived values.
                    let empty = try await feedback.getScores(
                        .with {
                            $0.window = .with {
                                $0.start = Google_Protobuf_Timestamp(seconds: 978_307_200) // 2001-01-01T00:00:00Z
                                $0.end = Google_Protobuf_Timestamp(seconds: 1_009_843_200) // 2002-01-01T00:00:00Z
                            }
                        })
                    #expect(empty.overall.responses == 0 && empty.groups.isEmpty)
                    #expect(!empty.overall.nps.hasNps)
                    #expect(!empty.overall.csat.hasCsatPercent && !empty.overall.ces.hasCesMean)

                    let adaScores = try await feedback.getCustomerScores(.with { $0.customerID = ada })
                    expectAdaScores(adaScores, ada: ada, now: now)
                }
                #expect(try await first.kill() == .signaled(SIGKILL))

                try await withService(
                    "feedback-service", arguments: ["--profile-addr", profileAddress],
                    dataDirectory: first.dataDirectory
                ) { _, client in
                    let feedback = Customer360_V1_FeedbackService.Client(wrapping: client)
                    let adaScores = try await feedback.getCustomerScores(.with { $0.customerID = ada })
                    expectAdaScores(adaScores, ada: ada, now: now)
                    let adaResponses = try await feedback.listResponses(.with { $0.customerID = ada })
                    #expect(adaResponses.responses.map(\.responseID) == adaNewestFirst)
                    let saraScores = try await feedback.getCustomerScores(.with { $0.customerID = sara })
                    #expect(
                        saraScores.responses == 2 && saraScores.nps.latestScore == 9 && saraScores.csat.latestScore == 4
                    )
                    #expect(saraScores.sentiment.positive == 1)
                    // Idempotency outlives the crash.
                    let again = try await feedback.recordResponse(
                        answer(
                            "r-nps-2", customer: sara, survey: "it-nps", score: 9, at: now - 4 * hour,
                            comment: persianComment))
                    #expect(again.duplicate && again.response.customerID == sara)
                }
            } catch {
                await first.cleanup()
                throw error
            }
            await first.cleanup()
        }
    }
}

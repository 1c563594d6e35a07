import C360Clients
import C360Contracts
import C360ServerKit
import C360TestSupport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import SwiftProtobuf
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// feedback-service as two shards on loopback behind the gateway, with profile-service: reference data on every shard,
/// each customer's feedback on exactly one, reads across customers whole.
@Suite("feedback-service as shards: surveys and feature requests on every shard, feedback on its customer's")
struct ShardedFeedbackTests {
    @Test(
        """
        through the gateway a survey is created and retired on both shards, each customer's responses, vote and churn \
        reason land on the shard owning it, scores, tallies, themes, feature-request votes and the response list are \
        whole across shards, and a stopped shard leaves the dashboard's feedback section partial, naming it
        """)
    func feedbackAcrossShards() async throws {
        let mapFile = FileManager.default.temporaryDirectory.appendingPathComponent("c360-feedback-map-\(UUID()).json")
        let httpPortFile = FileManager.default.temporaryDirectory.appendingPathComponent(
            "c360-feedback-http-\(UUID()).port")
        defer { try? FileManager.default.removeItem(at: httpPortFile) }
        defer { try? FileManager.default.removeItem(at: mapFile) }
        func map(_ addresses: [String], epoch: Int64) throws -> ShardMap {
            try ShardMap.even(
                epoch: epoch,
                services: [(name: "feedback-service", shardPrefix: "feedback", addresses: addresses)])
        }
        try map(["127.0.0.1:1", "127.0.0.1:2"], epoch: 1).json.write(to: mapFile)
        let mapFlag = ["--shard-map", mapFile.path]
        try await withService("profile-service") { profile, profileClient in
            let profilePeer = ["--profile-addr", "\(profile.address)"]
            try await withService("feedback-service", arguments: profilePeer + mapFlag + ["--shard", "feedback-0"]) {
                shard0, client0 in
                try await withService(
                    "feedback-service", arguments: profilePeer + mapFlag + ["--shard", "feedback-1"]
                ) { shard1, client1 in
                    let real = try map(["\(shard0.address)", "\(shard1.address)"], epoch: 2)
                    try real.json.write(to: mapFile)
                    try await withService(
                        "gateway",
                        arguments: profilePeer + mapFlag + [
                            "--interaction-addr", "127.0.0.1:1", "--success-addr", "127.0.0.1:1",
                            "--feedback-addr", "127.0.0.1:1", "--peer-deadline-ms", "\(peerDeadlineMs)",
                            "--http-port", "0", "--http-port-file", httpPortFile.path,
                        ]
                    ) { gatewayProcess, gatewayClient in
                        let secret = try await bootstrapSecret(of: gatewayProcess)
                        try await exercise(
                            map: real, shards: [.init(wrapping: client0), .init(wrapping: client1)],
                            processes: [shard0, shard1], profiles: .init(wrapping: profileClient),
                            frontDoor: gatewayClient, admin: bearer(secret),
                            http: (try await portInFile(httpPortFile, of: gatewayProcess), secret))
                    }
                }
            }
        }
    }
}

extension ShardedFeedbackTests {
    @Test(
        """
        feedback-service reshard moves half the slots to a shard that joined the map after the surveys and feature \
        requests were written: it copies them first, the moved customers' responses and votes follow, and the tallies \
        across both shards are what they were
        """)
    func newShardTakesReferenceDataWithItsFirstSlots() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("c360-feedback-move-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let mapFile = directory.appendingPathComponent("shard-map.json")
        func map(_ shards: [ShardMap.Shard], epoch: Int64) throws {
            try ShardMap(epoch: epoch, services: ["feedback-service": shards]).json.write(to: mapFile)
        }
        try map([.init(shard: "feedback-0", address: "127.0.0.1:1", slots: ["0-1023"])], epoch: 1)
        let mapFlag = ["--shard-map", mapFile.path]
        try await withService("profile-service") { profile, profileClient in
            let profilePeer = ["--profile-addr", "\(profile.address)"]
            try await withService("feedback-service", arguments: profilePeer + mapFlag + ["--shard", "feedback-0"]) {
                first, _ in
                let old = ShardMap.Shard(shard: "feedback-0", address: "\(first.address)", slots: ["0-1023"])
                try map([old], epoch: 2)
                // A caller that does not poll its map: it learns of the new shard only when a shard refuses it.
                let callerMap = try ShardMapSource(path: mapFile.path, pollInterval: .seconds(3_600))
                let connection = try PeerConnection(
                    address: PeerAddress(host: "127.0.0.1", port: 1), service: "feedback-service",
                    shards: callerMap, routing: .current)
                try await withThrowingDiscardingTaskGroup { group in
                    group.addTask { try await connection.run() }
                    defer { group.cancelAll() }
                    let feedback = Customer360_V1_FeedbackService.Client(wrapping: connection.client)
                    let profiles = Customer360_V1_ProfileService.Client(wrapping: profileClient)
                    // Written while feedback-0 is the only shard: a survey, a feature request, and feedback from
                    // customers on both halves of the slots.
                    let survey = try await feedback.createSurvey(
                        .with {
                            $0.surveyID = "move-nps"
                            $0.surveyType = .nps
                            $0.name = "NPS"
                            $0.question = "How likely are you to recommend us?"
                            $0.language = "en"
                            $0.channel = .email
                        })
                    let request = try await feedback.createFeatureRequest(
                        .with {
                            $0.featureRequestID = "move-dark-mode"
                            $0.title = "Dark mode"
                        })
                    var customers: [String] = []
                    for index in 0..<16 {
                        let id = try await profiles.createCustomer(.with { $0.givenName = "Mover \(index)" }).customerID
                        customers.append(id)
                        _ = try await feedback.recordResponse(
                            .with {
                                $0.customerID = id
                                $0.responseID = "move-\(id)"
                                $0.surveyID = survey.surveyID
                                $0.score = 9
                                $0.answeredAt = Google_Protobuf_Timestamp(date: Date().addingTimeInterval(-60))
                            })
                        _ = try await feedback.voteFeatureRequest(
                            .with {
                                $0.customerID = id
                                $0.featureRequestID = request.featureRequestID
                            })
                    }
                    let moving = customers.filter { (0...511).contains(ShardMap.slot(of: $0)) }
                    try #require(!moving.isEmpty && moving.count < customers.count, "ids hash over both halves")

                    // feedback-1 joins the map owning nothing, then the mover gives it slots 0-511.
                    let joining = ShardMap.Shard(shard: "feedback-1", address: "127.0.0.1:2", slots: [])
                    try map([old, joining], epoch: 3)
                    try await withService(
                        "feedback-service", arguments: profilePeer + mapFlag + ["--shard", "feedback-1"]
                    ) { second, secondClient in
                        try map([old, .init(shard: "feedback-1", address: "\(second.address)", slots: [])], epoch: 4)
                        let mover = try await ChildProcess.run(
                            try ServiceBinaries.url(of: "feedback-service"),
                            ["reshard", "--map", mapFile.path, "--slots", "0-511", "--to", "feedback-1"],
                            timeout: .seconds(120))
                        #expect(mover.status == 0, "\(mover)")
                        #expect(
                            mover.output.contains("reference data: 1 survey rows, 1 feature_request rows copied"),
                            "\(mover.output)")
                        #expect(mover.output.contains("done: slots 0-511 moved"), "\(mover.output)")

                        let newShard = FeedbackClient(wrapping: secondClient)
                        #expect(try await newShard.getSurvey(.with { $0.surveyID = survey.surveyID }).name == "NPS")
                        let local = try await newShard.listFeatureRequests(.init()).featureRequests
                        #expect(local.map(\.featureRequest.votes) == [Int64(moving.count)], "its own customers' votes")
                        for id in moving {
                            let responses = try await newShard.listResponses(.with { $0.customerID = id }).responses
                            #expect(responses.map(\.responseID) == ["move-\(id)"])
                        }
                        // Through the routing transport, whose map is older than the shards': feedback-0 refuses the
                        // stale caller, which reads the map again and asks both: every vote and response once.
                        #expect(callerMap.current.epoch == 2, "the caller's map is stale")
                        let tallies = try await feedback.listFeatureRequests(.init()).featureRequests
                        #expect(tallies.map(\.featureRequest.votes) == [Int64(customers.count)])
                        #expect(callerMap.current.epoch == 5, "the refusal made the caller read the map again")
                        #expect(try await feedback.getScores(.init()).overall.responses == Int64(customers.count))
                    }
                }
            }
        }
    }
}

private typealias FeedbackClient = Customer360_V1_FeedbackService.Client<HTTP2ClientTransport.Posix>

private func exercise(
    map: ShardMap, shards: [FeedbackClient], processes: [ServiceProcess],
    profiles: Customer360_V1_ProfileService.Client<HTTP2ClientTransport.Posix>,
    frontDoor: GRPCClient<HTTP2ClientTransport.Posix>, admin: Metadata, http: (port: Int, secret: String)
) async throws {
    let feedback = FeedbackClient(wrapping: frontDoor)
    let gateway = GatewayClient(wrapping: frontDoor)
    // Customers are created until each shard owns two: ids are random, so how many that takes is not fixed.
    var owned: [[String]] = [[], []]
    var created = 0
    while owned.contains(where: { $0.count < 2 }), created < 64 {
        let id = try await profiles.createCustomer(
            .with {
                $0.givenName = "Feedback"
                $0.familyName = "Customer \(created)"
            }
        ).customerID
        created += 1
        let owner = try #require(map.owner(of: id, in: "feedback-service"))
        if owned[owner.shard == "feedback-0" ? 0 : 1].count < 2 {
            owned[owner.shard == "feedback-0" ? 0 : 1].append(id)
        }
    }
    try #require(owned.allSatisfy { $0.count == 2 })
    let customers = owned.flatMap { $0 }

    // A survey created through the front door without an id is on both shards under the one id the router chose.
    let survey = try await feedback.createSurvey(
        .with {
            $0.surveyType = .nps
            $0.name = "Sharded NPS"
            $0.question = "How likely are you to recommend us?"
            $0.language = "en"
            $0.channel = .email
        }, metadata: admin)
    #expect(!survey.surveyID.isEmpty)
    for shard in shards {
        #expect(try await shard.getSurvey(.with { $0.surveyID = survey.surveyID }).name == "Sharded NPS")
    }
    #expect(try await feedback.getSurvey(.with { $0.surveyID = survey.surveyID }, metadata: admin).active)

    // Each customer's responses land on its own shard; the other refuses the customer, naming the owner.
    let answered = Date().addingTimeInterval(-600)
    for (index, id) in customers.enumerated() {
        _ = try await feedback.recordResponse(
            .with {
                $0.customerID = id
                $0.responseID = "sharded-\(id)"
                $0.surveyID = survey.surveyID
                $0.score = index < 2 ? 10 : 3
                $0.comment = "The delivery was late and slow"
                $0.commentLanguage = "en"
                $0.answeredAt = Google_Protobuf_Timestamp(date: answered.addingTimeInterval(Double(index)))
            }, metadata: admin)
    }
    for (index, ids) in owned.enumerated() {
        for id in ids {
            let own = try await shards[index].listResponses(.with { $0.customerID = id })
            #expect(own.responses.map(\.responseID) == ["sharded-\(id)"], "the owner holds \(id)'s response")
            await #expect(throws: RPCError.self) {
                _ = try await shards[1 - index].listResponses(.with { $0.customerID = id })
            }
        }
        // Each shard's global scores count its own customers only.
        #expect(try await shards[index].getScores(.init()).overall.responses == 2)
    }

    // Scores across customers through the front door add both shards: 2 promoters and 2 detractors of 4.
    let scores = try await feedback.getScores(.init(), metadata: admin)
    #expect(scores.overall.responses == 4)
    #expect(scores.overall.nps.promoters == 2 && scores.overall.nps.detractors == 2)
    #expect(scores.overall.nps.nps == 0)
    let themes = try await feedback.getTopThemes(.with { $0.limit = 3 }, metadata: admin)
    #expect(themes.periods.first?.comments == 4, "every negative comment of both shards: \(themes)")
    #expect(themes.periods.first?.themes.first?.comments == 4)

    // The responses across customers, three at a time: each once, newest answered first.
    var listed: [String] = []
    var token = ""
    repeat {
        let page = try await feedback.listResponses(
            .with {
                $0.page.pageSize = 3
                $0.page.pageToken = token
            }, metadata: admin)
        listed += page.responses.map(\.responseID)
        token = page.page.nextPageToken
    } while !token.isEmpty && listed.count <= customers.count
    #expect(listed == customers.reversed().map { "sharded-\($0)" }, "newest answered first across both shards")

    // A feature request asked for by a customer of shard 0 and voted for by one of shard 1: two votes, wherever read.
    let request = try await feedback.createFeatureRequest(
        .with {
            $0.customerID = owned[0][0]
            $0.title = "Dark mode"
            $0.details = "Easier on the eyes"
        }, metadata: admin)
    #expect(request.votes == 1)
    let voted = try await feedback.voteFeatureRequest(
        .with {
            $0.customerID = owned[1][0]
            $0.featureRequestID = request.featureRequestID
        }, metadata: admin)
    #expect(voted.votes == 2, "the answer's tally is every shard's")
    for shard in shards {
        let local = try await shard.listFeatureRequests(.init()).featureRequests
        #expect(local.map(\.featureRequest.featureRequestID) == [request.featureRequestID])
        #expect(local.first?.featureRequest.votes == 1, "each shard counts its own customer's vote")
    }
    let all = try await feedback.listFeatureRequests(.init(), metadata: admin).featureRequests
    #expect(all.map(\.featureRequest.votes) == [2])
    let theirs = try await feedback.listFeatureRequests(.with { $0.customerID = owned[1][0] }, metadata: admin)
    #expect(theirs.featureRequests.map(\.featureRequest.votes) == [2], "requests the customer voted for, whole tally")
    #expect(
        try await feedback.listFeatureRequests(.with { $0.customerID = owned[1][1] }, metadata: admin)
            .featureRequests.isEmpty)

    // Churn reasons of one customer of each shard: two churned customers in the merged tally.
    for ids in owned {
        _ = try await feedback.recordChurnReason(
            .with {
                $0.customerID = ids[1]
                $0.churnReasonID = "churn-\(ids[1])"
                $0.category = .price
            }, metadata: admin)
    }
    let tally = try await feedback.getChurnReasonTally(.init(), metadata: admin)
    #expect(tally.reasons == 2 && tally.churnedCustomers == 2)
    #expect(tally.categories.map(\.reasons) == [2])
    let dashboard = try await gateway.getKpiDashboard(.init(), metadata: admin)
    let section = try #require(dashboard.sectionStatuses.first { $0.section == "feedback" })
    #expect(section.ok, "\(section)")
    #expect(dashboard.feedback.responses == 4)
    #expect(dashboard.churnedCustomers == 2)

    // Retired through the front door: on both shards, so neither shard's customers can answer it any more.
    let retired = try await feedback.retireSurvey(.with { $0.surveyID = survey.surveyID }, metadata: admin)
    #expect(!retired.active)
    for (index, ids) in owned.enumerated() {
        #expect(try await !shards[index].getSurvey(.with { $0.surveyID = survey.surveyID }).active)
        do {
            _ = try await feedback.recordResponse(
                .with {
                    $0.customerID = ids[0]
                    $0.responseID = "after-retire-\(ids[0])"
                    $0.surveyID = survey.surveyID
                    $0.score = 5
                    $0.answeredAt = Google_Protobuf_Timestamp(date: answered)
                }, metadata: admin)
            Issue.record("a retired survey took a response on shard \(index)")
        } catch let error as RPCError {
            #expect(error.code == .failedPrecondition, "\(error)")
        }
    }

    // A vote by a customer merged into one of the other shard's goes to the survivor's shard, under the survivor:
    // the merged id's shard refuses it naming the survivor, and the front door's spread call follows.
    var fresh: [String: String] = [:]
    while fresh.count < 2, created < 128 {
        let id = try await profiles.createCustomer(.with { $0.givenName = "Voter \(created)" }).customerID
        created += 1
        let shard = try #require(map.owner(of: id, in: "feedback-service")).shard
        if fresh[shard] == nil { fresh[shard] = id }
    }
    let (mergedVoter, survivingVoter) = (try #require(fresh["feedback-0"]), try #require(fresh["feedback-1"]))
    _ = try await profiles.mergeCustomers(
        .with {
            $0.customerID = survivingVoter
            $0.mergedID = mergedVoter
        })
    let votedByMergedID = try await feedback.voteFeatureRequest(
        .with {
            $0.customerID = mergedVoter
            $0.featureRequestID = request.featureRequestID
        }, metadata: admin)
    #expect(votedByMergedID.votes == 3)
    let survivorsVotes = try await shards[1].listFeatureRequests(.with { $0.customerID = survivingVoter })
    #expect(survivorsVotes.featureRequests.map(\.featureRequest.featureRequestID) == [request.featureRequestID])
    #expect(try await shards[0].listFeatureRequests(.init()).featureRequests.first?.featureRequest.votes == 1)

    // A shard that is gone: the dashboard keeps the other's part and names it; a survey is still readable, and a new
    // one is refused naming the id to send again once the shard is back.
    _ = try await processes[1].kill()
    let partial = try await gateway.getKpiDashboard(.init(), metadata: admin)
    let missing = try #require(partial.sectionStatuses.first { $0.section == "feedback" })
    #expect(!missing.ok)
    #expect(missing.missingShards == ["feedback-1"], "\(missing)")
    #expect(partial.feedback.responses == 2, "the answering shard's part is kept")
    // Feature requests are listed with the answering shard's votes, the missing shard named.
    let (requests, absent) = try await feedback.listFeatureRequests(.init(), metadata: admin) { response in
        (try response.message, response.trailingMetadata[stringValues: "c360-missing-shards"].first { _ in true })
    }
    #expect(!requests.featureRequests.isEmpty && absent == "feedback-1", "\(String(describing: absent))")
    // Over HTTP the same answer names the missing shard in a header.
    var post = URLRequest(
        url: URL(string: "http://127.0.0.1:\(http.port)/api/v1/customer360.v1.FeedbackService/ListFeatureRequests")!)
    post.httpMethod = "POST"
    post.setValue("Bearer \(http.secret)", forHTTPHeaderField: "Authorization")
    post.httpBody = Data("{}".utf8)
    let (body, answer) = try await URLSession.shared.data(for: post)
    let httpAnswer = try #require(answer as? HTTPURLResponse)
    #expect(httpAnswer.statusCode == 200, "\(String(decoding: body, as: UTF8.self))")
    #expect(httpAnswer.value(forHTTPHeaderField: "c360-missing-shards") == "feedback-1")
    #expect(
        try await feedback.getSurvey(.with { $0.surveyID = survey.surveyID }, metadata: admin).name == "Sharded NPS")
    do {
        _ = try await feedback.createSurvey(
            .with {
                $0.surveyType = .csat
                $0.name = "Half-made"
                $0.question = "How satisfied were you?"
                $0.language = "en"
                $0.channel = .app
            }, metadata: admin)
        Issue.record("a survey was created while a shard was down")
    } catch let error as RPCError {
        #expect(error.message.contains("send it again with survey_id"), "\(error.message)")
    }
}

import C360Clients
import C360Contracts
import C360ServerKit
import C360TestExpectations
import C360TestSupport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import SwiftProtobuf
import Testing

/// interaction- and success-service run as two shards each on loopback, with profile- and feedback-service and the
/// gateway routing to them through one shard map file.
/// The shipped loyalty program (1 point per dollar), which profile-service runs from interaction-service's feeds.
private let loyaltyProgram = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("deploy/loyalty-program.json").path

private struct ShardedStack {
    var shards: [ServiceProcess]
    var profiles: Customer360_V1_ProfileService.Client<HTTP2ClientTransport.Posix>
    /// success-service through the gateway's front door (with `admin`): calls across customers spread over its shards.
    var success: Customer360_V1_SuccessService.Client<HTTP2ClientTransport.Posix>
    var shardClients: [Customer360_V1_InteractionService.Client<HTTP2ClientTransport.Posix>]
    var successShards: [Customer360_V1_SuccessService.Client<HTTP2ClientTransport.Posix>]
    var gateway: GatewayClient
    /// The gateway's port for the backends' own contracts.
    var frontDoor: GRPCClient<HTTP2ClientTransport.Posix>
    var admin: Metadata
    var mapFile: URL
    var map: ShardMap
}

private func withShardedStack(_ body: (ShardedStack) async throws -> Void) async throws {
    let mapFile = FileManager.default.temporaryDirectory.appendingPathComponent("c360-shard-map-\(UUID()).json")
    defer { try? FileManager.default.removeItem(at: mapFile) }
    // The shards listen on free ports, known only once they run: they start with a map whose slots are final and
    // whose addresses are not (a shard checks ownership by slot), then every caller starts with the real one.
    let placeholders = ["127.0.0.1:1", "127.0.0.1:2"]
    try ShardMap.interactionAndSuccess(placeholders, placeholders, epoch: 1).json.write(to: mapFile)
    let mapFlag = ["--shard-map", mapFile.path]
    // profile-service follows both shards' feeds for the loyalty program.
    let loyalty = [
        "--loyalty-program", loyaltyProgram, "--loyalty-delay-ms", "0", "--interaction-addr", "127.0.0.1:1",
    ]
    try await withService("profile-service", arguments: loyalty + mapFlag) { profile, profileClient in
        let profilePeer = ["--profile-addr", "\(profile.address)"]
        try await withService(
            "interaction-service", arguments: profilePeer + mapFlag + ["--shard", "interaction-0"]
        ) { shard0, client0 in
            try await withService(
                "interaction-service", arguments: profilePeer + mapFlag + ["--shard", "interaction-1"]
            ) { shard1, client1 in
                let interactions = ["\(shard0.address)", "\(shard1.address)"]
                try ShardMap.interactionAndSuccess(interactions, placeholders, epoch: 2).json.write(to: mapFile)
                try await withService("feedback-service", arguments: profilePeer) { feedback, _ in
                    let peers =
                        profilePeer + mapFlag + [
                            "--interaction-addr", "127.0.0.1:1", "--feedback-addr", "\(feedback.address)",
                        ]
                    try await withService("success-service", arguments: peers + ["--shard", "success-0"]) {
                        success0, successClient0 in
                        try await withService("success-service", arguments: peers + ["--shard", "success-1"]) {
                            success1, successClient1 in
                            let real = try ShardMap.interactionAndSuccess(
                                interactions, ["\(success0.address)", "\(success1.address)"], epoch: 3)
                            try real.json.write(to: mapFile)
                            try await withService(
                                "gateway",
                                arguments: peers + [
                                    "--success-addr", "127.0.0.1:1", "--peer-deadline-ms", "\(peerDeadlineMs)",
                                    "--http-port", "0",
                                ]
                            ) { gatewayProcess, gatewayClient in
                                try await body(
                                    ShardedStack(
                                        shards: [shard0, shard1], profiles: .init(wrapping: profileClient),
                                        success: .init(wrapping: gatewayClient),
                                        shardClients: [.init(wrapping: client0), .init(wrapping: client1)],
                                        successShards: [
                                            .init(wrapping: successClient0), .init(wrapping: successClient1),
                                        ],
                                        gateway: GatewayClient(wrapping: gatewayClient), frontDoor: gatewayClient,
                                        admin: bearer(try await bootstrapSecret(of: gatewayProcess)),
                                        mapFile: mapFile, map: real))
                            }
                        }
                    }
                }
            }
        }
    }
}

@Suite("interaction-service as shards: each customer on exactly one, routed by one shard map")
struct ShardedInteractionTests {
    @Test(
        """
        through the gateway each customer's touchpoints land on the one shard that owns it, views are whole, another \
        shard refuses the customer naming the owner, profile-service's loyalty follows every shard's feed, a merge \
        across shards hands the rows to the survivor's shard, and a stopped shard leaves only its own customers' \
        views partial
        """)
    func customersLiveOnExactlyOneShard() async throws {
        try await withShardedStack { stack in
            // Customers are created until each shard owns at least two: ids are random, so how many that takes is not
            // fixed, but it ends.
            var owned: [[String]] = [[], []]
            var created = 0
            while owned.contains(where: { $0.count < 2 }), created < 64 {
                let id = try await stack.gateway.createCustomer(
                    .with {
                        $0.givenName = "Shard"
                        $0.familyName = "Customer \(created)"
                    }, metadata: stack.admin
                ).customerID
                created += 1
                let owner = try #require(stack.map.owner(of: id, in: "interaction-service"))
                owned[owner.shard == "interaction-0" ? 0 : 1].append(id)
                for event in 0..<2 {
                    _ = try await stack.gateway.recordTouchpoint(
                        .with {
                            $0.customerID = id
                            $0.touchpoint = .with {
                                $0.eventID = "shard-\(id)-\(event)"
                                $0.occurredAt = Google_Protobuf_Timestamp(date: Date().addingTimeInterval(-60))
                                $0.channel = .email
                                $0.kind = .message
                                $0.direction = .inbound
                            }
                        }, metadata: stack.admin)
                }
            }
            #expect(owned.allSatisfy { $0.count >= 2 })

            for (index, customers) in owned.enumerated() {
                let other = 1 - index
                for id in customers {
                    let timeline = try await stack.shardClients[index].listTimeline(.with { $0.customerID = id })
                    #expect(timeline.touchpoints.count == 2, "the owner holds both touchpoints of \(id)")
                    do {
                        _ = try await stack.shardClients[other].listTimeline(.with { $0.customerID = id })
                        Issue.record("shard \(other) answered for \(id), which shard \(index) owns")
                    } catch let error as RPCError {
                        #expect(error.code == .failedPrecondition)
                        #expect(error.message.contains("belongs to shard interaction-\(index)"), "\(error.message)")
                        #expect(error.metadata[stringValues: WrongShard.epochKey].contains { Int($0) != nil })
                    }
                    let view = try await stack.gateway.getCustomer360(
                        .with { $0.customerID = id }, metadata: stack.admin)
                    #expect(view.missingSections.isEmpty, "\(view.missingSections)")
                    #expect(view.recentTimeline.count == 2)
                }
            }

            // profile-service follows each shard's feed: a purchase on either shard earns its customer points.
            for customers in owned {
                let id = customers[0]
                _ = try await stack.gateway.recordTouchpoint(
                    .with {
                        $0.customerID = id
                        $0.touchpoint = .with {
                            $0.eventID = "shard-purchase-\(id)"
                            $0.occurredAt = Google_Protobuf_Timestamp(date: Date().addingTimeInterval(-60))
                            $0.channel = .web
                            $0.direction = .inbound
                            $0.kind = .purchase
                            $0.purchase = .with {
                                $0.orderID = "order-\(id)"
                                $0.amount = .with {
                                    $0.amountMinor = 12_500
                                    $0.currencyCode = "USD"
                                }
                            }
                        }
                    }, metadata: stack.admin)
                _ = try await ChangeFeedWait.first(
                    ChangeFeedWait.request(.loyaltyChanged, customer: id), timeout: .seconds(30)
                ) { try await stack.profiles.watchChanges($0, options: $1, onResponse: $2) }
                let customer = try await stack.profiles.getCustomer(.with { $0.customerID = id })
                #expect(customer.loyaltyPoints == 125, "\(customer)")
            }

            // A caller whose map is out of date (slots the other way round, an older epoch) is refused by the shard it
            // picks, reads the map file again and goes to the owner: the call succeeds, once.
            let staleFile = FileManager.default.temporaryDirectory.appendingPathComponent(
                "c360-stale-map-\(UUID()).json")
            defer { try? FileManager.default.removeItem(at: staleFile) }
            let addresses = try #require(stack.map.services["interaction-service"]).map(\.address)
            try ShardMap.even(
                epoch: 1,
                services: [(name: "interaction-service", shardPrefix: "interaction", addresses: addresses.reversed())]
            ).json.write(to: staleFile)
            let stale = try ShardMapSource(path: staleFile.path)
            try stack.map.json.write(to: staleFile)
            let connection = try PeerConnection(
                address: PeerAddress(host: "127.0.0.1", port: 1), service: "interaction-service", shards: stale,
                routing: .current)
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { try await connection.run() }
                let interactions = Customer360_V1_InteractionService.Client(wrapping: connection.client)
                let timeline = try await interactions.listTimeline(.with { $0.customerID = owned[0][0] })
                #expect(timeline.touchpoints.count == 3, "two messages and the purchase")
                #expect(stale.current.epoch == stack.map.epoch, "the refusal made the caller read the map again")

                // A read across customers names no customer. One the contracts say how to merge is asked of every
                // shard by the transport itself, the same as asking each (pinned by metadata) and adding up.
                var pinned: [Customer360_V1_GetRfmSegmentsResponse] = []
                for shard in ["interaction-0", "interaction-1"] {
                    pinned.append(
                        try await interactions.getRfmSegments(.init(), metadata: [WrongShard.pinKey: .string(shard)]))
                }
                let merged = try await interactions.getRfmSegments(.init())
                #expect(merged.customers == pinned.map(\.customers).reduce(0, +), "\(merged)")
                #expect(merged.customers == Int64(created), "every customer of both shards")
                // A change feed across customers is every shard's feed interleaved, each event naming its shard,
                // each batch carrying both shards' positions: read to the end, it holds every touchpoint of both
                // shards once, and resumed from its last position, exactly what came since.
                @Sendable func readFeed(after position: String) async throws -> (
                    events: [Customer360_V1_ChangeEvent], position: String
                ) {
                    try await interactions.watchChanges(
                        .with {
                            $0.kinds = [.touchpointRecorded, .purchaseRecorded]
                            $0.untilCaughtUp = true
                            $0.afterPosition = position
                        }
                    ) { response in
                        var events: [Customer360_V1_ChangeEvent] = []
                        var last = position
                        for try await batch in response.messages {
                            events += batch.events
                            last = batch.throughPosition
                        }
                        return (events, last)
                    }
                }
                let (everything, position) = try await readFeed(after: "")
                #expect(Set(everything.map(\.shard)) == ["interaction-0", "interaction-1"])
                #expect(everything.count == created * 2 + 2, "two messages per customer and two purchases, once each")
                #expect(Set(everything.map { "\($0.shard)#\($0.sequence)" }).count == everything.count)
                _ = try await stack.gateway.recordTouchpoint(
                    .with {
                        $0.customerID = owned[1][1]
                        $0.touchpoint = .with {
                            $0.eventID = "feed-resume-\(owned[1][1])"
                            $0.occurredAt = Google_Protobuf_Timestamp(date: Date().addingTimeInterval(-30))
                            $0.channel = .web
                            $0.kind = .pageView
                            $0.direction = .inbound
                        }
                    }, metadata: stack.admin)
                let resumed = try await readFeed(after: position)
                #expect(resumed.events.map(\.customerID) == [owned[1][1]], "only what came since, from its shard")
                #expect(resumed.events.map(\.shard) == ["interaction-1"])
                await #expect(throws: RPCError.self) {
                    try await interactions.watchChanges(.with { $0.afterSequence = 3 }) { response in
                        for try await _ in response.messages {}
                    }
                }

                // A client stream naming customers of both shards is split, each message to its customer's shard,
                // and answered once: the counts added up, a rejection at its position in the whole stream.
                @Sendable func touchpoint(_ id: String, _ event: String) -> Customer360_V1_RecordTouchpointsRequest {
                    .with {
                        $0.customerID = id
                        $0.touchpoint = .with {
                            $0.eventID = event
                            $0.occurredAt = Google_Protobuf_Timestamp(date: Date().addingTimeInterval(-30))
                            $0.channel = .web
                            $0.kind = .pageView
                            $0.direction = .inbound
                        }
                    }
                }
                let stream = [
                    touchpoint(owned[1][0], "stream-a"), touchpoint(owned[0][1], "stream-b"),
                    touchpoint(owned[1][1], ""), touchpoint(owned[0][1], "stream-c"),
                ]
                let streamed = try await interactions.recordTouchpoints(
                    requestProducer: { writer in try await writer.write(contentsOf: stream) })
                #expect(streamed.received == 4)
                #expect(streamed.stored == 3, "\(streamed)")
                #expect(streamed.rejected == 1)
                #expect(
                    streamed.rejections.map(\.index) == [2], "the rejection's index is its place in the whole stream")
                let onOwner = try await stack.shardClients[1].listTimeline(.with { $0.customerID = owned[1][0] })
                #expect(onOwner.touchpoints.count == 4, "two messages, the purchase and the first streamed")
                let onOther = try await stack.shardClients[0].listTimeline(.with { $0.customerID = owned[0][1] })
                #expect(onOther.touchpoints.count == 4, "two messages and two streamed")
                connection.client.beginGracefulShutdown()
            }

            // The KPI dashboard asks every shard and adds their counts: one ticket on each shard makes two.
            for customers in owned {
                _ = try await stack.gateway.openTicket(
                    .with {
                        $0.customerID = customers[0]
                        $0.eventID = "shard-ticket-\(customers[0])"
                        $0.subject = "Where is my order?"
                        $0.channel = .email
                    }, metadata: stack.admin)
            }
            let whole = try await stack.gateway.getKpiDashboard(.init(), metadata: stack.admin)
            #expect(whole.missingSections.isEmpty, "\(whole.sectionStatuses)")
            #expect(whole.support.ticketsOpened == 2)
            #expect(whole.customers == Int64(created), "every customer has touchpoints on one shard or the other")
            #expect(
                whole.segments.map(\.customers).reduce(0, +) == 2, "one customer with a purchase on each shard")
            // The same reads forwarded through the gateway's front door are asked of every shard and merged too.
            let frontDoor = Customer360_V1_InteractionService.Client(wrapping: stack.frontDoor)
            #expect(try await frontDoor.getSupportKpis(.init(), metadata: stack.admin).ticketsOpened == 2)
            #expect(try await frontDoor.getRfmSegments(.init(), metadata: stack.admin).customers == Int64(created))
            // The change feed across customers through the front door: both shards' feeds, positions and all.
            let (fed, through) = try await frontDoor.watchChanges(
                .with {
                    $0.kinds = [.ticketOpened]
                    $0.untilCaughtUp = true
                }, metadata: stack.admin
            ) { response in
                var events: [Customer360_V1_ChangeEvent] = []
                var last = ""
                for try await batch in response.messages {
                    events += batch.events
                    last = batch.throughPosition
                }
                return (events, last)
            }
            #expect(Set(fed.map(\.shard)) == ["interaction-0", "interaction-1"], "one ticket on each shard")
            #expect(fed.count == 2 && !through.isEmpty)
            // A list across customers is read from both shards and merged in its order: every customer once, by id.
            var listed: [String] = []
            var token = ""
            repeat {
                let page = try await frontDoor.listCustomerActivity(
                    .with {
                        $0.page.pageSize = 2
                        $0.page.pageToken = token
                    }, metadata: stack.admin)
                listed += page.customers.map(\.customerID)
                token = page.page.nextPageToken
            } while !token.isEmpty && listed.count <= created
            #expect(listed.count == created && Set(listed) == Set(owned.flatMap { $0 }), "\(listed.count) listed")
            #expect(listed == listed.sorted(), "in id order across both shards")
            await #expect(throws: RPCError.self) {
                _ = try await frontDoor.listCustomerActivity(
                    .with { $0.page.pageToken = "7#x" }, metadata: stack.admin)
            }

            // A batch recompute started through the front door runs on every success shard under one id, each
            // paging through every interaction shard's customers and scoring its own: each customer once in all.
            let batch = try await stack.success.startBatchRecompute(.init(), metadata: stack.admin)
            #expect(batch.state == .running)
            var status = batch
            let until = ContinuousClock.now + .seconds(60)
            while status.state == .running, ContinuousClock.now < until {
                try await Task.sleep(for: .milliseconds(50))
                status = try await stack.success.getBatchStatus(
                    .with { $0.batchID = batch.batchID }, metadata: stack.admin)
            }
            #expect(status.state == .completed, "\(status)")
            #expect(status.processed == Int64(created), "every customer of both shards is scored once: \(status)")
            try await successAcrossShards(stack, customers: owned.flatMap { $0 })

            try await mergeAcrossShardsHandsTheRowsToTheSurvivorsShard(stack)

            // A shard that is frozen (overloaded, its node gone without a reset) is left out before the call's own
            // deadline runs out: the others' answer comes back in time, the frozen shard named.
            kill(stack.shards[1].processIdentifier, SIGSTOP)
            let frozenStart = ContinuousClock.now
            let slowAnswer: Result<(Customer360_V1_SupportKpis, String?), any Error>
            do {
                slowAnswer = .success(
                    try await frontDoor.getSupportKpis(
                        .init(), metadata: stack.admin, options: CallOptions.deadline(.seconds(2))
                    ) { response in
                        (
                            try response.message,
                            response.trailingMetadata[stringValues: "c360-missing-shards"].first { _ in true }
                        )
                    })
            } catch {
                slowAnswer = .failure(error)
            }
            kill(stack.shards[1].processIdentifier, SIGCONT)
            let (slowKpis, slowMissing) = try slowAnswer.get()
            #expect(ContinuousClock.now - frozenStart < .seconds(2))
            #expect(slowKpis.ticketsOpened == 1, "the answering shard's part")
            #expect(slowMissing == "interaction-1", "the trailer names the shard that did not answer in time")

            // A shard that is gone takes only its own customers' interaction sections with it.
            _ = try await stack.shards[1].kill()
            let partial = try await stack.gateway.getKpiDashboard(.init(), metadata: stack.admin)
            let support = try #require(partial.sectionStatuses.first { $0.section == "support" })
            #expect(!support.ok)
            #expect(support.missingShards == ["interaction-1"], "\(support)")
            #expect(partial.missingSections.contains("support"))
            #expect(partial.support.ticketsOpened == 1, "the answering shard's part is kept")
            #expect(partial.customers == Int64(owned[0].count))
            let (forwarded, missing) = try await frontDoor.getSupportKpis(.init(), metadata: stack.admin) { response in
                (
                    try response.message,
                    response.trailingMetadata[stringValues: "c360-missing-shards"].first { _ in true }
                )
            }
            #expect(forwarded.ticketsOpened == 1, "the answering shard's part")
            #expect(missing == "interaction-1", "the trailer names the shard that did not answer")
            // A list across customers is partial the same way: the answering shard's customers, in order, named.
            let (activity, activityMissing) = try await frontDoor.listCustomerActivity(
                .with { $0.page.pageSize = 100 }, metadata: stack.admin
            ) { response in
                (
                    try response.message,
                    response.trailingMetadata[stringValues: "c360-missing-shards"].first { _ in true }
                )
            }
            let active = activity.customers.map(\.customerID)
            #expect(!active.isEmpty && Set(active).isSubset(of: owned[0]), "shard 0's customers only: \(active)")
            #expect(active == active.sorted(), "in id order")
            #expect(activityMissing == "interaction-1")
            for id in owned[0] {
                let view = try await stack.gateway.getCustomer360(.with { $0.customerID = id }, metadata: stack.admin)
                #expect(view.missingSections.isEmpty, "shard 0's customer \(id) lost \(view.missingSections)")
            }
            for id in owned[1] {
                let view = try await stack.gateway.getCustomer360(.with { $0.customerID = id }, metadata: stack.admin)
                #expect(view.missingSections.contains("timeline"), "\(view.missingSections)")
                #expect(view.profile.customerID == id, "the profile section still answers")
            }
        }
    }
}

/// Merging a customer of one shard into a survivor of the other hands the merged-away customer's touchpoints to the
/// survivor's shard, sealed attributes readable there, so the survivor's view is whole by either id and the old shard
/// keeps nothing of them. Run inside the first test's stack: a second stack of six processes would add to the load
/// every other test shares.
private func mergeAcrossShardsHandsTheRowsToTheSurvivorsShard(_ stack: ShardedStack) async throws {
    var byShard: [String: String] = [:]
    var created = 0
    while byShard.count < 2, created < 64 {
        let id = try await stack.gateway.createCustomer(
            .with { $0.givenName = "Merge \(created)" }, metadata: stack.admin
        ).customerID
        created += 1
        let owner = try #require(stack.map.owner(of: id, in: "interaction-service")).shard
        if byShard[owner] == nil { byShard[owner] = id }
    }
    let merged = try #require(byShard["interaction-0"])
    let survivor = try #require(byShard["interaction-1"])
    for id in [merged, survivor] {
        for event in 0..<2 {
            _ = try await stack.gateway.recordTouchpoint(
                .with {
                    $0.customerID = id
                    $0.touchpoint = .with {
                        $0.eventID = "merge-\(id)-\(event)"
                        $0.occurredAt = Google_Protobuf_Timestamp(date: Date().addingTimeInterval(-60))
                        $0.channel = .email
                        $0.kind = .message
                        $0.direction = .inbound
                        $0.attributes = ["said": "\(id)-\(event)"]
                    }
                }, metadata: stack.admin)
        }
    }

    // success-service splits its slots as interaction-service does: the merged-away customer's plan is on the other
    // success shard than the survivor's, and follows the survivor there, milestone and sealed title included.
    let plan = try await createPlan(stack, for: merged, title: "Renewal for \(merged)")

    _ = try await stack.profiles.mergeCustomers(
        .with {
            $0.customerID = survivor
            $0.mergedID = merged
            $0.note = "one person, two shards"
        })
    let handedOver = try await eventually(timeout: .seconds(30)) {
        try await stack.shardClients[1].listTimeline(.with { $0.customerID = survivor }).touchpoints.count == 4
    }
    #expect(handedOver, "the survivor's shard holds all four touchpoints")
    let timeline = try await stack.shardClients[1].listTimeline(.with { $0.customerID = survivor })
    #expect(
        Set(timeline.touchpoints.map { $0.attributes["said"] ?? "" })
            == ["\(merged)-0", "\(merged)-1", "\(survivor)-0", "\(survivor)-1"],
        "sealed under the merged-away customer's key on the old shard, readable on the new one")
    let stats = try await stack.shardClients[1].getCustomerStats(.with { $0.customerID = survivor })
    #expect(stats.engagement.totalTouchpoints == 4, "the survivor's counters were rebuilt")
    // Pinned to the old shard (as a read asking every shard is), a read by the merged-away id answers from what that
    // shard holds: the survivor's rows under its alias, none. Sent straight to it unpinned, the read is refused,
    // naming the survivor; through the front door the caller's routing follows to the survivor's shard.
    let frontDoor = Customer360_V1_InteractionService.Client(wrapping: stack.frontDoor)
    let pinned: Metadata = [WrongShard.pinKey: "interaction-0", WrongShard.epochKey: "\(stack.map.epoch)"]
    func leftOnOld() async throws -> [String] {
        try await stack.shardClients[0].listTimeline(.with { $0.customerID = merged }, metadata: pinned).touchpoints
            .map(\.eventID)
    }
    #expect(try await leftOnOld() == [])
    let readRefusal = await expectStatus(.failedPrecondition, containing: survivor, "a read straight to the old shard")
    {
        _ = try await stack.shardClients[0].listTimeline(.with { $0.customerID = merged })
    }
    #expect(readRefusal?.metadata[stringValues: WrongShard.familyKey].map { $0 } == [survivor])
    let followed = try await frontDoor.listTimeline(.with { $0.customerID = merged }, metadata: stack.admin)
    #expect(followed.touchpoints.count == 4, "read by the merged-away id through the front door")

    let survivorsSuccess = try #require(stack.map.owner(of: survivor, in: "success-service")).shard
    #expect(survivorsSuccess == "success-1")
    let planMoved = try await eventually(timeout: .seconds(30)) {
        try await stack.successShards[1].listSuccessPlans(.with { $0.customerID = survivor }).plans
            .contains { $0.planID == plan.planID }
    }
    #expect(planMoved, "the plan followed the survivor to its success shard")
    let moved = try await stack.successShards[1].listSuccessPlans(.with { $0.customerID = survivor }).plans
        .first { $0.planID == plan.planID }
    #expect(moved?.title == "Renewal for \(merged)", "sealed on the old shard, readable on the new one")
    #expect(moved?.milestones.map(\.title) == ["Kick-off"])

    for id in [survivor, merged] {
        let view = try await stack.gateway.getCustomer360(.with { $0.customerID = id }, metadata: stack.admin)
        #expect(view.customerID == survivor)
        #expect(
            view.recentTimeline.count == 4,
            "the view by \(id == merged ? "the merged-away id" : "the survivor")")
    }

    // A write by the merged-away id after the merge goes with the survivor's rows: the id's own shard refuses it,
    // naming the survivor, stores nothing, and the callers' routing sends it to the survivor's shard.
    func event(_ id: String) -> Customer360_V1_RecordTouchpointRequest {
        .with {
            $0.customerID = merged
            $0.touchpoint = .with {
                $0.eventID = id
                $0.occurredAt = Google_Protobuf_Timestamp(date: Date())
                $0.channel = .chat
                $0.kind = .message
                $0.direction = .inbound
            }
        }
    }
    let refusal = await expectStatus(.failedPrecondition, containing: survivor, "straight to the merged id's shard") {
        _ = try await stack.shardClients[0].recordTouchpoint(event("after-merge-direct"))
    }
    #expect(refusal?.metadata[stringValues: WrongShard.familyKey].map { $0 } == [survivor])
    _ = try await stack.gateway.recordTouchpoint(event("after-merge-gateway"), metadata: stack.admin)
    _ = try await frontDoor.recordTouchpoint(event("after-merge-front-door"), metadata: stack.admin)
    let after = try await stack.shardClients[1].listTimeline(.with { $0.customerID = survivor })
    #expect(
        Set(after.touchpoints.map(\.eventID)).isSuperset(of: ["after-merge-gateway", "after-merge-front-door"]),
        "\(after.touchpoints.map(\.eventID))")
    #expect(after.touchpoints.count == 6, "the refused write stored nothing on the survivor's shard")
    #expect(try await leftOnOld() == [], "nor on the old one")
}

/// success-service as two shards, after a batch scored every customer: each shard holds exactly its own customers'
/// scores, the reads across customers — through the front door, the dashboard, and a generated client over the
/// routing transport — are whole, a plan lands on its customer's shard and another shard refuses it.
private func successAcrossShards(_ stack: ShardedStack, customers: [String]) async throws {
    var byShard: [[String]] = [[], []]
    for id in customers {
        let owner = try #require(stack.map.owner(of: id, in: "success-service")).shard
        byShard[owner == "success-0" ? 0 : 1].append(id)
    }
    for (index, shard) in stack.successShards.enumerated() {
        let own = try await shard.getHealthSummary(.init())
        #expect(own.customersScored == Int64(byShard[index].count), "success-\(index) holds its own customers only")
        for id in byShard[index] {
            #expect(try await shard.getHealthScore(.with { $0.customerID = id }).customerID == id)
        }
    }
    let summary = try await stack.success.getHealthSummary(.init(), metadata: stack.admin)
    #expect(summary.customersScored == Int64(customers.count), "the front door adds both shards' summaries")
    let dashboard = try await stack.gateway.getKpiDashboard(.init(), metadata: stack.admin)
    #expect(dashboard.health.customersScored == Int64(customers.count), "\(dashboard.sectionStatuses)")

    // Every scored customer is at or below 100: the at-risk list, paged two at a time, names each exactly once, lowest
    // score first across both shards.
    var listed: [String] = []
    var scores: [Double] = []
    var token = ""
    repeat {
        let page = try await stack.success.listAtRisk(
            .with {
                $0.maxScore = 100
                $0.page.pageSize = 2
                $0.page.pageToken = token
            }, metadata: stack.admin)
        listed += page.customers.map(\.customerID)
        scores += page.customers.map(\.latest.score)
        token = page.page.nextPageToken
    } while !token.isEmpty && listed.count <= customers.count
    #expect(listed.count == customers.count && Set(listed) == Set(customers), "\(listed.count) listed")
    #expect(scores == scores.sorted(), "\(scores)")

    // A generated client over the routing transport gets the same merged answers, with no pin of its own.
    let connection = try PeerConnection(
        address: PeerAddress(host: "127.0.0.1", port: 1), service: "success-service",
        shards: try ShardMapSource(path: stack.mapFile.path), routing: .current)
    try await withThrowingDiscardingTaskGroup { group in
        group.addTask { try await connection.run() }
        let routed = Customer360_V1_SuccessService.Client(wrapping: connection.client)
        #expect(try await routed.getHealthSummary(.init()).customersScored == Int64(customers.count))
        let all = try await routed.listAtRisk(
            .with {
                $0.maxScore = 100
                $0.page.pageSize = 500
            })
        #expect(all.customers.map(\.customerID) == listed, "one page holds both shards' customers, in the same order")
        #expect(all.page.nextPageToken.isEmpty)
        connection.client.beginGracefulShutdown()
    }

    // A plan is stored on its customer's shard; the other shard refuses the customer, naming the owner.
    for index in 0..<2 {
        let id = byShard[index][0]
        let plan = try await createPlan(stack, for: id, title: "Onboarding")
        let onOwner = try await stack.successShards[index].listSuccessPlans(.with { $0.customerID = id })
        #expect(onOwner.plans.map(\.planID) == [plan.planID])
        await #expect(throws: RPCError.self) {
            _ = try await stack.successShards[1 - index].listSuccessPlans(.with { $0.customerID = id })
        }
    }
    let plans = try await stack.success.listSuccessPlans(.with { $0.page.pageSize = 10 }, metadata: stack.admin)
    #expect(plans.plans.map(\.customerID) == [byShard[0][0], byShard[1][0]].sorted(), "one plan on each shard")
    #expect(plans.page.nextPageToken.isEmpty)

    // The live alert feed across customers is both shards' feeds interleaved: an overdue goal on a customer of each
    // shard raises an alert there, and one watch through the gateway, replaying the last minute, sees both.
    let since = Date().addingTimeInterval(-60)
    for index in 0..<2 {
        _ = try await stack.success.createSuccessPlan(
            .with {
                $0.customerID = byShard[index][0]
                $0.title = "Adoption"
                $0.csmOwnerID = "csm-ada"
                $0.status = .active
                $0.startsAt = Google_Protobuf_Timestamp(date: Date().addingTimeInterval(-30 * 86_400))
                $0.goals = [
                    .with {
                        $0.title = "Seats in use"
                        $0.metric = "seats"
                        $0.targetValue = 10
                        $0.dueAt = Google_Protobuf_Timestamp(date: Date().addingTimeInterval(-86_400))
                    }
                ]
            }, metadata: stack.admin)
        _ = try await stack.success.computeHealthScore(
            .with { $0.customerID = byShard[index][0] }, metadata: stack.admin)
    }
    var options = CallOptions.defaults
    options.timeout = .seconds(30)
    let alerted = try await stack.gateway.watchAlerts(
        .with {
            $0.kinds = [.goalOverdue]
            $0.since = Google_Protobuf_Timestamp(date: since)
        }, metadata: stack.admin, options: options
    ) { response in
        var customers: Set<String> = []
        var positioned = true
        for try await event in response.messages where event.eventType == .raised {
            customers.insert(event.alert.customerID)
            positioned = positioned && !event.position.isEmpty
            if customers.count == 2 { break }
        }
        return (customers, positioned)
    }
    #expect(alerted.0 == [byShard[0][0], byShard[1][0]], "one overdue-goal alert from each shard")
    #expect(alerted.1, "each event carries every shard's position to resume from")
}

/// An active plan of `customer` with one milestone, "Kick-off", created through the gateway's front door.
private func createPlan(_ stack: ShardedStack, for customer: String, title: String) async throws
    -> Customer360_V1_SuccessPlan
{
    try await stack.success.createSuccessPlan(
        .with {
            $0.customerID = customer
            $0.title = title
            $0.csmOwnerID = "csm-ada"
            $0.status = .active
            $0.startsAt = Google_Protobuf_Timestamp(date: Date())
            $0.milestones = [.with { $0.title = "Kick-off" }]
        }, metadata: stack.admin)
}

import C360Clients
import C360Contracts
import C360ServerKit
import C360TestSupport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import SwiftProtobuf
import Testing

/// interaction-service run as two shards on loopback, with profile-, feedback- and success-service and the gateway
/// routing to them through one shard map file.
/// The shipped loyalty program (1 point per dollar), which profile-service runs from interaction-service's feeds.
private let loyaltyProgram = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("deploy/loyalty-program.json").path

private struct ShardedStack {
    var shards: [ServiceProcess]
    var profiles: Customer360_V1_ProfileService.Client<HTTP2ClientTransport.Posix>
    var success: Customer360_V1_SuccessService.Client<HTTP2ClientTransport.Posix>
    var shardClients: [Customer360_V1_InteractionService.Client<HTTP2ClientTransport.Posix>]
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
    try ShardMap.interaction(["127.0.0.1:1", "127.0.0.1:2"], epoch: 1).json.write(to: mapFile)
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
                let real = try ShardMap.interaction(["\(shard0.address)", "\(shard1.address)"], epoch: 2)
                try real.json.write(to: mapFile)
                try await withService("feedback-service", arguments: profilePeer) { feedback, _ in
                    let peers =
                        profilePeer + mapFlag + [
                            "--interaction-addr", "127.0.0.1:1", "--feedback-addr", "\(feedback.address)",
                        ]
                    try await withService("success-service", arguments: peers) { success, successClient in
                        try await withService(
                            "gateway",
                            arguments: peers + [
                                "--success-addr", "\(success.address)", "--peer-deadline-ms", "\(peerDeadlineMs)",
                                "--http-port", "0",
                            ]
                        ) { gatewayProcess, gatewayClient in
                            try await body(
                                ShardedStack(
                                    shards: [shard0, shard1], profiles: .init(wrapping: profileClient),
                                    success: .init(wrapping: successClient),
                                    shardClients: [.init(wrapping: client0), .init(wrapping: client1)],
                                    gateway: GatewayClient(wrapping: gatewayClient), frontDoor: gatewayClient,
                                    admin: bearer(try await bootstrapSecret(of: gatewayProcess)), mapFile: mapFile,
                                    map: real))
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
                        #expect(error.metadata[stringValues: WrongShard.epochKey].contains { $0 == "1" || $0 == "2" })
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
                #expect(stale.current.epoch == 2, "the refusal made the caller read the map again")

                // A read across customers names no customer: it must ask each shard (pinned by metadata), not one.
                do {
                    _ = try await interactions.getSupportKpis(.init())
                    Issue.record("a read across customers answered from one shard as if it were whole")
                } catch let error as RPCError {
                    #expect(error.code == .failedPrecondition)
                    #expect(error.message.contains("ask each shard"), "\(error.message)")
                }
                for shard in ["interaction-0", "interaction-1"] {
                    _ = try await interactions.getSupportKpis(.init(), metadata: [WrongShard.pinKey: .string(shard)])
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
            // A list across customers is paged shard after shard: every customer once, then the end.
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
            await #expect(throws: RPCError.self) {
                _ = try await frontDoor.listCustomerActivity(
                    .with { $0.page.pageToken = "7#x" }, metadata: stack.admin)
            }

            // A batch recompute pages through every shard's customers, one shard after the other.
            let batch = try await stack.success.startBatchRecompute(.with { $0.batchID = "shards" })
            #expect(batch.state == .running)
            var status = batch
            let until = ContinuousClock.now + .seconds(60)
            while status.state == .running, ContinuousClock.now < until {
                try await Task.sleep(for: .milliseconds(50))
                status = try await stack.success.getBatchStatus(.with { $0.batchID = "shards" })
            }
            #expect(status.state == .completed, "\(status)")
            #expect(status.processed == Int64(created), "every customer of both shards is scored once: \(status)")

            try await mergeAcrossShardsHandsTheRowsToTheSurvivorsShard(stack)

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
    // The old shard keeps nothing: by the merged-away id it resolves to the survivor and finds no rows.
    let left = try await stack.shardClients[0].listTimeline(.with { $0.customerID = merged })
    #expect(left.touchpoints.isEmpty, "\(left.touchpoints.map(\.eventID))")

    for id in [survivor, merged] {
        let view = try await stack.gateway.getCustomer360(.with { $0.customerID = id }, metadata: stack.admin)
        #expect(view.customerID == survivor)
        #expect(
            view.recentTimeline.count == 4,
            "the view by \(id == merged ? "the merged-away id" : "the survivor")")
    }
}

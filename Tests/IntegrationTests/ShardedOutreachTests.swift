import C360Clients
import C360Contracts
import C360TestSupport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import SwiftProtobuf
import Testing

/// outreach-service as two shards on loopback, with the four data services and a real SMTP peer: definitions on every
/// shard, each customer's read model, memberships and messages on the one owning it, and the answers across customers
/// whole.
@Suite("outreach-service as shards: definitions on every shard, each customer's outreach on its own")
struct ShardedOutreachTests {
    @Test(
        """
        a template and a segment written through the sharded client land on both shards; each shard segments and \
        messages only the customers it owns; the segment's size, members, preview, stats, export and a campaign's \
        counts and messages across both shards are every customer's, each once, and every member gets one email
        """)
    func outreachAcrossShards() async throws {
        try await OutreachShardStack.run { stack in
            try await withService(
                "gateway",
                arguments: stack.dataPeers + [
                    "--outreach-addr", "127.0.0.1:1", "--shard-map", stack.mapFile.path, "--http-port", "0",
                ]
            ) { gatewayProcess, gatewayClient in
                try await exercise(
                    stack, shards: stack.shards.map { .init(wrapping: $0.client) },
                    frontDoor: (.init(wrapping: gatewayClient), bearer(try await bootstrapSecret(of: gatewayProcess))))
            }
        }
    }

    typealias Outreach = Customer360_V1_OutreachService.Client<HTTP2ClientTransport.Posix>

    private func exercise(
        _ stack: OutreachShardStack, shards: [Outreach], frontDoor: (outreach: Outreach, admin: Metadata)
    ) async throws {
        let (map, smtp) = (stack.map, stack.smtp)
        // Given twelve customers with email marketing consent, eight of them tagged vip, hashing over both shards
        var vips: [String] = []
        for index in 0..<12 {
            let id = try await stack.consentingCustomer(
                named: "Shard\(index)", email: "shard\(index)@example.com", tags: index < 8 ? ["vip"] : [])
            if index < 8 { vips.append(id) }
        }
        let owner = { (id: String) in map.owner(of: id, in: "outreach-service")?.shard == "outreach-0" ? 0 : 1 }
        let onShard = [vips.filter { owner($0) == 0 }, vips.filter { owner($0) == 1 }]
        try #require(!onShard[0].isEmpty && !onShard[1].isEmpty, "the vips hash over both shards")

        try await stack.routed { outreach in
            // When a template and a segment are written through the sharded client
            _ = try await outreach.putTemplate(
                OutreachShardStack.emailTemplate("hello", name: "Hello", subject: "Hello {{given_name}}"))
            let created = try await outreach.createSegment(
                .with {
                    $0.name = "VIP"
                    $0.rule = .with {
                        $0.condition = .with {
                            $0.field = "tag"
                            $0.operator = .in
                            $0.values = ["vip"]
                        }
                    }
                })

            // Then both shards hold both, under the one id the caller generated
            #expect(!created.segmentID.isEmpty)
            for shard in shards {
                #expect(try await shard.getTemplate(.with { $0.templateID = "hello" }).name == "Hello")
                #expect(try await shard.getSegment(.with { $0.segmentID = created.segmentID }).name == "VIP")
            }

            // And once the read models have caught up, each shard's members are exactly the vips it owns
            let deadline = ContinuousClock.now + .seconds(30)
            var (size, customers): (Int64, Int64) = (0, 0)
            while ContinuousClock.now < deadline {
                size = try await outreach.getSegment(.with { $0.segmentID = created.segmentID }).size
                customers = try await outreach.previewSegment(.with { $0.rule = created.rule }).customers
                if size == Int64(vips.count), customers == 12 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(size == Int64(vips.count))
            #expect(customers == 12)
            for (index, shard) in shards.enumerated() {
                let members = try await shard.listSegmentMembers(.with { $0.segmentID = created.segmentID }).members
                #expect(Set(members.map(\.customerID)) == Set(onShard[index]))
            }

            // And the answers across customers are every customer's, each once, in the contract's order
            var listed: [String] = []
            var token = ""
            repeat {
                let page = try await outreach.listSegmentMembers(
                    .with {
                        $0.segmentID = created.segmentID
                        $0.page = .with {
                            $0.pageSize = 3
                            $0.pageToken = token
                        }
                    })
                listed += page.members.map(\.customerID)
                token = page.page.nextPageToken
            } while !token.isEmpty
            #expect(listed == vips.sorted())
            let preview = try await outreach.previewSegment(
                .with {
                    $0.rule = created.rule
                    $0.sampleSize = 5
                })
            #expect(preview.size == Int64(vips.count))
            #expect(preview.customers == 12)
            #expect(preview.sample.map(\.customerID) == Array(vips.sorted().prefix(5)))
            let stats = try await outreach.getSegmentStats(.with { $0.segmentID = created.segmentID })
            #expect(stats.size == Int64(vips.count))
            #expect(stats.unscored + stats.green + stats.yellow + stats.red == Int64(vips.count))
            let segments = try await outreach.listSegments(.init()).segments
            #expect(segments.map(\.segmentID) == [created.segmentID])
            #expect(segments.first?.size == Int64(vips.count))
            /// The members `client` exports, chunks joined in the order they came.
            func exportedMembers<Transport: ClientTransport>(
                through client: Customer360_V1_OutreachService.Client<Transport>, metadata: Metadata = [:]
            ) async throws -> [String] {
                try await client.exportSegmentMembers(.with { $0.segmentID = created.segmentID }, metadata: metadata) {
                    response in
                    var ids: [String] = []
                    for try await chunk in response.messages { ids += chunk.members.map(\.customerID) }
                    return ids
                }
            }
            #expect(try await exportedMembers(through: outreach).sorted() == vips.sorted())

            // When a campaign to the segment starts
            let campaign = try await outreach.startCampaign(
                .with {
                    $0.segmentID = created.segmentID
                    $0.templateID = "hello"
                })

            // Then it runs on both shards under one id, each sending to its own members, and completes with every
            // member sent one email
            var merged = campaign
            while ContinuousClock.now < deadline + .seconds(30), merged.status != .completed {
                try await Task.sleep(for: .milliseconds(100))
                merged = try await outreach.getCampaign(.with { $0.campaignID = campaign.campaignID })
            }
            #expect(merged.status == .completed)
            #expect(merged.total == Int64(vips.count))
            #expect(merged.sent == Int64(vips.count))
            for (index, shard) in shards.enumerated() {
                let own = try await shard.getCampaign(.with { $0.campaignID = campaign.campaignID })
                #expect(own.sent == Int64(onShard[index].count))
            }
            let messages = try await outreach.listMessages(
                .with {
                    $0.campaignID = campaign.campaignID
                    $0.page.pageSize = 5
                })
            #expect(messages.messages.map(\.customerID) == Array(vips.sorted().prefix(5)))
            let one = try #require(messages.messages.first)
            #expect(try await outreach.getMessage(.with { $0.messageID = one.messageID }).customerID == one.customerID)
            let ownMessages = try await outreach.listMessages(.with { $0.customerID = one.customerID }).messages
            #expect(ownMessages.map(\.messageID) == [one.messageID])
            #expect(try smtp.messages().count == vips.count)

            // And through the gateway the same answers come whole: forwarded calls go through the same routing
            let (gateway, admin) = frontDoor
            let throughGateway = try await gateway.getCampaign(
                .with { $0.campaignID = campaign.campaignID }, metadata: admin)
            #expect(throughGateway.sent == Int64(vips.count))
            let firstPage = try await gateway.listSegmentMembers(
                .with {
                    $0.segmentID = created.segmentID
                    $0.page.pageSize = 4
                }, metadata: admin)
            #expect(firstPage.members.map(\.customerID) == Array(vips.sorted().prefix(4)))
            #expect(try await exportedMembers(through: gateway, metadata: admin).sorted() == vips.sorted())
            let journey = try await gateway.putJourney(
                .with {
                    $0.journeyID = "vip-welcome"
                    $0.name = "VIP welcome"
                    $0.trigger.segmentEntered = created.segmentID
                    $0.steps = [.with { $0.wait = .init(seconds: 3_600) }]
                    $0.active = true
                }, metadata: admin)
            #expect(journey.journeyID == "vip-welcome")
            for shard in shards {
                #expect(try await shard.getJourney(.with { $0.journeyID = "vip-welcome" }).name == "VIP welcome")
            }

            // And a customer's own calls go to their shard alone: the other refuses them, naming the owner
            let other = shards[1 - owner(one.customerID)]
            let refusal = await #expect(throws: RPCError.self) {
                _ = try await other.listMessages(.with { $0.customerID = one.customerID })
            }
            #expect(refusal?.code == .failedPrecondition)
        }
    }
}

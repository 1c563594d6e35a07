import C360Clients
import C360Contracts
import C360ServerKit
import Foundation
import GRPCCore
import SwiftProtobuf
import Testing

/// What a sharded outreach-service's shards answer, merged into what one unsharded service would have answered.
@Suite("outreach-service answers merged across shards")
struct OutreachMergeTests {
    @Test("segment stats: counts added, means and rates weighted by the counts each shard states")
    func segmentStats() {
        // Shard A: 10 members, 4 NPS answers (3 promoters, 1 detractor → +50), CSAT 4.0 over 2, 1 churned, CLV
        // 1,000 over 5. Shard B: 30 members, 6 NPS answers (0 promoters, 3 detractors → −50), CSAT 3.0 over 6,
        // 6 churned, no orders.
        let a = Customer360_V1_SegmentStats.with {
            $0.segmentID = "s"
            $0.size = 10
            $0.nps = 50
            $0.npsRespondents = 4
            $0.meanCsat = 4
            $0.csatRespondents = 2
            $0.churnRate = 0.1
            $0.atRiskRate = 0.2
            $0.meanClvMinor = 1_000
            $0.clvCustomers = 5
            $0.green = 6
            $0.unscored = 4
            $0.asOf = .init(seconds: 200)
        }
        let b = Customer360_V1_SegmentStats.with {
            $0.segmentID = "s"
            $0.size = 30
            $0.nps = -50
            $0.npsRespondents = 6
            $0.meanCsat = 3
            $0.csatRespondents = 6
            $0.churnRate = 0.2
            $0.atRiskRate = 0
            $0.red = 30
            $0.asOf = .init(seconds: 100)
        }
        let merged = Customer360_V1_SegmentStats.merged([a, b])
        #expect(merged.size == 40)
        // (2 − 3) promoters less detractors over 10 answers.
        #expect(merged.nps == -10)
        #expect(merged.npsRespondents == 10)
        let csat: Double = (4 * 2 + 3 * 6) / 8
        #expect(merged.meanCsat == csat)
        #expect(merged.csatRespondents == 8)
        #expect(abs(merged.churnRate - 7.0 / 40) < 1e-12)
        #expect(abs(merged.atRiskRate - 2.0 / 40) < 1e-12)
        // Over the five customers with orders, not over every member.
        #expect(merged.meanClvMinor == 1_000)
        #expect(merged.clvCustomers == 5)
        #expect(merged.green == 6)
        #expect(merged.red == 30)
        #expect(merged.unscored == 4)
        #expect(merged.asOf.seconds == 100)
    }

    @Test("segment stats with no answers anywhere leave the means unset, as one service does")
    func segmentStatsWithoutAnswers() {
        let empty = Customer360_V1_SegmentStats.with {
            $0.segmentID = "s"
            $0.size = 3
        }
        let merged = Customer360_V1_SegmentStats.merged([empty, empty])
        #expect(merged.size == 6)
        #expect(!merged.hasNps && !merged.hasMeanCsat && !merged.hasMeanClvMinor)
    }

    @Test("a campaign is queueing while any shard queues, completed only once every shard is, its counts added")
    func campaign() {
        func part(_ status: Customer360_V1_CampaignStatus, sent: Int64, started: Int64, completed: Int64?)
            -> Customer360_V1_Campaign
        {
            .with {
                $0.campaignID = "c"
                $0.status = status
                $0.total = sent + 1
                $0.sent = sent
                $0.suppressed = 1
                $0.startedAt = .init(seconds: started)
                if let completed { $0.completedAt = .init(seconds: completed) }
            }
        }
        let done = Customer360_V1_Campaign.merged([
            part(.completed, sent: 3, started: 20, completed: 50),
            part(.completed, sent: 4, started: 10, completed: 40),
        ])
        #expect(done.status == .completed)
        #expect(done.total == 9)
        #expect(done.sent == 7)
        #expect(done.suppressed == 2)
        #expect(done.startedAt.seconds == 10)
        #expect(done.completedAt.seconds == 50)

        let sending = Customer360_V1_Campaign.merged([
            part(.completed, sent: 3, started: 20, completed: 50), part(.sending, sent: 1, started: 10, completed: nil),
        ])
        #expect(sending.status == .sending)
        #expect(!sending.hasCompletedAt)
        let queueing = Customer360_V1_Campaign.merged([
            part(.sending, sent: 3, started: 20, completed: nil), part(.queueing, sent: 0, started: 10, completed: nil),
        ])
        #expect(queueing.status == .queueing)
    }

    @Test("a segment's and a journey's counts are every shard's; the definition is the first shard's")
    func definitions() {
        let segments = [
            Customer360_V1_Segment.with {
                $0.segmentID = "vip"
                $0.name = "VIP"
                $0.size = 2
                $0.updatedAt = .init(seconds: 5)
            },
            Customer360_V1_Segment.with {
                $0.segmentID = "vip"
                $0.name = "VIP"
                $0.size = 3
                $0.updatedAt = .init(seconds: 9)
            },
        ]
        let segment = Customer360_V1_Segment.merged(segments)
        #expect(segment.name == "VIP")
        #expect(segment.size == 5)
        #expect(segment.updatedAt.seconds == 9)
        let journey = Customer360_V1_Journey.merged([
            .with {
                $0.journeyID = "j"
                $0.running = 1
                $0.completed = 2
            },
            .with {
                $0.journeyID = "j"
                $0.running = 3
                $0.completed = 4
            },
        ])
        #expect(journey.running == 4)
        #expect(journey.completed == 6)
    }

    @Test("every outreach RPC that names no customer is answered across shards: none is refused for want of a rule")
    func everyMethodHasARule() {
        let routing = ShardRouting.current
        for method in ContractCatalog.current.methods where method.service == "customer360.v1.OutreachService" {
            let name = method.fullyQualifiedMethod
            let routed = routing.routes[name] != nil
            let feed = method.name == "WatchChanges"
            #expect(
                routed || feed || AcrossShards.answers(name),
                "\(name) names no customer and has no rule across shards")
        }
    }

    @Test(
        """
        a definition write one shard missed is refused naming the id to send again, the caller's id as well as a \
        generated one; a write every shard refuses alike is the service's own answer
        """)
    func partialBroadcastNamesTheID() async throws {
        typealias Service = Customer360_V1_OutreachService
        let deleted = try await Self.refusal(
            Service.Method.DeleteSegment.descriptor, Customer360_V1_DeleteSegmentRequest.with { $0.segmentID = "vip" },
            Customer360_V1_DeleteSegmentResponse.with { $0.deleted = true })
        #expect(deleted?.code == .unavailable)
        #expect(deleted?.message.contains("taken by shards s0 but not by s1") == true, "\(deleted?.message ?? "")")
        #expect(deleted?.message.contains("send it again with segment_id 'vip'") == true, "\(deleted?.message ?? "")")
        let template = try await Self.refusal(
            Service.Method.PutTemplate.descriptor, Customer360_V1_PutTemplateRequest.with { $0.templateID = "hello" },
            Customer360_V1_MessageTemplate.with { $0.templateID = "hello" })
        #expect(template?.message.contains("template_id 'hello'") == true, "\(template?.message ?? "")")
        let campaign = try await Self.refusal(
            Service.Method.StartCampaign.descriptor, Customer360_V1_StartCampaignRequest.with { $0.segmentID = "vip" },
            Customer360_V1_Campaign.with { $0.campaignID = "x" })
        #expect(campaign?.message.contains("send it again with campaign_id '") == true, "\(campaign?.message ?? "")")

        // Refused by every shard (no id given: the service's own INVALID_ARGUMENT), not a partial write
        let call = try #require(ShardSpreadCalls.all[Service.Method.DeleteSegment.descriptor.fullyQualifiedMethod])
        let invalid = await #expect(throws: RPCError.self) {
            _ = try await call(
                try Customer360_V1_DeleteSegmentRequest().serializedBytes(), ["s0", "s1"],
                ShardAsk { _, _, _ in throw RPCError(code: .invalidArgument, message: "segment_id: is required") })
        }
        #expect(invalid?.code == .invalidArgument)
        #expect(invalid?.message == "segment_id: is required")
    }

    /// Shard s1 is down; s0 answers `answer`.
    private static func ask(_ answer: [UInt8]) -> ShardAsk {
        ShardAsk { _, _, pin in
            guard pin[stringValues: WrongShard.pinKey].contains("s0") else {
                throw RPCError(code: .unavailable, message: "connection refused")
            }
            return answer
        }
    }

    /// What the broadcast of `request` over s0 and s1 is refused with, s1 being down.
    private static func refusal(
        _ method: MethodDescriptor, _ request: some SwiftProtobuf.Message, _ answer: some SwiftProtobuf.Message
    ) async throws -> RPCError? {
        let call = try #require(ShardSpreadCalls.all[method.fullyQualifiedMethod])
        let (bytes, answered): ([UInt8], [UInt8]) = (try request.serializedBytes(), try answer.serializedBytes())
        do {
            _ = try await call(bytes, ["s0", "s1"], ask(answered))
            Issue.record("\(method) was answered although s1 is down")
            return nil
        } catch let error as RPCError {
            return error
        }
    }
}

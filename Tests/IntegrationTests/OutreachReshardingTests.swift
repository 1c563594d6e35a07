import C360Clients
import C360Contracts
import C360TestSupport
import Foundation
import GRDB
import GRPCCore
import GRPCNIOTransportHTTP2
import SwiftProtobuf
import Synchronization
import Testing

/// Touchpoints acknowledged per customer while the move runs, recorded in whole rounds over every customer.
private final class Rounds: Sendable {
    private let state = Mutex<(rounds: Int, stopped: Bool)>((0, false))

    func completed() { state.withLock { $0.rounds += 1 } }
    func stop() { state.withLock { $0.stopped = true } }
    var stopped: Bool { state.withLock { $0.stopped } }
    var count: Int { state.withLock { $0.rounds } }
}

@Suite("resharding outreach-service: customers move with their read model, memberships, messages and journey runs")
struct OutreachReshardingTests {
    @Test(
        """
        outreach-service reshard moves half the slots while a campaign sends and touchpoints change the read model; \
        killed with SIGKILL mid-copy and run again, it finishes; every customer is on one shard with their memberships \
        and journey runs once, each campaign reaches each customer exactly once, a campaign after the move too, and the \
        moved customers' facts are current on the new owner
        """)
    func outreachSlotsMoveWhileSending() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("c360-outreach-move-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try await OutreachShardStack.run { stack in try await exercise(stack, directory: directory) }
    }

    typealias Outreach = Customer360_V1_OutreachService.Client<HTTP2ClientTransport.Posix>

    private func exercise(_ stack: OutreachShardStack, directory: URL) async throws {
        let (mapFile, source, smtp) = (stack.mapFile, stack.shards[0].process, stack.smtp)
        let target = Outreach(wrapping: stack.shards[1].client)
        let interactions = Customer360_V1_InteractionService.Client(wrapping: stack.interaction)
        try await stack.routed { outreach in
            // Given a template, a segment of the vips and a journey every member enters and waits in
            _ = try await outreach.putTemplate(
                OutreachShardStack.emailTemplate("note", name: "Note", subject: "Note for {{given_name}}"))
            let segment = try await outreach.createSegment(
                .with {
                    $0.segmentID = "movers"
                    $0.name = "Movers"
                    $0.rule.condition = .with {
                        $0.field = "tag"
                        $0.operator = .in
                        $0.values = ["vip"]
                    }
                })
            _ = try await outreach.putJourney(
                .with {
                    $0.journeyID = "movers-welcome"
                    $0.name = "Movers welcome"
                    $0.trigger.segmentEntered = "movers"
                    $0.steps = [.with { $0.wait = .init(seconds: 3_600) }]
                    $0.active = true
                })

            // And at least twenty vips with email marketing consent, at least four on each shard's half: ids are
            // random, so customers are added until both halves hold four (a fixed twenty missed one ~0.3% of runs)
            let moving = 0...511 // outreach-0's half
            var customers: [String] = []
            var addresses: [String: String] = [:]
            func hashedOverBothHalves() -> Bool {
                let onFirst = customers.filter { moving.contains(ShardMap.slot(of: $0)) }.count
                return customers.count >= 20 && onFirst >= 4 && customers.count - onFirst >= 4
            }
            while !hashedOverBothHalves() {
                let index = customers.count
                let id = try await stack.consentingCustomer(
                    named: "Mover\(index)", email: "mover\(index)@example.com", tags: ["vip"])
                customers.append(id)
                addresses[id] = "mover\(index)@example.com"
            }
            let count = customers.count
            let moved = customers.filter { moving.contains(ShardMap.slot(of: $0)) }

            #expect(
                try await eventually(timeout: .seconds(30)) {
                    try await outreach.getJourney(.with { $0.journeyID = "movers-welcome" }).running == count
                }, "every customer enrolled once")

            // And a campaign that reached every one of them before the move
            let before = try await completedCampaign("before", outreach)
            #expect(before.sent == count)

            // When touchpoints keep changing every customer's facts, in whole rounds, while the move runs
            let rounds = Rounds()
            let all = customers
            let writer = Task {
                while !rounds.stopped {
                    for (index, id) in all.enumerated() {
                        _ = try await interactions.recordTouchpoint(
                            .with {
                                $0.customerID = id
                                $0.touchpoint = .with {
                                    $0.eventID = "live-\(rounds.count)-\(index)"
                                    $0.occurredAt = Google_Protobuf_Timestamp(date: Date().addingTimeInterval(-60))
                                    $0.channel = .web
                                    $0.kind = .pageView
                                    $0.direction = .inbound
                                }
                            })
                    }
                    rounds.completed()
                    try await Task.sleep(for: .milliseconds(100))
                }
            }

            // And a first mover, slow, is killed with SIGKILL once it has copied a few customers
            let (binary, moveArguments) = try await killMoverMidCopy(
                "outreach-service", mapFile: mapFile, slots: "0-511", to: "outreach-1", copied: 4, directory: directory)

            // And while it is down, an operator lifts the range's fence on the source, which also ends the logging of
            // its writes: the mover's catch-up position no longer covers what changes meanwhile
            _ = try await Customer360_V1_AdminService.Client(wrapping: stack.shards[0].client).fenceSlots(
                .with {
                    $0.slots = ["0-511"]
                    $0.lift = true
                })

            // And run again, paced as well, it resumes, is refused the catch-up, copies again from the start and
            // finishes while a second campaign sends
            let during = try await outreach.startCampaign(
                .with {
                    $0.campaignID = "during"
                    $0.segmentID = segment.segmentID
                    $0.templateID = "note"
                })
            let second = try await ChildProcess.run(
                binary, moveArguments + ["--pause-ms", "100"], timeout: .seconds(180))
            #expect(second.status == 0, "\(second)")
            #expect(second.output.contains("resuming the move of slots 0-511"), "\(second.output)")
            #expect(second.output.contains("done: slots 0-511 moved"), "\(second.output)")
            #expect(second.output.contains("starting again from the copy"), "\(second.output)")
            let afterMove = rounds.count
            _ = try await eventually(timeout: .seconds(30)) { rounds.count >= afterMove + 2 }
            rounds.stop()
            try await writer.value
            let touchpoints = Int64(rounds.count)

            // Then the target owns the range and holds every customer, the source none of the moved
            let published = try ShardMap(json: try Data(contentsOf: mapFile))
            #expect(published.epoch == 3)
            #expect(published.shard(named: "outreach-0", in: "outreach-service")?.slots == [])
            let members = try await target.listSegmentMembers(
                .with {
                    $0.segmentID = segment.segmentID
                    $0.page.pageSize = 100
                }
            ).members.map(\.customerID)
            #expect(members.sorted() == customers.sorted())
            let database = try DatabaseQueue(
                path: source.dataDirectory.appendingPathComponent("outreach.sqlite").path)
            defer { try? database.close() }
            for table in ["customer_fact", "segment_member", "message", "journey_run", "fact_refresh"] {
                let left = try await database.read { db in
                    try String.fetchAll(db, sql: "SELECT DISTINCT customerId FROM \(table)")
                }
                #expect(Set(left).isDisjoint(with: moved), "moved customers left in \(table) on outreach-0")
            }
            #expect(try await database.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM slot_fence") } == 0)

            // And each customer is in the journey once, and each campaign reached each customer exactly once
            let journey = try await outreach.getJourney(.with { $0.journeyID = "movers-welcome" })
            #expect(journey.running == count)
            let whileMoving = try await completedCampaign(during.campaignID, outreach)
            #expect(whileMoving.sent == count && whileMoving.total == count, "\(whileMoving)")
            let after = try await completedCampaign("after", outreach)
            #expect(after.sent == count && after.total == count, "\(after)")
            let emails = try await smtp.waitForMessages(3 * count)
            var received: [String: Int] = [:]
            for email in emails {
                for recipient in email["rcpt_tos"] as? [String] ?? [] { received[recipient, default: 0] += 1 }
            }
            #expect(emails.count == 3 * count)
            for id in customers {
                let address = addresses[id] ?? ""
                #expect(
                    received[address] == 3, "\(address) (slot \(ShardMap.slot(of: id))) got \(received[address] ?? 0)")
                let messages = try await outreach.listMessages(.with { $0.customerID = id }).messages
                #expect(messages.count == 3, "messages of \(id)")
            }

            // And the moved customers' facts are current on their new owner: every customer counts every round's
            // touchpoint (and the emails' outbound ones)
            let current = Customer360_V1_SegmentRule.with {
                $0.condition = .with {
                    $0.field = "total_touchpoints"
                    $0.operator = .greaterOrEqual
                    $0.number = Double(touchpoints)
                }
            }
            #expect(
                try await eventually(timeout: .seconds(30)) {
                    try await outreach.previewSegment(.with { $0.rule = current }).size == count
                }, "every customer's read model counts \(touchpoints) touchpoints")
        }
    }

    /// Starts a campaign to `movers` under `id` (unless it exists) and waits until it completed.
    private func completedCampaign(
        _ id: String, _ outreach: Customer360_V1_OutreachService.Client<PeerTransport>
    ) async throws -> Customer360_V1_Campaign {
        _ = try await outreach.startCampaign(
            .with {
                $0.campaignID = id
                $0.segmentID = "movers"
                $0.templateID = "note"
            })
        var campaign = try await outreach.getCampaign(.with { $0.campaignID = id })
        let deadline = ContinuousClock.now + .seconds(60)
        while campaign.status != .completed, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
            campaign = try await outreach.getCampaign(.with { $0.campaignID = id })
        }
        #expect(campaign.status == .completed, "campaign \(id): \(campaign)")
        return campaign
    }
}

import C360Clients
import C360Contracts
import C360ServerKit
import C360StoreKit
import C360TestSupport
import Foundation
import GRDB
import GRPCCore
import Testing

@testable import C360ChangeFeed
@testable import C360Outreach

/// outreach-service's side of moving customers between shards: the touch log a move catches up from, the fence's
/// wait, what background work leaves alone, and what arriving and leaving do to the state shared across customers.
@Suite("outreach-service: customers that move between shards")
struct OutreachSlotTests {
    func emptyStore() throws -> OutreachStore {
        try OutreachStore(writer: ServiceDatabase.inMemory(), keyring: try Keyring.inMemory())
    }

    func facts(_ store: OutreachStore, _ id: String) async throws {
        try await store.store(
            CustomerSnapshot(
                facts: CustomerFacts(customerId: id, refreshedAt: now.unixMillis), tags: [], consents: [],
                channelCounts: []), now: now)
    }

    @discardableResult
    func message(
        _ store: OutreachStore, _ id: String, to customerID: String, campaign: String = "",
        status: MessageStatus = .queued, scheduled: Date = now
    ) async throws -> MessageRecord {
        try await store.enqueue(
            MessageRecord(
                messageId: id, customerId: customerID, templateId: "t", campaignId: campaign,
                idempotencyKey: "key-\(id)", purpose: .marketing, forcedChannel: "", channel: "", status: status,
                statusReason: "", createdAt: now.unixMillis, scheduledFor: scheduled.unixMillis, sentAt: nil,
                attempts: 0,
                language: ""))
    }

    func fence(_ store: OutreachStore, _ customerID: String) async throws {
        let slot = CustomerSlot.of(customerID)
        try await store.writer.write { db in
            try SlotFence.fence(db, [slot...slot], epoch: 2, target: "outreach-1", tables: OutreachStore.customerTables)
        }
    }

    @Test(
        """
        while a move runs, every write to a customer's rows that it must carry lands in the touch log, in write order; \
        a message handed to its adapter does not (the fence waits for its settling); touches past the retention are \
        pruned; with no move, nothing is logged
        """)
    func touchLog() async throws {
        let store = try emptyStore()
        try await facts(store, "before")
        #expect(try await store.writer.read { try SlotTouchLog.head($0) } == 0, "no move: no triggers, no cost")
        // A move of a's and b's slots: only their writes are logged
        let moving = ["a", "b"].map { CustomerSlot.of($0)...CustomerSlot.of($0) }
        let staying = (0..<100).map { "c\($0)" }.first { id in !moving.contains { $0.contains(CustomerSlot.of(id)) } }
        try await store.writer.write { db in
            try SlotTouchLog.begin(db, moving, tables: OutreachStore.customerTables)
        }
        try await facts(store, "a")
        try await message(store, "m1", to: "b")
        try await facts(store, try #require(staying))
        try await facts(store, "a")
        let touched = try await store.writer.read { try SlotTouchLog.touched($0, after: 0, limit: 10) }
        #expect(touched.map(\.customerID) == ["a", "b", "a"])
        let head = try await store.writer.read { try SlotTouchLog.head($0) }
        #expect(touched.last?.sequence == head)

        try await store.beginAttempts([("m1", "email")])
        #expect(try await store.writer.read { try SlotTouchLog.head($0) } == head)
        // Deferred by quiet hours: no feed event, but the touch log names the customer
        try await store.settle("m1", .deferred(until: now.addingTimeInterval(3_600), reason: "quiet hours"), at: now)
        let since = try await store.writer.read { try SlotTouchLog.touched($0, after: head, limit: 10) }
        #expect(since.map(\.customerID) == ["b"])

        let pruned = try await store.writer.write { try SlotTouchLog.prune($0, before: .distantFuture) }
        #expect(pruned == 3, "all but the newest")
        let after = try await store.writer.read { db in
            (try SlotTouchLog.prunedThrough(db), try SlotTouchLog.head(db))
        }
        #expect(after.0 == head && after.1 == head + 1)

        // The move ends: the triggers go, and writes cost nothing again
        try await store.writer.write { db in
            try SlotTouchLog.end(db, moving, tables: OutreachStore.customerTables)
        }
        try await facts(store, "a")
        #expect(try await store.writer.read { try SlotTouchLog.head($0) } == head + 1)
    }

    @Test("messages and runs of a fenced customer are left out of what is due, and a worker with nothing else waits")
    func fencedCustomersAreLeftAlone() async throws {
        let store = try emptyStore()
        try await message(store, "m-moving", to: "moving", scheduled: now.addingTimeInterval(-1))
        try await message(store, "m-staying", to: "staying")
        try await fence(store, "moving")
        let (due, next) = try await store.dueMessages(at: now.addingTimeInterval(1), limit: 10)
        #expect(due.map(\.messageId) == ["m-staying"])
        #expect(next != nil)
        // A page whose every row is the fenced customer's is read past
        #expect(
            try await store.dueMessages(at: now.addingTimeInterval(1), limit: 1).due.map(\.messageId) == ["m-staying"])

        try await store.settle("m-staying", .failed(reason: "test"), at: now)
        let (nothing, wait) = try await store.dueMessages(at: now.addingTimeInterval(1), limit: 10)
        #expect(nothing.isEmpty)
        #expect(wait == nil, "a due message the worker may not send does not make it look again at once")
        #expect(try await store.standing(of: "moving") == .held)
        #expect(try await store.standing(of: "staying") == .workable)
    }

    @Test("a fence waits while a campaign queues, or while a message of the range is with its adapter")
    func fenceBlockers() async throws {
        let store = try emptyStore()
        let slot = CustomerSlot.of("c")
        let blocker = { try await store.writer.read { db in try store.fenceBlocker(db, [slot...slot]) } }
        #expect(try await blocker() == nil)
        let campaign = CampaignRecord(
            campaignId: "spring", segmentId: "s", templateId: "t", queueing: true, cursor: "",
            startedAt: now.unixMillis, completedAt: nil)
        try await store.writer.write { db in try campaign.insert(db) }
        #expect(try await blocker()?.contains("campaign spring") == true)
        try await store.writer.write { db in
            _ = try CampaignRecord.filter(key: "spring").updateAll(db, CampaignRecord.Columns.queueing.set(to: false))
        }

        try await message(store, "m", to: "c")
        try await store.beginAttempts([("m", "email")])
        #expect(try await blocker()?.contains("customer c") == true)
        let elsewhere = (slot + 1) % CustomerSlot.count
        #expect(try await store.writer.read { db in try store.fenceBlocker(db, [elsewhere...elsewhere]) } == nil)
    }

    @Test(
        """
        a leaving customer's messages go and a campaign left with nothing pending completes; arriving with a pending \
        message reopens it and queues a refresh; a customer erased here arrives erased
        """)
    func arrivingAndLeaving() async throws {
        let store = try emptyStore()
        let campaign = CampaignRecord(
            campaignId: "c1", segmentId: "s", templateId: "t", queueing: false, cursor: "z",
            startedAt: now.unixMillis, completedAt: nil)
        try await store.writer.write { db in try campaign.insert(db) }
        try await message(store, "m-x", to: "x", campaign: "c1")
        try await message(store, "m-y", to: "y", campaign: "c1", status: .sent)

        try await store.writer.write { db in try store.customerLeaving(db, "x") }
        let (left, _) = try await store.campaign(id: "c1")
        #expect(left.completedAt != nil, "only y's sent message is left")
        #expect(try await store.writer.read { try MessageRecord.fetchCount($0) } == 1)

        try await message(store, "m-x", to: "x", campaign: "c1")
        try await store.writer.write { db in try store.customerArrived(db, "x") }
        let (reopened, _) = try await store.campaign(id: "c1")
        #expect(reopened.completedAt == nil, "x's queued message is pending here now")
        #expect(
            try await store.writer.read { try OutreachStore.refreshQueue.due($0, at: .distantFuture, limit: 10) }
                .due.map(\.customerId) == ["x"])

        try await facts(store, "erased")
        try await store.erase(customerID: "erased", now: now)
        try await facts(store, "erased") // a move's copy, taken before the erasure reached the source
        try await store.writer.write { db in try store.customerArrived(db, "erased") }
        #expect(try await store.facts(customerID: "erased") == nil)
    }

    /// outreach-0 (every slot) and outreach-1 (none) of one map file, each a store with its `SlotMoves`.
    typealias TwoShards = TwoShardStores<OutreachStore>

    @Test(
        """
        a move catches up from the touch log (a message deferred has no feed event); a customer with only a \
        queued refresh moves, inert on the target until it owns them; a copy of a customer the target erased arrives \
        empty, with no key
        """)
    func movesThroughSlotMoves() async throws {
        let shards = try TwoShards()
        defer { try? FileManager.default.removeItem(at: shards.mapFile) }
        try await facts(shards.source, "ada")
        try await message(shards.source, "m-ada", to: "ada")
        try await shards.source.queueRefresh(["cy"], now: now) // created just before the move: nothing else yet
        try await facts(shards.source, "bob")
        try await facts(shards.target, "bob")
        try await shards.target.erase(customerID: "bob", now: now)

        let copied = try await shards.copy()
        #expect(Set(copied.customers.map(\.customerID)) == ["ada", "bob", "cy"])
        #expect(try await shards.target.standing(of: "cy") == .held, "a copy waits until the map gives it here")
        let (due, _) = try await shards.target.dueMessages(at: now.addingTimeInterval(1), limit: 10)
        #expect(due.isEmpty, "the target does not send a copy's message before it owns the customer")
        #expect(try await shards.target.facts(customerID: "bob") == nil)
        #expect(try shards.target.dataKeys.exportDataKey(for: "bob") == nil, "no key was made for the erased copy")

        // The source defers ada's message: no feed event, but the touch log names her
        try await shards.source.settle(
            "m-ada", .deferred(until: now.addingTimeInterval(3_600), reason: "quiet hours"), at: now)
        let caughtUp = try await shards.copy(after: copied.throughSequence)
        #expect(caughtUp.customers.map(\.customerID) == ["ada"])
        #expect(try await shards.target.message(id: "m-ada").status == .deferred)
        #expect(caughtUp.caughtUp)

        // A catch-up from before the touch log's retention is refused: the move starts again from its copy
        try await facts(shards.source, "ada")
        _ = try await shards.source.writer.write { try SlotTouchLog.prune($0, before: .distantFuture) }
        _ = try await shards.copy(after: caughtUp.throughSequence) // nothing it needs was pruned
        let refusal = await #expect(throws: RPCError.self) {
            _ = try await shards.copy(after: copied.throughSequence)
        }
        #expect(refusal?.code == .failedPrecondition)

        // A lifted fence ends the logging: a catch-up is refused, and the mover starts again from the copy
        _ = try await shards.sourceMoves.fenceSlots(
            .with {
                $0.slots = ["0-1023"]
                $0.lift = true
            })
        let notLogged = await #expect(throws: RPCError.self) {
            _ = try await shards.copy(after: caughtUp.throughSequence)
        }
        #expect(notLogged?.message.contains("not being logged") == true, "\(notLogged?.message ?? "")")
    }

    @Test(
        "a segment's size, preview, stats and members count a copied customer on the target once the map gives them to it, and no longer on the source"
    )
    func segmentsCountEachCustomerOnce() async throws {
        let shards = try TwoShards()
        defer { try? FileManager.default.removeItem(at: shards.mapFile) }
        try await facts(shards.source, "ada")
        let segment = SegmentRecord(
            segmentId: "all", name: "All", description: "",
            rule: try Rule.when("orders", .greaterOrEqual, number: 0).serializedBytes(), createdAt: now.unixMillis,
            updatedAt: now.unixMillis)
        for store in [shards.source, shards.target] { _ = try await store.createSegment(segment, now: now) }
        let query = try segment.query(now: now)
        func counted(_ store: OutreachStore) async throws -> [Int] {
            let preview = try await store.preview(query, sample: 10)
            return [
                try await store.segment(id: "all").size, preview.size, preview.customers,
                try await store.stats(segmentID: "all").size,
                try await store.members(segmentID: "all", after: nil, limit: 10).items.count,
            ]
        }

        // When ada is copied to the target, she counts on the source only
        _ = try await shards.copy()
        #expect(try await counted(shards.source) == [1, 1, 1, 1, 1])
        #expect(try await counted(shards.target) == [0, 0, 0, 0, 0])

        // When the source fences the slots and the map gives them to the target, ada counts there, not on the source,
        // which holds her until the drop
        _ = try await shards.sourceMoves.fenceSlots(shards.map.fenceEverySlot)
        try shards.map.giveEverySlotToTarget()
        #expect(try await counted(shards.source) == [0, 0, 0, 0, 0])
        #expect(try await counted(shards.target) == [1, 1, 1, 1, 1])
    }

    @Test(
        """
        an arriving member gets the campaign started here while their old shard could not queue them, once, and a \
        late joiner does not
        """)
    func arrivingMemberGetsAMissedCampaign() async throws {
        let shards = try TwoShards()
        defer { try? FileManager.default.removeItem(at: shards.mapFile) }
        let segment = SegmentRecord(
            segmentId: "all", name: "All", description: "",
            rule: try Rule.when("orders", .greaterOrEqual, number: 0).serializedBytes(), createdAt: now.unixMillis,
            updatedAt: now.unixMillis)
        let template = TemplateRecord(
            templateId: "t", name: "T", purpose: .marketing, defaultLanguage: "en", variants: [],
            createdAt: now.unixMillis, updatedAt: now.unixMillis)
        for store in [shards.source, shards.target] {
            _ = try await store.createSegment(segment, now: now)
            _ = try await store.putTemplate(template)
        }
        try await facts(shards.source, "member")
        try await shards.source.store(
            CustomerSnapshot(
                facts: CustomerFacts(customerId: "late", refreshedAt: now.unixMillis), tags: [], consents: [],
                channelCounts: []), now: now.addingTimeInterval(7_200))
        // Started on the target only (the source refused it while fenced)
        let campaign = CampaignRecord(
            campaignId: "spring", segmentId: "all", templateId: "t", queueing: false, cursor: "~",
            startedAt: now.addingTimeInterval(3_600).unixMillis, completedAt: now.addingTimeInterval(3_600).unixMillis)
        try await shards.target.writer.write { db in try campaign.insert(db) }

        _ = try await shards.copy()
        _ = try await shards.copy() // copied again: still one message
        // Counted on the target once the map gives it the member (until then, the source's count)
        #expect(try await shards.target.messages(campaignID: "spring", after: nil, limit: 10).items.isEmpty)
        try shards.map.giveEverySlotToTarget()
        let messages = try await shards.target.messages(campaignID: "spring", after: nil, limit: 10).items
        #expect(messages.map(\.customerId) == ["member"])
        #expect(messages.first?.status == .queued)
        #expect(try await shards.target.campaign(id: "spring").0.completedAt == nil, "reopened: a message is pending")
    }
}

extension TwoShardStores<OutreachStore> {
    init() throws {
        try self.init(service: "outreach-service", shardPrefix: "outreach") { map, shards in
            try OutreachStore(
                writer: ServiceDatabase.inMemory(), keyring: try Keyring.inMemory(), ownership: map.ownership(shards))
        }
    }

    /// Copies every customer of the source's slots in one page, or those changed after `sequence` (a catch-up).
    func copy(after sequence: UInt64? = nil) async throws -> Customer360_V1_ExportSlotsResponse {
        let page = try await sourceMoves.exportSlots(
            .with {
                $0.slots = ["0-1023"]
                if let sequence {
                    $0.catchUp = true
                    $0.changedAfterSequence = sequence
                }
            })
        if !page.customers.isEmpty {
            _ = try await targetMoves.importSlotCustomers(.with { $0.customers = page.customers })
        }
        return page
    }
}

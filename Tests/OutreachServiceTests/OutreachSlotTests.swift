import C360StoreKit
import Foundation
import GRDB
import Testing

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
        status: MessageStatus = .queued
    ) async throws -> MessageRecord {
        try await store.enqueue(
            MessageRecord(
                messageId: id, customerId: customerID, templateId: "t", campaignId: campaign,
                idempotencyKey: "key-\(id)", purpose: .marketing, forcedChannel: "", channel: "", status: status,
                statusReason: "", createdAt: now.unixMillis, scheduledFor: now.unixMillis, sentAt: nil, attempts: 0,
                language: ""))
    }

    func fence(_ store: OutreachStore, _ customerID: String) async throws {
        let slot = CustomerSlot.of(customerID)
        try await store.writer.write { db in
            try SlotFence.fence(db, [slot...slot], epoch: 2, target: "outreach-1", tables: OutreachStore.customerTables)
        }
    }

    @Test("every write to a customer's rows lands in the touch log, in write order, each customer once at their last")
    func touchLog() async throws {
        let store = try emptyStore()
        #expect(try await store.writer.read { try SlotTouchLog.head($0) } == 0)
        try await facts(store, "a")
        try await message(store, "m1", to: "b")
        try await facts(store, "a")
        let touched = try await store.writer.read { try SlotTouchLog.touched($0, after: 0, limit: 10) }
        #expect(touched.map(\.customerID) == ["b", "a"])
        let head = try await store.writer.read { try SlotTouchLog.head($0) }
        #expect(touched.last?.sequence == head)

        // A message going to `sending` has no feed event; the touch log still names its customer
        try await store.beginAttempts([("m1", "email")])
        let since = try await store.writer.read { try SlotTouchLog.touched($0, after: head, limit: 10) }
        #expect(since.map(\.customerID) == ["b"])
    }

    @Test("messages and runs of a fenced customer are left out of what is due, and a worker with nothing else waits")
    func fencedCustomersAreLeftAlone() async throws {
        let store = try emptyStore()
        try await message(store, "m-moving", to: "moving")
        try await message(store, "m-staying", to: "staying")
        try await fence(store, "moving")
        let (due, next) = try await store.dueMessages(at: now.addingTimeInterval(1), limit: 10)
        #expect(due.map(\.messageId) == ["m-staying"])
        #expect(next != nil)

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
}

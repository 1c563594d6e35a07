import C360Contracts
import Foundation
import GRDB
import Testing

@testable import C360Success

@Suite("re-score queue: changes on the peers' feeds queue a customer once per burst")
struct RescoreQueueTests {
    private static let ada = "01a24519-39ab-76cc-8d49-3f71ab444037"
    private static let babak = "01a24519-39ab-76cc-8d49-3f71ab444038"

    private func event(_ kind: Customer360_V1_ChangeKind, _ customer: String, related: String = "")
        -> Customer360_V1_ChangeEvent
    {
        .with {
            $0.kind = kind
            $0.customerID = customer
            $0.relatedCustomerID = related
        }
    }

    @Test("a burst queues the customer once, due after the delay; a re-key queues the survivor")
    func coalesces() async throws {
        let store = try makeSuccessStore()
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        try await store.writer.write { db in
            try SuccessStore.enqueueRescores(
                db,
                for: [
                    event(.touchpointRecorded, Self.ada), event(.purchaseRecorded, Self.ada),
                    event(.customerRekeyed, "01a24519-39ab-76cc-8d49-3f71ab444039", related: Self.babak),
                ], delay: .seconds(2), now: now)
            try SuccessStore.enqueueRescores(
                db, for: [event(.responseRecorded, Self.ada)], delay: .seconds(2),
                now: now.addingTimeInterval(1))
        }
        #expect(try await store.dueRescores(at: now.addingTimeInterval(1.9), limit: 10).due.isEmpty)
        let (due, _) = try await store.dueRescores(at: now.addingTimeInterval(2), limit: 10)
        #expect(Set(due.map(\.customerId)) == [Self.ada, Self.babak])
        #expect(due.first { $0.customerId == Self.ada }?.changes == 3, "one entry for the burst, counting its changes")
    }

    @Test("an entry that changed while it was scored stays queued; an unchanged one is removed")
    func finishKeepsNewerChanges() async throws {
        let store = try makeSuccessStore()
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        try await store.writer.write { db in
            try SuccessStore.enqueueRescores(
                db, for: [event(.touchpointRecorded, Self.ada), event(.touchpointRecorded, Self.babak)],
                delay: .zero, now: now)
        }
        let (due, _) = try await store.dueRescores(at: now, limit: 10)
        // A change for Ada arrives while both are being scored.
        try await store.writer.write { db in
            try SuccessStore.enqueueRescores(db, for: [event(.ticketOpened, Self.ada)], delay: .zero, now: now)
        }
        for request in due { try await store.finishRescore(request, retry: .seconds(1), now: now) }
        #expect(try await store.rescoreQueueDepth() == 1)
        let (again, _) = try await store.dueRescores(at: now.addingTimeInterval(1), limit: 10)
        #expect(again.map(\.customerId) == [Self.ada])
    }
}

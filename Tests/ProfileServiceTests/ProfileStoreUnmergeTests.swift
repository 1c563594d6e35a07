import C360ServerKit
import C360TestSupport
import Foundation
import GRDB
import Testing

@testable import C360Profile

@Suite("Profile store: the merge ledger and undoing merges")
struct ProfileStoreUnmergeTests {
    @Test("a merge is recorded with who, when and why; undoing it restores both profiles as they were")
    func roundTrip() async throws {
        let store = try makeStore()
        let survivor = try await store.createCustomer(
            newCustomer(
                email: "ada@example.com", given: "Ada", tags: ["vip"], attributes: ["plan": "pro"]))
        var mergedNew = newCustomer(
            email: "ada.l@work.example", phone: "+447700900123", given: "A.", family: "Lovelace",
            country: "GB", tags: ["beta", "vip"], attributes: ["plan": "free", "team": "x"])
        mergedNew.birthYear = 1985
        let merged = try await store.createCustomer(mergedNew)
        _ = try await store.applyPoints(300, reason: "welcome", transactionID: "t-merged", customer: merged.id)
        _ = try await store.applyPoints(100, reason: "welcome", transactionID: "t-survivor", customer: survivor.id)
        _ = try await store.recordConsent(
            customer: merged.id, purpose: .marketing, channel: .email, status: .granted,
            source: "form", decidedAt: nil)

        let (joined, entry) = try await store.merge(
            survivor: survivor.id, merged: merged.id,
            request: MergeRequest(note: "same person, confirmed by phone", requestedBy: "agent-7"))
        let ledger = try #require(entry)
        #expect(ledger.request.reason == .manual && ledger.request.requestedBy == "agent-7")
        #expect(ledger.request.note == "same person, confirmed by phone" && ledger.unmergedAt == nil)
        #expect(joined.loyalty.balance == 400 && joined.familyName == "Lovelace")
        #expect(try await store.merges(customer: merged.id, after: nil, limit: 10).items.map(\.entry.id) == [ledger.id])

        let (kept, restored, undone) = try await store.unmergeCustomers(mergeID: ledger.id, requestedBy: "agent-9")
        #expect(undone.unmergedAt != nil && undone.unmergedBy == "agent-9")
        #expect(restored.id == merged.id)
        #expect(
            Set(restored.identifiers) == [
                Identifier(.email, "ada.l@work.example"), Identifier(.phone, "+447700900123"),
            ])
        #expect(restored.givenName == "A." && restored.familyName == "Lovelace" && restored.birthYear == 1985)
        #expect(restored.tags == ["beta", "vip"] && restored.attributes == ["plan": "free", "team": "x"])
        #expect(restored.loyalty.balance == 300)
        #expect(try await store.currentConsents(customer: merged.id).consents.count == 1)
        #expect(kept.identifiers == [Identifier(.email, "ada@example.com")])
        #expect(kept.tags == ["vip"] && kept.attributes == ["plan": "pro"])
        #expect(
            kept.familyName.isEmpty && kept.countryCode.isEmpty && kept.birthYear == nil,
            "blanks filled by the merge are blank again")
        #expect(kept.loyalty.balance == 100)
        #expect(try await store.customer(merged.id).resolvedFrom == nil, "the merged id is itself again")
        // Undoing again answers the same state.
        #expect(try await store.unmergeCustomers(mergeID: ledger.id, requestedBy: "agent-9").restored.id == merged.id)
    }

    @Test("what the survivor gained after the merge stays with it")
    func laterChangesStay() async throws {
        let store = try makeStore()
        let survivor = try await store.createCustomer(newCustomer(email: "s@example.com"))
        let merged = try await store.createCustomer(newCustomer(email: "m@example.com", tags: ["old"]))
        let entry = try #require(
            try await store.merge(survivor: survivor.id, merged: merged.id, request: MergeRequest()).entry)
        _ = try await store.addIdentifier(Identifier(.phone, "+12025550100"), to: survivor.id)
        _ = try await store.addTags(["new"], to: survivor.id)
        let (kept, restored, _) = try await store.unmergeCustomers(mergeID: entry.id, requestedBy: "")
        #expect(Set(kept.identifiers) == [Identifier(.email, "s@example.com"), Identifier(.phone, "+12025550100")])
        #expect(kept.tags == ["new"])
        #expect(restored.identifiers == [Identifier(.email, "m@example.com")] && restored.tags == ["old"])
    }

    @Test("a merge a later merge of the same survivor built on is refused, naming the one to undo first")
    func order() async throws {
        let store = try makeStore()
        let a = try await store.createCustomer(newCustomer(given: "A"))
        let b = try await store.createCustomer(newCustomer(given: "B"))
        let c = try await store.createCustomer(newCustomer(given: "C"))
        let first = try #require(try await store.merge(survivor: a.id, merged: b.id, request: MergeRequest()).entry)
        let second = try #require(try await store.merge(survivor: a.id, merged: c.id, request: MergeRequest()).entry)
        await #expect(throws: ProfileError.mergeBuiltUpon(merge: first.id, later: second.id)) {
            _ = try await store.unmergeCustomers(mergeID: first.id, requestedBy: "")
        }
        _ = try await store.unmergeCustomers(mergeID: second.id, requestedBy: "")
        _ = try await store.unmergeCustomers(mergeID: first.id, requestedBy: "")
        for id in [a.id, b.id, c.id] { #expect(try await store.customer(id).resolvedFrom == nil) }
        await #expect(throws: ProfileError.mergeNotFound("01a24519-39ab-76cc-8d49-3f71ab444000")) {
            _ = try await store.unmergeCustomers(mergeID: "01a24519-39ab-76cc-8d49-3f71ab444000", requestedBy: "")
        }
    }

    @Test("points the merge brought cannot be taken back once spent")
    func spentPoints() async throws {
        let store = try makeStore()
        let a = try await store.createCustomer(newCustomer(given: "A"))
        let b = try await store.createCustomer(newCustomer(given: "B"))
        _ = try await store.applyPoints(500, reason: "welcome", transactionID: nil, customer: b.id)
        let entry = try #require(try await store.merge(survivor: a.id, merged: b.id, request: MergeRequest()).entry)
        _ = try await store.applyPoints(-400, reason: "redeem", transactionID: nil, customer: a.id)
        await #expect(throws: ProfileError.mergeUndoPointsSpent(merge: entry.id, survivor: a.id, short: 400)) {
            _ = try await store.unmergeCustomers(mergeID: entry.id, requestedBy: "")
        }
        #expect(try await store.customer(b.id).id == a.id, "nothing changed")
    }

    @Test("erasing the survivor erases the ledger that held the merged profile's personal data")
    func erasure() async throws {
        let store = try makeStore()
        let a = try await store.createCustomer(newCustomer(email: "a@example.com", given: "Ada"))
        let b = try await store.createCustomer(newCustomer(email: "b@example.com", given: "Bea"))
        _ = try await store.mergeCustomers(survivor: a.id, merged: b.id)
        _ = try await store.eraseCustomer(a.id)
        let ledger = try await store.writer.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM merge_ledger") }
        #expect(ledger == 0)
    }
}

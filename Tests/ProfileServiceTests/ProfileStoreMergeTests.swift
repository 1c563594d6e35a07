import C360ServerKit
import C360TestSupport
import Foundation
import Testing

@testable import C360Profile

@Suite("Profile store: merging two customers")
struct ProfileStoreMergeTests {
    @Test("the survivor keeps the union of identifiers, tags and attributes; its own attribute wins a conflict")
    func union() async throws {
        let store = try makeStore()
        let survivor = try await store.createCustomer(
            newCustomer(
                email: "ada@example.com", given: "Ada", tags: ["vip"], attributes: ["plan": "pro", "tier": "a"]))
        var mergedNew = newCustomer(
            email: "ada.l@work.example", phone: "+447700900123", given: "A.", family: "Lovelace",
            country: "GB", tags: ["beta", "vip"], attributes: ["plan": "free", "team": "x"])
        mergedNew.birthYear = 1985
        let merged = try await store.createCustomer(mergedNew)

        let result = try await store.mergeCustomers(survivor: survivor.id, merged: merged.id)
        #expect(result.id == survivor.id)
        #expect(
            Set(result.identifiers) == [
                Identifier(.email, "ada@example.com"), Identifier(.email, "ada.l@work.example"),
                Identifier(.phone, "+447700900123"),
            ])
        #expect(result.tags == ["beta", "vip"])
        #expect(result.attributes == ["plan": "pro", "tier": "a", "team": "x"])
        #expect(result.givenName == "Ada") // the survivor's own value stays
        // blanks filled
        #expect(result.familyName == "Lovelace" && result.countryCode == "GB" && result.birthYear == 1985)
        #expect(result.mergedIDs == [merged.id])
    }

    @Test("the merged-away id resolves to the survivor from then on, by get and by lookup")
    func resolution() async throws {
        let store = try makeStore()
        let survivor = try await store.createCustomer(newCustomer(email: "s@example.com"))
        let merged = try await store.createCustomer(newCustomer(phone: "+12025550100"))
        _ = try await store.mergeCustomers(survivor: survivor.id, merged: merged.id)

        let viaOldID = try await store.customer(merged.id)
        #expect(viaOldID.id == survivor.id)
        #expect(viaOldID.resolvedFrom == merged.id)
        let viaPhone = try await store.customer(with: Identifier(.phone, "+12025550100"))
        #expect(viaPhone.id == survivor.id)
        #expect(
            try await store.customers(matching: CustomerQuery(), after: nil, limit: 10).items.map(\.id)
                == [survivor.id])
        // Merging again is a no-op answering the survivor.
        #expect(try await store.mergeCustomers(survivor: survivor.id, merged: merged.id).id == survivor.id)
    }

    @Test("chained merges flatten: A into B, then B into C, and A resolves to C")
    func chains() async throws {
        let store = try makeStore()
        let a = try await store.createCustomer(newCustomer(given: "A"))
        let b = try await store.createCustomer(newCustomer(given: "B"))
        let c = try await store.createCustomer(newCustomer(given: "C"))
        _ = try await store.mergeCustomers(survivor: b.id, merged: a.id)
        let result = try await store.mergeCustomers(survivor: c.id, merged: b.id)
        #expect(Set(result.mergedIDs) == [a.id, b.id])
        #expect(try await store.customer(a.id).id == c.id)
    }

    @Test("the newest consent decision wins across the two profiles, and loyalty points add up")
    func consentsAndLoyalty() async throws {
        let clock = TestClock()
        let store = try makeStore(clock: clock)
        let survivor = try await store.createCustomer(newCustomer(given: "S"))
        let merged = try await store.createCustomer(newCustomer(given: "M"))
        let early = clock.now()
        _ = try await store.recordConsent(
            customer: merged.id, purpose: .marketing, channel: .email, status: .withdrawn,
            source: "unsubscribe-link", decidedAt: early.addingTimeInterval(-60))
        _ = try await store.recordConsent(
            customer: survivor.id, purpose: .marketing, channel: .email, status: .granted,
            source: "signup", decidedAt: early.addingTimeInterval(-3600))
        _ = try await store.recordConsent(
            customer: survivor.id, purpose: .analytics, channel: .web, status: .granted,
            source: "cookie-banner", decidedAt: early.addingTimeInterval(-30))
        _ = try await store.applyPoints(300, reason: "order", transactionID: nil, customer: survivor.id)
        _ = try await store.applyPoints(900, reason: "order", transactionID: nil, customer: merged.id)
        _ = try await store.applyPoints(-100, reason: "reward", transactionID: nil, customer: merged.id)

        let result = try await store.mergeCustomers(survivor: survivor.id, merged: merged.id)
        let consents = try await store.currentConsents(customer: survivor.id).consents
        #expect(
            consents.map { "\($0.purpose.rawValue)/\($0.channel.rawValue)=\($0.status.rawValue)" }
                == ["analytics/web=granted", "marketing/email=withdrawn"])
        #expect(result.loyalty == LoyaltyAccount(balance: 1100, lifetimeEarned: 1200))
        #expect(result.loyalty.tier == .silver)
    }

    @Test("a deleted customer cannot be merged")
    func deletedCannotMerge() async throws {
        let store = try makeStore()
        let survivor = try await store.createCustomer(newCustomer(given: "S"))
        let merged = try await store.createCustomer(newCustomer(given: "M"))
        _ = try await store.deleteCustomer(merged.id)
        await #expect(throws: ProfileError.customerNotActive(merged.id, state: "deleted")) {
            _ = try await store.mergeCustomers(survivor: survivor.id, merged: merged.id)
        }
    }
}

@Suite("Profile store: consents, tags, attributes, traits and loyalty")
struct ProfileStoreDetailTests {
    @Test("consent history keeps every decision, newest first, across pages")
    func consentHistory() async throws {
        let clock = TestClock()
        let store = try makeStore(clock: clock)
        let customer = try await store.createCustomer(newCustomer(given: "C"))
        for (offset, status) in [ConsentStatus.granted, .withdrawn, .granted].enumerated() {
            clock.advance(by: 10)
            _ = try await store.recordConsent(
                customer: customer.id, purpose: .marketing, channel: .sms, status: status,
                source: "step\(offset)", decidedAt: nil)
        }
        let first = try await store.consentHistory(customer: customer.id, after: nil, limit: 2)
        #expect(first.items.map(\.source) == ["step2", "step1"] && first.hasMore)
        let last = first.items.last!
        let second = try await store.consentHistory(
            customer: customer.id, after: ConsentPosition(key: last.decidedAt, tie: last.id), limit: 2)
        #expect(second.items.map(\.source) == ["step0"] && !second.hasMore)
        #expect(try await store.currentConsents(customer: customer.id).consents.map(\.status) == [.granted])
    }

    @Test("tags are capped at 50 per customer and a refused add stores nothing")
    func tagLimit() async throws {
        let store = try makeStore()
        let customer = try await store.createCustomer(newCustomer(tags: (0..<48).map { "t\($0)" }))
        await #expect(throws: ProfileError.tooManyTags(customer: customer.id, limit: 50)) {
            _ = try await store.addTags(["x1", "x2", "x3"], to: customer.id)
        }
        #expect(try await store.customer(customer.id).tags.count == 48)
        let updated = try await store.addTags(["t1", "x1", "x2"], to: customer.id)
        #expect(updated.tags.count == 50)
        #expect(try await store.removeTags(["x1", "nope"], from: customer.id).tags.count == 49)
    }

    @Test("an empty attribute value removes the key; traits are namespaced and upserted")
    func attributesAndTraits() async throws {
        let store = try makeStore()
        let customer = try await store.createCustomer(newCustomer(attributes: ["a": "1", "b": "2"]))
        let updated = try await store.setAttributes(["a": "", "c": "3"], on: customer.id)
        #expect(updated.attributes == ["b": "2", "c": "3"])
        _ = try await store.upsertTraits(
            ["health_band": .string("red"), "score": .number(31)], namespace: "success",
            on: customer.id)
        let traits = try await store.upsertTraits(["score": .number(45)], namespace: "success", on: customer.id).traits
        #expect(traits.map(\.key) == ["success.health_band", "success.score"])
        #expect(traits.map(\.value) == [.string("red"), .number(45)])
    }

    @Test("points never go below zero, a retried transaction applies once, a reused id is refused")
    func loyalty() async throws {
        let store = try makeStore()
        let customer = try await store.createCustomer(newCustomer(given: "L"))
        let earned = try await store.applyPoints(5_000, reason: "order 1", transactionID: "tx-1", customer: customer.id)
        #expect(earned.account == LoyaltyAccount(balance: 5_000, lifetimeEarned: 5_000))
        #expect(earned.account.tier == .gold)
        let retried = try await store.applyPoints(
            5_000, reason: "order 1", transactionID: "tx-1", customer: customer.id)
        #expect(retried.account.balance == 5_000)
        await #expect(throws: ProfileError.transactionReused("tx-1")) {
            _ = try await store.applyPoints(7, reason: "other", transactionID: "tx-1", customer: customer.id)
        }
        await #expect(throws: ProfileError.insufficientPoints(customer: customer.id, balance: 5_000, requested: 5_001))
        {
            _ = try await store.applyPoints(-5_001, reason: "too much", transactionID: nil, customer: customer.id)
        }
        let redeemed = try await store.applyPoints(-1_500, reason: "voucher", transactionID: nil, customer: customer.id)
        #expect(redeemed.account == LoyaltyAccount(balance: 3_500, lifetimeEarned: 5_000))
        let history = try await store.loyaltyHistory(customer: customer.id, after: nil, limit: 1)
        #expect(history.items.map(\.pointsDelta) == [-1_500] && history.hasMore)
        let rest = try await store.loyaltyHistory(
            customer: customer.id, after: history.items[0].transactionID, limit: 5)
        #expect(rest.items.map(\.pointsDelta) == [5_000] && rest.items[0].balanceAfter == 5_000 && !rest.hasMore)
    }
}

import C360ServerKit
import C360TestSupport
import Foundation
import GRDB
import Testing

@testable import C360Profile

@Suite("Profile store: creating, reading, updating, deleting and erasing customers")
struct ProfileStoreCustomerTests {
    @Test("a created customer reads back with every field and identifier")
    func createAndGet() async throws {
        let store = try makeStore()
        var new = newCustomer(
            email: "ada@example.com", phone: "+989123456789", given: "Ada", family: "Lovelace",
            country: "GB", tags: ["vip"], attributes: ["plan": "pro"], stage: .active)
        new.birthYear = 1990
        new.quietHours = QuietHours(startMinute: 1320, endMinute: 420, timeZone: "Asia/Tehran")
        let created = try await store.createCustomer(new)

        let fetched = try await store.customer(created.id)
        #expect(fetched == created)
        #expect(fetched.identifiers == [Identifier(.email, "ada@example.com"), Identifier(.phone, "+989123456789")])
        #expect(fetched.givenName == "Ada" && fetched.familyName == "Lovelace")
        #expect(fetched.birthYear == 1990 && fetched.countryCode == "GB")
        #expect(fetched.quietHours?.timeZone == "Asia/Tehran")
        #expect(fetched.tags == ["vip"] && fetched.attributes == ["plan": "pro"])
        #expect(fetched.lifecycleStage == .active)
        #expect(fetched.loyalty == LoyaltyAccount(balance: 0, lifetimeEarned: 0))
    }

    @Test("an identifier held by another customer is refused, naming the holder, and nothing is stored")
    func duplicateIdentifier() async throws {
        let store = try makeStore()
        let first = try await store.createCustomer(newCustomer(email: "ada@example.com"))
        await #expect(throws: ProfileError.identifierTaken(Identifier(.email, "ada@example.com"), holder: first.id)) {
            _ = try await store.createCustomer(
                newCustomer(email: "ada@example.com", phone: "+4915112345678", given: "Eve"))
        }
        let all = try await store.customers(matching: CustomerQuery(), after: nil, limit: 10)
        #expect(all.items.map(\.id) == [first.id])
        await #expect(throws: ProfileError.identifierNotFound(Identifier(.phone, "+4915112345678"))) {
            _ = try await store.customer(with: Identifier(.phone, "+4915112345678"))
        }
    }

    @Test("an update changes only the fields it carries")
    func partialUpdate() async throws {
        let clock = TestClock()
        let store = try makeStore(clock: clock)
        let created = try await store.createCustomer(
            newCustomer(email: "a@b.co", given: "Ada", family: "King", country: "GB"))
        clock.advance(by: 60)
        var patch = CustomerPatch()
        patch.familyName = "Lovelace"
        patch.city = "London"
        let updated = try await store.updateCustomer(created.id, patch)
        #expect(updated.givenName == "Ada")
        #expect(updated.familyName == "Lovelace")
        #expect(updated.city == "London")
        #expect(updated.countryCode == "GB")
        #expect(updated.identifiers == created.identifiers)
        #expect(updated.updatedAt == created.updatedAt.addingTimeInterval(60))
        #expect(updated.createdAt == created.createdAt)
    }

    @Test("a soft-deleted customer is gone from reads and lists but keeps its identifiers reserved")
    func softDelete() async throws {
        let store = try makeStore()
        let created = try await store.createCustomer(newCustomer(email: "gone@example.com", given: "Gone"))
        let deleted = try await store.deleteCustomer(created.id)
        #expect(deleted.id == created.id)
        await #expect(throws: ProfileError.customerDeleted(created.id)) { _ = try await store.customer(created.id) }
        #expect(try await store.customers(matching: CustomerQuery(), after: nil, limit: 10).items.isEmpty)
        await #expect(throws: ProfileError.identifierTaken(Identifier(.email, "gone@example.com"), holder: created.id))
        {
            _ = try await store.createCustomer(newCustomer(email: "gone@example.com"))
        }
        let again = try await store.deleteCustomer(created.id)
        #expect(again.deletedAt == deleted.deletedAt)
    }

    @Test("erasure removes every piece of personal data for good and is idempotent")
    func erase() async throws {
        let store = try makeStore()
        let created = try await store.createCustomer(
            newCustomer(
                email: "erase@example.com", phone: "+12025550123", given: "Eve", family: "Secret",
                tags: ["vip"], attributes: ["note": "private"]))
        _ = try await store.recordConsent(
            customer: created.id, purpose: .marketing, channel: .email,
            status: .granted, source: "form", decidedAt: nil)
        _ = try await store.applyPoints(50, reason: "welcome", transactionID: nil, customer: created.id)
        _ = try await store.upsertTraits(["score": .number(80)], namespace: "success", on: created.id)

        let erased = try await store.eraseCustomer(created.id)
        #expect(erased.erasedNow)
        await #expect(throws: ProfileError.customerErased(created.id)) { _ = try await store.customer(created.id) }

        let leftovers = try await store.writer.read { db in
            try [
                "customer_identifier", "customer_tag", "customer_attribute", "customer_trait", "consent_decision",
                "loyalty_transaction",
            ].reduce(0) { total, table in
                total + (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)") ?? 0)
            }
        }
        #expect(leftovers == 0)
        let row = try store.writer.read { db in try Row.fetchOne(db, sql: "SELECT * FROM customer")! }
        #expect(row["givenName"] as String == "" && row["familyName"] as String == "")
        #expect(row["state"] as String == "erased")

        let again = try await store.eraseCustomer(created.id)
        #expect(!again.erasedNow && again.erasedAt == erased.erasedAt)
        // The identifier is free again.
        _ = try await store.createCustomer(newCustomer(email: "erase@example.com"))
    }

    @Test("an unknown id answers not found")
    func unknown() async throws {
        let store = try makeStore()
        let id = "01890000-0000-7000-8000-000000000000"
        await #expect(throws: ProfileError.customerNotFound(id)) { _ = try await store.customer(id) }
        await #expect(throws: ProfileError.customerNotFound(id)) { _ = try await store.eraseCustomer(id) }
    }
}

@Suite("Profile store: listing and searching with cursor paging")
struct ProfileStoreListTests {
    @Test("paging continues correctly while customers are being inserted")
    func pagingUnderInserts() async throws {
        let store = try makeStore()
        var expected: [String] = []
        for index in 0..<5 { expected.append(try await store.createCustomer(newCustomer(given: "C\(index)")).id) }

        var seen: [String] = []
        var page = try await store.customers(matching: CustomerQuery(), after: nil, limit: 2)
        seen += page.items.map(\.id)
        for index in 5..<8 { expected.append(try await store.createCustomer(newCustomer(given: "C\(index)")).id) }
        while page.hasMore {
            page = try await store.customers(matching: CustomerQuery(), after: seen.last, limit: 2)
            seen += page.items.map(\.id)
        }
        #expect(seen == expected)
    }

    @Test(
        "search matches name and email prefixes case-insensitively, and filters by tag, country, stage and creation time"
    )
    func filters() async throws {
        let clock = TestClock()
        let store = try makeStore(clock: clock)
        let ada = try await store.createCustomer(
            newCustomer(
                email: "ada@example.com", given: "Ada", family: "Lovelace",
                country: "GB", tags: ["vip"], stage: .active))
        clock.advance(by: 3600)
        let sara = try await store.createCustomer(
            newCustomer(
                email: "sara@example.ir", given: "سارا", family: "Ahmadi",
                country: "IR", stage: .atRisk))
        clock.advance(by: 3600)
        let alan = try await store.createCustomer(
            newCustomer(
                email: "turing@example.com", given: "Alan", family: "Turing",
                country: "GB", tags: ["vip", "beta"]))

        func ids(_ configure: (inout CustomerQuery) -> Void) async throws -> [String] {
            var query = CustomerQuery()
            configure(&query)
            return try await store.customers(matching: query, after: nil, limit: 50).items.map(\.id)
        }
        #expect(try await ids { $0.text = "a" } == [ada.id, sara.id, alan.id]) // Ada, Ahmadi, Alan
        #expect(try await ids { $0.text = "ada lo" } == [ada.id])
        #expect(try await ids { $0.text = "tur" } == [alan.id]) // family name and email
        #expect(try await ids { $0.text = "سا" } == [sara.id])
        #expect(try await ids { $0.text = "sara@" } == [sara.id])
        #expect(try await ids { $0.tag = "vip" } == [ada.id, alan.id])
        #expect(
            try await ids {
                $0.tag = "vip"
                $0.text = "al"
            } == [alan.id])
        #expect(try await ids { $0.countryCode = "IR" } == [sara.id])
        #expect(try await ids { $0.lifecycleStage = .atRisk } == [sara.id])
        #expect(try await ids { $0.createdFrom = sara.createdAt } == [sara.id, alan.id])
        #expect(try await ids { $0.createdUntil = sara.createdAt } == [ada.id])
        #expect(try await ids { $0.text = "zzz" } == [])
    }
}

import C360ServerKit
import C360TestSupport
import Foundation
import Testing

@testable import C360Profile

@Suite("Identity resolution: match keys and suggestions")
struct IdentityMatchTests {
    @Test("identifier keys: Gmail dots and +tags, the national number of a phone, CRM ids without case or punctuation")
    func identifierKeys() {
        #expect(IdentityMatch.identifierKey(.email, "ada.lovelace+crm@gmail.com") == "adalovelace@gmail.com")
        #expect(IdentityMatch.identifierKey(.email, "adalovelace@googlemail.com") == "adalovelace@gmail.com")
        #expect(
            IdentityMatch.identifierKey(.email, "a.b+x@work.example") == "a.b@work.example", "dots matter elsewhere")
        #expect(IdentityMatch.identifierKey(.phone, "+989123456789") == "9123456789")
        #expect(IdentityMatch.identifierKey(.crmID, "SF-00Q1") == IdentityMatch.identifierKey(.crmID, "sf00q1"))
    }

    @Test(
        "names fold Arabic letter forms, diacritics, spaces and zero-width non-joiners; a person key needs all three parts"
    )
    func names() {
        #expect(IdentityMatch.normalizedName("علي رضائي") == IdentityMatch.normalizedName("علی‌رضایی"))
        #expect(IdentityMatch.normalizedName("محمدرضا") == IdentityMatch.normalizedName("محمد رضا"))
        #expect(IdentityMatch.normalizedName("مُحَمَّد") == IdentityMatch.normalizedName("محمد"))
        #expect(IdentityMatch.normalizedName("José Núñez") == IdentityMatch.normalizedName("jose nunez"))
        #expect(IdentityMatch.personKey(givenName: "Ali", familyName: "Rezaei", birthYear: nil, city: "Tehran") == nil)
        #expect(
            IdentityMatch.personKey(givenName: "Ali", familyName: "Rezaei", birthYear: 1990, city: "Tehran")
                == IdentityMatch.personKey(givenName: "ALI", familyName: "rezaei", birthYear: 1990, city: "tehran"))
    }

    @Test(
        "a new customer matching another by email, phone or name+birth year+city is suggested once, strongest rule first"
    )
    func suggestions() async throws {
        let store = try makeStore()
        let ada = try await store.createCustomer(newCustomer(email: "ada.lovelace@gmail.com", given: "Ada"))
        let twin = try await store.createCustomer(newCustomer(email: "adalovelace+shop@gmail.com", given: "A."))
        var ali = newCustomer(given: "علي", family: "رضائي")
        ali.birthYear = 1990
        ali.city = "تهران"
        var aliAgain = newCustomer(given: "علی", family: "رضایی")
        aliAgain.birthYear = 1990
        aliAgain.city = "تهران"
        let first = try await store.createCustomer(ali)
        let second = try await store.createCustomer(aliAgain)
        _ = try await store.createCustomer(newCustomer(email: "someone@example.com", given: "Ada"))

        let open = try await store.matchSuggestions(customer: nil, minScore: 0, after: nil, limit: 10).items.map(
            \.suggestion)
        #expect(open.count == 2, "\(open)")
        let byEmail = try #require(open.first)
        #expect(byEmail.rule == "same_email" && byEmail.score == 0.95)
        #expect(Set([byEmail.customerID, byEmail.candidateID]) == [ada.id, twin.id])
        #expect(byEmail.customerID == ada.id, "the older customer is the default survivor")
        #expect(byEmail.explanation.contains("adalovelace+shop@gmail.com"))
        let byName = try #require(open.last)
        #expect(
            byName.rule == "name_birth_year_city"
                && Set([byName.customerID, byName.candidateID]) == [first.id, second.id])
        #expect(try await store.matchSuggestions(customer: nil, minScore: 0.8, after: nil, limit: 10).items.count == 1)

        // Rejected: never suggested again, even when the customer changes.
        try await store.rejectSuggestion(byName.id, requestedBy: "agent-1")
        var patch = CustomerPatch()
        patch.company = "Acme"
        _ = try await store.updateCustomer(second.id, patch)
        #expect(try await store.matchSuggestions(customer: first.id, minScore: 0, after: nil, limit: 10).items.isEmpty)
        await #expect(throws: ProfileError.suggestionDecided(byName.id, state: "rejected")) {
            try await store.rejectSuggestion(byName.id, requestedBy: "agent-1")
        }

        // Accepted: merged with the rule as the ledger's reason; no longer listed.
        let (survivor, entry) = try await store.acceptSuggestion(byEmail.id, survivor: nil, requestedBy: "agent-2")
        #expect(survivor.id == ada.id && survivor.mergedIDs == [twin.id])
        #expect(entry?.request.reason == .matchRule && entry?.request.rule == "same_email")
        #expect(try await store.matchSuggestions(customer: nil, minScore: 0, after: nil, limit: 10).items.isEmpty)
    }
}

import C360Contracts
import C360ServerKit
import C360StoreKit
import C360TestExpectations
import C360TestSupport
import Foundation
import GRPCCore
import Testing

@testable import C360Profile

/// The identifier index's part a profile shard keeps (`identifier_claim`): all-or-none claims, a holder's own claim
/// renewed, a stale one taken over only while it still names the holder the check found, releases only the
/// claimant's.
@Suite("ProfileStore identifier claims (the index across shards)")
struct IdentifierClaimTests {
    let store: ProfileStore
    let email: IndexedIdentifier
    let phone: IndexedIdentifier

    init() throws {
        store = try makeStore()
        email = store.indexed(Identifier(.email, "ada@example.org"))
        phone = store.indexed(Identifier(.phone, "+4915112345678"))
    }

    @Test("a claim is all or none: one identifier another customer holds stores none of the others")
    func allOrNone() async throws {
        let (first, second) = (EntityID.generate(), EntityID.generate())
        #expect(try await store.claim([email], for: first).isEmpty)
        let conflicts = try await store.claim([phone, email], for: second)
        #expect(conflicts.map(\.identifier) == [email])
        #expect(conflicts.map(\.holder) == [first])
        #expect(try await store.claimHolders(of: [email, phone]).map(\.1) == [first], "the phone was not claimed")
        #expect(try await store.claim([email, phone], for: first).isEmpty, "the holder's own claim is renewed")
        #expect(try await store.claimHolders(of: [email, phone]).map(\.1) == [first, first])
    }

    @Test("a stale claim is taken over only while it names the holder found not to hold it any more")
    func takeOver() async throws {
        let (old, new, other) = (EntityID.generate(), EntityID.generate(), EntityID.generate())
        #expect(try await store.claim([email], for: old).isEmpty)
        // Checked against another holder than the claim names: the claim stands.
        #expect(try await store.claim([email], for: new, replacing: [email: other]).map(\.holder) == [old])
        #expect(try await store.claim([email], for: new, replacing: [email: old]).isEmpty)
        #expect(try await store.claimHolders(of: [email]).map(\.1) == [new])
    }

    @Test("a release drops only the claimant's claims")
    func release() async throws {
        let (holder, stranger) = (EntityID.generate(), EntityID.generate())
        #expect(try await store.claim([email, phone], for: holder).isEmpty)
        #expect(try await store.releaseClaims([email, phone], of: stranger) == 0)
        #expect(try await store.releaseClaims([email], of: holder) == 1)
        #expect(try await store.claimHolders(of: [email, phone]).map(\.1) == [holder])
    }

    @Test("what a shard's customers hold is the truth a claim is checked against: a deleted customer still holds")
    func heldByCustomers() async throws {
        let customer = try await store.createCustomer(newCustomer(email: "ada@example.org"))
        #expect(try await store.identifierHolders(of: [email, phone]).map(\.1) == [customer.id])
        _ = try await store.deleteCustomer(customer.id)
        #expect(try await store.identifierHolders(of: [email]).map(\.1) == [customer.id])
        #expect(try await store.indexedIdentifiers(ofErasing: customer.id) == [email])
        _ = try await store.eraseCustomer(customer.id)
        #expect(try await store.identifierHolders(of: [email]).isEmpty)
    }
}

@Suite("ProfileService identifier-index calls")
struct IdentifierIndexCallTests {
    @Test("one process keeps no index across shards: its index calls answer FAILED_PRECONDITION and store nothing")
    func unshardedRefuses() async throws {
        let service = ProfileService(store: try makeStore())
        try await InProcessServer.withClient(serving: [service]) { client in
            let profiles = Customer360_V1_ProfileService.Client(wrapping: client)
            await expectStatus(.failedPrecondition, containing: "no --shard") {
                _ = try await profiles.claimIdentifiers(
                    .with {
                        $0.claimantID = EntityID.generate()
                        $0.identifiers = [
                            .with {
                                $0.kind = .email
                                $0.valueIndex = String(repeating: "a", count: 32)
                            }
                        ]
                    })
            }
        }
    }

    @Test("identifiers of an index call: 1 to 100, a known kind, a blind index of 32 lower-case hex digits")
    func validation() throws {
        func indexed(_ kind: Customer360_V1_IdentifierKind, _ value: String) -> Customer360_V1_IndexedIdentifier {
            .with {
                $0.kind = kind
                $0.valueIndex = value
            }
        }
        let good = String(repeating: "0f", count: 16)
        #expect(try ProfileService.indexed([indexed(.phone, good)], field: "identifiers").count == 1)
        for (bad, field) in [
            ([], "identifiers"),
            (Array(repeating: indexed(.email, good), count: 101), "identifiers"),
            ([indexed(.unspecified, good)], "identifiers[0].kind"),
            ([indexed(.email, good.uppercased())], "identifiers[0].value_index"),
            ([indexed(.email, String(good.dropLast()))], "identifiers[0].value_index"),
        ] {
            let error = #expect(throws: InvalidArgument.self) {
                _ = try ProfileService.indexed(bad, field: "identifiers")
            }
            #expect(error?.field == field)
        }
    }
}

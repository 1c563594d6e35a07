import C360Clients
import C360Contracts
import C360ServerKit
import C360StoreKit
import C360TestExpectations
import C360TestSupport
import Foundation
import GRPCCore
import Logging
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
        #expect(try await store.claim([email], for: first).claimed == [email])
        let refused = try await store.claim([phone, email], for: second)
        #expect(refused.conflicts.map(\.identifier) == [email])
        #expect(refused.conflicts.map(\.holder) == [first])
        #expect(refused.claimed.isEmpty)
        #expect(try await store.claimHolders(of: [email, phone]).map(\.1) == [first], "the phone was not claimed")
        // The holder's own claim is renewed, and only the phone is new to it: a failed write gives up the phone alone.
        let renewed = try await store.claim([email, phone], for: first)
        #expect(renewed.conflicts.isEmpty && renewed.claimed == [phone])
        #expect(try await store.claimHolders(of: [email, phone]).map(\.1) == [first, first])
    }

    @Test(
        "a stale claim is taken over only while it is the very claim found not held: same holder, same time")
    func takeOver() async throws {
        let clock = TestClock()
        let store = try makeStore(clock: clock)
        let email = store.indexed(Identifier(.email, "ada@example.org"))
        let (old, new, other) = (EntityID.generate(), EntityID.generate(), EntityID.generate())
        _ = try await store.claim([email], for: old)
        let found = try #require(try await store.claim([email], for: new).conflicts.first)
        #expect(found.holder == old)
        // Checked against another holder than the claim names: the claim stands.
        var elsewhere = found
        elsewhere.holder = other
        #expect(try await store.claim([email], for: new, replacing: [email: elsewhere]).conflicts == [found])
        // The holder claimed it again after the check (it added the identifier back): not overtaken.
        clock.advance(by: 1)
        _ = try await store.claim([email], for: old)
        let again = try await store.claim([email], for: new, replacing: [email: found])
        #expect(again.conflicts.map(\.holder) == [old])
        // The very claim the check found: taken over.
        let current = try #require(again.conflicts.first)
        #expect(try await store.claim([email], for: new, replacing: [email: current]).claimed == [email])
        #expect(try await store.claimHolders(of: [email]).map(\.1) == [new])
    }

    @Test("a release drops only the claimant's claims; releasing every claim of a customer drops them all")
    func release() async throws {
        let (holder, stranger) = (EntityID.generate(), EntityID.generate())
        #expect(try await store.claim([email, phone], for: holder).conflicts.isEmpty)
        #expect(try await store.releaseClaims([email, phone], of: stranger) == 0)
        #expect(try await store.releaseClaims([email], of: holder) == 1)
        #expect(try await store.claimHolders(of: [email, phone]).map(\.1) == [holder])
        _ = try await store.claim([email], for: stranger)
        #expect(try await store.releaseEveryClaim(of: holder) == [phone])
        #expect(try await store.claimHolders(of: [email, phone]).map(\.1) == [stranger])
    }

    @Test("a release naming the time of its claims leaves a claim renewed since by a concurrent call")
    func conditionalRelease() async throws {
        let clock = TestClock()
        let store = try makeStore(clock: clock)
        let email = store.indexed(Identifier(.email, "ada@example.org"))
        let holder = EntityID.generate()
        let first = try await store.claim([email], for: holder)
        clock.advance(by: 1)
        let renewed = try await store.claim([email], for: holder)
        #expect(renewed.claimed.isEmpty && renewed.claimedAtMillis > first.claimedAtMillis)
        #expect(try await store.releaseClaims([email], of: holder, claimedAtMillis: first.claimedAtMillis) == 0)
        #expect(try await store.releaseClaims([email], of: holder, claimedAtMillis: renewed.claimedAtMillis) == 1)
    }

    @Test("what a shard's customers hold is the truth a claim is checked against: a deleted customer still holds")
    func heldByCustomers() async throws {
        let customer = try await store.createCustomer(newCustomer(email: "ada@example.org"))
        #expect(try await store.identifierHolders(of: [email, phone]).map(\.1) == [customer.id])
        _ = try await store.deleteCustomer(customer.id)
        #expect(try await store.identifierHolders(of: [email]).map(\.1) == [customer.id])
        #expect(try await store.erasedOwners(of: customer.id) == [customer.id])
        _ = try await store.eraseCustomer(customer.id)
        #expect(try await store.identifierHolders(of: [email]).isEmpty)
    }
}

@Suite("ProfileShardService: the identifier index's calls")
struct IdentifierIndexCallTests {
    @Test("one process keeps no index across shards: its index calls answer FAILED_PRECONDITION and store nothing")
    func unshardedRefuses() async throws {
        let service = ProfileShardService(store: try makeStore(), index: nil)
        try await InProcessServer.withClient(serving: [service]) { client in
            let profiles = Customer360_V1_ProfileShardService.Client(wrapping: client)
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
        #expect(try ProfileShardService.indexed([indexed(.phone, good)], field: "identifiers").count == 1)
        for (bad, field) in [
            ([], "identifiers"),
            (Array(repeating: indexed(.email, good), count: 101), "identifiers"),
            ([indexed(.unspecified, good)], "identifiers[0].kind"),
            ([indexed(.email, good.uppercased())], "identifiers[0].value_index"),
            ([indexed(.email, String(good.dropLast()))], "identifiers[0].value_index"),
        ] {
            let error = #expect(throws: InvalidArgument.self) {
                _ = try ProfileShardService.indexed(bad, field: "identifiers")
            }
            #expect(error?.field == field)
        }
    }
}

/// An index of one shard owning every slot: its calls never leave the process.
private func oneShardIndex(_ store: ProfileStore) throws -> IdentifierIndex {
    let map = try ShardMap(
        epoch: 1, services: ["profile-service": [.init(shard: "profile-0", address: "127.0.0.1:1", slots: ["0-1023"])]])
    let source = ShardMapSource(map: map)
    let peers = try PeerConnection(
        address: PeerAddress(host: "127.0.0.1", port: 1), service: "profile-service", shards: source, routing: .current)
    return IdentifierIndex(
        shard: "profile-0", source: source, store: store, peers: peers.client, logger: Logger(label: "test"))
}

@Suite("IdentifierIndex: claims checked against what the holder's shard holds and is writing")
struct IdentifierIndexTests {
    @Test(
        """
        a claim whose customer holds the identifier is refused naming it; one whose write is unfinished answers \
        UNAVAILABLE; one nobody holds or writes is taken over at once
        """)
    func claimsAreChecked() async throws {
        let store = try makeStore()
        let index = try oneShardIndex(store)
        let ada = try await store.createCustomer(newCustomer(email: "ada@example.org"))
        let email = store.indexed(Identifier(.email, "ada@example.org"))
        let other = EntityID.generate()
        #expect(try await index.claimHere([email], for: ada.id).conflicts.isEmpty)
        #expect(try await index.claimHere([email], for: other).conflicts.map(\.holder) == [ada.id])

        _ = try await store.removeIdentifier(Identifier(.email, "ada@example.org"), from: ada.id)
        index.pending.add([email])
        await expectStatus(.unavailable, containing: "retry") {
            _ = try await index.claimHere([email], for: other)
        }
        index.pending.remove([email])
        #expect(try await index.claimHere([email], for: other).claimed == [email], "nobody holds it: taken over")
        #expect(try await store.claimHolders(of: [email]).map(\.1) == [other])
    }
}

@Suite("IdentifierIndexRepair: the index restored from the identifiers the shard's customers hold")
struct IdentifierIndexRepairTests {
    @Test(
        """
        a pass claims every identifier the index lacks for its holder, a second pass restores nothing, and an entry \
        naming another customer is counted and left alone
        """)
    func repairRestoresMissingEntries() async throws {
        let store = try makeStore()
        let index = try oneShardIndex(store)
        let repair = IdentifierIndexRepair(index: index, logger: Logger(label: "test"))

        let ada = try await store.createCustomer(newCustomer(email: "ada@example.org", phone: "+4915112345678"))
        let bob = try await store.createCustomer(newCustomer(email: "bob@example.org"))
        let first = try await repair.repair()
        #expect(first.sent == 3 && first.claimed == 3 && first.conflicts == 0)
        let email = store.indexed(Identifier(.email, "ada@example.org"))
        #expect(try await store.claimHolders(of: [email]).map(\.1) == [ada.id])
        let second = try await repair.repair()
        #expect(second.claimed == 0 && second.conflicts == 0)

        // An entry naming another customer (a claim left behind) stays for the next claim to check.
        let bobs = store.indexed(Identifier(.email, "bob@example.org"))
        _ = try await store.releaseEveryClaim(of: bob.id)
        _ = try await store.claim([bobs], for: ada.id)
        let third = try await repair.repair()
        #expect(third.claimed == 0 && third.conflicts == 1)
        #expect(try await store.claimHolders(of: [bobs]).map(\.1) == [ada.id])
    }
}

import C360Clients
import C360Contracts
import C360ServerKit
import C360StoreKit
import C360TestSupport
import Foundation
import GRDB
import GRPCCore
import Logging
import Testing

@testable import C360ChangeFeed
@testable import C360Profile

/// profile-service's customers move between shards as families (`SlotMoves` over `ProfileStore`): a survivor with
/// the profiles merged into it and the ledger that can take the merge apart, by the survivor's slot; a merged-away
/// id's alias and an identifier's claim by their own slots.
@Suite("Moving profile-service customers between shards (SlotMoves)")
struct ProfileSlotMoveTests {
    /// Two profile stores as profile-0 (owning every slot) and profile-1 of one map file, sharing the deployment's
    /// blind-index key as shards do.
    struct TwoShards {
        let mapFile: URL
        let source: ProfileStore
        let target: ProfileStore
        let sourceMoves: SlotMoves
        let targetMoves: SlotMoves

        /// Each shard's store and moves read one map source, as in a process, and its reads across customers keep
        /// to its slots.
        init() throws {
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("c360-profile-move-\(UUID()).json")
            try Self.map(epoch: 1, moved: []).json.write(to: file)
            mapFile = file
            let indexKey = KeyEncryptionKey.generate()
            func store(_ settings: ShardSettings) throws -> ProfileStore {
                let keyring = try Keyring(
                    database: ServiceDatabase.inMemory(label: "keyring"), kek: .generate(), sharedIndexKey: indexKey)
                return try ProfileStore(
                    writer: ServiceDatabase.inMemory(), keyring: keyring,
                    owned: CustomerOwnership(shards: settings, service: "profile-service").slots)
            }
            let settings = { (shard: String) in ShardSettings(source: try ShardMapSource(path: file.path), shard: shard)
            }
            let (sourceSettings, targetSettings) = (try settings("profile-0"), try settings("profile-1"))
            source = try store(sourceSettings)
            target = try store(targetSettings)
            sourceMoves = SlotMoves(store: source, service: "profile-service", shards: sourceSettings)
            targetMoves = SlotMoves(store: target, service: "profile-service", shards: targetSettings)
        }

        /// Publishes the map giving `moved` slots to profile-1, read again by both shards.
        func flip(_ moved: [Int]) throws {
            try Self.map(epoch: 2, moved: moved).json.write(to: mapFile)
            for moves in [sourceMoves, targetMoves] { _ = moves.shards?.source.reload() }
        }

        /// The map giving `moved` slots to profile-1 and every other slot to profile-0.
        static func map(epoch: Int64, moved: [Int]) throws -> ShardMap {
            var kept: [String] = []
            var start = 0
            for slot in moved.sorted() + [CustomerSlot.count] {
                if slot > start { kept.append("\(start)-\(slot - 1)") }
                start = slot + 1
            }
            return try ShardMap(
                epoch: epoch,
                services: [
                    "profile-service": [
                        .init(shard: "profile-0", address: "127.0.0.1:1", slots: kept),
                        .init(shard: "profile-1", address: "127.0.0.1:2", slots: moved.sorted().map { "\($0)-\($0)" }),
                    ]
                ])
        }

        /// Copies `slots` from profile-0 to profile-1, flips the map and drops them from profile-0.
        func move(_ slots: [Int]) async throws {
            let ranges = slots.map { "\($0)-\($0)" }
            let page = try await sourceMoves.exportSlots(.with { $0.slots = ranges })
            #expect(page.nextCustomerID.isEmpty)
            _ = try await targetMoves.importSlotCustomers(.with { $0.customers = page.customers })
            try Self.map(epoch: 2, moved: slots).json.write(to: mapFile)
            let dropped = try await sourceMoves.dropSlots(.with { $0.slots = ranges })
            #expect(dropped.done)
        }
    }

    /// A survivor and a merged-away customer of different slots, merged on profile-0.
    static func family(on store: ProfileStore) async throws -> (survivor: String, merged: String) {
        let survivor = EntityID.generate()
        var merged = EntityID.generate()
        while CustomerSlot.of(merged) == CustomerSlot.of(survivor) { merged = EntityID.generate() }
        _ = try await store.createCustomer(
            newCustomer(email: "ada@example.com", given: "Ada", tags: ["vip"]), id: survivor)
        _ = try await store.createCustomer(
            newCustomer(email: "ada.l@work.example", phone: "+447700900123", family: "Lovelace"), id: merged)
        _ = try await store.applyPoints(300, reason: "welcome", transactionID: "t-merged", customer: merged)
        _ = try await store.mergeCustomers(
            survivor: survivor, merged: merged, request: MergeRequest(note: "same person", requestedBy: "agent-7"))
        return (survivor, merged)
    }

    @Test("a family moves with its survivor's slot; the merged id left behind answers with its survivor")
    func familyMovesWithItsSurvivor() async throws {
        let shards = try TwoShards()
        defer { try? FileManager.default.removeItem(at: shards.mapFile) }
        let (survivor, merged) = try await Self.family(on: shards.source)

        try await shards.move([CustomerSlot.of(survivor)])

        // On the target, the family is whole: the merged profile's identifiers (sealed under its key) read, its id
        // resolves, and the merge can be undone there.
        let moved = try await shards.target.customer(merged)
        #expect(moved.id == survivor && moved.resolvedFrom == merged)
        #expect(Set(moved.identifiers.map(\.value)) == ["ada@example.com", "ada.l@work.example", "+447700900123"])
        #expect(moved.familyName == "Lovelace" && moved.loyalty.balance == 300)
        let entries = try await shards.target.merges(customer: survivor, after: nil, limit: 10).items
        #expect(entries.map(\.entry.request.note) == ["same person"])
        let found = try await shards.target.customer(with: Identifier(.phone, "+447700900123"))
        #expect(found.id == survivor)

        // On the source, only the merged id's alias is left, in its own slot: it names the survivor to call.
        await #expect(throws: ProfileError.mergedElsewhere(merged, survivor: survivor)) {
            _ = try await shards.source.customer(merged)
        }
        // Resolving it names the survivor, which ResolveCustomers asks the survivor's shard about in turn.
        let resolved = try await shards.source.resolve([merged])
        #expect(resolved == [.failure(.mergedElsewhere(merged, survivor: survivor))])
        await #expect(throws: ProfileError.customerNotFound(survivor)) {
            _ = try await shards.source.customer(survivor)
        }
        let keys = shards.source.dataKeys
        #expect(try keys.exportDataKey(for: survivor) == nil, "the survivor's key left with its rows")
        #expect(try keys.exportDataKey(for: merged) == nil, "the merged profile's key left with its family")

        // Without a hand-back (a store alone), undoing the merge would restore the merged customer on a shard its slot
        // is not given to; a shard that does not own the family (a move's copy) does not know the merge.
        let mergeID = try #require(entries.first?.entry.id)
        await #expect(throws: ProfileError.mergeNotFound(mergeID)) {
            _ = try await shards.target.unmergeCustomers(
                mergeID: mergeID, requestedBy: "agent-9", owns: { $0 != survivor })
        }
        await #expect(throws: ProfileError.unmergeAcrossShards(merge: mergeID, customer: merged)) {
            _ = try await shards.target.unmergeCustomers(
                mergeID: mergeID, requestedBy: "agent-9", owns: { $0 != merged })
        }
        let (kept, restored, _) = try await shards.target.unmergeCustomers(mergeID: mergeID, requestedBy: "agent-9")
        #expect(restored.id == merged && restored.familyName == "Lovelace" && restored.loyalty.balance == 300)
        #expect(kept.identifiers.map(\.value) == ["ada@example.com"])
        #expect(kept.familyName.isEmpty, "the name the merge filled in (sealed again on import) is taken back")
        let families = try await shards.target.writer.read { db in
            try Row.fetchAll(db, sql: "SELECT id, familyId FROM customer ORDER BY id").map {
                [$0["id"] as String: $0["familyId"] as String]
            }
        }
        #expect(families.allSatisfy { $0.keys.first == $0.values.first }, "each is its own family again")
    }

    @Test(
        """
        a call sent to a survivor's shard for a merged id (c360-family) answers for that family only, and follows the \
        survivor's own alias when the family moved on
        """)
    func familyCallsAnswerForTheirFamily() async throws {
        let shards = try TwoShards()
        defer { try? FileManager.default.removeItem(at: shards.mapFile) }
        let (survivor, merged) = try await Self.family(on: shards.source)
        let other = try await shards.source.createCustomer(newCustomer(email: "grace@example.com")).id
        try await shards.move([CustomerSlot.of(survivor)])

        // The merged id's own shard holds its alias only; its survivor's shard answers for it, as one process would.
        await #expect(throws: ProfileError.mergedElsewhere(merged, survivor: survivor)) {
            _ = try await shards.source.customer(merged)
        }
        let call = WrongShard.FamilyCall(survivor: survivor, customer: merged)
        let answered = try await WrongShard.$family.withValue(call) { try await shards.target.customer(merged) }
        #expect(answered.id == survivor && answered.resolvedFrom == merged)
        // Only the request's own customer is held to the family; another id the handler reads is not.
        let elsewhere = WrongShard.FamilyCall(survivor: other, customer: merged)
        #expect(
            try await WrongShard.$family.withValue(elsewhere) { try await shards.target.customer(survivor) }.id
                == survivor)
        // Sent for another family, the merged id's row here is not that family's: not found, nothing written.
        await #expect(throws: ProfileError.customerNotFound(merged)) {
            try await WrongShard.$family.withValue(elsewhere) {
                _ = try await shards.target.addTags(["wrong-family"], to: merged)
            }
        }
        #expect(try await shards.target.customer(survivor).tags == ["vip"])

        // The survivor merged on into another family since (its alias here names it): the call goes there, and is
        // never answered from rows this shard still holds of the family, such as a move's copy.
        let onward = EntityID.generate()
        try await shards.target.writer.write { db in
            try db.execute(
                sql: "INSERT INTO \(ProfileStore.aliasTable) (id, survivorId) VALUES (?, ?)",
                arguments: [survivor, onward])
        }
        await #expect(throws: ProfileError.mergedElsewhere(merged, survivor: onward)) {
            try await WrongShard.$family.withValue(call) {
                _ = try await shards.target.addTags(["copy"], to: merged)
            }
        }
        #expect(try await shards.target.customer(survivor).tags == ["vip"])

        // A shard that holds neither the merged id nor its alias, but the survivor's own alias: the same.
        try await shards.source.writer.write { db in
            try db.execute(sql: "DELETE FROM \(ProfileStore.aliasTable) WHERE id = ?", arguments: [merged])
            try db.execute(
                sql: "INSERT INTO \(ProfileStore.aliasTable) (id, survivorId) VALUES (?, ?)",
                arguments: [survivor, onward])
        }
        await #expect(throws: ProfileError.mergedElsewhere(merged, survivor: onward)) {
            try await WrongShard.$family.withValue(call) { _ = try await shards.source.customer(merged) }
        }
        await #expect(throws: ProfileError.customerNotFound(merged)) {
            _ = try await shards.source.customer(merged)
        }
    }

    @Test(
        """
        a shard's customer list leaves out the customers it holds of other shards' slots: a move's copies before the \
        flip, and what it gave away until the drop
        """)
    func listsLeaveOutOtherShardsSlots() async throws {
        let shards = try TwoShards()
        defer { try? FileManager.default.removeItem(at: shards.mapFile) }
        let (survivor, _) = try await Self.family(on: shards.source)
        let slot = CustomerSlot.of(survivor)
        let page = try await shards.sourceMoves.exportSlots(.with { $0.slots = ["\(slot)-\(slot)"] })
        _ = try await shards.targetMoves.importSlotCustomers(.with { $0.customers = page.customers })
        func listed(on store: ProfileStore) async throws -> [String] {
            try await store.customers(matching: CustomerQuery(), after: nil, limit: 50).items.map(\.id)
        }
        // Copied, not yet given to the target: listed by the source alone.
        #expect(try await listed(on: shards.source) == [survivor])
        #expect(try await listed(on: shards.target).isEmpty)
        // Fenced, then given to the target, not yet dropped from the source: listed by the target alone.
        _ = try await shards.sourceMoves.fenceSlots(
            .with {
                $0.slots = ["\(slot)-\(slot)"]
                $0.targetShard = "profile-1"
                $0.epoch = 2
            })
        #expect(try await listed(on: shards.source) == [survivor], "fenced, still the source's")
        try shards.flip([slot])
        #expect(try await listed(on: shards.source).isEmpty)
        #expect(try await listed(on: shards.target) == [survivor])
        // Dropped: the source holds only its own again, and nothing is filtered.
        _ = try await shards.sourceMoves.dropSlots(.with { $0.slots = ["\(slot)-\(slot)"] })
        #expect(try await shards.source.writer.read { db in try SlotCopies.held(db) }.isEmpty)
    }

    @Test(
        """
        a drop shreds the keys a leaving family's rows are sealed under, but not one a family staying on the shard \
        still needs
        """)
    func dropKeepsOnlyTheKeysStillNeeded() async throws {
        let shards = try TwoShards()
        defer { try? FileManager.default.removeItem(at: shards.mapFile) }
        let (survivor, merged) = try await Self.family(on: shards.source)
        // Another customer merged into the family and split off again (its values stay in the ledger's snapshot),
        // then merged into a family of another slot, which stays.
        func outsideTheMovedSlot(_ email: String, given: String = "") async throws -> String {
            var id = EntityID.generate()
            while CustomerSlot.of(id) == CustomerSlot.of(survivor) { id = EntityID.generate() }
            return try await shards.source.createCustomer(newCustomer(email: email, given: given), id: id).id
        }
        let wanderer = try await outsideTheMovedSlot("wanderer@example.com", given: "Wanda")
        let staying = try await outsideTheMovedSlot("stay@example.com")
        // A customer merged into the moving family whose own match suggestion (sealed under its key) stays here.
        let suggested = try await outsideTheMovedSlot("twin.one@gmail.com", given: "Twin")
        _ = try await shards.source.createCustomer(newCustomer(email: "twinone+shop@gmail.com", given: "Twin"))
        #expect(
            try await shards.source.matchSuggestions(customer: suggested, minScore: 0, after: nil, limit: 5).items
                .map(\.suggestion.customerID) == [suggested])
        // A customer of the moved slot itself merged into the family: its alias leaves in the same drop.
        var sibling = EntityID.generate()
        while CustomerSlot.of(sibling) != CustomerSlot.of(survivor) { sibling = EntityID.generate() }
        _ = try await shards.source.createCustomer(newCustomer(email: "sibling@example.com", given: "Sib"), id: sibling)
        let request = MergeRequest(note: "same person", requestedBy: "agent-7")
        _ = try await shards.source.merge(survivor: survivor, merged: sibling, request: request)
        _ = try await shards.source.merge(survivor: survivor, merged: suggested, request: request)
        let joined = try await shards.source.merge(survivor: survivor, merged: wanderer, request: request)
        _ = try await shards.source.unmergeCustomers(mergeID: try #require(joined.entry?.id), requestedBy: "agent-7")
        _ = try await shards.source.mergeCustomers(survivor: staying, merged: wanderer, request: request)

        try await shards.move([CustomerSlot.of(survivor)])

        let keys = shards.source.dataKeys
        #expect(try keys.exportDataKey(for: survivor) == nil && keys.exportDataKey(for: merged) == nil)
        #expect(try keys.exportDataKey(for: sibling) == nil, "a member leaving in the same drop takes its key along")
        #expect(try await shards.target.customer(sibling).id == survivor)
        #expect(try keys.exportDataKey(for: wanderer) != nil, "the staying family's rows are sealed under it")
        #expect(try keys.exportDataKey(for: suggested) != nil, "its suggestion here is sealed under it")
        let kept = try await shards.source.customer(wanderer)
        #expect(kept.id == staying && kept.identifiers.map(\.value).contains("wanderer@example.com"))
        #expect(try await shards.target.customer(merged).id == survivor)
    }

    @Test("a merged profile whose values live on only in the merge's undo snapshot is restored on the target")
    func undoSnapshotMovesWithItsKeys() async throws {
        let shards = try TwoShards()
        defer { try? FileManager.default.removeItem(at: shards.mapFile) }
        let survivor = try await shards.source.createCustomer(newCustomer(given: "Ada", family: "Lovelace")).id
        let merged = try await shards.source.createCustomer(newCustomer(given: "Augusta", family: "King")).id
        let entry = try #require(
            try await shards.source.merge(survivor: survivor, merged: merged, request: MergeRequest()).entry)

        try await shards.move(Array(Set([CustomerSlot.of(survivor), CustomerSlot.of(merged)])))

        let restored = try await shards.target.unmergeCustomers(mergeID: entry.id, requestedBy: "agent-9").restored
        #expect(restored.givenName == "Augusta" && restored.familyName == "King")
    }

    @Test("a merged id's slot moves alone as its alias, and identifier claims move by their identifier's slot")
    func aliasAndClaimsMoveByTheirOwnSlot() async throws {
        let shards = try TwoShards()
        defer { try? FileManager.default.removeItem(at: shards.mapFile) }
        let (survivor, merged) = try await Self.family(on: shards.source)
        let email = shards.source.indexed(Identifier(.email, "ada@example.com"))
        _ = try await shards.source.claim([email], for: survivor)
        let claimSlot = CustomerSlot.of(email.valueIndex)
        try #require(claimSlot != CustomerSlot.of(survivor))

        try await shards.move([CustomerSlot.of(merged), claimSlot])

        await #expect(throws: ProfileError.mergedElsewhere(merged, survivor: survivor)) {
            _ = try await shards.target.customer(merged)
        }
        #expect(try await shards.target.resolve([merged]) == [.failure(.mergedElsewhere(merged, survivor: survivor))])
        #expect(try await shards.target.claimHolders(of: [email]).map(\.1) == [survivor])
        #expect(try await shards.source.claimHolders(of: [email]).isEmpty)
        // The family stayed whole on the source, the merged profile's key with it.
        let family = try await shards.source.customer(merged)
        #expect(family.id == survivor && family.familyName == "Lovelace")
        #expect(try shards.source.dataKeys.exportDataKey(for: merged) != nil)
        #expect(try shards.target.dataKeys.exportDataKey(for: merged) == nil, "an alias brings no key")
    }

    @Test("a family handed to another shard for a merge refuses writes; sweeps leave it alone, not its neighbours")
    func familyFenceIsTheFamilyAlone() async throws {
        let store = try makeStore()
        let (survivor, merged) = try await Self.family(on: store)
        let other = try await store.createCustomer(newCustomer(email: "grace@example.com")).id
        try await store.writer.write { db in
            try FamilyTransferOut(
                transferId: "transfer-1", familyId: survivor, survivorId: "elsewhere", survivorShard: "profile-1",
                startedAt: Date()
            ).insert(db)
            try FamilyFence.createTriggers(db)
        }
        await #expect(throws: (any Error).self) { _ = try await store.addTags(["gold"], to: merged) }
        #expect(try await store.addTags(["gold"], to: other).tags == ["gold"])
        // The tier review queues everyone else instead of failing on the family.
        #expect(try await store.queueLoyaltyForEveryone(now: Date()) == 1)
        let busy = try await store.writer.read { db in try ProfileStore.busyCustomers(db) }
        #expect(busy?(survivor) == true && busy?(merged) == true && busy?(other) == false)
        // A process started while the transfer is open fences with triggers of its own.
        try await store.writer.write { db in try FamilyFence.dropTriggers(db) }
        let restarted = try ProfileStore(writer: store.writer, keyring: store.keyring)
        await #expect(throws: (any Error).self) { _ = try await restarted.addTags(["gold"], to: merged) }
    }

    @Test("a fenced family refuses writes to any of its profiles, in the transaction")
    func fenceStopsFamilyWrites() async throws {
        let shards = try TwoShards()
        defer { try? FileManager.default.removeItem(at: shards.mapFile) }
        let (survivor, merged) = try await Self.family(on: shards.source)
        let other = try await shards.source.createCustomer(newCustomer(email: "grace@example.com"))
        _ = try await shards.sourceMoves.fenceSlots(
            .with {
                $0.slots = ["\(CustomerSlot.of(survivor))-\(CustomerSlot.of(survivor))"]
                $0.epoch = 2
                $0.targetShard = "profile-1"
            })
        await #expect(throws: (any Error).self) { _ = try await shards.source.addTags(["gold"], to: merged) }
        await #expect(throws: (any Error).self) {
            _ = try await shards.source.mergeCustomers(survivor: other.id, merged: survivor)
        }
        #expect(try await shards.source.customer(merged).tags == ["vip"], "nothing was stored")
        // Customers of other slots are written as usual.
        #expect(try await shards.source.addTags(["gold"], to: other.id).tags == ["gold"])
    }
}

@Suite("A call sent to a survivor's shard for a merged id (c360-family metadata)")
struct FamilyCallTests {
    @Test(
        """
        passes the shard check when the survivor is this shard's, answering as one process would; a family of another \
        shard is refused as a customer of another shard
        """)
    func familyCallIsCheckedForItsSurvivor() async throws {
        // profile-service takes family calls; a service that does not ignores the metadata.
        for takesFamilyCalls in [true, false] {
            try await familyCall(takesFamilyCalls: takesFamilyCalls)
        }
    }

    func familyCall(takesFamilyCalls: Bool) async throws {
        let store = try makeStore()
        let map = try ShardMap.even(
            services: [(name: "profile-service", shardPrefix: "profile", addresses: ["127.0.0.1:1", "127.0.0.1:2"])])
        func id(onShard index: Int) -> String {
            var id = EntityID.generate()
            while (CustomerSlot.of(id) < CustomerSlot.count / 2) != (index == 0) { id = EntityID.generate() }
            return id
        }
        let (survivor, merged, elsewhere) = (id(onShard: 0), id(onShard: 1), id(onShard: 1))
        _ = try await store.createCustomer(newCustomer(email: "ada@example.com", tags: ["vip"]), id: survivor)
        _ = try await store.createCustomer(newCustomer(email: "ada.l@work.example"), id: merged)
        _ = try await store.mergeCustomers(
            survivor: survivor, merged: merged, request: MergeRequest(note: "same person", requestedBy: "agent-7"))
        let check = ShardOwnershipInterceptor(
            source: ShardMapSource(map: map), service: "profile-service", shard: "profile-0",
            takesFamilyCalls: takesFamilyCalls, logger: Logger(label: "test"))
        try await InProcessServer.withClient(
            serving: [ProfileService(store: store)],
            interceptors: [RequestInterceptor(logger: Logger(label: "test")), check]
        ) { client in
            let profiles = Customer360_V1_ProfileService.Client(wrapping: client)
            let byMergedID = Customer360_V1_AddTagsRequest.with {
                $0.customerID = merged
                $0.tags = ["followed"]
            }
            // Routed by its own id, the merged id is the other shard's.
            let unsent = await #expect(throws: RPCError.self) { _ = try await profiles.addTags(byMergedID) }
            #expect(unsent.map(WrongShard.isRefusal) == true, "\(String(describing: unsent))")
            // Sent for its survivor's family, it is answered here.
            let family: Metadata = [WrongShard.familyKey: .string(survivor)]
            guard takesFamilyCalls else {
                let ignored = await #expect(throws: RPCError.self) {
                    _ = try await profiles.addTags(byMergedID, metadata: family)
                }
                #expect(ignored.map(WrongShard.isRefusal) == true && ignored?.message.contains(merged) == true)
                #expect(try await store.customer(survivor).tags == ["vip"])
                return
            }
            let tagged = try await profiles.addTags(byMergedID, metadata: family)
            #expect(tagged.customerID == survivor && tagged.resolvedFrom == merged)
            #expect(Set(tagged.tags) == ["vip", "followed"])
            // Sent for a family another shard owns, it is refused as that customer's, and nothing is written.
            let wrong = await #expect(throws: RPCError.self) {
                _ = try await profiles.addTags(
                    .with {
                        $0.customerID = merged
                        $0.tags = ["wrong"]
                    }, metadata: [WrongShard.familyKey: .string(elsewhere)])
            }
            #expect(wrong.map(WrongShard.isRefusal) == true && wrong?.message.contains(elsewhere) == true)
            #expect(try await store.customer(survivor).tags.contains("wrong") == false)
        }
    }
}

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
@testable import C360Interaction

/// Two interaction stores as the two shards of a map file, each with its `SlotMoves`.
private typealias TwoShards = TwoShardStores<InteractionStore>

extension TwoShardStores<InteractionStore> {
    /// - Parameter countingOwnSlots: Each store's reads across customers keep to the slots its shard owns, as in a
    ///   deployment (`CustomerOwnership.slots`); otherwise they count every row held.
    fileprivate init(countingOwnSlots: Bool = false) throws {
        try self.init(service: "interaction-service", shardPrefix: "interaction") { map, shards in
            try makeInteractionStore(owned: map.ownedSlots(shards, countingOwnSlots: countingOwnSlots))
        }
    }
}

@Suite("Moving interaction-service customers between shards (SlotMoves)")
struct InteractionSlotMoveTests {
    let start = Date(timeIntervalSince1970: 1_780_000_000)

    func order(_ id: String, _ customer: String, _ skus: [String]) -> Touchpoint {
        touchpoint(
            id, customer: customer, at: start, kind: .purchase,
            purchase: Purchase(
                orderID: "order-\(id)", amount: Money(1_000, "USD"),
                items: skus.map { PurchaseItem(sku: $0, quantity: 1, unitPrice: Money(1_000, "USD"), name: $0) }))
    }

    @Test(
        """
        a copied customer reads the same on the target — sealed values sealed again under its own keys, counters and \
        co-purchases come along — and copying again replaces rather than duplicates
        """)
    func copyIsWholeAndIdempotent() async throws {
        let shards = try TwoShards()
        defer { try? FileManager.default.removeItem(at: shards.mapFile) }
        _ = try await shards.source.ingest([
            touchpoint("e1", customer: Customers.ada, at: start, kind: .message, attributes: ["topic": "billing"]),
            order("e2", Customers.ada, ["camera", "tripod"]),
            order("e3", Customers.sara, ["camera", "bag"]),
            touchpoint("m1", customer: Customers.mergedAway, at: start, kind: .message, attributes: ["old": "yes"]),
        ])
        // A merge on the source leaves m1 under Ada, still sealed under the merged-away customer's key.
        try await shards.source.writer.write { db in
            try shards.source.rekey(db, merged: Customers.mergedAway, survivor: Customers.ada)
        }
        #expect(try await shards.copyAll() == 2)
        #expect(try await shards.copyAll(limit: 100) == 2, "a second copy (a restarted mover) changes nothing")

        let copied = try await shards.target.timeline(
            customer: Customers.ada, filter: TimelineFilter(), after: nil, limit: 10)
        #expect(copied.items.map(\.touchpoint.eventID).sorted() == ["e1", "e2", "m1"])
        #expect(copied.items.first { $0.touchpoint.eventID == "e1" }?.touchpoint.attributes == ["topic": "billing"])
        // Opened with the merged-away customer's key that came along, sealed again under the target's own.
        #expect(copied.items.first { $0.touchpoint.eventID == "m1" }?.touchpoint.attributes == ["old": "yes"])
        let journal = try await shards.target.writer.read { db in
            try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM merge_journal WHERE survivorId = ?", arguments: [Customers.ada])
        }
        #expect(journal == 1, "the merge's journal moved with the survivor, for an unmerge there")
        #expect(try await shards.target.totals(customer: Customers.ada)?.commerce.orders == 1)
        #expect(try await shards.target.totals(customer: Customers.ada)?.activity.touchpoints == 3)
        // Co-purchases: Ada bought a tripod with her camera, so Sara (camera) is offered it on the target too.
        #expect(try await shards.target.recommendations(for: Customers.sara, limit: 5).map(\.sku) == ["tripod"])
        // An event already moved is a duplicate there, not a second row.
        let outcomes = try await shards.target.ingest([order("e2", Customers.ada, ["camera", "tripod"])])
        #expect(try await shards.target.totals(customer: Customers.ada)?.commerce.orders == 1, "\(outcomes)")
    }

    @Test(
        "customer counts, activity, buyers and RFM inputs count a copied customer on the target once the map gives them to it, and no longer on the source"
    )
    func readsAcrossCustomersCountEachCustomerOnce() async throws {
        let shards = try TwoShards(countingOwnSlots: true)
        defer { try? FileManager.default.removeItem(at: shards.mapFile) }
        _ = try await shards.source.ingest([order("e1", Customers.ada, ["camera"])])
        _ = try await shards.target.ingest([order("e2", Customers.sara, ["bag"])])

        // When ada is copied to the target, she counts on the source only (as does sara, written to the target before
        // it took any slot: only the map says whose a row is)
        let page = try await shards.sourceMoves.exportSlots(.with { $0.slots = ["0-1023"] })
        _ = try await shards.targetMoves.importSlotCustomers(.with { $0.customers = page.customers })
        #expect(try await counted(shards.source) == [1, 1, 1, 1])
        #expect(try await counted(shards.target) == [0, 0, 0, 0])

        // When the source fences the slots and the map gives them to the target, ada counts there, not on the source,
        // which holds her until the drop
        _ = try await shards.sourceMoves.fenceSlots(shards.map.fenceEverySlot)
        #expect(try await counted(shards.source) == [1, 1, 1, 1], "fenced, still the source's")
        try shards.flip()
        #expect(try await counted(shards.source) == [0, 0, 0, 0])
        #expect(try await counted(shards.target) == [2, 2, 2, 2])
    }

    @Test(
        """
        after a merge across shards, a survivor whose rows were re-keyed on a shard that does not own it counts on its \
        own shard only while it waits in the handoff queue, and here again once the map gives its slot here
        """)
    func survivorQueuedForHandoffCountsOnItsShardOnly() async throws {
        let shards = try TwoShards(countingOwnSlots: true)
        defer { try? FileManager.default.removeItem(at: shards.mapFile) }
        // The merge follower re-keyed a merged-away customer's order to ada on the target, whose map gives ada's slot
        // to the source; it queues ada in the same transaction.
        _ = try await shards.target.ingest([order("e1", Customers.ada, ["camera"])])
        #expect(try await counted(shards.target) == [1, 1, 1, 1], "no slot held yet: every row counts")
        try await shards.target.database.write { db in
            try SlotHandoff.queueIfForeign(db, Customers.ada, shards: shards.map.target, service: "interaction-service")
        }
        #expect(try await counted(shards.target) == [0, 0, 0, 0], "queued for the source: held, not owned")

        // A drop of those slots here leaves the queued rows to the handoff, which deletes them once the owner has them
        let drop = try await shards.targetMoves.dropSlots(.with { $0.slots = ["0-1023"] })
        #expect(drop.dropped == 0 && drop.done)

        // A map that gives ada's slot here makes the queued rows this shard's own
        try shards.flip()
        #expect(try await counted(shards.target) == [1, 1, 1, 1], "kept through the drop")
    }

    @Test(
        """
        a write re-keyed in its own transaction by a merge applied since it was resolved, to a survivor another shard \
        owns, is queued for the handoff with the merge's rows
        """)
    func writeRekeyedToAForeignSurvivorIsQueued() async throws {
        let map = try TwoShardMapFile(service: "interaction-service", shardPrefix: "interaction")
        defer { map.remove() }
        let store = try makeInteractionStore(
            owned: map.ownedSlots(map.target, countingOwnSlots: true),
            handOver: { db, id in
                try SlotHandoff.queueIfForeign(db, id, shards: map.target, service: "interaction-service")
            })
        // The merge of an old id into ada (the source's customer) applied here after the write was resolved
        try await store.database.write { db in
            try db.execute(
                sql: "INSERT INTO customer_alias (mergedId, survivorId) VALUES (?, ?)",
                arguments: ["cus-old", Customers.ada])
        }
        _ = try await store.ingest([touchpoint("late", customer: "cus-old", at: start)])
        let queued = try await store.database.read { db in
            try String.fetchAll(db, sql: "SELECT customerId FROM slot_handoff")
        }
        #expect(queued == [Customers.ada])
        let stored = try await store.timeline(customer: Customers.ada, filter: TimelineFilter(), after: nil, limit: 5)
        #expect(stored.items.map(\.touchpoint.eventID) == ["late"])
    }

    @Test(
        """
        a fence stops every write to its slots in the write transaction (the refusal the server answers UNAVAILABLE), \
        returns the feed head that covers what came before, and the catch-up copies what changed since a position
        """)
    func fenceAndCatchUp() async throws {
        let shards = try TwoShards()
        defer { try? FileManager.default.removeItem(at: shards.mapFile) }
        _ = try await shards.source.ingest([touchpoint("e1", customer: Customers.ada, at: start)])
        let first = try await shards.sourceMoves.exportSlots(.with { $0.slots = ["0-1023"] })
        _ = try await shards.targetMoves.importSlotCustomers(.with { $0.customers = first.customers })

        _ = try await shards.source.ingest([touchpoint("e2", customer: Customers.sara, at: start)])
        let fence = try await shards.sourceMoves.fenceSlots(shards.map.fenceEverySlot)
        await #expect {
            _ = try await shards.source.ingest([touchpoint("e3", customer: Customers.ada, at: start)])
        } throws: { error in
            (error as? DatabaseError)?.message == SlotFence.refusal
        }

        let caughtUp = try await shards.sourceMoves.exportSlots(
            .with {
                $0.slots = ["0-1023"]
                $0.catchUp = true
                $0.changedAfterSequence = first.throughSequence
            })
        #expect(caughtUp.customers.map(\.customerID) == [Customers.sara])
        #expect(caughtUp.caughtUp && caughtUp.throughSequence == fence.feedHead)
        _ = try await shards.targetMoves.importSlotCustomers(.with { $0.customers = caughtUp.customers })
        #expect(try await shards.target.totals(customer: Customers.sara)?.activity.touchpoints == 1)

        // The source may not drop what it still owns; once the map gives the slots away it drops page by page.
        await #expect(throws: RPCError.self) {
            _ = try await shards.sourceMoves.dropSlots(.with { $0.slots = ["0-1023"] })
        }
        try shards.flip()
        let drop = try await shards.sourceMoves.dropSlots(
            .with {
                $0.slots = ["0-1023"]
                $0.limit = 1
            })
        #expect(drop.dropped == 1 && !drop.done)
        let rest = try await shards.sourceMoves.dropSlots(.with { $0.slots = ["0-1023"] })
        #expect(rest.dropped == 1 && rest.done)
        #expect(try await shards.source.totals(customer: Customers.ada) == nil)
        #expect(try shards.source.keyring.exportDataKey(for: Customers.ada) == nil, "the source's key is shredded")
        // The fence went with the last page: writes to these slots are the ownership check's business again.
        _ = try await shards.source.ingest([touchpoint("e4", customer: Customers.ada, at: start)])
    }

    @Test(
        """
        a handover after a merge across shards adds the rows to the owner's, keeps a row it holds already (a handover \
        sent twice), rebuilds the counters, and is refused by a shard that does not own the customer
        """)
    func handoverAppends() async throws {
        let shards = try TwoShards()
        defer { try? FileManager.default.removeItem(at: shards.mapFile) }
        try shards.flip() // interaction-1 owns every customer; interaction-0 holds rows a merge left there
        _ = try await shards.source.ingest([
            touchpoint("h1", customer: Customers.ada, at: start, kind: .message, attributes: ["from": "merged"]),
            order("h2", Customers.ada, ["camera"]),
        ])
        _ = try await shards.target.ingest([touchpoint("t1", customer: Customers.ada, at: start)])
        let rows = try await shards.source.writer.read { db in
            try shards.sourceMoves.export(
                db, Customers.ada, columns: shards.sourceMoves.copiedColumns(db), keyring: shards.source.keyring)
        }
        for _ in 0..<2 {
            _ = try await shards.targetMoves.importSlotCustomers(
                .with {
                    $0.customers = [rows]
                    $0.append = true
                })
        }
        let timeline = try await shards.target.timeline(
            customer: Customers.ada, filter: TimelineFilter(), after: nil, limit: 10)
        #expect(timeline.items.map(\.touchpoint.eventID).sorted() == ["h1", "h2", "t1"])
        #expect(timeline.items.first { $0.touchpoint.eventID == "h1" }?.touchpoint.attributes == ["from": "merged"])
        let totals = try await shards.target.totals(customer: Customers.ada)
        #expect(totals?.activity.touchpoints == 3 && totals?.commerce.orders == 1)

        await #expect(throws: RPCError.self, "interaction-0 does not own Ada") {
            _ = try await shards.sourceMoves.importSlotCustomers(
                .with {
                    $0.customers = [rows]
                    $0.append = true
                })
        }
        await #expect(throws: RPCError.self, "a move into a shard that already owns the customer would replace it") {
            _ = try await shards.targetMoves.importSlotCustomers(.with { $0.customers = [rows] })
        }
    }

    @Test(
        """
        a catch-up over more changed customers than one answer may hold pages through the feed: each page at most \
        100 customers, each next page starting after the last event the previous one covered, every customer once
        """)
    func catchUpPagesStayBounded() async throws {
        let shards = try TwoShards()
        defer { try? FileManager.default.removeItem(at: shards.mapFile) }
        let ids = (0..<250).map { "customer-\($0)" }
        _ = try await shards.source.ingest(ids.map { touchpoint("t-\($0)", customer: $0, at: start) })
        var seen: [String] = []
        var position: UInt64 = 0
        var pages = 0
        while true {
            let page = try await shards.sourceMoves.exportSlots(
                .with {
                    $0.slots = ["0-1023"]
                    $0.catchUp = true
                    $0.changedAfterSequence = position
                })
            #expect(page.customers.count <= 100)
            seen += page.customers.map(\.customerID)
            position = page.throughSequence
            pages += 1
            if page.caughtUp { break }
        }
        #expect(pages >= 3)
        #expect(seen.sorted() == ids.sorted(), "every changed customer exactly once")
    }

    @Test("bad moves are refused before anything is stored, each with what to fix")
    func badMovesRefused() async throws {
        let shards = try TwoShards()
        defer { try? FileManager.default.removeItem(at: shards.mapFile) }
        _ = try await shards.source.ingest([touchpoint("e1", customer: Customers.ada, at: start)])
        let page = try await shards.sourceMoves.exportSlots(.with { $0.slots = ["0-1023"] })

        func refusal(_ call: () async throws -> Void) async -> RPCError? {
            do {
                try await call()
                return nil
            } catch {
                return (error as? RPCError) ?? (error as? any RPCErrorConvertible).map { RPCError($0) }
            }
        }
        // The target does not export or fence slots it does not own; the source does not import its own.
        #expect(
            await refusal { _ = try await shards.targetMoves.exportSlots(.with { $0.slots = ["0-9"] }) }?.code
                == .failedPrecondition)
        #expect(
            await refusal {
                _ = try await shards.sourceMoves.importSlotCustomers(.with { $0.customers = page.customers })
            }?
            .code == .failedPrecondition)
        #expect(
            await refusal { _ = try await shards.sourceMoves.exportSlots(.with { $0.slots = ["9-3"] }) }?.code
                == .invalidArgument)
        #expect(
            await refusal { _ = try await shards.sourceMoves.exportSlots(.with { $0.slots = [] }) }?.code
                == .invalidArgument)
        #expect(
            await refusal {
                _ = try await shards.sourceMoves.fenceSlots(
                    .with {
                        $0.slots = ["0-9"]
                        $0.targetShard = "nobody"
                    })
            }?.code == .invalidArgument)

        var foreign = page.customers[0]
        let customerColumn = try #require(foreign.tables[0].columns.firstIndex(of: "customerId"))
        foreign.tables[0].rows[0].values[customerColumn] = .with { $0.text = Customers.sara }
        var unknownTable = page.customers[0]
        unknownTable.tables[0].name = "sqlite_master"
        var shortKey = page.customers[0]
        shortKey.dataKey = Data([1, 2, 3])
        for bad in [foreign, unknownTable, shortKey] {
            let error = await refusal {
                _ = try await shards.targetMoves.importSlotCustomers(.with { $0.customers = [bad] })
            }
            #expect(error?.code == .invalidArgument, "\(String(describing: error))")
        }
        #expect(try await shards.target.totals(customer: Customers.ada) == nil, "nothing of a refused import stored")

        // A process that is not a shard moves nothing.
        let unsharded = SlotMoves(store: shards.target, service: "interaction-service", shards: nil)
        #expect(
            await refusal { _ = try await unsharded.exportSlots(.with { $0.slots = ["0-9"] }) }?.code
                == .failedPrecondition)
    }
}

@Suite("A fenced customer's write through the handler")
struct FencedWriteTests {
    @Test(
        """
        answers UNAVAILABLE saying the customer is being moved, and stores nothing — also behind the shard check, \
        which must not turn the handler's error into a bare UNKNOWN
        """, arguments: [false, true])
    func fencedWriteIsUnavailable(behindShardCheck: Bool) async throws {
        let store = try makeInteractionStore()
        try await store.writer.write { db in
            try SlotFence.fence(db, [0...1023], epoch: 2, target: "elsewhere", tables: InteractionStore.customerTables)
        }
        let service = InteractionService(
            store: store, customers: StaticCustomerDirectory(customers: [Customers.ada]),
            settings: CommerceSettings(currency: "USD"))
        let map = try ShardMap.even(
            services: [(name: "interaction-service", shardPrefix: "interaction", addresses: ["127.0.0.1:1"])])
        let checks: [any ServerInterceptor] =
            behindShardCheck
            ? [
                ShardOwnershipInterceptor(
                    source: ShardMapSource(map: map), service: "interaction-service", shard: "interaction-0",
                    logger: Logger(label: "test"))
            ] : []
        try await InProcessServer.withClient(serving: [service], interceptors: checks) { client in
            let interactions = Customer360_V1_InteractionService.Client(wrapping: client)
            let error = await #expect(throws: RPCError.self) {
                _ = try await interactions.recordTouchpoint(
                    .with {
                        $0.customerID = Customers.ada
                        $0.touchpoint = .with {
                            $0.eventID = "fenced-1"
                            $0.occurredAt = .init(date: Date())
                            $0.kind = .pageView
                            $0.channel = .web
                            $0.direction = .inbound
                        }
                    })
            }
            #expect(error?.code == .unavailable, "\(String(describing: error))")
            #expect(error?.message.contains("being moved to another shard") == true)
        }
        #expect(try await store.totals(customer: Customers.ada) == nil)
    }
}

/// What each of the store's reads across customers counts: customers, activity rows, buyers' totals, RFM inputs.
private func counted(_ store: InteractionStore) async throws -> [Int] {
    [
        Int(try await store.customerCount()),
        try await store.customerActivity(after: nil, activeSince: nil, limit: 10).items.count,
        try await store.commerceTotalsOfBuyers().count,
        try await store.rfmInputs().count,
    ]
}

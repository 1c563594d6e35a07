import C360Clients
import C360Contracts
import C360ServerKit
import C360StoreKit
import C360TestSupport
import Foundation
import GRDB
import GRPCCore
import GRPCInProcessTransport
import GRPCProtobuf
import Logging
import Synchronization
import Testing

@testable import C360ChangeFeed

/// A database with only the change feed's tables and one table a consumer's effect writes to.
private func feedDatabase() throws -> DatabaseQueue {
    let queue = try ServiceDatabase.inMemory()
    var migrator = DatabaseMigrator()
    migrator.registerMigration("effects") { db in
        try db.create(table: "effect") { t in
            t.primaryKey("sequence", .integer)
            t.column("customerId", .text).notNull()
        }
    }
    migrator.registerChangeFeed()
    try migrator.migrate(queue)
    return queue
}

private let quiet = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

/// Serves one feed as `test.Feed/WatchChanges`, as a service's handler does.
private struct FeedService: RegistrableRPCService {
    let feed: ChangeFeed

    func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        router.registerHandler(
            forMethod: MethodDescriptor(fullyQualifiedService: "test.Feed", method: "WatchChanges"),
            deserializer: ProtobufDeserializer<Customer360_V1_WatchChangesRequest>(),
            serializer: ProtobufSerializer<Customer360_V1_WatchChangesResponse>()
        ) { request, context in
            var first: Customer360_V1_WatchChangesRequest?
            for try await message in request.messages where first == nil { first = message }
            let message = first ?? .init()
            return StreamingServerResponse { writer in
                try await feed.watch(message, response: writer, context: context)
                return [:]
            }
        }
    }
}

/// Calls `test.Feed/WatchChanges` and collects every batch until the stream ends.
private func watch(
    _ client: GRPCClient<InProcessTransport.Client>, _ request: Customer360_V1_WatchChangesRequest
) async throws -> [Customer360_V1_WatchChangesResponse] {
    try await client.serverStreaming(
        request: ClientRequest(message: request),
        descriptor: MethodDescriptor(fullyQualifiedService: "test.Feed", method: "WatchChanges"),
        serializer: ProtobufSerializer<Customer360_V1_WatchChangesRequest>(),
        deserializer: ProtobufDeserializer<Customer360_V1_WatchChangesResponse>(), options: .defaults
    ) { response in
        var batches: [Customer360_V1_WatchChangesResponse] = []
        for try await batch in response.messages { batches.append(batch) }
        return batches
    }
}

private let customerA = "01a24519-39ab-76cc-8d49-3f71ab444037"
private let customerB = "01a24519-39ab-76cc-8d49-3f71ab444038"

@Suite("change feed: appended with the write, replayed in order, then live")
struct ChangeFeedTests {
    @Test("an event exists exactly when its transaction committed, with increasing sequences never reused")
    func transactional() async throws {
        let db = try feedDatabase()
        let first = try await db.write { try ChangeLog.append($0, .customerCreated, customer: customerA) }
        struct Refused: Error {}
        await #expect(throws: Refused.self) {
            try await db.write { db in
                try ChangeLog.append(db, .customerUpdated, customer: customerA)
                throw Refused()
            }
        }
        let second = try await db.write { try ChangeLog.append($0, .customerUpdated, customer: customerB) }
        #expect(second > first)
        let kinds = try await db.read { try Int.fetchAll($0, sql: "SELECT kind FROM change_event ORDER BY sequence") }
        #expect(
            kinds == [
                Customer360_V1_ChangeKind.customerCreated.rawValue, Customer360_V1_ChangeKind.customerUpdated.rawValue,
            ])
    }

    @Test("a watch replays after its position in batches, filters by kind and customer, and advances past the rest")
    func replayAndFilter() async throws {
        let db = try feedDatabase()
        try await db.write { db in
            for index in 0..<1_200 {
                try ChangeLog.append(
                    db, index % 2 == 0 ? .touchpointRecorded : .purchaseRecorded,
                    customer: index % 3 == 0 ? customerA : customerB, subject: "e\(index)")
            }
        }
        let feed = ChangeFeed(writer: db, logger: quiet)
        try await InProcessServer.withClient(serving: [FeedService(feed: feed)]) { client in
            let all = try await watch(
                client,
                .with {
                    $0.afterSequence = 100
                    $0.untilCaughtUp = true
                })
            #expect(all.flatMap(\.events).map(\.sequence) == Array(101...1_200))
            #expect(all.allSatisfy { $0.events.count <= ChangeFeed.batchLimit })
            #expect(all.last?.caughtUp == true)
            #expect(all.last?.throughSequence == 1_200)

            let purchasesOfA = try await watch(
                client,
                .with {
                    $0.kinds = [.purchaseRecorded]
                    $0.customerID = customerA
                    $0.untilCaughtUp = true
                })
            let events = purchasesOfA.flatMap(\.events)
            #expect(events.count == 200)
            #expect(events.allSatisfy { $0.kind == .purchaseRecorded && $0.customerID == customerA })
            #expect(purchasesOfA.last?.throughSequence == 1_200, "positions advance past filtered-out events")
        }
    }

    @Test("an event row is read by position in the table's column order")
    func columnOrder() throws {
        let db = try feedDatabase()
        let columns = try db.read { db in try db.columns(in: ChangeRecord.databaseTableName) }
        #expect(columns.map(\.name) == ChangeRecord.tableColumns)
    }

    @Test("a live watch sees events committed after it caught up")
    func live() async throws {
        let db = try feedDatabase()
        let received = try await firstLiveEvents(of: db) {
            _ = try await db.write {
                try ChangeLog.append($0, .customerMerged, customer: customerB, related: customerA)
            }
        }
        #expect(received.map(\.kind) == [.customerMerged])
        #expect(received.first?.relatedCustomerID == customerA)
    }

    @Test("a live watch wakes for an append that follows other writes in its transaction, never for a rolled-back one")
    func liveAfterRollback() async throws {
        let db = try feedDatabase()
        let received = try await firstLiveEvents(of: db) {
            struct Abandoned: Error {}
            _ = try? await db.write { db in
                try ChangeLog.append(db, .customerDeleted, customer: customerA)
                throw Abandoned()
            }
            try await db.write { db in
                try db.execute(sql: "INSERT INTO effect (sequence, customerId) VALUES (1, ?)", arguments: [customerB])
                try ChangeLog.append(db, .customerUpdated, customer: customerB)
            }
        }
        #expect(received.map(\.kind) == [.customerUpdated])
        #expect(received.map(\.customerID) == [customerB])
    }

    /// Watches `db`'s empty feed until caught up, runs `write` from outside the stream, and returns the first events
    /// the watch then delivers: what a live watcher is woken for.
    private func firstLiveEvents(
        of db: DatabaseQueue, after write: @escaping @Sendable () async throws -> Void
    ) async throws -> [Customer360_V1_ChangeEvent] {
        let feed = ChangeFeed(writer: db, logger: quiet)
        return try await InProcessServer.withClient(serving: [FeedService(feed: feed)]) { client in
            try await client.serverStreaming(
                request: ClientRequest(message: Customer360_V1_WatchChangesRequest()),
                descriptor: MethodDescriptor(fullyQualifiedService: "test.Feed", method: "WatchChanges"),
                serializer: ProtobufSerializer<Customer360_V1_WatchChangesRequest>(),
                deserializer: ProtobufDeserializer<Customer360_V1_WatchChangesResponse>(), options: .defaults
            ) { response in
                var events: [Customer360_V1_ChangeEvent] = []
                for try await batch in response.messages {
                    if batch.caughtUp && events.isEmpty && batch.events.isEmpty { Task { try await write() } }
                    events += batch.events
                    if !events.isEmpty { break }
                }
                return events
            }
        }
    }

    @Test("a position older than the retention, or newer than the feed, answers OUT_OF_RANGE")
    func outOfRange() async throws {
        let db = try feedDatabase()
        let old = Date(timeIntervalSinceNow: -30 * 86_400)
        try await db.write { db in
            for _ in 0..<10 { try ChangeLog.append(db, .customerUpdated, customer: customerA, at: old) }
            try ChangeLog.append(db, .customerUpdated, customer: customerA)
        }
        let feed = ChangeFeed(writer: db, retention: .seconds(86_400), logger: quiet)
        #expect(try await feed.pruneExpired() == 10)
        try await InProcessServer.withClient(serving: [FeedService(feed: feed)]) { client in
            let pruned = await #expect(throws: RPCError.self) {
                try await watch(client, .with { $0.afterSequence = 3 })
            }
            #expect(pruned?.code == .outOfRange)
            #expect(pruned?.message.contains("start_at_head") == true)
            let ahead = await #expect(throws: RPCError.self) {
                try await watch(client, .with { $0.afterSequence = 99 })
            }
            #expect(ahead?.code == .outOfRange)
            let kept = try await watch(
                client,
                .with {
                    $0.afterSequence = 10
                    $0.untilCaughtUp = true
                })
            #expect(kept.flatMap(\.events).map(\.sequence) == [11])
            let head = try await watch(
                client,
                .with {
                    $0.startAtHead = true
                    $0.untilCaughtUp = true
                })
            #expect(head.map(\.throughSequence) == [11])
            #expect(head.flatMap(\.events).isEmpty)
        }
    }

    @Test("bad watch requests answer INVALID_ARGUMENT naming the field")
    func invalid() async throws {
        let feed = ChangeFeed(writer: try feedDatabase(), logger: quiet)
        try await InProcessServer.withClient(serving: [FeedService(feed: feed)]) { client in
            for (request, field) in [
                (Customer360_V1_WatchChangesRequest.with { $0.customerID = "nope" }, "customer_id"),
                (.with { $0.kinds = [.unspecified] }, "kinds"),
                (.with { $0.kinds = [.UNRECOGNIZED(999)] }, "kinds"),
                (.with { $0.afterSequence = .max }, "after_sequence"),
            ] {
                let error = await #expect(throws: RPCError.self) { try await watch(client, request) }
                #expect(error?.code == .invalidArgument)
                #expect(error?.message.hasPrefix(field) == true, "\(error?.message ?? "")")
            }
        }
    }

    @Test("a consumer applies each event once across restarts, storing its position with the effect")
    func consumerExactlyOnce() async throws {
        let source = try feedDatabase()
        let target = try feedDatabase()
        let feed = ChangeFeed(writer: source, logger: quiet)
        @Sendable func append(_ count: Int) async throws {
            try await source.write { db in
                for _ in 0..<count { try ChangeLog.append(db, .touchpointRecorded, customer: customerA) }
            }
        }
        try await append(700)
        try await InProcessServer.withClient(serving: [FeedService(feed: feed)]) { client in
            let consumer = ChangeFeedConsumer(
                source: .interaction, service: "test.Feed", client: client, writer: target,
                kinds: [.touchpointRecorded], logger: quiet,
                apply: { db, events in
                    for event in events {
                        // A plain INSERT: applying an event twice would fail the primary key and the test.
                        try db.execute(
                            sql: "INSERT INTO effect (sequence, customerId) VALUES (?, ?)",
                            arguments: [Int64(event.sequence), event.customerID])
                    }
                },
                resync: {})
            for round in 1...3 {
                let expected = 700 + (round - 1) * 300
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { await consumer.run() }
                    try await waitUntil {
                        try await target.read { try ChangeLog.position($0, source: "interaction-service") }
                            == Int64(expected)
                    }
                    group.cancelAll()
                }
                #expect(try await target.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM effect") } == expected)
                try await append(300)
            }
        }
    }
}

/// Polls `condition` every 10 ms for up to 10 s (the consumer reports progress only through its database).
private func waitUntil(_ condition: () async throws -> Bool) async throws {
    for _ in 0..<1_000 {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(10))
    }
    Issue.record("condition not met within 10 s")
}

@Suite("Resolving ids for reads after a merge")
struct MergeAwareDirectoryTests {
    @Test("a read resolves through the merges applied here alone: profile-service is never asked")
    func aliasesAlone() async throws {
        // Given profile-service, which knows Bea and Dee as merged into Ada, and a database where only Bea's merge
        // was applied so far
        let upstream = StaticCustomerDirectory(customers: ["ada", "cy"], merged: ["bea": "ada", "dee": "ada"])
        let database = try feedDatabase()
        try await database.write {
            try $0.execute(sql: "INSERT INTO customer_alias (mergedId, survivorId) VALUES ('bea', 'ada')")
        }
        let reads = MergeAwareCustomerDirectory(upstream: upstream, reader: database)

        // When each is resolved for a read
        // Then Bea reads as Ada, whose rows now hold hers; Dee as herself, her rows not moved here yet; the others,
        // and an id nobody knows, as themselves
        #expect(try await reads.resolve("bea") == "ada")
        #expect(try await reads.resolve("dee") == "dee")
        #expect(try await reads.resolve("ada") == "ada")
        #expect(try await reads.resolve("zed") == "zed")
        // And a write still asks profile-service, which knows of Dee's merge
        #expect(try await reads.resolveForWrite("dee") == "ada")
    }

    @Test(
        """
        on a shard, a write by a merged-away id whose survivor another shard owns is refused naming the survivor, for \
        the caller's routing to follow; a survivor of its own, or an id not merged, resolves as before
        """)
    func writesGoWhereTheSurvivorIs() async throws {
        // Given a shard that owns Ada and Bea but not Cy, and profile-service, which knows Bea as merged into Ada and
        // Dee into Cy
        let upstream = StaticCustomerDirectory(customers: ["ada", "cy"], merged: ["bea": "ada", "dee": "cy"])
        let writes = OwnedSurvivorsDirectory(upstream: upstream, owns: { ["ada", "bea"].contains($0) })

        // When each is resolved for a write
        let answers = try await writes.resolveForWrite(["ada", "bea", "cy", "dee", "zed"])

        // Then Bea's write goes to Ada here; Dee's is refused, naming Cy and Dee for the caller's transport
        #expect(try answers["ada"]?.get() == "ada")
        #expect(try answers["bea"]?.get() == "ada")
        #expect(try answers["cy"]?.get() == "cy", "a customer's own shard is the ownership check's business")
        #expect(answers["dee"] == .failure(.mergedElsewhere(customerID: "dee", survivor: "cy")))
        #expect(answers["zed"] == .failure(.unknown(customerID: "zed", reason: "not in the directory")))
        let refusal = RPCError(CustomerLookupError.mergedElsewhere(customerID: "dee", survivor: "cy"))
        #expect(refusal.code == .failedPrecondition)
        #expect(WrongShard.family(of: "dee", refusal) == "cy")
        // And a read by Dee is refused the same way when the call was routed here by Dee; one pinned here (a read
        // asking every shard) answers from what this shard holds
        let routed = await WrongShard.$routedBy.withValue("dee") {
            await lookupError { try await writes.readable("dee") }
        }
        #expect(routed == .mergedElsewhere(customerID: "dee", survivor: "cy"))
        #expect(try await writes.readable("dee") == "cy")
        #expect(try await WrongShard.$routedBy.withValue("bea") { try await writes.readable("bea") } == "ada")
        // A read sent here for Ada's family by Fay, whose merge this shard has not applied yet, reads Ada, as
        // profile-service says; after an unmerge applied here but not where the call came from, it is sent back to
        // Fay's own shard; with an alias here naming a customer another shard holds, it goes on there
        let fayForAda = WrongShard.FamilyCall(survivor: "ada", customer: "fay")
        func shard(profile: StaticCustomerDirectory, aliases: [(String, String)]) async throws
            -> OwnedSurvivorsDirectory
        {
            let database = try feedDatabase()
            try await database.write { db in
                for (merged, survivor) in aliases {
                    try db.execute(
                        sql: "INSERT INTO customer_alias (mergedId, survivorId) VALUES (?, ?)",
                        arguments: [merged, survivor])
                }
            }
            return OwnedSurvivorsDirectory(
                upstream: MergeAwareCustomerDirectory(upstream: profile, reader: database), owns: { $0 == "ada" })
        }
        let notApplied = try await shard(
            profile: StaticCustomerDirectory(customers: ["ada"], merged: ["fay": "ada"]), aliases: [])
        #expect(try await WrongShard.$family.withValue(fayForAda) { try await notApplied.readable("fay") } == "ada")
        let unmerged = try await shard(profile: StaticCustomerDirectory(customers: ["ada", "fay"]), aliases: [])
        #expect(
            await WrongShard.$family.withValue(fayForAda) { await lookupError { try await unmerged.readable("fay") } }
                == .mergedElsewhere(customerID: "fay", survivor: "fay"))
        let further = try await shard(
            profile: StaticCustomerDirectory(customers: ["gus"], merged: ["fay": "gus"]), aliases: [("fay", "gus")])
        #expect(
            await WrongShard.$family.withValue(fayForAda) { await lookupError { try await further.readable("fay") } }
                == .mergedElsewhere(customerID: "fay", survivor: "gus"))

        // When a call sent here for Ada's family names Cy, unmerged from Ada since the refusal that sent it on
        let family = WrongShard.FamilyCall(survivor: "ada", customer: "cy")
        let sentOn = try await WrongShard.$family.withValue(family) { try await writes.resolveForWrite(["cy", "bea"]) }

        // Then Cy's write is refused, naming Cy's own shard's customer for the caller to follow; Bea's still is Ada's
        #expect(sentOn["cy"] == .failure(.mergedElsewhere(customerID: "cy", survivor: "cy")))
        #expect(try sentOn["bea"]?.get() == "ada")
    }

    @Test("forgetting an id makes the cache ask upstream again")
    func forget() async throws {
        // Given a cache that learned Bea as merged into Ada
        let merged = StaticCustomerDirectory(customers: ["ada"], merged: ["bea": "ada"])
        let switchable = SwitchableDirectory(merged)
        let cache = CachedCustomerDirectory(upstream: switchable)
        #expect(try await cache.resolve("bea") == "ada")

        // When the merge is undone upstream, before and after the cache forgets Bea
        switchable.replace(with: StaticCustomerDirectory(customers: ["ada", "bea"]))
        let before = try await cache.resolve("bea")
        cache.forget(["bea", "ada"])
        let after = try await cache.resolve("bea")

        // Then the cached answer holds until forgotten, and then upstream's answer is read
        #expect(before == "ada")
        #expect(after == "bea")
    }
}

/// A directory whose answers a test replaces, standing in for profile-service before and after an unmerge.
private final class SwitchableDirectory: CustomerDirectory {
    private let current: Mutex<StaticCustomerDirectory>

    init(_ directory: StaticCustomerDirectory) { current = Mutex(directory) }

    func replace(with directory: StaticCustomerDirectory) { current.withLock { $0 = directory } }

    func resolve(_ customerID: String) async throws(CustomerLookupError) -> String {
        try await current.withLock { $0 }.resolve(customerID)
    }

    func resolveForWrite(_ customerIDs: [String]) async throws(CustomerLookupError)
        -> [String: Result<String, CustomerLookupError>]
    {
        try await current.withLock { $0 }.resolveForWrite(customerIDs)
    }
}

/// The lookup error `body` throws, if it throws one.
private func lookupError(_ body: () async throws -> String) async -> CustomerLookupError? {
    do {
        _ = try await body()
        return nil
    } catch let error as CustomerLookupError {
        return error
    } catch {
        return nil
    }
}

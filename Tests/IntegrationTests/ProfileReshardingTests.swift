import C360Clients
import C360Contracts
import C360StoreKit
import C360TestSupport
import Foundation
import GRDB
import GRPCCore
import GRPCNIOTransportHTTP2
import Synchronization
import Testing

/// Points transactions a writer was told were applied, per customer, and whether it should stop.
private final class PointsLedger: Sendable {
    private let state = Mutex<(acknowledged: [String: Set<String>], stopped: Bool)>(([:], false))

    func acknowledge(_ transaction: String, of customerID: String) {
        state.withLock { _ = $0.acknowledged[customerID, default: []].insert(transaction) }
    }

    func stop() { state.withLock { $0.stopped = true } }
    var stopped: Bool { state.withLock { $0.stopped } }
    var acknowledged: [String: Set<String>] { state.withLock { $0.acknowledged } }
    var count: Int { state.withLock { $0.acknowledged.values.reduce(0) { $0 + $1.count } } }
}

@Suite("resharding profile-service: families move with their survivor while they are written to")
struct ProfileReshardingTests {
    @Test(
        """
        profile-service reshard moves slots 0-255 while points are earned; killed with SIGKILL mid-copy and run again, \
        it finishes: every acknowledged transaction counted once in its customer's balance, a family split from its \
        merged id's slot is read, written and batch-read by either id, each merge undone hands its restored customer \
        back to its own shard, every email is found and stays unique, and nothing moved is left behind
        """)
    func familiesMoveUnderWritesAcrossAKilledMover() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("c360-profile-reshard-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let files = try ProfileShardFiles(in: directory)
        let (mapFile, shardFlags) = (files.mapFile, files.shardFlags)

        try await withService("profile-service", arguments: shardFlags + ["--shard", "profile-0"]) { source, client0 in
            try await withService("profile-service", arguments: shardFlags + ["--shard", "profile-1"]) {
                target, client1 in
                try ProfileShardFiles.map(["\(source.address)", "\(target.address)"], epoch: 2).json.write(
                    to: mapFile)
                for client in [client0, client1] { try await waitForEpoch(2, of: client) }
                try await withService(
                    "gateway",
                    arguments: files.gatewayArguments
                ) { gatewayProcess, gatewayClient in
                    let admin = bearer(try await bootstrapSecret(of: gatewayProcess))
                    let frontDoor = Customer360_V1_ProfileService.Client(wrapping: gatewayClient)
                    let home = Customer360_V1_ProfileService.Client(wrapping: client0)

                    // Customers of profile-0 (slots 0-511) until its moving quarter has six and the other three, so the
                    // first mover is still copying when it is killed.
                    var low: [String] = [] // slots 0-255: moving
                    var high: [String] = [] // slots 256-511: staying
                    var emails: [String: String] = [:]
                    var created = 0
                    while low.count < 6 || high.count < 3, created < 200 {
                        let address = "mover\(created)@example.org"
                        let id = try await home.createCustomer(
                            .with {
                                $0.givenName = "Mover \(created)"
                                $0.identifiers = [
                                    .with {
                                        $0.kind = .email
                                        $0.value = address
                                    }
                                ]
                            }
                        ).customerID
                        emails[id] = address
                        if ShardMap.slot(of: id) <= 255 { low.append(id) } else { high.append(id) }
                        created += 1
                    }
                    try #require(low.count >= 6 && high.count >= 3)
                    // A family that moves without its merged id's slot, one whose merged id's slot moves alone.
                    for (survivor, merged) in [(low[0], high[0]), (high[1], low[1])] {
                        _ = try await home.mergeCustomers(
                            .with {
                                $0.customerID = survivor
                                $0.mergedID = merged
                            })
                    }
                    let survivorOf = [high[0]: low[0], low[1]: high[1]]
                    let writable = [low[0], low[2], high[1], high[2]]

                    let connection = try PeerConnection(
                        address: PeerAddress(host: "127.0.0.1", port: 1), service: "profile-service",
                        shards: try ShardMapSource(path: mapFile.path), routing: .current)
                    try await withThrowingDiscardingTaskGroup { group in
                        group.addTask { try await connection.run() }
                        defer { group.cancelAll() }
                        let profiles = Customer360_V1_ProfileService.Client(wrapping: connection.client)
                        let ledger = PointsLedger()
                        let writer = Task {
                            var sequence = 0
                            while !ledger.stopped {
                                let id = writable[sequence % writable.count]
                                try await earn(id, "t\(sequence)", profiles, ledger)
                                sequence += 1
                                try await Task.sleep(for: .milliseconds(20))
                            }
                        }

                        let (binary, moveArguments) = try await killMoverMidCopy(
                            "profile-service", mapFile: mapFile, slots: "0-255", to: "profile-1", copied: 4,
                            directory: directory)

                        let second = try await ChildProcess.run(binary, moveArguments, timeout: .seconds(180))
                        #expect(second.status == 0, "\(second)")
                        #expect(second.output.contains("resuming the move of slots 0-255"), "\(second.output)")
                        #expect(second.output.contains("done: slots 0-255 moved"), "\(second.output)")

                        let after = ledger.count
                        _ = try await eventually(timeout: .seconds(30)) { ledger.count >= after + 8 }
                        ledger.stop()
                        try await writer.value

                        // Every acknowledged transaction applied once, read through the front door.
                        for (id, transactions) in ledger.acknowledged {
                            let account = try await frontDoor.getLoyalty(
                                .with { $0.customerID = id }, metadata: admin)
                            #expect(
                                account.balance == Int64(transactions.count),
                                "points of \(id) (slot \(ShardMap.slot(of: id)))")
                        }

                        // A call by a merged id whose family is now another shard's is answered there, as one process
                        // answers it: a write lands on the survivor, a batch read names the survivor.
                        for (merged, survivor) in survivorOf {
                            let tagged = try await profiles.addTags(
                                .with {
                                    $0.customerID = merged
                                    $0.tags = ["split-write"]
                                })
                            #expect(tagged.customerID == survivor && tagged.resolvedFrom == merged)
                            let batch = try await profiles.batchGetCustomers(
                                .with { $0.customerIds = [merged, survivor] })
                            #expect(batch.results.map(\.requestedID) == [merged, survivor])
                            #expect(batch.results.map(\.customer.customerID) == [survivor, survivor])
                            #expect(batch.results.first?.customer.resolvedFrom == merged)
                        }
                    }

                    // Either id of a split family reads the survivor, with both emails, through the gateway and its
                    // view; every email is found, and taken.
                    for (merged, survivor) in survivorOf {
                        let read = try await frontDoor.getCustomer(.with { $0.customerID = merged }, metadata: admin)
                        #expect(read.customerID == survivor)
                        let both = Set([try #require(emails[merged]), try #require(emails[survivor])])
                        #expect(Set(read.identifiers.map(\.value)) == both && read.resolvedFrom == merged)
                        let view = try await Customer360_V1_GatewayService.Client(wrapping: gatewayClient)
                            .getCustomer360(.with { $0.customerID = merged }, metadata: admin)
                        #expect(view.customerID == survivor && view.resolvedFrom == merged, "\(view.missingSections)")
                        #expect(view.profile.customerID == survivor)
                        // Written through the front door by the merged id, and read by the survivor's.
                        let before = try await frontDoor.getLoyalty(
                            .with { $0.customerID = survivor }, metadata: admin
                        ).balance
                        let points = try await frontDoor.earnPoints(
                            .with {
                                $0.customerID = merged
                                $0.points = 5
                                $0.reason = "written by the merged id"
                                $0.transactionID = "split-\(merged)"
                            }, metadata: admin)
                        #expect(points.customerID == survivor && points.balance == before + 5, "\(points)")
                        #expect(
                            try await frontDoor.getCustomer(.with { $0.customerID = survivor }, metadata: admin).tags
                                .contains("split-write"))
                        #expect(
                            try await frontDoor.lookupCustomer(
                                .with { $0.identifier = .email(try #require(emails[merged])) }, metadata: admin
                            ).customerID == survivor)

                        // Undone on the survivor's shard, the merge hands the restored customer back to its own
                        // slot's shard, where it is read, found by its email and written to again.
                        let merges = try await frontDoor.listMerges(
                            .with { $0.customerID = survivor }, metadata: admin
                        ).merges
                        let merge = try #require(merges.first { $0.mergedID == merged })
                        let undone = try await frontDoor.unmergeCustomers(
                            .with { $0.mergeID = merge.mergeID }, metadata: admin)
                        #expect(undone.restored.customerID == merged && undone.survivor.customerID == survivor)
                        let restored = try await frontDoor.getCustomer(
                            .with { $0.customerID = merged }, metadata: admin)
                        #expect(restored.customerID == merged && restored.resolvedFrom.isEmpty)
                        #expect(restored.identifiers.map(\.value) == [try #require(emails[merged])])
                        let kept = try await frontDoor.getCustomer(.with { $0.customerID = survivor }, metadata: admin)
                        #expect(kept.identifiers.map(\.value) == [try #require(emails[survivor])])
                        let tagged = try await frontDoor.addTags(
                            .with {
                                $0.customerID = merged
                                $0.tags = ["restored"]
                            }, metadata: admin)
                        #expect(tagged.customerID == merged && tagged.tags.contains("restored"))
                    }
                    for (id, address) in emails {
                        let found = try await frontDoor.lookupCustomer(
                            .with { $0.identifier = .email(address) }, metadata: admin)
                        #expect(found.customerID == id, "\(address)")
                    }
                    for merged in survivorOf.keys {
                        let taken = await #expect(throws: RPCError.self) {
                            _ = try await frontDoor.createCustomer(
                                .with {
                                    $0.identifiers = [
                                        .with {
                                            $0.kind = .email
                                            $0.value = emails[merged] ?? ""
                                        }
                                    ]
                                }, metadata: admin)
                        }
                        #expect(taken?.code == .alreadyExists, "\(String(describing: taken))")
                    }

                    // Each restored customer lives on its own slot's shard alone, and nothing of the moved families
                    // is left on profile-0: its customers all belong to slots 256-511.
                    for (merged, _) in survivorOf {
                        let (home, away) = ShardMap.slot(of: merged) <= 255 ? (target, source) : (source, target)
                        #expect(try await customerIDs(in: home).contains(merged))
                        #expect(try await !customerIDs(in: away).contains(merged))
                    }
                    let database = try DatabaseQueue(
                        path: source.dataDirectory.appendingPathComponent("profile.sqlite").path)
                    defer { try? database.close() }
                    let families = try await database.read { db in
                        try String.fetchAll(db, sql: "SELECT familyId FROM customer")
                    }
                    #expect(families.allSatisfy { ShardMap.slot(of: $0) > 255 }, "\(families)")
                    #expect(
                        try await database.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM slot_fence") } == 0)
                }
            }
        }
    }
}

extension ProfileReshardingTests {
    @Test(
        """
        an unmerge across shards whose restored customer's shard is down commits, and the family is handed back once \
        that shard serves again: found there by its email, gone from the survivor's shard
        """)
    func handBackWaitsForTheRestoredCustomersShard() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("c360-profile-handback-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let files = try ProfileShardFiles(in: directory)
        let secondData = directory.appendingPathComponent("profile-1", isDirectory: true)

        try await withService("profile-service", arguments: files.shardFlags + ["--shard", "profile-0"]) {
            first, client0 in
            let home = Customer360_V1_ProfileService.Client(wrapping: client0)
            let (left, right, mergeID) = try await withService(
                "profile-service", arguments: files.shardFlags + ["--shard", "profile-1"], dataDirectory: secondData
            ) { second, client1 in
                try ProfileShardFiles.map(["\(first.address)", "\(second.address)"], epoch: 2).json.write(
                    to: files.mapFile)
                for client in [client0, client1] { try await waitForEpoch(2, of: client) }
                let left = try await home.createCustomer(.with { $0.identifiers = [.email("left@example.org")] })
                    .customerID
                let right = try await Customer360_V1_ProfileService.Client(wrapping: client1).createCustomer(
                    .with {
                        $0.givenName = "Right"
                        $0.identifiers = [.email("right@example.org")]
                    }
                ).customerID
                let merged = try await home.mergeCustomers(
                    .with {
                        $0.customerID = left
                        $0.mergedID = right
                    })
                #expect(merged.identifiers.count == 2)
                let mergeID = try #require(
                    try await home.listMerges(.with { $0.customerID = left }).merges.first?.mergeID)
                _ = try await second.kill()
                return (left, right, mergeID)
            }

            // The unmerge commits on the survivor's shard though the restored customer's shard is down; the family
            // waits there, fenced, to be handed back.
            let undone = try await home.unmergeCustomers(.with { $0.mergeID = mergeID })
            #expect(undone.restored.customerID == right && undone.survivor.customerID == left)
            #expect(try await handBacks(on: first) == [right])
            // Merged again meanwhile, it is refused for now (its shard's alias still names the survivor).
            let early = await #expect(throws: RPCError.self) {
                _ = try await home.mergeCustomers(
                    .with {
                        $0.customerID = left
                        $0.mergedID = right
                    })
            }
            #expect(early?.code == .unavailable, "\(String(describing: early))")
            // Only the restored family waits: the survivor is written to meanwhile.
            let kept = try await home.addTags(
                .with {
                    $0.customerID = left
                    $0.tags = ["kept"]
                })
            #expect(kept.tags == ["kept"])

            try await withService(
                "profile-service", arguments: files.shardFlags + ["--shard", "profile-1"], dataDirectory: secondData
            ) { second, client1 in
                try ProfileShardFiles.map(["\(first.address)", "\(second.address)"], epoch: 3).json.write(
                    to: files.mapFile)
                for client in [client0, client1] { try await waitForEpoch(3, of: client) }
                #expect(try await eventually(timeout: .seconds(30)) { try await handBacks(on: first).isEmpty })
                let restored = try await Customer360_V1_ProfileService.Client(wrapping: client1).getCustomer(
                    .with { $0.customerID = right })
                #expect(restored.resolvedFrom.isEmpty && restored.givenName == "Right")
                #expect(restored.identifiers.map(\.value) == ["right@example.org"])
                #expect(
                    try await home.lookupCustomer(.with { $0.identifier = .email("right@example.org") }).customerID
                        == right)
                #expect(try await !customerIDs(in: first).contains(right))
                #expect(try await customerIDs(in: second).contains(right))
            }
        }
    }
}

/// The restored customers a profile shard holds, fenced, to hand back to their own shards.
private func handBacks(on shard: ServiceProcess) async throws -> [String] {
    let database = try DatabaseQueue(path: shard.dataDirectory.appendingPathComponent("profile.sqlite").path)
    defer { try? database.close() }
    return try await database.read { db in
        try String.fetchAll(db, sql: "SELECT familyId FROM family_transfer_out WHERE familyId = survivorId")
    }
}

/// The ids of every customer row a profile shard's database holds.
private func customerIDs(in shard: ServiceProcess) async throws -> Set<String> {
    let database = try DatabaseQueue(path: shard.dataDirectory.appendingPathComponent("profile.sqlite").path)
    defer { try? database.close() }
    return Set(try await database.read { db in try String.fetchAll(db, sql: "SELECT id FROM customer") })
}

extension Customer360_V1_Identifier {
    fileprivate static func email(_ address: String) -> Self {
        .with {
            $0.kind = .email
            $0.value = address
        }
    }
}

/// Earns one point under `transaction`, retrying while the customer's shard refuses it for a move (UNAVAILABLE
/// while fenced, FAILED_PRECONDITION from a shard that no longer owns it) until it is acknowledged: the transaction
/// id makes a retry of one that was applied but whose answer was lost count once.
private func earn(
    _ customerID: String, _ transaction: String, _ profiles: Customer360_V1_ProfileService.Client<PeerTransport>,
    _ ledger: PointsLedger
) async throws {
    for _ in 0..<600 {
        do {
            _ = try await profiles.earnPoints(
                .with {
                    $0.customerID = customerID
                    $0.points = 1
                    $0.reason = "reshard test"
                    $0.transactionID = transaction
                })
            ledger.acknowledge(transaction, of: customerID)
            return
        } catch let error as RPCError where error.code == .unavailable || error.code == .failedPrecondition {
            try await Task.sleep(for: .milliseconds(20))
        }
    }
    Issue.record("transaction \(transaction) of \(customerID) was refused for 12 s")
}

import C360Clients
import C360Contracts
import C360TestSupport
import Foundation
import GRDB
import GRPCCore
import GRPCNIOTransportHTTP2
import SwiftProtobuf
import Synchronization
import Testing

/// What the writers were told was stored, per customer, and whether they should stop.
private final class Ledger: Sendable {
    private let state = Mutex<(acknowledged: [String: [String]], stopped: Bool)>(([:], false))

    func acknowledge(_ eventID: String, of customerID: String) {
        state.withLock { $0.acknowledged[customerID, default: []].append(eventID) }
    }

    func stop() { state.withLock { $0.stopped = true } }
    var stopped: Bool { state.withLock { $0.stopped } }
    var acknowledged: [String: [String]] { state.withLock { $0.acknowledged } }
    var count: Int { state.withLock { $0.acknowledged.values.reduce(0) { $0 + $1.count } } }
}

@Suite("resharding: a slot range moves to another shard while it is written to")
struct ReshardingTests {
    @Test(
        """
        interaction-service reshard moves half the slots from one shard to the other under concurrent writes; killed \
        with SIGKILL mid-copy and run again, it finishes, and every acknowledged touchpoint is on the new owner exactly \
        once, with its counters, and nothing of the moved customers is left on the old one; a count across customers \
        read all through the move never counts one twice
        """)
    func slotRangeMovesUnderWritesAcrossAKilledMover() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("c360-reshard-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let mapFile = directory.appendingPathComponent("shard-map.json")
        try ShardMap.interaction(["127.0.0.1:1", "127.0.0.1:2"], epoch: 1).json.write(to: mapFile)
        let mapFlag = ["--shard-map", mapFile.path]

        try await withService("profile-service") { profile, profileClient in
            let profilePeer = ["--profile-addr", "\(profile.address)"]
            try await withService(
                "interaction-service", arguments: profilePeer + mapFlag + ["--shard", "interaction-0"]
            ) { source, _ in
                try await withService(
                    "interaction-service", arguments: profilePeer + mapFlag + ["--shard", "interaction-1"]
                ) { target, _ in
                    try ShardMap.interaction(["\(source.address)", "\(target.address)"], epoch: 2).json.write(
                        to: mapFile)
                    let moving = 0...511 // interaction-0's half
                    let profiles = Customer360_V1_ProfileService.Client(wrapping: profileClient)
                    var customers: [String] = []
                    for index in 0..<48 {
                        customers.append(
                            try await profiles.createCustomer(.with { $0.givenName = "Moving \(index)" }).customerID)
                    }
                    let moved = customers.filter { moving.contains(ShardMap.slot(of: $0)) }
                    #expect(moved.count >= 10 && moved.count <= customers.count - 10, "ids hash over both halves")

                    // Callers route with the map file, as every process does, and read it again when refused.
                    let connection = try PeerConnection(
                        address: PeerAddress(host: "127.0.0.1", port: 1), service: "interaction-service",
                        shards: try ShardMapSource(path: mapFile.path), routing: .current)
                    let all = customers
                    try await withThrowingDiscardingTaskGroup { group in
                        group.addTask { try await connection.run() }
                        defer { group.cancelAll() }
                        let interactions = Customer360_V1_InteractionService.Client(wrapping: connection.client)
                        let ledger = Ledger()
                        for (index, id) in customers.enumerated() {
                            try await record(purchase: index % 3 == 0, "seed-\(index)", of: id, interactions, ledger)
                        }

                        // Two writers, each retrying a refused write (fenced, or sent to the old owner) until it is
                        // acknowledged, as a client with a retry policy does.
                        let writers = Task {
                            try await withThrowingTaskGroup(of: Void.self) { writers in
                                for writer in 0..<2 {
                                    writers.addTask {
                                        var sequence = 0
                                        while !ledger.stopped {
                                            let id = all[(sequence * 7 + writer) % all.count]
                                            try await record(
                                                purchase: sequence % 4 == 0, "live-\(writer)-\(sequence)", of: id,
                                                interactions, ledger)
                                            sequence += 1
                                            // Paced: the point is writes throughout the move, not load that starves
                                            // the tests running beside this one.
                                            try await Task.sleep(for: .milliseconds(20))
                                        }
                                    }
                                }
                                try await writers.waitForAll()
                            }
                        }

                        // A reader of a count across customers all through the move: the shards' answers added,
                        // as the gateway does. A shard holding a copy (before the flip) or what it gave away (until the
                        // drop) leaves it out, so no customer is ever counted twice.
                        let counts = Mutex<[Int64]>([])
                        let counter = Task {
                            while !Task.isCancelled {
                                if let answer = try? await interactions.getRfmSegments(.init()) {
                                    counts.withLock { $0.append(answer.customers) }
                                }
                                try? await Task.sleep(for: .milliseconds(25))
                            }
                        }
                        defer { counter.cancel() }

                        // The first mover copies slowly and is killed once it has copied a few pages.
                        let (binary, moveArguments) = try await killMoverMidCopy(
                            "interaction-service", mapFile: mapFile, slots: "0-511", to: "interaction-1", copied: 6,
                            directory: directory)
                        let state = try String(
                            contentsOfFile: mapFile.path + ".reshard-0-511.json", encoding: .utf8)
                        #expect(state.contains("\"step\" : \"copy\""), "\(state)")

                        // Run again: it resumes from its state file and finishes while the writers go on.
                        let second = try await ChildProcess.run(binary, moveArguments, timeout: .seconds(180))
                        #expect(second.status == 0, "\(second)")
                        #expect(second.output.contains("resuming the move of slots 0-511"), "\(second.output)")
                        #expect(second.output.contains("done: slots 0-511 moved"), "\(second.output)")
                        #expect(!FileManager.default.fileExists(atPath: mapFile.path + ".reshard-0-511.json"))

                        counter.cancel()
                        _ = await counter.value
                        let counted = counts.withLock { $0 }
                        #expect(counted.count >= 10, "the count was read throughout the move")
                        #expect(
                            counted.allSatisfy { $0 <= Int64(customers.count) },
                            "counted more than \(customers.count) customers: \(counted.filter { $0 > Int64(customers.count) })"
                        )
                        #expect(try await interactions.getRfmSegments(.init()).customers == Int64(customers.count))

                        // A few more writes after the move, then stop.
                        let after = ledger.count
                        _ = try await eventually(timeout: .seconds(30)) { ledger.count >= after + 20 }
                        ledger.stop()
                        try await writers.value

                        let published = try ShardMap(json: try Data(contentsOf: mapFile))
                        #expect(published.epoch == 3)
                        #expect(
                            moving.allSatisfy {
                                published.owner(ofSlot: $0, in: "interaction-service")?.shard == "interaction-1"
                            })
                        #expect(published.shard(named: "interaction-0", in: "interaction-service")?.slots == [])

                        // Every acknowledged touchpoint exactly once on its owner, and the counters agree.
                        let acknowledged = ledger.acknowledged
                        for id in customers {
                            let stored = try await interactions.exportTimeline(.with { $0.customerID = id }) {
                                response in
                                var ids: [String] = []
                                for try await chunk in response.messages { ids += chunk.touchpoints.map(\.eventID) }
                                return ids
                            }
                            let expected = (acknowledged[id] ?? []).sorted()
                            #expect(stored.sorted() == expected, "customer \(id) (slot \(ShardMap.slot(of: id)))")
                            let stats = try await interactions.getCustomerStats(.with { $0.customerID = id })
                            #expect(stats.engagement.totalTouchpoints == Int64(expected.count), "counters of \(id)")
                        }

                        // Nothing of the moved customers is left on the old shard, and its fence is gone.
                        let database = try DatabaseQueue(
                            path: source.dataDirectory.appendingPathComponent("interaction.sqlite").path)
                        defer { try? database.close() }
                        let left = try await database.read { db in
                            try String.fetchAll(db, sql: "SELECT DISTINCT customerId FROM touchpoint")
                        }
                        #expect(Set(left).isDisjoint(with: moved), "moved customers left on interaction-0")
                        #expect(
                            try await database.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM slot_fence") }
                                == 0)
                    }
                }
            }
        }
    }
}

/// Records one touchpoint, retrying while the customer's shard refuses it for a move (UNAVAILABLE while fenced,
/// FAILED_PRECONDITION from a shard that no longer owns it), until it is acknowledged.
private func record(
    purchase: Bool, _ eventID: String, of customerID: String,
    _ interactions: Customer360_V1_InteractionService.Client<PeerTransport>, _ ledger: Ledger
) async throws {
    let request = Customer360_V1_RecordTouchpointRequest.with {
        $0.customerID = customerID
        $0.touchpoint = .with {
            $0.eventID = eventID
            $0.occurredAt = Google_Protobuf_Timestamp(date: Date().addingTimeInterval(-60))
            $0.channel = purchase ? .web : .email
            $0.kind = purchase ? .purchase : .message
            $0.direction = .inbound
            if purchase {
                $0.purchase = .with {
                    $0.orderID = "order-\(eventID)"
                    $0.amount = .with {
                        $0.currencyCode = "USD"
                        $0.amountMinor = 1_200
                    }
                    $0.items = [
                        .with {
                            $0.sku = "sku-\(eventID.count % 3)"
                            $0.quantity = 1
                            $0.unitPrice = .with {
                                $0.currencyCode = "USD"
                                $0.amountMinor = 1_200
                            }
                        }
                    ]
                }
            }
        }
    }
    for _ in 0..<600 {
        do {
            _ = try await interactions.recordTouchpoint(request)
            ledger.acknowledge(eventID, of: customerID)
            return
        } catch let error as RPCError where error.code == .unavailable || error.code == .failedPrecondition {
            try await Task.sleep(for: .milliseconds(20))
        } catch {
            Issue.record("recording \(eventID) for \(customerID) (slot \(ShardMap.slot(of: customerID))): \(error)")
            throw error
        }
    }
    Issue.record("\(eventID) was refused for 12 s")
}

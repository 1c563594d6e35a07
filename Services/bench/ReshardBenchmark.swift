import ArgumentParser
import C360Clients
import C360Contracts
import C360ServerKit
import C360TestSupport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import SwiftProtobuf
import Synchronization

/// `bench reshard`: what moving half of interaction-service's slots online costs — how fast the mover copies, and
/// what a client writing to the moving customers sees meanwhile (latency, refusals, the longest time without an
/// acknowledged write).
struct ReshardBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reshard",
        abstract: "Move half of interaction-service's slots between two shards while a client writes to them.",
        discussion: """
            Starts profile-service and interaction-service as two shards from --bin-dir in a fresh temporary \
            directory, creates --customers customers and streams --touchpoints touchpoints, then runs one writer \
            recording touchpoints one at a time for the customers of slots 0-511 (retrying a refused write, as a \
            client with a retry policy does): for 2 s alone, then while `interaction-service reshard` moves those \
            slots to the other shard, then 1 s more. Prints the move's duration and rate, and the writer's latency \
            before and during the move, its refusals and its longest wait for an acknowledgement. Run a release build.
            """
    )

    @Option(help: "Customers to create.")
    var customers = 2_000

    @Option(help: "Touchpoints to stream, spread over the customers.")
    var touchpoints = 100_000

    @Option(help: "Customers per page of the mover.")
    var batch = 100

    @Option(help: "Directory holding the executables. [env: C360_BIN_DIR] (default: beside this executable)")
    var binDir: String?

    @Option(help: "Seed of the data generator.")
    var seed: UInt64 = 360

    func validate() throws {
        guard customers >= 2, touchpoints >= 0, (1...1_000).contains(batch) else {
            throw ValidationError("--customers ≥ 2, --touchpoints ≥ 0, --batch 1...1,000")
        }
    }

    /// What the writer saw in one phase.
    struct WriterPhase {
        var latencies = LatencySamples()
        var refusals = 0
        var longestWait = Duration.zero
    }

    func run() async throws {
        let bin = IngestBenchmark.binDirectory(option: binDir)
        let scratch = try ScratchDirectory(label: "reshard")
        defer { scratch.remove() }
        say("bench reshard: \(customers) customers, \(touchpoints) touchpoints; slots 0-511 move between two shards")
        try await BenchProcesses.run(bin: bin) { processes in
            let mapFile = scratch.child("shard-map.json")
            let profile = try await processes.start(ServiceIdentity.profile.name)
            try ShardMap.interaction(["127.0.0.1:1", "127.0.0.1:2"], epoch: 1).json.write(to: mapFile)
            var addresses: [String] = []
            for index in 0..<2 {
                let shard = try await processes.start(
                    ServiceIdentity.interaction.name,
                    [
                        "--profile-addr", "127.0.0.1:\(profile.port)", "--shard-map", mapFile.path, "--shard",
                        "interaction-\(index)",
                    ])
                addresses.append("127.0.0.1:\(shard.port)")
            }
            try ShardMap.interaction(addresses, epoch: 2).json.write(to: mapFile)
            let source = try ShardMapSource(path: mapFile.path)
            let ids = try await ShardsBenchmark.createCustomers(
                customers, profile: PeerAddress(host: "127.0.0.1", port: profile.port), source: nil)
            _ = try await ShardsBenchmark.ingest(
                touchpoints, ids: ids, address: PeerAddress(addresses[0])!, source: source, seed: seed)
            let moving = ids.filter { (0...511).contains(ShardMap.slot(of: $0)) }
            say("\(moving.count) of \(ids.count) customers are in slots 0-511")

            let connection = try PeerConnection(
                address: PeerAddress(addresses[0])!, service: ServiceIdentity.interaction.name, shards: source,
                routing: .current)
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { try await connection.run() }
                defer { group.cancelAll() }
                let interactions = Customer360_V1_InteractionService.Client(wrapping: connection.client)
                let phase = Phase()
                let writer = Task {
                    try await Self.write(to: moving, interactions, phase: phase)
                }
                try await Task.sleep(for: .seconds(2))
                phase.advance(to: 1)
                let began = ContinuousClock.now
                let mover = try await ChildProcess.run(
                    bin.appendingPathComponent(ServiceIdentity.interaction.name),
                    [
                        "reshard", "--map", mapFile.path, "--slots", "0-511", "--to", "interaction-1", "--batch",
                        "\(batch)",
                    ])
                let took = (ContinuousClock.now - began).inSeconds
                guard mover.status == 0 else { throw BenchError("the mover failed: \(mover)") }
                try await Task.sleep(for: .seconds(1))
                phase.advance(to: 2)
                let (before, during) = try await writer.value
                let moved = Double(moving.count)
                say("")
                say(
                    "  move: \(moving.count) customers (~\(touchpoints * moving.count / max(ids.count, 1)) "
                        + "touchpoints) in \(Format.decimal(took, 2)) s: \(Format.whole(moved / took)) customers/s")
                for line in mover.output.split(separator: "\n") where line.contains("fence:") || line.contains("flip:")
                {
                    say("  mover: \(line)")
                }
                say("  writer, one touchpoint at a time to the moving customers:")
                say(
                    "    before the move: p50 \(Format.decimal(before.latencies.percentile(0.5), 2)) ms, "
                        + "p99 \(Format.decimal(before.latencies.percentile(0.99), 2)) ms")
                say(
                    "    during the move: p50 \(Format.decimal(during.latencies.percentile(0.5), 2)) ms, "
                        + "p99 \(Format.decimal(during.latencies.percentile(0.99), 2)) ms, "
                        + "\(during.refusals) refused and retried, longest wait for an acknowledgement "
                        + "\(Format.decimal(during.longestWait.inSeconds * 1_000, 1)) ms")
            }
        }
    }

    /// Records touchpoints one at a time for `customers` until `phase` reaches 2, timing each from first attempt to
    /// acknowledgement (retries included) into the phase it began in: 0 before the move, 1 during it.
    private static func write(
        to customers: [String], _ interactions: Customer360_V1_InteractionService.Client<PeerTransport>,
        phase: Phase
    ) async throws -> (WriterPhase, WriterPhase) {
        var phases = [WriterPhase(), WriterPhase()]
        var sequence = 0
        while true {
            let current = phase.current
            guard current < 2 else { break }
            let id = customers[sequence % customers.count]
            let request = Customer360_V1_RecordTouchpointRequest.with {
                $0.customerID = id
                $0.touchpoint = .with {
                    $0.eventID = "reshard-bench-\(sequence)"
                    $0.occurredAt = Google_Protobuf_Timestamp(date: Date())
                    $0.channel = .web
                    $0.kind = .pageView
                    $0.direction = .inbound
                }
            }
            sequence += 1
            let started = ContinuousClock.now
            while true {
                do {
                    _ = try await interactions.recordTouchpoint(request, options: .deadline(.seconds(10)))
                    break
                } catch let error as RPCError where error.code == .unavailable || error.code == .failedPrecondition {
                    phases[current].refusals += 1
                    try await Task.sleep(for: .milliseconds(5))
                }
            }
            let waited = ContinuousClock.now - started
            phases[current].latencies.record(waited)
            phases[current].longestWait = max(phases[current].longestWait, waited)
        }
        return (phases[0], phases[1])
    }
}

/// Where the benchmark is, for the writer: 0 before the move, 1 during it, 2 done.
private final class Phase: Sendable {
    private let value = Mutex(0)
    var current: Int { value.withLock { $0 } }
    func advance(to next: Int) { value.withLock { $0 = next } }
}

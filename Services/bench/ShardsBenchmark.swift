import ArgumentParser
import C360Clients
import C360Contracts
import C360ServerKit
import C360TestSupport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import SwiftProtobuf

/// `bench shards`: what running the data services as shards costs on one machine — ingest and the 360° view with one
/// shard, then with `--shards`, in one run, as ratios.
struct ShardsBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shards",
        abstract:
            "Ingest and 360° view throughput with profile-, interaction-, feedback- and success-service as 1 shard, then N each.",
        discussion: """
            Twice, in fresh temporary directories: starts profile-, interaction-, feedback- and success-service (one \
            process each, then --shards processes each behind a shard map; --unsharded-profile keeps profile-service \
            one process in both runs), and the gateway \
            from --bin-dir; creates --customers customers; streams --touchpoints touchpoints over 4 streams of \
            mixed customers through the sharded client (split by shard); waits (--settle-seconds) until the \
            services are done with what the ingest set going (re-scores); then runs --clients callers of \
            GetCustomer360 through the gateway for --seconds. Prints touchpoints/s and views/s of both runs and their ratio (goal ≥ 0.9: routing costs \
            next to nothing). On one machine every shard shares the same cores, so this measures the routing's cost, \
            not the capacity shards add on separate machines. Run a release build.
            """
    )

    /// Sharded over unsharded throughput the issue holds the routing to.
    static let goal = 0.9

    /// The services the second run shards, for the report.
    var shardedServices: String {
        unshardedProfile
            ? "interaction-, feedback- and success-service" : "profile-, interaction-, feedback- and success-service"
    }

    @Option(help: "Shards of each data service in the second run.")
    var shards = 4

    @Flag(help: "Keep profile-service one process in the sharded run too (as before it could run sharded).")
    var unshardedProfile = false

    @Option(help: "Customers to create.")
    var customers = 2_000

    @Option(help: "Touchpoints to stream, spread over the customers.")
    var touchpoints = 100_000

    @Option(help: "Concurrent GetCustomer360 callers.")
    var clients = 16

    @Option(help: "Seconds the view is measured for, after a warm-up of a tenth of that.")
    var seconds: Double = 10

    @Option(
        help: """
            Before measuring views, wait at most this many seconds for the services to go quiet (re-scoring the \
            ingested customers, following feeds), so both runs' views are measured in the same steady state; 0 \
            measures at once, while that work competes with the views.
            """)
    var settleSeconds = 60

    @Option(help: "Directory holding the executables. [env: C360_BIN_DIR] (default: beside this executable)")
    var binDir: String?

    @Option(help: "Seed of the data generator.")
    var seed: UInt64 = 360

    func validate() throws {
        guard (2...16).contains(shards) else { throw ValidationError("--shards must be 2...16") }
        guard customers >= 1, touchpoints >= 0, (1...256).contains(clients), seconds > 0 else {
            throw ValidationError("--customers ≥ 1, --touchpoints ≥ 0, --clients 1...256, --seconds > 0")
        }
    }

    /// One run's throughput.
    struct Outcome {
        var touchpointsPerSecond: Double
        var viewsPerSecond: Double
        var viewLatencies: LatencySamples
    }

    func run() async throws {
        say(
            "bench shards: \(customers) customers, \(touchpoints) touchpoints, \(clients) view callers for "
                + "\(Format.decimal(seconds, 0)) s; \(shardedServices) as 1, then \(shards) shards each"
        )
        let single = try await runOnce(shards: 1)
        let sharded = try await runOnce(shards: shards)
        let ingest = sharded.touchpointsPerSecond / single.touchpointsPerSecond
        let views = sharded.viewsPerSecond / single.viewsPerSecond
        say("")
        say("                      1 shard        \(shards) shards       ratio (goal ≥ \(Self.goal))")
        say(
            "  ingest touchpoints/s \(Format.right(Format.whole(single.touchpointsPerSecond), 9))      "
                + "\(Format.right(Format.whole(sharded.touchpointsPerSecond), 9))      \(Format.decimal(ingest, 2))×: "
                + (ingest >= Self.goal ? "met" : "NOT met"))
        say(
            "  GetCustomer360/s     \(Format.right(Format.whole(single.viewsPerSecond), 9))      "
                + "\(Format.right(Format.whole(sharded.viewsPerSecond), 9))      \(Format.decimal(views, 2))×: "
                + (views >= Self.goal ? "met" : "NOT met"))
        say(
            "  view p50 / p99 ms    \(Format.decimal(single.viewLatencies.percentile(0.5), 2)) / "
                + "\(Format.decimal(single.viewLatencies.percentile(0.99), 2))    "
                + "\(Format.decimal(sharded.viewLatencies.percentile(0.5), 2)) / "
                + "\(Format.decimal(sharded.viewLatencies.percentile(0.99), 2))")
    }

    private func runOnce(shards count: Int) async throws -> Outcome {
        let bin = IngestBenchmark.binDirectory(option: binDir)
        let scratch = try ScratchDirectory(label: "shards")
        defer { scratch.remove() }
        say("")
        say("== \(shardedServices) as \(count) shard\(count == 1 ? "" : "s") each")
        return try await BenchProcesses.run(bin: bin) { processes in
            let mapFile = scratch.child("shard-map.json")
            var peer: [String]
            var interactionPeers: [String]
            var source: ShardMapSource?
            var feedbackAddress: String
            var successAddress: String
            if count == 1 {
                let profile = try await processes.start(ServiceIdentity.profile.name)
                peer = ["--profile-addr", "127.0.0.1:\(profile.port)"]
                let interaction = try await processes.start(ServiceIdentity.interaction.name, peer)
                interactionPeers = ["--interaction-addr", "127.0.0.1:\(interaction.port)"]
                let feedback = try await processes.start(ServiceIdentity.feedback.name, peer)
                feedbackAddress = "127.0.0.1:\(feedback.port)"
                let success = try await processes.start(
                    ServiceIdentity.success.name, peer + interactionPeers + ["--feedback-addr", feedbackAddress])
                successAddress = "127.0.0.1:\(success.port)"
            } else {
                // Shards listen on free ports, known once they run: they start with the final slots and placeholder
                // addresses, then every later process and caller starts with the real ones.
                let placeholders = (0..<count).map { "127.0.0.1:\($0 + 1)" }
                var profiles = placeholders
                func map(_ interactions: [String], _ feedbacks: [String], _ successes: [String], epoch: Int64) throws
                    -> ShardMap
                {
                    try ShardMap.even(
                        epoch: epoch,
                        services: (unshardedProfile
                            ? [] : [(name: "profile-service", shardPrefix: "profile", addresses: profiles)])
                            + [
                                (name: "interaction-service", shardPrefix: "interaction", addresses: interactions),
                                (name: "feedback-service", shardPrefix: "feedback", addresses: feedbacks),
                                (name: "success-service", shardPrefix: "success", addresses: successes),
                            ])
                }
                try map(placeholders, placeholders, placeholders, epoch: 1).json.write(to: mapFile)
                let mapFlag = ["--shard-map", mapFile.path]
                /// Starts `count` shards of `service` named `<prefix>-<i>`; their addresses.
                func startShards(_ service: String, _ prefix: String, _ arguments: [String]) async throws -> [String] {
                    var addresses: [String] = []
                    for index in 0..<count {
                        let shard = try await processes.start(
                            service, arguments + mapFlag + ["--shard", "\(prefix)-\(index)"])
                        addresses.append("127.0.0.1:\(shard.port)")
                    }
                    return addresses
                }
                if unshardedProfile {
                    let profile = try await processes.start(ServiceIdentity.profile.name)
                    peer = ["--profile-addr", "127.0.0.1:\(profile.port)"]
                } else {
                    // Every profile shard indexes identifiers under the one blind-index key.
                    let key = scratch.child("blind-index.key")
                    try Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString().write(
                        to: key, atomically: true, encoding: .utf8)
                    profiles = try await startShards(
                        ServiceIdentity.profile.name, "profile", ["--blind-index-key-file", key.path])
                    try map(placeholders, placeholders, placeholders, epoch: 2).json.write(to: mapFile)
                    peer = ["--profile-addr", profiles[0]]
                }
                let interactions = try await startShards(ServiceIdentity.interaction.name, "interaction", peer)
                try map(interactions, placeholders, placeholders, epoch: 3).json.write(to: mapFile)
                interactionPeers = ["--interaction-addr", interactions[0]] + mapFlag
                let feedbacks = try await startShards(ServiceIdentity.feedback.name, "feedback", peer)
                try map(interactions, feedbacks, placeholders, epoch: 4).json.write(to: mapFile)
                feedbackAddress = feedbacks[0]
                let successes = try await startShards(
                    ServiceIdentity.success.name, "success",
                    peer + ["--interaction-addr", interactions[0], "--feedback-addr", feedbackAddress])
                try map(interactions, feedbacks, successes, epoch: 5).json.write(to: mapFile)
                source = try ShardMapSource(path: mapFile.path)
                successAddress = successes[0]
            }
            let peers = peer + interactionPeers + ["--feedback-addr", feedbackAddress]
            let gateway = try await processes.start(
                "gateway",
                peers + [
                    "--success-addr", successAddress, "--http-port", "0", "--peer-deadline-ms", "5000",
                ])
            let interactionAddress = PeerAddress(interactionPeers[1])!
            let ids = try await Self.createCustomers(
                customers, profile: PeerAddress(peer[1])!, source: unshardedProfile ? nil : source)
            let rate = try await Self.ingest(
                touchpoints, ids: ids, address: interactionAddress, source: source, seed: seed)
            let secret = try String(
                contentsOf: gateway.dataDirectory.appendingPathComponent("bootstrap-admin.key"), encoding: .utf8
            ).trimmingCharacters(in: .whitespacesAndNewlines)
            if settleSeconds > 0 {
                let waited = try await processes.waitUntilQuiet(within: .seconds(settleSeconds))
                say("background work after the ingest settled in \(Format.decimal(waited, 1)) s")
            }
            let (views, latencies) = try await view(ids: ids, gatewayPort: gateway.port, secret: secret)
            return Outcome(touchpointsPerSecond: rate, viewsPerSecond: views, viewLatencies: latencies)
        }
    }

    /// Creates `total` customers through profile-service (its shards, when `source` names them) with 8 callers;
    /// answers their ids.
    static func createCustomers(_ total: Int, profile: PeerAddress, source: ShardMapSource?) async throws -> [String] {
        say("creating \(total) customers…")
        let transport = try ShardedClientTransport(
            service: ServiceIdentity.profile.name, address: profile, source: source, routing: .current
        ) { address in
            try .http2NIOPosix(target: address.target, transportSecurity: .plaintext)
        }
        return try await withGRPCClient(transport: transport) { client in
            let profiles = Customer360_V1_ProfileService.Client(wrapping: client)
            return try await withThrowingTaskGroup(of: [String].self) { group in
                for worker in 0..<8 {
                    group.addTask {
                        var ids: [String] = []
                        for index in stride(from: worker, to: total, by: 8) {
                            ids.append(
                                try await profiles.createCustomer(
                                    .with {
                                        $0.givenName = "Shard"
                                        $0.familyName = "Customer \(index)"
                                    }, options: .deadline(.seconds(30))
                                ).customerID)
                        }
                        return ids
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
        }
    }

    /// Streams `total` touchpoints over 4 streams of mixed customers through the sharded transport; answers the rate.
    static func ingest(
        _ total: Int, ids: [String], address: PeerAddress, source: ShardMapSource?, seed: UInt64
    ) async throws -> Double {
        var factory = TouchpointFactory(customerIDs: ids, mix: .withSupport, seed: seed)
        let streams = 4
        let perStream = (total + streams - 1) / streams
        let batches = (0..<streams).map { stream in
            factory.make((stream * perStream)..<min(total, (stream + 1) * perStream)).map(\.streamMessage)
        }
        say("streaming \(total) touchpoints over \(streams) streams…")
        let transport = try ShardedClientTransport(
            service: ServiceIdentity.interaction.name, address: address, source: source, routing: .current
        ) { address in
            try .http2NIOPosix(target: address.target, transportSecurity: .plaintext)
        }
        let begin = ContinuousClock.now
        let stored = try await withGRPCClient(transport: transport) { client in
            let interactions = Customer360_V1_InteractionService.Client(wrapping: client)
            return try await withThrowingTaskGroup(of: Int64.self) { group in
                for batch in batches {
                    group.addTask {
                        try await interactions.recordTouchpoints(requestProducer: { writer in
                            try await writer.write(contentsOf: batch)
                        }).stored
                    }
                }
                return try await group.reduce(0, +)
            }
        }
        let elapsed = (ContinuousClock.now - begin).inSeconds
        let rate = Double(stored) / elapsed
        say("  \(stored) stored in \(Format.decimal(elapsed, 2)) s: \(Format.whole(rate)) touchpoints/s")
        guard stored == Int64(total) else {
            throw BenchError("interaction-service stored \(stored) of \(total) touchpoints; see its log")
        }
        return rate
    }

    /// GetCustomer360 through the gateway from `clients` callers; answers views/s and the latencies.
    private func view(ids: [String], gatewayPort: Int, secret: String) async throws -> (Double, LatencySamples) {
        let bearer: Metadata = ["authorization": "Bearer \(secret)"]
        let callers = clients
        let window = Duration.milliseconds(Int64(seconds * 1_000))
        let samples = try await withGRPCClient(
            transport: try .http2NIOPosix(
                target: .ipv4(address: "127.0.0.1", port: gatewayPort), transportSecurity: .plaintext)
        ) { client in
            let gateway = Customer360_V1_GatewayService.Client(wrapping: client)
            let measureFrom = ContinuousClock.now + window / 10
            let end = measureFrom + window
            return try await withThrowingTaskGroup(of: [Duration].self) { group in
                for caller in 0..<callers {
                    group.addTask {
                        var random = SplitMix64(seed: UInt64(caller + 1))
                        var latencies: [Duration] = []
                        while ContinuousClock.now < end {
                            let id = ids[Int.random(in: 0..<ids.count, using: &random)]
                            let started = ContinuousClock.now
                            let view = try await gateway.getCustomer360(
                                .with { $0.customerID = id }, metadata: bearer)
                            guard view.missingSections.isEmpty else {
                                throw BenchError("a view was partial (\(view.missingSections)); see the services' logs")
                            }
                            if started >= measureFrom { latencies.append(ContinuousClock.now - started) }
                        }
                        return latencies
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
        }
        var latencies = LatencySamples()
        for sample in samples { latencies.record(sample) }
        let rate = Double(samples.count) / window.inSeconds
        say(
            "  GetCustomer360 p50 \(Format.decimal(latencies.percentile(0.5), 2)) ms, p99 "
                + "\(Format.decimal(latencies.percentile(0.99), 2)) ms, \(Format.whole(rate)) views/s")
        return (rate, latencies)
    }
}

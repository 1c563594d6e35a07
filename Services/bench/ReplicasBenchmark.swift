import ArgumentParser
import C360Contracts
import C360ServerKit
import C360TestSupport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2

/// What a gateway replica pays for keeping no keys or audit log of its own: an audited call through a replica
/// against the same call through the authority, which writes its audit record locally.
struct ReplicasBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replicas",
        abstract: "Audited calls through a gateway replica vs. through the authority: latency, throughput, CPU.",
        discussion: """
            Starts profile-, interaction-, feedback- and success-service, a gateway that is the authority \
            (--authority-port) and a gateway replica of it (--authority-addr), all on free ports; creates \
            --customers customers; then, in alternating rounds of --seconds, calls GetCustomer360 (audited: one audit \
            record per call) through each gateway, first one call at a time, then from --clients concurrent callers. \
            Prints p50/p99 and calls/s of each, the replica's ratio to the authority, and the authority's CPU per call \
            made through the replica (what one authority spends serving replicas: its audit writes and key lookups). \
            Run a release build.
            """
    )

    @Option(help: "Customers to create.")
    var customers = 200

    @Option(help: "Concurrent callers in the loaded runs.")
    var clients = 16

    @Option(help: "Seconds each way is measured for per round (after a warm-up round).")
    var seconds = 5.0

    @Option(help: "Rounds; the two gateways alternate within each, so drift on a noisy machine hits both.")
    var rounds = 3

    @Option(help: "Directory holding the executables. [env: C360_BIN_DIR] (default: beside this executable)")
    var binDir: String?

    func validate() throws {
        guard customers >= 1, (1...256).contains(clients) else {
            throw ValidationError("--customers ≥ 1 and --clients 1...256")
        }
        guard seconds > 0, (1...20).contains(rounds) else { throw ValidationError("--seconds > 0 and --rounds 1...20") }
    }

    /// Which gateway a call goes through.
    private enum Way: String, CaseIterable {
        case authority = "authority (audit written locally)"
        case replica = "replica (audit sent to the authority)"
    }

    func run() async throws {
        let bin = IngestBenchmark.binDirectory(option: binDir)
        say(
            "bench replicas: \(customers) customers, 1 and \(clients) clients, \(rounds) rounds of \(Format.decimal(seconds, 0)) s per way"
        )
        say("  executables from \(bin.path)")
        let scratch = try ScratchDirectory(label: "replicas")
        defer { scratch.remove() }
        let tokenFile = scratch.child("authority-token")
        try Data("\(UUID().uuidString)-\(UUID().uuidString)\n".utf8).write(to: tokenFile)
        let authorityPortFile = scratch.child("authority.port")
        try await BenchProcesses.run(bin: bin) { processes in
            let backends = try await processes.startBackends()
            let profile = backends.profile
            let gatewayArguments =
                backends.gatewayPeers + [
                    "--http-port", "0", "--peer-deadline-ms", "5000", "--rate-limit", "off",
                    "--authority-token-file", tokenFile.path,
                ]
            let authority = try await processes.start(
                "gateway",
                gatewayArguments + ["--authority-port", "0", "--authority-port-file", authorityPortFile.path])
            // The internal port binds beside the main one, not before it: wait for its file too.
            var authorityPort = PortFile.read(at: authorityPortFile)
            let until = ContinuousClock.now + .seconds(10)
            while authorityPort == nil, ContinuousClock.now < until {
                try await Task.sleep(for: .milliseconds(20))
                authorityPort = PortFile.read(at: authorityPortFile)
            }
            guard let authorityPort else {
                throw BenchError("the authority wrote no port to \(authorityPortFile.path) within 10 s")
            }
            let replica = try await processes.start(
                "gateway", gatewayArguments + ["--authority-addr", "127.0.0.1:\(authorityPort)"])
            let secret = try String(
                contentsOf: authority.dataDirectory.appendingPathComponent("bootstrap-admin.key"), encoding: .utf8
            ).trimmingCharacters(in: .whitespacesAndNewlines)
            let ids = try await withClient(port: profile.port) { client in
                let profiles = Customer360_V1_ProfileService.Client(wrapping: client)
                var ids: [String] = []
                for index in 0..<customers {
                    ids.append(
                        try await profiles.createCustomer(.with { $0.givenName = "Replica \(index)" }).customerID)
                }
                return ids
            }
            say("  created \(ids.count) customers")
            let ports: [Way: Int] = [.authority: authority.port, .replica: replica.port]
            for callers in [1, clients] {
                try await measure(
                    ids: ids, ports: ports, callers: callers, secret: secret, authority: authority.processIdentifier)
            }
        }
    }

    private func measure(
        ids: [String], ports: [Way: Int], callers: Int, secret: String, authority: Int32
    ) async throws {
        let key: Metadata = ["authorization": "Bearer \(secret)"]
        var samples: [Way: LatencySamples] = [:]
        var elapsed: [Way: Double] = [:]
        var authorityCPU: [Way: (seconds: Double, calls: Int)] = [:]
        for round in 0...rounds {
            for way in Way.allCases {
                let warmUp = round == 0
                let length = warmUp ? max(1, seconds / 5) : seconds
                let cpuBefore = try ProcessStats.cpuSeconds(of: authority)
                let began = ContinuousClock.now
                let end = began + .seconds(length)
                let measured = try await withClient(port: ports[way] ?? 0) { client in
                    let gateway = Customer360_V1_GatewayService.Client(wrapping: client)
                    return try await withThrowingTaskGroup(of: LatencySamples.self) { group in
                        for caller in 0..<callers {
                            group.addTask {
                                var mine = LatencySamples()
                                var next = caller
                                while ContinuousClock.now < end {
                                    let start = ContinuousClock.now
                                    _ = try await gateway.getCustomer360(
                                        .with { $0.customerID = ids[next % ids.count] }, metadata: key)
                                    mine.record(ContinuousClock.now - start)
                                    next += callers
                                }
                                return mine
                            }
                        }
                        var all = LatencySamples()
                        for try await part in group { all.merge(part) }
                        return all
                    }
                }
                guard !warmUp else { continue }
                let took = (ContinuousClock.now - began).inSeconds
                samples[way, default: LatencySamples()].merge(measured)
                elapsed[way, default: 0] += took
                authorityCPU[way, default: (0, 0)].seconds += try ProcessStats.cpuSeconds(of: authority) - cpuBefore
                authorityCPU[way, default: (0, 0)].calls += measured.milliseconds.count
            }
        }
        say("")
        say("GetCustomer360, \(callers) client(s)                 p50 ms   p99 ms    calls/s   authority CPU µs/call")
        for way in Way.allCases {
            let latency = samples[way] ?? LatencySamples()
            let rate = Double(latency.milliseconds.count) / max(elapsed[way] ?? 1, 0.001)
            let usage = authorityCPU[way] ?? (0, 0)
            let perCall = usage.calls > 0 ? usage.seconds / Double(usage.calls) * 1e6 : 0
            say(
                Format.left(way.rawValue, 44) + Format.right(Format.decimal(latency.percentile(0.5), 3), 9)
                    + Format.right(Format.decimal(latency.percentile(0.99), 3), 9)
                    + Format.right(Format.whole(rate), 11) + Format.right(Format.decimal(perCall, 0), 24))
        }
        let p50 = { (way: Way) in samples[way]?.percentile(0.5) ?? 0 }
        let rate = { (way: Way) in Double(samples[way]?.milliseconds.count ?? 0) / max(elapsed[way] ?? 1, 0.001) }
        say(
            "replica / authority: p50 \(Format.decimal(p50(.replica) / max(p50(.authority), 0.001), 2))× (+\(Format.decimal(p50(.replica) - p50(.authority), 3)) ms), calls/s \(Format.decimal(rate(.replica) / max(rate(.authority), 0.001), 2))×"
        )
    }
}

import ArgumentParser
import C360Contracts
import C360ServerKit
import C360TestSupport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import SwiftProtobuf

/// What forwarding a backend's own RPC through the gateway costs: latency over calling the service directly, and the
/// gateway's CPU per forwarded call against the same call through a proxy that decodes and re-encodes (the typed
/// `GatewayService.ListTimeline`).
struct ForwardBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forward",
        abstract:
            "Forwarding through the gateway: added p50 at 1 client, and gateway CPU per call vs. a decoding proxy.",
        discussion: """
            Starts all five executables (from --bin-dir) on free ports, creates --customers customers with \
            --touchpoints touchpoints each, then for --seconds each calls ListTimeline (20 touchpoints) one call at a \
            time, three ways in turn, several rounds: straight to interaction-service; InteractionService/ListTimeline \
            through the gateway, forwarded as bytes; and GatewayService/ListTimeline, which decodes the answer and \
            encodes it again. Prints p50/p99 of each, the p50 forwarding adds (goal ≤ 0.3 ms), and the gateway's CPU \
            time per call (from /proc) of forwarding against the decoding proxy (goal ≤ 0.5×). Run a release build.
            """
    )

    static let addedGoalMs = 0.3
    static let cpuGoal = 0.5

    @Option(help: "Customers to create.")
    var customers = 200

    @Option(help: "Touchpoints per customer.")
    var touchpoints = 20

    @Option(help: "Seconds each way is measured for per round (after a warm-up round).")
    var seconds = 5.0

    @Option(help: "Rounds; the three ways alternate within each, so drift on a noisy machine hits all of them.")
    var rounds = 3

    @Option(help: "Directory holding the five executables. [env: C360_BIN_DIR] (default: beside this executable)")
    var binDir: String?

    func validate() throws {
        guard customers >= 1, (1...1_000).contains(touchpoints) else {
            throw ValidationError("--customers ≥ 1 and --touchpoints 1...1000")
        }
        guard seconds > 0, (1...20).contains(rounds) else { throw ValidationError("--seconds > 0 and --rounds 1...20") }
    }

    func run() async throws {
        let bin = IngestBenchmark.binDirectory(option: binDir)
        say(
            "bench forward: \(customers) customers × \(touchpoints) touchpoints, 1 client, \(rounds) rounds of \(Format.decimal(seconds, 0)) s per way"
        )
        say("  executables from \(bin.path)")
        try await BenchProcesses.run(bin: bin) { processes in
            let backends = try await processes.startBackends()
            let (profile, interaction) = (backends.profile, backends.interaction)
            let gateway = try await processes.start(
                "gateway", backends.gatewayPeers + ["--http-port", "0", "--peer-deadline-ms", "5000"])
            let secret = try String(
                contentsOf: gateway.dataDirectory.appendingPathComponent("bootstrap-admin.key"),
                encoding: .utf8
            ).trimmingCharacters(in: .whitespacesAndNewlines)
            let ids = try await fill(profile: profile.port, interaction: interaction.port)
            try await measure(ids: ids, interaction: interaction.port, gateway: gateway, secret: secret)
        }
    }

    private func fill(profile: Int, interaction: Int) async throws -> [String] {
        try await withClient(port: profile) { profileClient in
            try await withClient(port: interaction) { interactionClient in
                let profiles = Customer360_V1_ProfileService.Client(wrapping: profileClient)
                let interactions = Customer360_V1_InteractionService.Client(wrapping: interactionClient)
                var ids: [String] = []
                let now = Date()
                for index in 0..<customers {
                    let id = try await profiles.createCustomer(.with { $0.givenName = "Forward \(index)" }).customerID
                    ids.append(id)
                    _ = try await interactions.recordTouchpoints { writer in
                        for event in 0..<touchpoints {
                            try await writer.write(
                                .with {
                                    $0.customerID = id
                                    $0.touchpoint = .with {
                                        $0.eventID = "fw-\(index)-\(event)"
                                        $0.occurredAt = Google_Protobuf_Timestamp(
                                            date: now.addingTimeInterval(Double(-60 * (event + 1))))
                                        $0.channel = .web
                                        $0.kind = .pageView
                                        $0.direction = .inbound
                                        $0.body =
                                            "Viewed the pricing page for plan \(event) and compared it with the others."
                                        $0.attributes = ["page": "/pricing/\(event)", "device": "desktop"]
                                    }
                                })
                        }
                    }
                }
                say("  filled \(ids.count) customers")
                return ids
            }
        }
    }

    /// One way of calling ListTimeline, timed.
    private enum Way: String, CaseIterable {
        case direct = "interaction-service directly"
        case forwarded = "gateway, forwarded as bytes"
        case decoded = "gateway, decoded and re-encoded"
    }

    private func measure(ids: [String], interaction: Int, gateway: ServiceProcess, secret: String) async throws {
        let key: Metadata = ["authorization": "Bearer \(secret)"]
        try await withClient(port: interaction) { directClient in
            try await withClient(port: gateway.port) { gatewayClient in
                let direct = Customer360_V1_InteractionService.Client(wrapping: directClient)
                let forwarded = Customer360_V1_InteractionService.Client(wrapping: gatewayClient)
                let decoded = Customer360_V1_GatewayService.Client(wrapping: gatewayClient)
                var samples: [Way: LatencySamples] = [:]
                var cpu: [Way: (seconds: Double, calls: Int)] = [:]
                var next = 0
                func call(_ way: Way) async throws {
                    let id = ids[next % ids.count]
                    next += 1
                    var request = Customer360_V1_ListTimelineRequest()
                    request.customerID = id
                    request.page.pageSize = 20
                    let answered: Int
                    switch way {
                    case .direct: answered = try await direct.listTimeline(request).touchpoints.count
                    case .forwarded:
                        answered = try await forwarded.listTimeline(request, metadata: key).touchpoints.count
                    case .decoded: answered = try await decoded.listTimeline(request, metadata: key).touchpoints.count
                    }
                    guard answered == min(20, touchpoints) else {
                        throw BenchError(
                            "\(way.rawValue) answered \(answered) touchpoints, not \(min(20, touchpoints))")
                    }
                }
                for round in 0...rounds {
                    for way in Way.allCases {
                        let warmUp = round == 0
                        let cpuBefore = try ProcessStats.cpuSeconds(of: gateway.processIdentifier)
                        let end = ContinuousClock.now + .seconds(warmUp ? max(1, seconds / 5) : seconds)
                        var calls = 0
                        while ContinuousClock.now < end {
                            let start = ContinuousClock.now
                            try await call(way)
                            if !warmUp { samples[way, default: LatencySamples()].record(ContinuousClock.now - start) }
                            calls += 1
                        }
                        guard !warmUp else { continue }
                        let used = try ProcessStats.cpuSeconds(of: gateway.processIdentifier) - cpuBefore
                        cpu[way, default: (0, 0)].seconds += used
                        cpu[way, default: (0, 0)].calls += calls
                    }
                    if round > 0 { say("  round \(round)/\(rounds) done") }
                }
                report(samples: samples, cpu: cpu)
            }
        }
    }

    private func report(samples: [Way: LatencySamples], cpu: [Way: (seconds: Double, calls: Int)]) {
        say("")
        say("ListTimeline (20 touchpoints), 1 client       p50 ms   p99 ms    calls   gateway CPU µs/call")
        for way in Way.allCases {
            let latency = samples[way] ?? LatencySamples()
            let usage = cpu[way] ?? (0, 0)
            let perCall = usage.calls > 0 ? usage.seconds / Double(usage.calls) * 1e6 : 0
            say(
                Format.left(way.rawValue, 44) + Format.right(Format.decimal(latency.percentile(0.5), 3), 9)
                    + Format.right(Format.decimal(latency.percentile(0.99), 3), 9)
                    + Format.right("\(latency.milliseconds.count)", 9)
                    + Format.right(way == .direct ? "—" : Format.decimal(perCall, 0), 22))
        }
        let p50 = { (way: Way) in samples[way]?.percentile(0.5) ?? 0 }
        let added = p50(.forwarded) - p50(.direct)
        say("")
        say(
            "forwarding adds \(Format.decimal(added, 3)) ms at p50 over the direct call (goal ≤ \(Self.addedGoalMs) ms): \(added <= Self.addedGoalMs ? "met" : "NOT met")"
        )
        let perCall = { (way: Way) -> Double in
            guard let usage = cpu[way], usage.calls > 0 else { return 0 }
            return usage.seconds / Double(usage.calls)
        }
        let ratio = perCall(.decoded) > 0 ? perCall(.forwarded) / perCall(.decoded) : 0
        say(
            "gateway CPU per forwarded call ÷ per decoded call: \(Format.decimal(ratio, 2))× (goal ≤ \(Self.cpuGoal)×): \(ratio <= Self.cpuGoal ? "met" : "NOT met")"
        )
    }
}

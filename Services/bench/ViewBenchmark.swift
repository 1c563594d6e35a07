import ArgumentParser
import C360Contracts
import C360ServerKit
import C360TestSupport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import SwiftProtobuf

/// `bench view`: latency of the gateway's 360° view under concurrent clients, against the single backend calls it
/// fans out to, on a data set of the size the gateway issue names (100k customers, 1M touchpoints by default).
struct ViewBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "view",
        abstract: "GetCustomer360 latency (p50/p99) under concurrent clients vs. the slowest single backend call.",
        discussion: """
            Starts all five executables (from --bin-dir) on free ports in a temporary directory, fills them \
            through their APIs (--customers customers, --touchpoints touchpoints, an NPS answer from a fifth of the \
            customers), then for --seconds each runs --clients concurrent callers over --connections HTTP/2 \
            connections: first GetCustomer360 through the gateway, then every backend call the view makes, each \
            alone. Prints p50/p99 and throughput per call, and the view's ratio (goal ≤ 1.5×) to two baselines: the \
            slowest backend call inside each view as the gateway timed it (same load, so the ratio is the fan-out's \
            own cost), and the slowest backend call run alone (on one box every process shares the CPU, so this one \
            also counts the view's extra work). Run a release build: debug numbers mean nothing.
            """
    )

    /// The ratio of the view's latency to the slowest backend call's that the gateway is held to.
    static let goal = 1.5

    @Option(name: .customLong("customers"), help: "Customers to create (default 100,000; 2,000 with --quick).")
    var customersOption: Int?
    var customers: Int { customersOption ?? (quick ? 2_000 : 100_000) }

    @Option(
        name: .customLong("touchpoints"),
        help: "Touchpoints to ingest, spread over the customers (default 1,000,000; 20,000 with --quick).")
    var touchpointsOption: Int?
    var touchpoints: Int { touchpointsOption ?? (quick ? 20_000 : 1_000_000) }

    @Option(help: "Concurrent callers.")
    var clients = 64

    @Option(help: "HTTP/2 connections the callers share.")
    var connections = 8

    @Option(
        name: .customLong("seconds"),
        help: "Seconds each call is measured for, after a warm-up of a tenth of that (default 20; 3 with --quick).")
    var secondsOption: Double?
    var seconds: Double { secondsOption ?? (quick ? 3 : 20) }

    @Option(help: "Directory holding the five executables. [env: C360_BIN_DIR] (default: beside this executable)")
    var binDir: String?

    @Option(help: "Seed of the data generator.")
    var seed: UInt64 = 360

    @Option(
        help:
            "off, on (every process with TLS, mutual between services; certificates from scripts/dev-certs.sh), or both: the whole run without TLS, then with, and what TLS costs the view (goal ≤ 15% of p50)."
    )
    var tls: TLSMode = .off

    @Flag(
        help: """
            A run of about two minutes to take before and after a change: 2,000 customers, 20,000 touchpoints and 3 s \
            per call unless --customers, --touchpoints or --seconds say otherwise. Compare its ratios, not its \
            absolute numbers, with the full run's.
            """)
    var quick = false

    enum TLSMode: String, ExpressibleByArgument, CaseIterable {
        case off, on, both
    }

    /// What TLS may add to the view's p50.
    static let tlsGoal = 0.15

    /// A domain read's requests/s over Health/Check's, on the same binary over the same connections.
    static let readGoal = 0.7

    /// Resident memory per service, in MiB: started and idle, and after the measured load.
    static let idleMemoryGoal = 40
    static let loadedMemoryGoal = 150

    /// The fewest concurrent CreateCustomer callers the fill uses: the goal for creating customers counts eight.
    static let fillClients = 8

    func validate() throws {
        guard customers >= 1, touchpoints >= 0 else { throw ValidationError("--customers ≥ 1 and --touchpoints ≥ 0") }
        guard (1...1_024).contains(clients), (1...64).contains(connections) else {
            throw ValidationError("--clients must be 1...1024 and --connections 1...64")
        }
        guard seconds > 0 else { throw ValidationError("--seconds must be positive") }
    }

    func run() async throws {
        let modes: [Bool] =
            switch tls {
            case .off: [false]
            case .on: [true]
            case .both: [false, true]
            }
        var views: [LoadResult] = []
        for withTLS in modes { views.append(try await runOnce(withTLS: withTLS)) }
        if views.count == 2 {
            let (plain, secured) = (views[0].latencies, views[1].latencies)
            let p50 = secured.percentile(0.5) / plain.percentile(0.5) - 1
            let p99 = secured.percentile(0.99) / plain.percentile(0.99) - 1
            say("")
            say(
                "TLS cost of GetCustomer360 (\(clients) clients): p50 \(Format.decimal(plain.percentile(0.5), 2)) → "
                    + "\(Format.decimal(secured.percentile(0.5), 2)) ms (\(Format.decimal(p50 * 100, 1))%), p99 "
                    + "\(Format.decimal(plain.percentile(0.99), 2)) → \(Format.decimal(secured.percentile(0.99), 2)) ms "
                    + "(\(Format.decimal(p99 * 100, 1))%); goal p50 ≤ +\(Format.whole(Self.tlsGoal * 100))%: "
                    + (p50 <= Self.tlsGoal ? "met" : "NOT met"))
        }
    }

    /// Starts the five processes (with TLS or not), fills them, measures, stops them; answers the view's result.
    private func runOnce(withTLS: Bool) async throws -> LoadResult {
        let bin = IngestBenchmark.binDirectory(option: binDir)
        say(
            "bench view: \(customers) customers, \(touchpoints) touchpoints, \(clients) clients over \(connections) connections, \(Format.decimal(seconds, 0)) s per call"
        )
        say("  executables from \(bin.path)")
        let certificates = withTLS ? try await DevCertificates.make() : nil
        defer { certificates?.remove() }
        say(
            "  TLS: \(withTLS ? "on, mutual between services; clients as operator (services) and as an application (gateway)" : "off")"
        )
        let tlsArguments: (String) -> [String] = { certificates?.arguments(for: $0) ?? [] }
        return try await BenchProcesses.run(bin: bin, extraArguments: tlsArguments) { launched in
            let profile = try await launched.start(ServiceIdentity.profile.name)
            let peer = ["--profile-addr", "127.0.0.1:\(profile.port)"]
            let interaction = try await launched.start(ServiceIdentity.interaction.name, peer)
            let feedback = try await launched.start(ServiceIdentity.feedback.name, peer)
            let peers =
                peer + [
                    "--interaction-addr", "127.0.0.1:\(interaction.port)",
                    "--feedback-addr", "127.0.0.1:\(feedback.port)",
                ]
            let success = try await launched.start(ServiceIdentity.success.name, peers)
            let gateway = try await launched.start(
                "gateway",
                peers + [
                    "--success-addr", "127.0.0.1:\(success.port)", "--http-port", "0", "--peer-deadline-ms", "5000",
                ])
            let security = ClientSecurity(certificates: certificates, gatewayPort: gateway.port)
            let processes = launched.started.map {
                (name: URL(fileURLWithPath: $0.executable).lastPathComponent, pid: $0.processIdentifier)
            }
            let idle = processes.map {
                (ProcessStats.residentBytes(of: $0.pid), anonymous: ProcessStats.anonymousBytes(of: $0.pid))
            }
            return try await ClientSecurity.$current.withValue(security) {
                let ids = try await fill(profile: profile.port, interaction: interaction.port, feedback: feedback.port)
                try await ProcessStats.settle(processes.map(\.pid))
                let secret = try String(
                    contentsOf: gateway.dataDirectory.appendingPathComponent("bootstrap-admin.key"),
                    encoding: .utf8
                ).trimmingCharacters(in: .whitespacesAndNewlines)
                let view = try await measure(
                    ids: ids, secret: secret,
                    ports: (
                        profile.port, interaction.port, feedback.port,
                        success.port, gateway.port
                    ))
                say("")
                say(
                    "resident memory (goal ≤ \(Self.idleMemoryGoal) MiB started and idle, "
                        + "≤ \(Self.loadedMemoryGoal) MiB after the load)")
                for (process, (idleBytes, idleAnonymous)) in zip(processes, idle) {
                    let loaded = ProcessStats.residentBytes(of: process.pid)
                    let met =
                        idleBytes <= Int64(Self.idleMemoryGoal) << 20 && loaded <= Int64(Self.loadedMemoryGoal) << 20
                    // The anonymous share says how much is the process's own; the rest is code pages of the
                    // executable and of the Swift runtime and Foundation, which every service on the host shares.
                    say(
                        "  \(Format.left(process.name, 20)) idle \(Format.megabytes(idleBytes)) "
                            + "(\(Format.megabytes(idleAnonymous)) anonymous), after the load "
                            + "\(Format.megabytes(loaded)) (\(Format.megabytes(ProcessStats.anonymousBytes(of: process.pid))) "
                            + "anonymous): \(met ? "met" : "NOT met")")
                }
                return view
            }
        }
    }

    // MARK: - Data

    private func fill(profile: Int, interaction: Int, feedback: Int) async throws -> [String] {
        let count = customers
        let workers = max(clients, Self.fillClients)
        let fillStart = ContinuousClock.now
        say("creating \(count) customers…")
        let ids = try await withConnection(port: profile) { client -> [String] in
            let profiles = Customer360_V1_ProfileService.Client(wrapping: client)
            return try await withThrowingTaskGroup(of: [String].self) { group in
                for worker in 0..<workers {
                    group.addTask {
                        var ids: [String] = []
                        for index in stride(from: worker, to: count, by: workers) {
                            ids.append(
                                try await profiles.createCustomer(
                                    .with {
                                        $0.givenName = "Bench"
                                        $0.familyName = "Customer \(index)"
                                        $0.identifiers = [
                                            .with {
                                                $0.kind = .email
                                                $0.value = "bench.\(index)@example.com"
                                            }
                                        ]
                                    }, options: .deadline(.seconds(30))
                                ).customerID)
                            if index % 10_000 == 0 { say("  \(index)/\(count) customers") }
                        }
                        return ids
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
        }
        let createSeconds = (ContinuousClock.now - fillStart).inSeconds
        say(
            "  \(ids.count) customers in \(Format.decimal(createSeconds)) s: "
                + "\(Format.whole(Double(ids.count) / createSeconds)) CreateCustomer/s from \(workers) clients")

        if touchpoints > 0 {
            say("streaming \(touchpoints) touchpoints…")
            let touchpointStart = ContinuousClock.now
            var factory = TouchpointFactory(customerIDs: ids, mix: .withSupport, seed: seed)
            let total = touchpoints
            let streams = 4
            let perStream = (total + streams - 1) / streams
            var batches: [[Customer360_V1_RecordTouchpointsRequest]] = []
            for stream in 0..<streams {
                let range = (stream * perStream)..<min(total, (stream + 1) * perStream)
                batches.append(factory.make(range).map(\.streamMessage))
            }
            let stored = try await withConnection(port: interaction) { client -> Int64 in
                let interactions = Customer360_V1_InteractionService.Client(wrapping: client)
                return try await withThrowingTaskGroup(of: Int64.self) { group in
                    for batch in batches {
                        group.addTask {
                            try await interactions.recordTouchpoints(requestProducer: { writer in
                                var start = 0
                                while start < batch.count {
                                    let end = min(start + 500, batch.count)
                                    try await writer.write(contentsOf: batch[start..<end])
                                    start = end
                                }
                            }).stored
                        }
                    }
                    return try await group.reduce(0, +)
                }
            }
            say(
                "  \(stored) touchpoints stored in \(Format.decimal((ContinuousClock.now - touchpointStart).inSeconds)) s"
            )
        }

        say("recording NPS answers from a fifth of the customers…")
        let answering = ids.enumerated().filter { $0.offset % 5 == 0 }.map(\.element)
        try await withConnection(port: feedback) { client in
            let surveys = Customer360_V1_FeedbackService.Client(wrapping: client)
            _ = try await surveys.createSurvey(
                .with {
                    $0.surveyID = "bench-nps"
                    $0.surveyType = .nps
                    $0.name = "bench NPS"
                    $0.question = "How likely are you to recommend us?"
                    $0.language = "en"
                    $0.channel = .email
                })
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<workers {
                    group.addTask {
                        for id in stride(from: worker, to: answering.count, by: workers).map({ answering[$0] }) {
                            _ = try await surveys.recordResponse(
                                .with {
                                    $0.customerID = id
                                    $0.responseID = "bench-\(id)"
                                    $0.surveyID = "bench-nps"
                                    $0.score = Int32(id.utf8.last.map { Int($0) % 11 } ?? 7)
                                    $0.comment = "The delivery was late but support was helpful"
                                    $0.answeredAt = Google_Protobuf_Timestamp(date: Date().addingTimeInterval(-86_400))
                                }, options: .deadline(.seconds(30)))
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        say("data set ready in \(Format.decimal((ContinuousClock.now - fillStart).inSeconds)) s")
        return ids
    }

    // MARK: - Measurement

    private func measure(
        ids: [String], secret: String,
        ports: (profile: Int, interaction: Int, feedback: Int, success: Int, gateway: Int)
    ) async throws -> LoadResult {
        let bearer: Metadata = ["authorization": "Bearer \(secret)"]
        let view = try await load("GetCustomer360 (gateway)", port: ports.gateway, ids: ids) { client, id in
            let view = try await Customer360_V1_GatewayService.Client(wrapping: client)
                .getCustomer360(.with { $0.customerID = id }, metadata: bearer)
            // The gateway times each backend call it makes; the slowest one bounds the view from below.
            return view.sectionStatuses.map { Duration($0.latency) }.max()
        }
        var backends: [LoadResult] = []
        let getCustomer = try await load("profile GetCustomer", port: ports.profile, ids: ids) { client, id in
            _ = try await Customer360_V1_ProfileService.Client(wrapping: client).getCustomer(
                .with { $0.customerID = id })
            return nil
        }
        backends.append(getCustomer)
        backends.append(
            try await load("profile GetConsents", port: ports.profile, ids: ids) { client, id in
                _ = try await Customer360_V1_ProfileService.Client(wrapping: client).getConsents(
                    .with { $0.customerID = id })
                return nil
            })
        let stats = try await load("interaction GetCustomerStats+20", port: ports.interaction, ids: ids) {
            client, id in
            _ = try await Customer360_V1_InteractionService.Client(wrapping: client).getCustomerStats(
                .with {
                    $0.customerID = id
                    $0.recentTouchpoints = 20
                })
            return nil
        }
        backends.append(stats)
        let scores = try await load("feedback GetCustomerScores+5", port: ports.feedback, ids: ids) { client, id in
            _ = try await Customer360_V1_FeedbackService.Client(wrapping: client).getCustomerScores(
                .with {
                    $0.customerID = id
                    $0.recentComments = 5
                })
            return nil
        }
        backends.append(scores)
        // The transport's own cost on each of those binaries, under the same callers and connections.
        func health(_ service: ServiceIdentity, port: Int) async throws -> LoadResult {
            try await load("\(service.name) Health/Check", port: port, ids: ids) { client, _ in
                _ = try await Grpc_Health_V1_Health.Client(wrapping: client).check(
                    Grpc_Health_V1_HealthCheckRequest())
                return nil
            }
        }
        let transports = [
            (getCustomer, try await health(.profile, port: ports.profile)),
            (stats, try await health(.interaction, port: ports.interaction)),
            (scores, try await health(.feedback, port: ports.feedback)),
        ]
        backends.append(
            try await load("success GetCustomerSuccess", port: ports.success, ids: ids) { client, id in
                _ = try await Customer360_V1_SuccessService.Client(wrapping: client)
                    .getCustomerSuccess(.with { $0.customerID = id })
                return nil
            })

        say("")
        say("summary (\(clients) concurrent clients, \(Format.decimal(seconds, 0)) s each)")
        say(
            "  \(Format.left("call", 34)) \(Format.right("p50 ms", 8)) \(Format.right("p99 ms", 8)) \(Format.right("calls/s", 9))"
        )
        func row(_ name: String, _ samples: LatencySamples, _ rate: Double?) {
            say(
                "  \(Format.left(name, 34)) \(Format.right(Format.decimal(samples.percentile(0.5), 2), 8)) "
                    + "\(Format.right(Format.decimal(samples.percentile(0.99), 2), 8)) \(Format.right(rate.map(Format.whole) ?? "", 9))"
            )
        }
        row(view.name, view.latencies, view.rate)
        row("  slowest backend call in the view", view.slowestInside, nil)
        for backend in backends { row(backend.name, backend.latencies, backend.rate) }

        func ratio(_ label: String, _ other: LatencySamples) {
            let p50 = view.latencies.percentile(0.5) / other.percentile(0.5)
            let p99 = view.latencies.percentile(0.99) / other.percentile(0.99)
            say(
                "  view ÷ \(label): p50 \(Format.decimal(p50, 2))×, p99 \(Format.decimal(p99, 2))× "
                    + "(goal ≤ \(Format.decimal(Self.goal, 1))×: " + (max(p50, p99) <= Self.goal ? "met)" : "NOT met)"))
        }
        ratio("its slowest backend call under the same load", view.slowestInside)
        if let slowest = backends.max(by: { $0.latencies.percentile(0.5) < $1.latencies.percentile(0.5) }) {
            ratio("the slowest backend call run alone (\(slowest.name))", slowest.latencies)
        }
        for (read, transport) in transports {
            let share = read.rate / transport.rate
            say(
                "  \(read.name) ÷ \(transport.name): \(Format.decimal(share, 2))× the calls/s "
                    + "(\(Format.whole(read.rate)) vs \(Format.whole(transport.rate)); goal ≥ "
                    + "\(Format.decimal(Self.readGoal, 1))×: \(share >= Self.readGoal ? "met" : "NOT met"))")
        }
        return view
    }

    /// What one load run measured.
    private struct LoadResult {
        var name: String
        var latencies: LatencySamples
        /// Calls per second.
        var rate: Double
        /// Per call, the slowest inner call it reported (the view's slowest backend call); empty otherwise.
        var slowestInside: LatencySamples
    }

    /// Runs `call` from `clients` concurrent callers on random customers for `seconds` after a warm-up; answers the
    /// latencies, the calls per second and the inner latencies `call` reports.
    private func load(
        _ name: String, port: Int, ids: [String],
        _ call: @escaping @Sendable (GRPCClient<HTTP2ClientTransport.Posix>, String) async throws -> Duration?
    ) async throws -> LoadResult {
        let callers = clients
        let window = Duration.milliseconds(Int64(seconds * 1_000))
        let warmUp = window / 10
        let samples = try await withConnections(connections, port: port) { pool -> [(Duration, Duration?)] in
            let begin = ContinuousClock.now
            let measureFrom = begin + warmUp
            let end = measureFrom + window
            return try await withThrowingTaskGroup(of: [(Duration, Duration?)].self) { group in
                for caller in 0..<callers {
                    let client = pool[caller % pool.count]
                    group.addTask {
                        var random = SplitMix64(seed: UInt64(caller + 1))
                        var latencies: [(Duration, Duration?)] = []
                        while ContinuousClock.now < end {
                            let id = ids[Int.random(in: 0..<ids.count, using: &random)]
                            let started = ContinuousClock.now
                            let inner = try await call(client, id)
                            if started >= measureFrom { latencies.append((ContinuousClock.now - started, inner)) }
                        }
                        return latencies
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
        }
        var latencies = LatencySamples()
        var inner = LatencySamples()
        for (latency, slowest) in samples {
            latencies.record(latency)
            if let slowest { inner.record(slowest) }
        }
        let rate = Double(samples.count) / window.inSeconds
        say(
            "\(Format.left(name, 34)) p50 \(Format.decimal(latencies.percentile(0.5), 2)) ms, p99 "
                + "\(Format.decimal(latencies.percentile(0.99), 2)) ms, \(Format.whole(rate)) calls/s")
        return LoadResult(name: name, latencies: latencies, rate: rate, slowestInside: inner)
    }

    // MARK: - Connections

    private func withConnection<Result: Sendable>(
        port: Int, _ body: (GRPCClient<HTTP2ClientTransport.Posix>) async throws -> Result
    ) async throws -> Result {
        try await withGRPCClient(
            transport: try .http2NIOPosix(
                target: .ipv4(address: "127.0.0.1", port: port),
                transportSecurity: try ClientSecurity.current?.security(port: port) ?? .plaintext)
        ) { client in try await body(client) }
    }

    /// `count` clients, each on its own HTTP/2 connection to `port`.
    private func withConnections<Result: Sendable>(
        _ count: Int, port: Int, _ body: ([GRPCClient<HTTP2ClientTransport.Posix>]) async throws -> Result
    ) async throws -> Result {
        func open(_ pool: [GRPCClient<HTTP2ClientTransport.Posix>]) async throws -> Result {
            guard pool.count < count else { return try await body(pool) }
            return try await withConnection(port: port) { client in try await open(pool + [client]) }
        }
        return try await open([])
    }
}

/// With `--tls`, how the benchmark's clients reach each process: the services with the `operator` certificate, the
/// gateway as an application does (trusting the CA, no certificate). Bound for the fill and the measurement.
struct ClientSecurity: Sendable {
    @TaskLocal static var current: ClientSecurity?

    let certificates: DevCertificates?
    let gatewayPort: Int

    func security(port: Int) throws -> HTTP2ClientTransport.Posix.TransportSecurity {
        guard let certificates else { return .plaintext }
        return port == gatewayPort ? certificates.serverOnlySecurity : try certificates.clientSecurity(as: "operator")
    }
}

import ArgumentParser
import C360Clients
import C360Contracts
import C360Interaction
import C360ServerKit
import C360StoreKit
import C360TestSupport
import Foundation
import GRDB
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import Synchronization

/// `bench ingest`: how fast touchpoints get in, through the real services and straight into the store, in one run on
/// the same data, so the cost of the gRPC path (HTTP/2, protobuf, validation, customer resolution) shows as a ratio.
///
/// - gRPC path: starts `profile-service` and `interaction-service` on free ports with fresh data directories, creates
///   the customers in profile-service, then streams every event through one `RecordTouchpoints` client stream and
///   times from the first write to the response.
/// - Direct path: opens a fresh database with `ServiceDatabase.openPool` (the production WAL configuration) and calls
///   `InteractionStore.ingest` in batches: the code interaction-service runs for each batch, without the network.
///
/// Both paths store the same touchpoints, built once as domain values.
struct IngestBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Ingest throughput: RecordTouchpoints through the real services vs. InteractionStore.ingest.",
        discussion: """
            Starts profile-service and interaction-service (from --bin-dir) on free ports in a temporary directory, \
            creates --customers customers, streams --events touchpoints through one RecordTouchpoints call, then \
            stores the same touchpoints in a fresh in-process database with InteractionStore.ingest. Prints both \
            rates and their ratio; the goal is gRPC at 50% or more of direct. The services are stopped with SIGTERM \
            and the temporary directory is removed at the end. Run a release build: debug numbers mean nothing.
            """
    )

    /// The ratio of gRPC to direct throughput this benchmark holds the service to.
    static let goal = 0.5

    @Option(help: "Touchpoints to ingest on each path.")
    var events = 100_000

    @Option(help: "Customers to create in profile-service; the events are spread over them.")
    var customers = 1_000

    @Option(
        help: """
            Events per InteractionStore.ingest call on the direct path, and per write on the client stream. \
            (interaction-service itself always stores 500 per transaction.)
            """)
    var batch = 500

    @Option(
        help: """
            Directory holding the profile-service and interaction-service executables. [env: C360_BIN_DIR] \
            (default: the directory of this bench executable)
            """)
    var binDir: String?

    @Option(help: "Seed of the data generator; the same seed gives the same touchpoints.")
    var seed: UInt64 = 360

    func validate() throws {
        guard events >= 1 else { throw ValidationError("--events must be at least 1") }
        guard (1...1_000_000).contains(customers) else { throw ValidationError("--customers must be 1...1000000") }
        guard (1...100_000).contains(batch) else { throw ValidationError("--batch must be 1...100000") }
    }

    func run() async throws {
        let binDirectory = Self.binDirectory(option: binDir)
        let scratch = try ScratchDirectory(label: "ingest")
        say("bench ingest: \(events) events over \(customers) customers, batches of \(batch), seed \(seed)")
        say("  executables from \(binDirectory.path)")
        say("  work directory \(scratch.url.path)")

        var services: [ServiceProcess] = []
        var failure: (any Error)?
        do {
            let quiet = ["--log-level", "warning"]
            let profile = try await ServiceProcess.start(
                binDirectory.appendingPathComponent(ServiceIdentity.profile.name).path, arguments: quiet)
            services.append(profile)
            let interaction = try await ServiceProcess.start(
                binDirectory.appendingPathComponent(ServiceIdentity.interaction.name).path,
                arguments: quiet + ["--profile-addr", "127.0.0.1:\(profile.port)"])
            services.append(interaction)
            say("  profile-service on port \(profile.port), interaction-service on port \(interaction.port)")
            try await benchmark(profile: profile, interaction: interaction, scratch: scratch)
        } catch {
            failure = error
        }

        for service in services.reversed() {
            _ = try? await service.terminate()
            await service.cleanup()
        }
        scratch.remove()
        if let failure { throw failure }
    }

    /// Both paths and the summary; the services are running.
    private func benchmark(profile: ServiceProcess, interaction: ServiceProcess, scratch: ScratchDirectory) async throws
    {
        let customerIDs = try await createCustomers(port: profile.port)

        var factory = TouchpointFactory(customerIDs: customerIDs, mix: .ingest, seed: seed)
        let touchpoints = factory.make(0..<events)
        let messages = touchpoints.map(\.streamMessage)
        say(
            "built \(events) touchpoints "
                + "(70% page_view/login/feature_use, 10% purchase, 10% message, 10% campaign_open)")

        say("streaming \(events) touchpoints to interaction-service…")
        let streamed = try await stream(messages, port: interaction.port)
        let response = streamed.response
        guard response.stored == Int64(events) else {
            let reasons = response.rejections.prefix(5).map {
                "  #\($0.index) \($0.eventID): \($0.code) \($0.field) \($0.reason)"
            }
            throw BenchError(
                """
                interaction-service stored \(response.stored) of \(events) events (received \(response.received), \
                duplicate \(response.duplicate), rejected \(response.rejected)); the rate would be meaningless.
                \(reasons.joined(separator: "\n"))
                interaction-service log:
                \(interaction.logTail())
                """)
        }
        let grpcRate = Double(events) / streamed.elapsed.inSeconds
        say(
            "ingest via gRPC (client stream): \(events) events in \(Format.decimal(streamed.elapsed.inSeconds)) s = "
                + "\(Format.whole(grpcRate)) events/s")

        say("storing the same \(events) touchpoints with InteractionStore.ingest in batches of \(batch)…")
        let direct = try await ingestDirectly(touchpoints, directory: scratch.child("direct"))
        guard direct.stored == events else {
            throw BenchError(
                "InteractionStore.ingest stored \(direct.stored) of \(events) events; the rate would be meaningless")
        }
        let directRate = Double(events) / direct.elapsed.inSeconds
        say(
            "ingest direct (InteractionStore.ingest, \(batch) per call): \(events) events in "
                + "\(Format.decimal(direct.elapsed.inSeconds)) s = \(Format.whole(directRate)) events/s")

        let ratio = grpcRate / directRate
        say("")
        say("summary")
        say("  gRPC (RecordTouchpoints stream)  \(Format.right(Format.whole(grpcRate), 9)) events/s")
        say("  direct (InteractionStore.ingest) \(Format.right(Format.whole(directRate), 9)) events/s")
        say(
            "  gRPC / direct: \(Format.decimal(ratio * 100))% (goal ≥ \(Format.decimal(Self.goal * 100, 0))%: "
                + (ratio >= Self.goal ? "met)" : "NOT met)"))
    }

    // MARK: - gRPC path

    /// Creates the benchmark's customers in profile-service, one `CreateCustomer` call each, and returns their ids.
    private func createCustomers(port: Int) async throws -> [String] {
        say("creating \(customers) customers in profile-service…")
        let count = customers
        return try await withGRPCClient(
            transport: try .http2NIOPosix(target: .dns(host: "127.0.0.1", port: port), transportSecurity: .plaintext)
        ) { client -> [String] in
            let profiles = Customer360_V1_ProfileService.Client(wrapping: client)
            let start = ContinuousClock.now
            var ids: [String] = []
            ids.reserveCapacity(count)
            for index in 0..<count {
                let customer = try await profiles.createCustomer(
                    .with {
                        $0.givenName = "Bench"
                        $0.familyName = "Customer \(index)"
                        $0.tags = ["bench"]
                    }, options: .deadline(.seconds(10)))
                ids.append(customer.customerID)
                if (index + 1) % 1_000 == 0 || index + 1 == count {
                    let elapsed = (ContinuousClock.now - start).inSeconds
                    say("  \(index + 1)/\(count) customers (\(Format.decimal(elapsed)) s)")
                }
            }
            return ids
        }
    }

    /// What the client stream measured.
    private struct StreamResult: Sendable {
        /// interaction-service's answer.
        var response: Customer360_V1_RecordTouchpointsResponse
        /// From the first write to the response.
        var elapsed: Duration
    }

    /// Sends `messages` through one `RecordTouchpoints` client stream, `batch` messages per write.
    ///
    /// A health check first opens the HTTP/2 connection, so the clock starts on a live connection.
    private func stream(_ messages: [Customer360_V1_RecordTouchpointsRequest], port: Int) async throws -> StreamResult {
        let chunk = batch
        return try await withGRPCClient(
            transport: try .http2NIOPosix(target: .dns(host: "127.0.0.1", port: port), transportSecurity: .plaintext)
        ) { client -> StreamResult in
            let health = Grpc_Health_V1_Health.Client(wrapping: client)
            let status = try await health.check(.with { $0.service = "" }, options: .deadline(.seconds(10)))
            guard status.status == .serving else {
                throw BenchError("interaction-service is not serving (health: \(status.status))")
            }

            let interactions = Customer360_V1_InteractionService.Client(wrapping: client)
            let firstWrite = FirstWriteClock()
            let response = try await interactions.recordTouchpoints(requestProducer: { writer in
                firstWrite.mark()
                var start = 0
                while start < messages.count {
                    let end = min(start + chunk, messages.count)
                    try await writer.write(contentsOf: messages[start..<end])
                    start = end
                }
            })
            let finished = ContinuousClock.now
            return StreamResult(response: response, elapsed: finished - (firstWrite.instant ?? finished))
        }
    }

    // MARK: - Direct path

    /// Stores `touchpoints` in a fresh database in `directory` with `InteractionStore.ingest`, `batch` per call.
    private func ingestDirectly(
        _ touchpoints: [Touchpoint], directory: URL
    ) async throws -> (stored: Int, elapsed: Duration) {
        var logger = Logger(label: "bench.direct")
        logger.logLevel = .warning
        let pool = try ServiceDatabase.openPool(
            directory: directory.path, fileName: "interaction.sqlite", logger: logger)
        defer { try? pool.close() }
        let store = try InteractionStore(writer: pool, keyring: .inMemory(), currency: "USD")

        let size = batch
        let batches = stride(from: 0, to: touchpoints.count, by: size).map {
            Array(touchpoints[$0..<min($0 + size, touchpoints.count)])
        }
        var stored = 0
        let start = ContinuousClock.now
        for chunk in batches {
            for outcome in try await store.ingest(chunk) {
                if case .stored = outcome { stored += 1 }
            }
        }
        let elapsed = ContinuousClock.now - start
        return (stored, elapsed)
    }

    // MARK: - Helpers

    /// Where the service executables are: `--bin-dir`, then `C360_BIN_DIR`, then the directory of this executable
    /// (SwiftPM puts every product of one configuration in the same directory).
    static func binDirectory(option: String?) -> URL {
        if let option, !option.isEmpty {
            return URL(fileURLWithPath: option, isDirectory: true)
        }
        if let configured = ProcessInfo.processInfo.environment["C360_BIN_DIR"], !configured.isEmpty {
            return URL(fileURLWithPath: configured, isDirectory: true)
        }
        let argument0 = CommandLine.arguments.first ?? "bench"
        // Run through $PATH, argv[0] is a bare name; the running binary's own path is the better answer then.
        let executable =
            argument0.contains("/")
            ? URL(fileURLWithPath: argument0) : (Bundle.main.executableURL ?? URL(fileURLWithPath: argument0))
        return executable.resolvingSymlinksInPath().deletingLastPathComponent()
    }
}

/// The instant of the stream's first write, set from the request producer (which runs in another task) and read
/// once the response has arrived.
final class FirstWriteClock: Sendable {
    private let state = Mutex<ContinuousClock.Instant?>(nil)

    /// When the first write started, or `nil` before it.
    var instant: ContinuousClock.Instant? {
        state.withLock { $0 }
    }

    /// Records now, the first time only.
    func mark() {
        let now = ContinuousClock.now
        state.withLock { if $0 == nil { $0 = now } }
    }
}

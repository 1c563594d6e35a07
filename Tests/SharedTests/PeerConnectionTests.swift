import C360Clients
import C360Contracts
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import ServiceLifecycleTestKit
import Synchronization
import Testing

/// A health service whose Watch says SERVING once and then never ends, whatever happens to its client: a peer stream
/// whose end never reached the caller.
private struct EndlessWatch: Grpc_Health_V1_Health.SimpleServiceProtocol {
    func check(request: Grpc_Health_V1_HealthCheckRequest, context: ServerContext) async throws
        -> Grpc_Health_V1_HealthCheckResponse
    {
        .with { $0.status = .serving }
    }

    func watch(
        request: Grpc_Health_V1_HealthCheckRequest, response: RPCWriter<Grpc_Health_V1_HealthCheckResponse>,
        context: ServerContext
    ) async throws {
        try await response.write(.with { $0.status = .serving })
        try? await Task.sleep(for: .seconds(24 * 3600))
    }
}

/// Keeps the messages logged at warning level or above.
private final class CapturedWarnings: Sendable {
    let messages = Mutex<[String]>([])

    var logger: Logger {
        Logger(label: "test") { _ in Handler(captured: self) }
    }

    struct Handler: LogHandler {
        let captured: CapturedWarnings
        var logLevel: Logger.Level = .warning
        var metadata: Logger.Metadata = [:]

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            captured.messages.withLock { $0.append("\(event.message)") }
        }
    }
}

/// Runs `body` with the address of a local server of `EndlessWatch` and a way to stop that server early; it is stopped
/// (cancelled: the endless stream never lets it stop gracefully) when `body` returns.
private func withEndlessWatchServer(
    _ body: (PeerAddress, _ stopServer: () -> Void) async throws -> Void
) async throws {
    let server = GRPCServer(
        transport: .http2NIOPosix(address: .ipv4(host: "127.0.0.1", port: 0), transportSecurity: .plaintext),
        services: [EndlessWatch()])
    try await withThrowingDiscardingTaskGroup { serving in
        // Cancellation makes it report an error; a server that could not listen has no listening address.
        serving.addTask { try? await server.serve() }
        defer { serving.cancelAll() }
        guard let port = try await server.listeningAddress?.ipv4?.port else {
            Issue.record("the test server did not listen")
            return
        }
        try await body(PeerAddress(host: "127.0.0.1", port: port)) { serving.cancelAll() }
    }
}

@Suite("Peer connections: graceful shutdown", .timeLimit(.minutes(1)))
struct PeerConnectionTests {
    @Test("a peer call still open when shutdown began holds the connection only until the drain limit, which it logs")
    func drainLimitCutsOpenCall() async throws {
        try await withEndlessWatchServer { address, stopServer in
            let warnings = CapturedWarnings()
            let connection = try PeerConnection(
                address: address, drainLimit: .milliseconds(300), logger: warnings.logger)
            let health = Grpc_Health_V1_Health.Client(wrapping: connection.client)

            try await testGracefulShutdown { shutdown in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await connection.run() }
                    // Given a call in flight on the connection, which neither side will end
                    let (opened, open) = AsyncStream<Void>.makeStream()
                    let call = Task {
                        try await health.watch(.init()) { response in
                            for try await _ in response.messages { open.yield() }
                        }
                    }
                    for await _ in opened { break }

                    // When shutdown begins, then the connection stops soon after the drain limit, and says why
                    let began = ContinuousClock.now
                    shutdown.triggerGracefulShutdown()
                    try await group.next()
                    #expect(ContinuousClock.now - began < .seconds(10))
                    // The call is left open (a service exits now); it ends when its server goes.
                    stopServer()
                    _ = await call.result
                    #expect(
                        warnings.messages.withLock { $0 }.contains {
                            $0.contains("still had calls in flight")
                        })
                }
            }
        }
    }

    @Test("a connection with nothing in flight stops at once on shutdown, without a warning")
    func idleConnectionStopsAtOnce() async throws {
        try await withEndlessWatchServer { address, _ in
            let warnings = CapturedWarnings()
            // A connection that is up (one call answered) and idle; its drain limit is far off.
            let connection = try PeerConnection(address: address, drainLimit: .seconds(30), logger: warnings.logger)
            try await testGracefulShutdown { shutdown in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await connection.run() }
                    let answer = try await Grpc_Health_V1_Health.Client(wrapping: connection.client).check(.init())
                    #expect(answer.status == .serving)
                    let began = ContinuousClock.now
                    shutdown.triggerGracefulShutdown()
                    try await group.next()
                    #expect(ContinuousClock.now - began < .seconds(10))
                }
            }
            #expect(warnings.messages.withLock { $0 }.isEmpty)
        }
    }
}

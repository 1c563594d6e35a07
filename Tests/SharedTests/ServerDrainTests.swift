import C360Contracts
import C360ServerKit
import C360TestSupport
import GRPCCore
import Testing

/// A health service whose Watch says SERVING and then has nothing more to say, like an alert feed on a quiet day:
/// only its client or the drain ends it. It reports when its body has stopped.
private struct QuietWatch: Grpc_Health_V1_Health.SimpleServiceProtocol {
    let bodyStopped: AsyncStream<Void>.Continuation

    func check(request: Grpc_Health_V1_HealthCheckRequest, context: ServerContext) async throws
        -> Grpc_Health_V1_HealthCheckResponse
    {
        .with { $0.status = .serving }
    }

    func watch(
        request: Grpc_Health_V1_HealthCheckRequest, response: RPCWriter<Grpc_Health_V1_HealthCheckResponse>,
        context: ServerContext
    ) async throws {
        try await ServerDrain.serverStream(context: context) {
            defer { bodyStopped.finish() }
            try await response.write(.with { $0.status = .serving })
            // Waits for good: only cancelling the body's task ends this.
            try await Task.sleep(for: .seconds(24 * 3600))
        }
    }
}

@Suite("Server drain: open server streams end with UNAVAILABLE", .timeLimit(.minutes(1)))
struct ServerDrainTests {
    @Test("a server stream still open when the drain begins ends with UNAVAILABLE, and its handler stops")
    func drainEndsOpenStream() async throws {
        let drain = ServerDrain()
        let (stopped, bodyStopped) = AsyncStream<Void>.makeStream()
        try await ServerDrain.$current.withValue(drain) {
            try await InProcessServer.withClient(serving: [QuietWatch(bodyStopped: bodyStopped)]) { client in
                let error = await #expect(throws: RPCError.self) {
                    try await Grpc_Health_V1_Health.Client(wrapping: client).watch(.init()) { response in
                        // Given an open stream, when the drain begins
                        for try await _ in response.messages { drain.begin() }
                    }
                }
                #expect(error?.code == .unavailable)
                #expect(error?.message == "server is shutting down; reconnect")
            }
        }
        // Then the handler's body was cancelled, not left waiting.
        for await _ in stopped {}
    }

    @Test("a server stream opened after the drain began is refused with UNAVAILABLE")
    func drainRefusesNewStreams() async throws {
        let drain = ServerDrain()
        drain.begin()
        let (_, bodyStopped) = AsyncStream<Void>.makeStream()
        try await ServerDrain.$current.withValue(drain) {
            try await InProcessServer.withClient(serving: [QuietWatch(bodyStopped: bodyStopped)]) { client in
                let error = await #expect(throws: RPCError.self) {
                    try await Grpc_Health_V1_Health.Client(wrapping: client).watch(.init()) { response in
                        for try await _ in response.messages {}
                    }
                }
                #expect(error?.code == .unavailable)
            }
        }
    }
}

@Suite("Health board through the drain")
struct HealthBoardDrainTests {
    @Test("drain turns everything NOT_SERVING for good at once and keeps watches open until shutdown")
    func drainThenShutDown() async throws {
        let board = HealthStatusBoard(services: ["customer360.v1.ProfileService"])
        let updates = board.watch("")
        board.setAll(.serving)

        board.drain()
        #expect(board.status(of: "") == .notServing)
        #expect(board.status(of: "customer360.v1.ProfileService") == .notServing)
        // A server that finishes binding after SIGTERM does not turn SERVING again.
        board.setAll(.serving)
        #expect(board.status(of: "") == .notServing)
        #expect(!board.isShutDown)

        board.shutDown()
        var seen: [HealthStatusBoard.Status] = []
        for await status in updates { seen.append(status) }
        // NOT_SERVING once: a watch reports changes, and shutting down after the drain changes nothing.
        #expect(seen == [.notServing, .serving, .notServing])
        #expect(board.isShutDown)
    }
}

public import C360Contracts
public import GRPCCore

/// The standard gRPC health-checking service (`grpc.health.v1.Health`), answering from a `HealthStatusBoard`.
public struct HealthService: Grpc_Health_V1_Health.SimpleServiceProtocol {
    private let board: HealthStatusBoard

    public init(board: HealthStatusBoard) {
        self.board = board
    }

    public func check(
        request: Grpc_Health_V1_HealthCheckRequest, context: ServerContext
    ) async throws -> Grpc_Health_V1_HealthCheckResponse {
        guard let status = board.status(of: request.service) else {
            throw RPCError(code: .notFound, message: "service '\(request.service)' is not served here")
        }
        return .with { $0.status = status }
    }

    public func watch(
        request: Grpc_Health_V1_HealthCheckRequest,
        response: RPCWriter<Grpc_Health_V1_HealthCheckResponse>,
        context: ServerContext
    ) async throws {
        let updates = board.watch(request.service)
        // Ends when the board finishes the stream (the server stops) or the client goes away: task cancellation alone
        // does not reach this handler, the RPC's cancellation handle does. Unlike other server streams a watch stays
        // open through the drain (`ServerDrain`), so that its NOT_SERVING reaches the watcher before the stream ends.
        try await withThrowingTaskGroup(of: WatchEnd.self) { group in
            group.addTask {
                for await status in updates {
                    try await response.write(.with { $0.status = status })
                }
                return .updatesEnded
            }
            group.addTask {
                try await context.cancellation.cancelled
                return .cancelled
            }
            while let end = try await group.next() {
                // The server stopping cancels every RPC just after the board finished the stream: let the writer
                // deliver what is left (NOT_SERVING) and end by itself.
                if end == .updatesEnded || !board.isShutDown { break }
            }
            group.cancelAll()
        }
        // A watch the server ended says so, so the watcher reconnects (elsewhere) instead of taking it as an answer.
        if board.isShutDown { throw ServerDrain.shuttingDown }
    }
}

/// Which side of a health watch ended first.
private enum WatchEnd: Sendable {
    case updatesEnded
    case cancelled
}

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
        // Ends when the board finishes the stream (shutdown) or the client goes away: task cancellation alone does
        // not reach this handler, the RPC's cancellation handle does.
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await status in updates {
                    try await response.write(.with { $0.status = status })
                }
            }
            group.addTask { try await context.cancellation.cancelled }
            try await group.next()
            group.cancelAll()
        }
    }
}

public import GRPCCore

/// Refuses calls that do not carry this deployment's service token in `x-c360-service-token`, so only other Customer
/// 360 services (and tools given the token) reach an internal service. Health checks need no token, so probes work.
public struct ServiceTokenInterceptor: ServerInterceptor {
    /// The metadata key the token travels in.
    public static let metadataKey = "x-c360-service-token"
    static let healthService = "grpc.health.v1.Health"

    private let token: [UInt8]

    public init(token: String) {
        self.token = Array(token.utf8)
    }

    public func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>,
        context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        guard context.descriptor.service.fullyQualifiedService != Self.healthService else {
            return try await next(request, context)
        }
        guard let presented = request.metadata[stringValues: Self.metadataKey].first(where: { _ in true }) else {
            throw RPCError(code: .unauthenticated,
                           message: "this service answers only Customer 360 services: the call carries no service token")
        }
        guard Self.constantTimeEquals(Array(presented.utf8), token) else {
            throw RPCError(code: .unauthenticated, message: "the service token is wrong")
        }
        return try await next(request, context)
    }

    /// Compares without stopping at the first difference, so timing does not reveal how much of a guess was right.
    static func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        return zip(lhs, rhs).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

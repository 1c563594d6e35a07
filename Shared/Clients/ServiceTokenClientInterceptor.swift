public import GRPCCore

/// Adds the deployment's service token to every call a service makes to a peer.
public struct ServiceTokenClientInterceptor: ClientInterceptor {
    /// The key `CallerInterceptor` reads on the server side.
    public static let metadataKey = "x-c360-service-token"
    private let token: String

    public init(token: String) {
        self.token = token
    }

    public func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingClientRequest<Input>,
        context: ClientContext,
        next: (StreamingClientRequest<Input>, ClientContext) async throws -> StreamingClientResponse<Output>
    ) async throws -> StreamingClientResponse<Output> {
        var request = request
        request.metadata.replaceOrAddString(token, forKey: Self.metadataKey)
        return try await next(request, context)
    }
}

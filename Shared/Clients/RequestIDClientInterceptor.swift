public import GRPCCore

/// Carries the id of the request being served (`RequestContext.current`) on every call to a peer, so one id follows
/// a request through every hop and every service's log lines.
public struct RequestIDClientInterceptor: ClientInterceptor {
    public init() {}

    public func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingClientRequest<Input>,
        context: ClientContext,
        next: (StreamingClientRequest<Input>, ClientContext) async throws -> StreamingClientResponse<Output>
    ) async throws -> StreamingClientResponse<Output> {
        guard let id = RequestContext.current?.requestID else { return try await next(request, context) }
        var request = request
        request.metadata.replaceOrAddString(id, forKey: RequestContext.requestIDKey)
        return try await next(request, context)
    }
}

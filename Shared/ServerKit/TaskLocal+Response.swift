public import GRPCCore

extension TaskLocal {
    /// Runs `next` with this task-local bound to `value`, and the response's producer too: a server-streaming
    /// handler writes its messages from the producer, after the interceptor that bound the value has returned.
    public func withValueWhileResponding<Output: Sendable>(
        _ value: Value, _ next: () async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        var response = try await withValue(value) { try await next() }
        if case .success(var contents) = response.accepted {
            let producer = contents.producer
            contents.producer = { writer in try await self.withValue(value) { try await producer(writer) } }
            response.accepted = .success(contents)
        }
        return response
    }
}

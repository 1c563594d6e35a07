public import GRPCCore
import Metrics

/// Records every call a service makes to a peer: `grpc_client_requests_total` by method and status code, and the
/// `grpc_client_request_duration_seconds` histogram by method, measured until the peer answers (its response head,
/// or the error that stands in for it).
public struct PeerCallMetricsInterceptor: ClientInterceptor {
    public init() {}

    public func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingClientRequest<Input>,
        context: ClientContext,
        next: (StreamingClientRequest<Input>, ClientContext) async throws -> StreamingClientResponse<Output>
    ) async throws -> StreamingClientResponse<Output> {
        let method = context.descriptor.fullyQualifiedMethod
        let started = ContinuousClock.now
        do {
            let response = try await next(request, context)
            switch response.accepted {
            case .success: record(method, code: "ok", since: started)
            case .failure(let error): record(method, code: "\(error.code)", since: started)
            }
            return response
        } catch let error as RPCError {
            record(method, code: "\(error.code)", since: started)
            throw error
        } catch {
            record(method, code: "unknown", since: started)
            throw error
        }
    }

    private func record(_ method: String, code: String, since started: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - started
        Counter(label: "grpc_client_requests_total", dimensions: [("method", method), ("code", code)]).increment()
        Timer(label: "grpc_client_request_duration_seconds", dimensions: [("method", method)]).record(duration: elapsed)
    }
}

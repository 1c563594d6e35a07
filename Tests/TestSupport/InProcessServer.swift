import C360ServerKit
public import GRPCCore
public import GRPCInProcessTransport
import Logging

/// Runs services behind a real `GRPCServer` (with the shared `RequestInterceptor`) over an in-process transport,
/// so handler tests exercise serialisation, error mapping and interceptors without sockets. `interceptors` run inside
/// the request interceptor, as a service's own checks do in `ServiceHost`.
public enum InProcessServer {
    public static func withClient<Result: Sendable>(
        serving services: [any RegistrableRPCService], interceptors: [any ServerInterceptor] = [],
        _ body: @Sendable (GRPCClient<InProcessTransport.Client>) async throws -> Result
    ) async throws -> Result {
        let transport = InProcessTransport()
        let server = GRPCServer(
            transport: transport.server, services: services,
            interceptors: [
                RequestInterceptor(logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
            ] + interceptors)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.serve() }
            defer { server.beginGracefulShutdown() }
            return try await withGRPCClient(transport: transport.client) { client in
                try await body(client)
            }
        }
    }
}

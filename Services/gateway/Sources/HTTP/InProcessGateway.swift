import C360Clients
public import C360ServerKit
public import GRPCCore
public import GRPCInProcessTransport
public import Logging
public import ServiceLifecycle

/// The gateway's gRPC service served a second time, in process, for the HTTP/JSON API: HTTP requests become calls
/// on this client, so they pass through exactly the same interceptors (request ids, metrics, access control,
/// audit) and handlers as gRPC clients do.
///
/// Its handlers see the process's `drain`, so an HTTP stream (`WatchAlerts`) ends when the drain begins instead of
/// holding the HTTP server's shutdown open.
public struct InProcessGateway: Service {
    private let server: GRPCServer<InProcessTransport.Server>
    private let drain: ServerDrain
    private let logger: Logger
    public let client: GRPCClient<InProcessTransport.Client>

    public init(
        services: [any RegistrableRPCService], interceptors: [any ServerInterceptor], drain: ServerDrain,
        logger: Logger
    ) {
        let transport = InProcessTransport()
        server = GRPCServer(transport: transport.server, services: services, interceptors: interceptors)
        client = GRPCClient(transport: transport.client)
        self.drain = drain
        self.logger = logger
    }

    public func run() async throws {
        let cut = try await ServerDrain.$current.withValue(drain) {
            try await runWithBoundedDrain(limit: .seconds(2)) {
                try await withThrowingDiscardingTaskGroup { group in
                    group.addTask { try await server.serve() }
                    group.addTask { try await client.runConnections() }
                }
            } beginShutdown: {
                client.beginGracefulShutdown()
                server.beginGracefulShutdown()
            }
        }
        if cut { logger.warning("the in-process bridge still had calls in flight after shutdown began; ended them") }
    }
}

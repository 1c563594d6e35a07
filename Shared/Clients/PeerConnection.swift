public import GRPCCore
public import GRPCNIOTransportHTTP2
import Logging
public import ServiceLifecycle

/// One long-lived HTTP/2 connection to a peer service, run as a lifecycle `Service` so it is closed on graceful
/// shutdown. The wrapped client reconnects on its own with backoff when the peer restarts. Every call carries the
/// current request id (`RequestIDClientInterceptor`) and is counted and timed (`PeerCallMetricsInterceptor`).
///
/// Wrap `client` in the generated stub of the peer (`Customer360_V1_ProfileService.Client(wrapping:)`) and pass a
/// deadline (`CallOptions.timeout`) on every call.
public struct PeerConnection: Service {
    public let address: PeerAddress
    public let client: GRPCClient<HTTP2ClientTransport.Posix>

    /// A connection to `address`; with a `serviceToken`, every call carries it (internal services check it).
    public init(address: PeerAddress, serviceToken: String? = nil) throws {
        self.address = address
        self.client = GRPCClient(
            transport: try .http2NIOPosix(
                target: .dns(host: address.host, port: address.port),
                transportSecurity: .plaintext,
                config: .defaults { config in
                    config.connection.flushCoalescing = nil
                }
            ),
            interceptors: [RequestIDClientInterceptor(), PeerCallMetricsInterceptor()]
                + (serviceToken.map { [ServiceTokenClientInterceptor(token: $0)] } ?? [])
        )
    }

    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await client.runConnections()
        } onGracefulShutdown: {
            client.beginGracefulShutdown()
        }
    }
}

/// Call options with a deadline, which every call between services carries.
extension CallOptions {
    public static func deadline(_ timeout: Duration) -> CallOptions {
        var options = CallOptions.defaults
        options.timeout = timeout
        return options
    }
}

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

    /// A connection to `address` that proves who this process is with `credentials`: over mutual TLS when it has
    /// a certificate, else with the service token on every call (internal services check one or the other).
    public init(address: PeerAddress, credentials: PeerCredentials = .none) throws {
        self.address = address
        self.client = GRPCClient(
            transport: try .http2NIOPosix(
                target: address.target,
                transportSecurity: try credentials.tls?.clientSecurity() ?? .plaintext,
                config: .defaults { config in
                    config.connection.flushCoalescing = nil
                }
            ),
            interceptors: [RequestIDClientInterceptor(), PeerCallMetricsInterceptor()]
                + (credentials.serviceToken.map { [ServiceTokenClientInterceptor(token: $0)] } ?? [])
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

/// How a process proves who it is to the services it calls: its TLS certificate (mutual TLS, the identity is the
/// certificate's name) or, in deployments without TLS, the shared service token.
public struct PeerCredentials: Sendable {
    public var tls: TLSIdentity?
    /// Sent only when there is no certificate: with TLS the certificate says who calls, and the token would be one
    /// more secret on the wire for nothing.
    public var serviceToken: String?

    public init(tls: TLSIdentity? = nil, serviceToken: String? = nil) {
        self.tls = tls
        self.serviceToken = tls == nil ? serviceToken : nil
    }

    /// Plaintext, no token: a deployment on loopback that checks nothing.
    public static let none = PeerCredentials()
}

/// Call options with a deadline, which every call between services carries.
extension CallOptions {
    public static func deadline(_ timeout: Duration) -> CallOptions {
        var options = CallOptions.defaults
        options.timeout = timeout
        return options
    }
}

public import GRPCCore
public import GRPCNIOTransportHTTP2
public import Logging
public import ServiceLifecycle

/// One long-lived HTTP/2 connection to a peer service, run as a lifecycle `Service` so it is closed on graceful
/// shutdown. The wrapped client reconnects on its own with backoff when the peer restarts. Every call carries the
/// current request id (`RequestIDClientInterceptor`) and is counted and timed (`PeerCallMetricsInterceptor`).
///
/// Wrap `client` in the generated stub of the peer (`Customer360_V1_ProfileService.Client(wrapping:)`) and pass a
/// deadline (`CallOptions.timeout`) on every call.
///
/// On graceful shutdown the connection lets the calls in flight finish for at most `drainLimit`, then stops waiting
/// for them (`runWithBoundedDrain`): a service stops its peer connections after its servers drained and its background work
/// stopped, so a call still open by then has no one waiting for its answer.
public struct PeerConnection: Service, CustomStringConvertible {
    public let address: PeerAddress
    /// Routes each call to the shard that owns its customer when the shard map names the peer; else the one address.
    public let client: GRPCClient<PeerTransport>
    /// The peer's shards in the map in force, read on each call; empty when the peer is not sharded. Change-feed
    /// consumers follow each one.
    public let shardNames: @Sendable () -> [String]
    /// How long the calls in flight may take to finish once shutdown began.
    public let drainLimit: Duration
    private let logger: Logger

    /// A connection to `address` that proves who this process is with `credentials`: over mutual TLS when it has
    /// a certificate, else with the service token on every call (internal services check one or the other).
    /// `logger` says when shutdown had to cut calls still in flight. When `shards` lists `service` (its executable
    /// name), calls go to its shards (`ShardedClientTransport`, routed by `routing`) and `address` is not used.
    public init(
        address: PeerAddress, service: String = "", shards: ShardMapSource? = nil,
        routing: ShardRouting = ShardRouting(routes: [:]), credentials: PeerCredentials = .none,
        drainLimit: Duration = .seconds(2), logger: Logger = Logger(label: "peer-connection")
    ) throws {
        self.address = address
        self.drainLimit = drainLimit
        self.logger = logger
        self.shardNames = { shards?.current.services[service]?.map(\.shard) ?? [] }
        let security = try credentials.transportSecurity()
        self.client = GRPCClient(
            transport: try ShardedClientTransport(
                service: service, address: address, source: shards, routing: routing
            ) { address in
                try .http2NIOPosix(
                    target: address.target, transportSecurity: security,
                    config: .defaults { config in
                        config.connection.flushCoalescing = nil
                        // Peers are on the same network: a restarted peer is called again within seconds of
                        // coming back, not after the library's default of up to two minutes between attempts.
                        config.backoff = .init(
                            initial: .milliseconds(100), max: .seconds(5), multiplier: 1.6, jitter: 0.2)
                    })
            },
            interceptors: [RequestIDClientInterceptor(), PeerCallMetricsInterceptor()] + credentials.interceptors
        )
    }

    /// The peer it connects to, as its log lines name it.
    public var description: String { "to \(address)" }

    public func run() async throws {
        let cut = try await runWithBoundedDrain(limit: drainLimit) {
            try await client.runConnections()
        } beginShutdown: {
            client.beginGracefulShutdown()
        }
        if cut {
            logger.warning(
                "peer connection still had calls in flight after shutdown began; closed it",
                metadata: ["peer": "\(address)", "drain_limit": "\(drainLimit)"])
        }
    }
}

/// The transport of every connection to a peer service.
public typealias PeerTransport = ShardedClientTransport

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

    /// How a call presents these credentials on the wire: mutual TLS with the certificate, else plaintext.
    public func transportSecurity() throws -> HTTP2ClientTransport.Posix.TransportSecurity {
        try tls?.clientSecurity() ?? .plaintext
    }

    /// What a client sends them with: the token's interceptor when there is a token, else nothing.
    public var interceptors: [any ClientInterceptor] {
        serviceToken.map { [ServiceTokenClientInterceptor(token: $0)] } ?? []
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

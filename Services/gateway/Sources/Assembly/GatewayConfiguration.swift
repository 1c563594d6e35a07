public import C360Clients
public import C360ServerKit
public import ServiceLifecycle

/// Everything the gateway needs to run, read once at start-up by `gateway` from its flags and `C360_GATEWAY_*`
/// variables, or built by a test that runs it in-process.
///
/// | key | flag | environment | default |
/// |---|---|---|---|
/// | `server` | `--host`, `--port`, `--data-dir`, `--tls-*` … (`ServerConfiguration`) | `C360_GATEWAY_HOST` … | port 50050 |
/// | `profileAddress` … `outreachAddress` | `--profile-addr` … `--outreach-addr` | `C360_GATEWAY_PROFILE_ADDR` … | their default ports on 127.0.0.1 |
/// | `peerDeadline` | `--peer-deadline-ms` | `C360_GATEWAY_PEER_DEADLINE_MS` | 1 s: a view waits for its slowest backend |
/// | `rateLimit` | `--rate-limit` | `C360_GATEWAY_RATE_LIMIT` | 1000/s per API key, bursts of 2000; `nil` (off): no limit |
/// | `httpPort` | `--http-port` | `C360_GATEWAY_HTTP_PORT` | 8080 |
/// | `httpPortFile` | `--http-port-file` | `C360_GATEWAY_HTTP_PORT_FILE` | none |
public struct GatewayConfiguration: Sendable {
    public var server: ServerConfiguration
    public var profileAddress: PeerAddress
    public var interactionAddress: PeerAddress
    public var feedbackAddress: PeerAddress
    public var successAddress: PeerAddress
    public var outreachAddress: PeerAddress
    public var peerDeadline: Duration
    /// Calls each API key may make; `nil`: unlimited.
    public var rateLimit: RateLimiter.Limit?
    /// The JSON API and web dashboard; 0 picks a free port.
    public var httpPort: Int
    /// Where the bound HTTP port is written once listening.
    public var httpPortFile: String?

    public init(
        server: ServerConfiguration, profileAddress: PeerAddress, interactionAddress: PeerAddress,
        feedbackAddress: PeerAddress, successAddress: PeerAddress, outreachAddress: PeerAddress,
        peerDeadline: Duration = .seconds(1),
        rateLimit: RateLimiter.Limit? = RateLimiter.Limit(parsing: "1000/s,burst=2000"),
        httpPort: Int = 8080, httpPortFile: String? = nil
    ) {
        self.server = server
        self.profileAddress = profileAddress
        self.interactionAddress = interactionAddress
        self.feedbackAddress = feedbackAddress
        self.successAddress = successAddress
        self.outreachAddress = outreachAddress
        self.peerDeadline = peerDeadline
        self.rateLimit = rateLimit
        self.httpPort = httpPort
        self.httpPortFile = httpPortFile
    }
}

/// The gateway assembled from `configuration`: its store (and the bootstrap admin key on first start), the five
/// backends, the gateway service and the forwarder behind access control, and the HTTP front end over an in-process
/// bridge, served until SIGTERM/SIGINT (or the group's graceful shutdown) by one `ServiceGroup`.
public func makeGatewayServiceGroup(_ configuration: GatewayConfiguration) async throws -> ServiceGroup {
    let host = ServiceHost(identity: .gateway, configuration: configuration.server)
    let database = try host.openDatabase()
    let store = try GatewayStore(writer: database)
    if let file = try await BootstrapKey.ensure(store: store, dataDirectory: configuration.server.dataDirectory) {
        host.logger.notice(
            "created the bootstrap admin key; its secret is in the file (mode 0600)", metadata: ["file": "\(file)"])
    }
    let profile = try host.connect(to: .profile, at: configuration.profileAddress)
    let interaction = try host.connect(to: .interaction, at: configuration.interactionAddress)
    let feedback = try host.connect(to: .feedback, at: configuration.feedbackAddress)
    let success = try host.connect(to: .success, at: configuration.successAddress)
    let outreach = try host.connect(to: .outreach, at: configuration.outreachAddress)
    host.logger.notice(
        "peers",
        metadata: [
            "profile": "\(profile.address)", "interaction": "\(interaction.address)", "feedback": "\(feedback.address)",
            "success": "\(success.address)", "outreach": "\(outreach.address)",
            "deadline_ms": "\(configuration.peerDeadline.wholeMilliseconds)",
        ])
    let peers = Peers(
        profile: profile.client, interaction: interaction.client, feedback: feedback.client,
        success: success.client, outreach: outreach.client, deadline: configuration.peerDeadline,
        shards: Dictionary(
            uniqueKeysWithValues: [
                (ServiceIdentity.profile, profile), (.interaction, interaction), (.feedback, feedback),
                (.success, success), (.outreach, outreach),
            ].map { ($0.0.name, $0.1.shardNames) }))
    let authenticator = Authenticator(store: store)
    let service = GatewayService(store: store, peers: peers, authenticator: authenticator)
    let forwarder = BackendForwarder(peers: peers, store: store)
    host.logger.notice(
        "forwarding the backend services' own RPCs",
        metadata: [
            "rpcs": "\(forwarder.forwardedMethods.count)"
        ])
    let accessControl = AccessControlInterceptor(
        authenticator: authenticator,
        rateLimiter: configuration.rateLimit.map { RateLimiter(limit: $0) })
    host.logger.notice(
        "rate limit per API key",
        metadata: [
            "limit": "\(configuration.rateLimit.map(String.init(describing:)) ?? "off")"
        ])
    let bridge = InProcessGateway(
        services: [service, forwarder],
        interceptors: [RequestInterceptor(logger: host.logger), accessControl],
        drain: host.drain, logger: host.logger)
    let http = try HTTPServer.service(
        host: configuration.server.host, port: configuration.httpPort, portFile: configuration.httpPortFile,
        tls: configuration.server.tls, api: JSONAPI(client: bridge.client), logger: host.logger)
    return try host.serviceGroup(
        serving: [service, forwarder], database: database,
        background: [profile, interaction, feedback, success, outreach, bridge],
        frontEnds: [http], interceptors: [accessControl])
}

public import C360Clients
public import C360ServerKit
import GRDB
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
/// | `keys` | `--authority-port`, `--authority-port-file`, `--authority-addr`, `--authority-token-file` | `C360_GATEWAY_AUTHORITY_PORT` … | `.own` |
public struct GatewayConfiguration: Sendable {
    /// Where the API keys and the audit log live when the gateway runs as several replicas.
    public enum Keys: Sendable, Equatable {
        /// In this gateway's database; no other gateway uses them.
        case own
        /// In this gateway's database, served to replicas on an internal port (0 picks a free one; the bound port is
        /// written to `portFile`) to callers with `token`, or with TLS the gateway's certificate.
        case authority(port: Int, portFile: String?, token: String?)
        /// At the authority gateway's internal port, proved with `token` or with TLS the gateway's certificate: this
        /// replica keeps no database.
        case replica(of: PeerAddress, token: String?)
    }

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
    public var keys: Keys

    public init(
        server: ServerConfiguration, profileAddress: PeerAddress, interactionAddress: PeerAddress,
        feedbackAddress: PeerAddress, successAddress: PeerAddress, outreachAddress: PeerAddress,
        peerDeadline: Duration = .seconds(1),
        rateLimit: RateLimiter.Limit? = RateLimiter.Limit(parsing: "1000/s,burst=2000"),
        httpPort: Int = 8080, httpPortFile: String? = nil, keys: Keys = .own
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
        self.keys = keys
    }
}

/// The gateway assembled from `configuration`: its keys and audit log (its own database, with the bootstrap admin key
/// on first start, or its authority's), the five backends, the gateway service and the forwarder behind access
/// control, the HTTP front end over an in-process bridge, and for an authority the internal port its replicas use,
/// served until SIGTERM/SIGINT (or the group's graceful shutdown) by one `ServiceGroup`.
public func makeGatewayServiceGroup(_ configuration: GatewayConfiguration) async throws -> ServiceGroup {
    let replicaOf: (address: PeerAddress, token: String?)? =
        if case .replica(let authority, let token) = configuration.keys { (authority, token) } else { nil }
    let host = ServiceHost(
        identity: .gateway, configuration: configuration.server,
        database: replicaOf.map { "none: API keys and audit log at the authority \($0.address)" })
    let database: DatabasePool?
    let store: GatewayStore?
    let records: any AccessRecords
    var authority: [any Service] = []
    var readiness: GRPCServerService.Readiness?
    if let replicaOf {
        database = nil
        store = nil
        // Its own token, not the service token every process holds: only gateways may reach the authority.
        let connection = try PeerConnection(
            address: replicaOf.address, service: ServiceIdentity.gateway.name,
            credentials: PeerCredentials(tls: configuration.server.tls, serviceToken: replicaOf.token),
            logger: host.logger)
        let remote = AuthorityRecords(
            client: connection.client, deadline: configuration.peerDeadline, logger: host.logger)
        authority = [connection, remote.watch]
        records = remote
        // A replica refuses every audited call until it has heard its authority serve: until then it is not ready, so
        // a load balancer or readiness probe sends clients to the gateways that can answer them.
        readiness = .init(waitingFor: "the gateway authority at \(replicaOf.address) to serve and accept this replica")
        {
            await remote.acceptsThisReplica()
        }
        host.logger.notice(
            "a replica: API keys and the audit log are the authority's",
            metadata: ["authority": "\(replicaOf.address)"])
    } else {
        let pool = try host.openDatabase()
        let own = try GatewayStore(writer: pool)
        if let file = try await BootstrapKey.ensure(store: own, dataDirectory: configuration.server.dataDirectory) {
            host.logger.notice(
                "created the bootstrap admin key; its secret is in the file (mode 0600)", metadata: ["file": "\(file)"])
        }
        database = pool
        store = own
        records = own
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
    let authenticator = Authenticator(records: records)
    var internalPorts: [any Service] = []
    if case .authority(let port, let portFile, let token) = configuration.keys, let store {
        internalPorts.append(
            try host.internalServer(
                named: "authority", port: port, portFile: portFile,
                services: [GatewayAuthorityService(store: store, authenticator: authenticator)],
                callers: [ServiceIdentity.gateway.name], token: token))
        host.logger.notice(
            "the authority: gateway replicas keep their API keys and audit log here",
            metadata: [
                "authority_port": "\(port)",
                "callers": "\(configuration.server.tls != nil ? "the gateway certificate" : "the authority token")",
            ])
    }
    let service = GatewayService(records: records, peers: peers, authenticator: authenticator)
    let forwarder = BackendForwarder(peers: peers, records: records)
    host.logger.notice(
        "forwarding the backend services' own RPCs",
        metadata: [
            "rpcs": "\(forwarder.forwardedMethods.count)"
        ])
    let accessControl = AccessControlInterceptor(
        authenticator: authenticator,
        rateLimiter: configuration.rateLimit.map { RateLimiter(limit: $0) }, auditLog: records)
    host.logger.notice(
        "rate limit per API key",
        metadata: [
            "limit": "\(configuration.rateLimit.map(String.init(describing:)) ?? "off")"
        ])
    let bridge = InProcessGateway(
        services: [service, forwarder],
        interceptors: [RequestInterceptor(logger: host.logger, answersClients: true), accessControl],
        drain: host.drain, logger: host.logger)
    let http = try HTTPServer.service(
        host: configuration.server.host, port: configuration.httpPort, portFile: configuration.httpPortFile,
        tls: configuration.server.tls, api: JSONAPI(client: bridge.client), logger: host.logger)
    return try host.serviceGroup(
        serving: [service, forwarder], database: database,
        background: internalPorts + authority + [profile, interaction, feedback, success, outreach, bridge],
        frontEnds: [http], interceptors: [accessControl], readiness: readiness)
}

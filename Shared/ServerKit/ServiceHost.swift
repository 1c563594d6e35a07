public import C360Clients
import C360StoreKit
public import GRDB
public import GRPCCore
public import GRPCNIOTransportHTTP2
public import Logging
import Metrics
public import ServiceLifecycle

/// Assembles one service process from its configuration: logging and metrics first, then its database, then the
/// `ServiceGroup` that runs the gRPC server (and the metrics endpoint) until SIGTERM or SIGINT, shutting down in
/// reverse order.
///
/// A service's `@main` stays thin: parse options, make a host, open the store, hand the handlers to
/// `serviceGroup(serving:)`, run it.
public struct ServiceHost: Sendable {
    public let identity: ServiceIdentity
    public let configuration: ServerConfiguration
    public let logger: Logger
    /// This process's drain, begun the moment SIGTERM/SIGINT arrives; a server other than the gRPC one (the gateway's
    /// in-process bridge) binds it for its handlers too.
    public let drain = ServerDrain()

    /// Bootstraps process-wide logging and metrics and logs the start-up line.
    ///
    /// - Parameter database: What the start-up line says of the database; nil: the service's own file in the data
    ///   directory (a gateway replica keeps none).
    public init(identity: ServiceIdentity, configuration: ServerConfiguration, database: String? = nil) {
        StructuredLogHandler.bootstrap(level: configuration.logLevel, format: configuration.logFormat)
        MetricsEndpoint.bootstrap()
        self.identity = identity
        self.configuration = configuration
        self.logger = Logger(label: identity.name)
        logger.notice(
            "starting",
            metadata: [
                "version": "\(C360Version.semantic)", "git": "\(C360Version.gitRevision)",
                "data_dir": "\(configuration.dataDirectory)",
                "database": "\(database ?? "\(configuration.dataDirectory)/\(identity.databaseFileName)")",
                "tls": "\(Self.describeTLS(configuration.tls, gateway: identity.name == ServiceIdentity.gateway.name))",
                "shards": "\(Self.describeShards(configuration.shards, service: identity.name))",
            ])
        if configuration.tls == nil {
            logger.warning(
                "TLS is off: gRPC traffic, service tokens, API keys and personal data cross the network unencrypted; give --tls-cert, --tls-key and --tls-ca outside a single machine"
            )
        }
    }

    /// What the start-up line says of TLS.
    static func describeTLS(_ tls: TLSIdentity?, gateway: Bool) -> String {
        guard let tls else { return "off (plaintext)" }
        let callers = gateway ? "clients use API keys" : "callers need a certificate from the CA"
        return "on as \(tls.name) (\(tls.certificatePath)), \(callers)"
    }

    /// What the start-up line says of sharding: this process's shard and slots, and which peers are sharded.
    static func describeShards(_ settings: ShardSettings?, service: String) -> String {
        guard let settings else { return "off" }
        let map = settings.source.current
        let peers = map.services.keys.filter { $0 != service }.sorted()
            .map { "\($0) in \(map.services[$0]?.count ?? 0)" }
        var parts: [String] = []
        if let shard = settings.shard {
            let count = map.services[service]?.count ?? 0
            parts.append(
                "this is \(shard), one of \(count), owning \(map.slotCount(of: shard, in: service)) of \(ShardMap.slotCount) slots"
            )
        }
        if !peers.isEmpty { parts.append("peers sharded: \(peers.joined(separator: ", "))") }
        parts.append("map \(settings.source.path) epoch \(map.epoch)")
        return parts.joined(separator: "; ")
    }

    /// Opens this service's own SQLite database inside the data directory.
    public func openDatabase() throws -> DatabasePool {
        try ServiceDatabase.openPool(
            directory: configuration.dataDirectory, fileName: identity.databaseFileName, logger: logger)
    }

    /// Which customers this process's background work is for: its shard's, or everyone's when it is not a shard.
    public var ownership: CustomerOwnership {
        CustomerOwnership(shards: configuration.shards, service: identity.name)
    }

    /// A connection to the peer service at `address`, proving who this process is with its certificate or service
    /// token (`ServerConfiguration.peerCredentials`), logging to this process's log. When the shard map names the
    /// peer, its calls go to the shard owning each customer, and `address` is not used.
    public func connect(to peer: ServiceIdentity, at address: PeerAddress) throws -> PeerConnection {
        try PeerConnection(
            address: address, service: peer.name, shards: configuration.shards?.source, routing: .current,
            credentials: configuration.peerCredentials, logger: logger)
    }

    /// The gRPC server for `services` (plus health and the admin service over `database`), the metrics endpoint
    /// when configured, and the other services of the process, run together and stopped gracefully on SIGTERM/SIGINT.
    /// `interceptors` run inside the request-id and metrics interceptor every service has (the gateway adds access
    /// control).
    ///
    /// On the signal, in this order (a group stops its members in reverse): health turns NOT_SERVING and the drain
    /// begins (`DrainTrigger`, the last member); `frontEnds` stop; the gRPC server stops accepting calls and lets
    /// those in flight finish; `background` stops, last first; the metrics endpoint stops last, so the drain can be
    /// watched.
    ///
    /// - Parameters:
    ///   - background: What the handlers use — peer connections, feeds, batch runners — in dependency order: they
    ///     must outlive the calls being drained.
    ///   - frontEnds: Other servers answering clients (the gateway's HTTP API): they stop taking requests before the
    ///     gRPC server drains.
    ///   - readiness: What must hold before health reports SERVING (a gateway replica: its authority answers).
    ///   - takesFamilyCalls: Whether, as a shard, the service answers calls sent for a merged-away customer's
    ///     survivor (`WrongShard.familyKey`): profile-service, whose store answers for that family alone, and every
    ///     service that refuses a write by a merged-away id whose survivor another shard owns
    ///     (`OwnedSurvivorsDirectory`).
    public func serviceGroup(
        serving services: [any RegistrableRPCService], database: (any DatabaseReader)?, background: [any Service] = [],
        frontEnds: [any Service] = [], interceptors: [any ServerInterceptor] = [],
        slotMoves: (any SlotMoveService)? = nil, readiness: GRPCServerService.Readiness? = nil,
        takesFamilyCalls: Bool = false
    ) throws -> ServiceGroup {
        if let slotMoves, configuration.shards?.shard != nil {
            let held = try slotMoves.recordHeldSlots()
            if !held.isEmpty {
                logger.warning(
                    """
                    this shard holds rows of slots the map gives to other shards that no move recorded (upgraded \
                    during a move, or restored from before a drop): its reads across customers leave them out; a move \
                    still under way drops them itself, otherwise delete them with AdminService/DropSlots on this shard \
                    (see deploy/README.md)
                    """, metadata: ["slots": "\(ShardMap.texts(of: held).joined(separator: ","))"])
            }
        }
        let admin = database.map {
            AdminService(
                identity: identity, database: $0, dataDirectory: configuration.dataDirectory,
                shards: configuration.shards, slotMoves: slotMoves)
        }
        let services = services + (admin.map { [$0] } ?? [])
        let health = HealthStatusBoard(services: services.flatMap(Self.serviceNames))
        // Internal services answer only Customer 360 processes: by certificate with TLS, else by the service token.
        // The gateway answers clients, who carry API keys instead.
        let isGateway = identity.name == ServiceIdentity.gateway.name
        var checks: [any ServerInterceptor] = isGateway ? [] : callerChecks()
        if let settings = configuration.shards, let shard = settings.shard {
            checks.append(
                ShardOwnershipInterceptor(
                    source: settings.source, service: identity.name, shard: shard, takesFamilyCalls: takesFamilyCalls,
                    logger: logger))
        }
        let grpc = GRPCServerService(
            host: configuration.host, port: configuration.port, security: try security, services: services,
            health: health, drain: drain, portFile: configuration.portFile, logger: logger,
            interceptors: checks + interceptors, readiness: readiness, answersClients: isGateway)
        var members: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if let tls = configuration.tls {
            members.append(.init(service: TLSReloadService(identity: tls, logger: logger)))
        }
        if let metricsPort = configuration.metricsPort {
            let path = database?.path
            members.append(
                .init(
                    service: MetricsEndpoint.service(
                        host: configuration.host, port: metricsPort, logger: logger,
                        beforeScrape: {
                            if let path {
                                Gauge(label: "c360_database_size_bytes").record(DatabaseBackup.sizeOnDisk(path))
                            }
                        })))
        }
        if let source = configuration.shards?.source {
            members.append(.init(service: StoppingMember(source, logger: logger)))
        }
        members += background.map { .init(service: StoppingMember($0, logger: logger)) }
        members.append(.init(service: grpc))
        members += frontEnds.map { .init(service: StoppingMember($0, logger: logger)) }
        members.append(.init(service: DrainTrigger(health: health, drain: drain, logger: logger)))
        var group = ServiceGroupConfiguration(
            services: members, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        group.maximumGracefulShutdownDuration = Self.gracefulShutdownLimit
        group.maximumCancellationDuration = .seconds(5)
        return ServiceGroup(configuration: group)
    }

    /// Who may call an internal service of this process: with TLS, a process whose certificate the RPC's allow-list
    /// names; else one with the service token; else anyone (a deployment without either checks nothing).
    func callerChecks() -> [any ServerInterceptor] {
        if configuration.tls != nil { return [CallerInterceptor(.certificates(.current), logger: logger)] }
        if let token = configuration.serviceToken { return [CallerInterceptor(.token(token), logger: logger)] }
        return []
    }

    /// How callers of an internal port prove who they are, for a start-up line.
    public var internalCallers: String {
        configuration.tls != nil ? "a certificate from the CA" : "the service token"
    }

    /// A second gRPC server for `services`, on `port` (0 picks a free one), that only the processes named `callers`
    /// may call: with TLS, by the name in their certificate (not even the `operator` certificate passes); without, by
    /// `token`, a secret of that port alone, so the service token every process holds does not open it. It has health
    /// and reflection of its own; its health turns NOT_SERVING the moment this process's drain begins, so its callers
    /// stop starting work that needs it, while it keeps answering until it is stopped. The gateway's authority serves
    /// its replicas here, apart from the port clients call with API keys. Run it as the first `background` member of
    /// `serviceGroup`: it stops last.
    ///
    /// - Throws: `ServerConfigurationError` without TLS or `token`: the port would be open to anyone.
    public func internalServer(
        named name: String, port: Int, portFile: String?, services: [any RegistrableRPCService],
        callers: Set<String>, token: String?
    ) throws -> any Service {
        var logger = logger
        logger[metadataKey: "listener"] = "\(name)"
        let check: CallerInterceptor.Check
        if configuration.tls != nil {
            check = .names(callers)
        } else if let token {
            check = .token(token)
        } else {
            throw ServerConfigurationError(
                "the \(name) port needs callers to prove who they are: give its token, or TLS (--tls-cert, --tls-key, --tls-ca)"
            )
        }
        let security: HTTP2ServerTransport.Posix.TransportSecurity =
            try configuration.tls?.serverSecurity(clientCertificates: .required) ?? .plaintext
        let health = HealthStatusBoard(services: services.flatMap(Self.serviceNames))
        return InternalServer(
            server: GRPCServerService(
                host: configuration.host, port: port, security: security, services: services, health: health,
                drain: drain, portFile: portFile, logger: logger,
                interceptors: [CallerInterceptor(check, logger: logger)]),
            health: health, drain: drain)
    }

    /// How long the members may take to stop gracefully after SIGTERM before the rest are cancelled: in-flight calls
    /// and a send in progress get this long, and a member that does not stop (a peer that never answers) cannot keep
    /// the process alive until a supervisor's kill (Kubernetes waits 30 s by default). With `--log-level debug` the
    /// group names the member it was waiting for.
    public static let gracefulShutdownLimit: Duration = .seconds(20)

    /// How the gRPC server is secured: plaintext, or TLS from `configuration.tls` — asking callers for certificates
    /// on every service but the gateway, whose clients carry API keys.
    public var security: HTTP2ServerTransport.Posix.TransportSecurity {
        get throws {
            guard let tls = configuration.tls else { return .plaintext }
            return try tls.serverSecurity(
                clientCertificates: identity.name == ServiceIdentity.gateway.name ? .notAsked : .required)
        }
    }

    /// The fully qualified gRPC service names a registrable service serves, for the health board.
    static func serviceNames(of service: any RegistrableRPCService) -> [String] {
        var router = RPCRouter<HTTP2ServerTransport.Posix>()
        service.registerMethods(with: &router)
        return Array(Set(router.methods.map(\.service.fullyQualifiedService)))
    }
}

/// A server on an internal port (`ServiceHost.internalServer`) whose health follows this process's drain: callers
/// watching it hear NOT_SERVING when SIGTERM arrives, though the server itself stops only with its group.
struct InternalServer: Service {
    let server: GRPCServerService
    let health: HealthStatusBoard
    let drain: ServerDrain

    func run() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                await drain.waitUntilBegun()
                if drain.hasBegun { health.drain() }
            }
            try await server.run()
            group.cancelAll()
        }
    }
}

/// The member of every service group that hears SIGTERM/SIGINT first — it is the last member, and a group stops its
/// members in reverse order. It turns health NOT_SERVING and begins the drain before any server stops, so load
/// balancers stop sending calls at once rather than after the in-flight ones finished, and open server streams end
/// with UNAVAILABLE instead of holding the shutdown.
struct DrainTrigger: Service {
    let health: HealthStatusBoard
    let drain: ServerDrain
    let logger: Logger

    func run() async throws {
        try await gracefulShutdown()
        health.drain()
        drain.begin()
        logger.notice("draining: health is NOT_SERVING, open server streams end with UNAVAILABLE")
    }
}

/// A member of the service group that says when it has stopped after shutdown began, so a shutdown that hangs
/// names the member it waits for: the members stop one after another, and the first without its line is the one.
struct StoppingMember: Service, CustomStringConvertible {
    let base: any Service
    let logger: Logger

    init(_ base: any Service, logger: Logger) {
        self.base = base
        self.logger = logger
    }

    /// The member's type, and its own description where it has one (a peer connection names its peer).
    var description: String {
        let type = String(describing: Swift.type(of: base))
        guard let described = base as? any CustomStringConvertible else { return type }
        return "\(type) \(described.description)"
    }

    func run() async throws {
        try await base.run()
        if Task.isShuttingDownGracefully {
            logger.info("stopped", metadata: ["member": "\(description)"])
        }
    }
}

/// The version every executable reports: the release's semantic version and the git revision it was built from.
public enum C360Version {
    /// The semantic version of this release; bump it when cutting a release (see README, Releases).
    public static let semantic = "0.1.0"
    /// The git commit the binary was built from (stamped by the BuildInfo plugin).
    public static let gitRevision = BuildInfo.gitRevision
    /// What `--version` prints, e.g. `0.1.0 (git 1a2b3c4d5e6f)`.
    public static let current = "\(semantic) (git \(gitRevision))"
}

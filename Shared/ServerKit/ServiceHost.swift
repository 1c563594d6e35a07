import C360StoreKit
import Metrics
public import GRDB
public import GRPCCore
import GRPCNIOTransportHTTP2
public import Logging
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

    /// Bootstraps process-wide logging and metrics and logs the start-up line.
    public init(identity: ServiceIdentity, configuration: ServerConfiguration) {
        StructuredLogHandler.bootstrap(level: configuration.logLevel, format: configuration.logFormat)
        MetricsEndpoint.bootstrap()
        self.identity = identity
        self.configuration = configuration
        self.logger = Logger(label: identity.name)
        logger.notice("starting", metadata: [
            "version": "\(C360Version.semantic)", "git": "\(C360Version.gitRevision)",
            "data_dir": "\(configuration.dataDirectory)",
        ])
    }

    /// Opens this service's own SQLite database inside the data directory.
    public func openDatabase() throws -> DatabasePool {
        try ServiceDatabase.openPool(
            directory: configuration.dataDirectory, fileName: identity.databaseFileName, logger: logger)
    }

    /// The gRPC server for `services` (plus health and the admin service over `database`), the metrics endpoint
    /// when configured, and any background services, run together and stopped gracefully on SIGTERM/SIGINT.
    /// `interceptors` run inside the request-id and metrics interceptor every service has (the gateway adds access
    /// control).
    public func serviceGroup(
        serving services: [any RegistrableRPCService], database: any DatabaseReader, background: [any Service] = [],
        interceptors: [any ServerInterceptor] = []
    ) -> ServiceGroup {
        let services = services + [AdminService(identity: identity, database: database,
                                                dataDirectory: configuration.dataDirectory)]
        let health = HealthStatusBoard(services: services.flatMap(Self.serviceNames))
        // Internal services only answer callers that carry the service token; the gateway answers clients, who
        // carry API keys instead.
        var checks: [any ServerInterceptor] = []
        if let token = configuration.serviceToken, identity.name != ServiceIdentity.gateway.name {
            checks.append(ServiceTokenInterceptor(token: token))
        }
        let grpc = GRPCServerService(
            host: configuration.host, port: configuration.port, services: services, health: health,
            portFile: configuration.portFile, logger: logger, interceptors: checks + interceptors)
        var members: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: grpc)]
        if let metricsPort = configuration.metricsPort {
            let path = database.path
            members.append(.init(service: MetricsEndpoint.service(
                host: configuration.host, port: metricsPort, logger: logger,
                beforeScrape: {
                    Gauge(label: "c360_database_size_bytes").record(DatabaseBackup.sizeOnDisk(path))
                })))
        }
        members += background.map { .init(service: $0) }
        return ServiceGroup(configuration: .init(
            services: members, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
    }

    /// The fully qualified gRPC service names a registrable service serves, for the health board.
    static func serviceNames(of service: any RegistrableRPCService) -> [String] {
        var router = RPCRouter<HTTP2ServerTransport.Posix>()
        service.registerMethods(with: &router)
        return Array(Set(router.methods.map(\.service.fullyQualifiedService)))
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

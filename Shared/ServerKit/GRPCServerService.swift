import C360Clients
public import Foundation
public import GRPCCore
public import GRPCNIOTransportHTTP2
public import Logging
public import ServiceLifecycle
import Synchronization

/// Runs a gRPC server as a lifecycle `Service`: binds host:port (0 picks a free port), logs the bound address,
/// writes the port to the port file, marks itself SERVING, and on graceful shutdown stops accepting calls, lets
/// in-flight calls finish and ends the health watches.
///
/// Health turns NOT_SERVING and server streams end earlier, when the drain begins (`ServiceHost` begins it before
/// any server stops); the server binds `drain` as `ServerDrain.current` for its handlers, and begins it itself when
/// it runs without a host.
public struct GRPCServerService: Service {
    public typealias Server = GRPCServer<HTTP2ServerTransport.Posix>

    private let server: Server
    private let transport: HTTP2ServerTransport.Posix
    private let health: HealthStatusBoard
    private let drain: ServerDrain
    private let portFile: String?
    private let logger: Logger
    private let readiness: Readiness?

    /// What must hold before a bound server reports SERVING, checked until it does (or the drain begins): a process
    /// that cannot do its work yet keeps load balancers and readiness probes away meanwhile.
    public struct Readiness: Sendable {
        /// Whether the process can serve now (it may ask a peer).
        public var isReady: @Sendable () async -> Bool
        /// What it waits for, for the log.
        public var waitingFor: String

        public init(waitingFor: String, isReady: @escaping @Sendable () async -> Bool) {
            self.waitingFor = waitingFor
            self.isReady = isReady
        }
    }

    public init(
        host: String, port: Int, security: HTTP2ServerTransport.Posix.TransportSecurity = .plaintext,
        services: [any RegistrableRPCService], health: HealthStatusBoard, drain: ServerDrain, portFile: String?,
        logger: Logger, interceptors: [any ServerInterceptor] = [], readiness: Readiness? = nil,
        answersClients: Bool = false
    ) {
        let transport = HTTP2ServerTransport.Posix(
            address: .ipv4(host: host, port: port),
            transportSecurity: security,
            config: .defaults { config in
                // Measured in TOOLCHAIN.md: holding responses to batch writes halves single-stream throughput;
                // a zero delay with a byte cap keeps most of the gain under many streams.
                config.connection.flushCoalescing = .init(maxFlushDelay: .microseconds(0), maxBytes: 64 * 1024)
                // A graceful shutdown waits for in-flight calls, but not for ever: a client that keeps a call or its
                // connection open after the second GOAWAY is cut off after this, so SIGTERM ends the process well
                // before a supervisor sends SIGKILL (30 s in the systemd units, 15 s in the tests).
                config.connection.maxGraceTime = .seconds(8)
            }
        )
        self.transport = transport
        self.server = GRPCServer(
            transport: transport,
            services: Self.withHealthAndReflection(services, health: health),
            interceptors: [RequestInterceptor(logger: logger, answersClients: answersClients)] + interceptors
        )
        self.health = health
        self.drain = drain
        self.portFile = portFile
        self.logger = logger
        self.readiness = readiness
    }

    /// `services` plus the standard health service and server reflection listing all of them.
    static func withHealthAndReflection(
        _ services: [any RegistrableRPCService], health: HealthStatusBoard
    ) -> [any RegistrableRPCService] {
        let served = services + [HealthService(board: health)]
        return served + [ReflectionService(services: served.flatMap(ServiceHost.serviceNames))]
    }

    /// The port the server is bound to, once it is listening.
    public func boundPort() async throws -> Int {
        let address = try await transport.listeningAddress
        if let port = address.ipv4?.port ?? address.ipv6?.port { return port }
        throw RPCError(code: .internalError, message: "the server is not bound to an IP address: \(address)")
    }

    /// How long the drain may take before the calls and connections still open are closed: below the group's own
    /// limit and the 15 s a test (or a short `terminationGracePeriodSeconds`) allows. The transport's grace time
    /// (`maxGraceTime`, 8 s) only starts once a client acknowledges the GOAWAY's ping, so a client that neither answers
    /// nor closes its idle connection would otherwise hold the server open for good; and a handler blocked on a peer
    /// could not be freed, since peer connections stop after the server.
    static let drainLimit: Duration = .seconds(10)

    /// Reports SERVING once `readiness` holds; gives up when the server stops first. Asked at once, then after 100 ms
    /// and less often up to every 2 s: a condition that asks a peer (a refused replica asking its authority) does not
    /// knock at it ten times a second for as long as nobody fixes the cause.
    private func serveOnceReady(_ readiness: Readiness) async {
        var pause = Duration.milliseconds(100)
        var waited = false
        while await !readiness.isReady() {
            if !waited {
                logger.notice("not reporting SERVING yet", metadata: ["waiting_for": "\(readiness.waitingFor)"])
                waited = true
            }
            guard !health.isShutDown, !Task.isCancelled else { return }
            try? await Task.sleep(for: pause)
            pause = min(pause * 2, .seconds(2))
        }
        health.setAll(.serving)
        if waited { logger.notice("reporting SERVING", metadata: ["ready": "\(readiness.waitingFor)"]) }
    }

    public func run() async throws {
        let cut = try await runWithBoundedDrain(limit: Self.drainLimit) {
            // Handler tasks are children of `serve()`, so they see the task-local.
            try await ServerDrain.$current.withValue(drain) {
                try await withThrowingDiscardingTaskGroup { group in
                    group.addTask { try await server.serve() }
                    let port = try await boundPort()
                    if let portFile { try PortFile.write(port, to: portFile) }
                    let address = try await transport.listeningAddress
                    logger.notice(
                        "gRPC listening",
                        metadata: [
                            "address": "\(address)", "port": "\(port)",
                            "port_file": "\(portFile ?? "-")",
                        ])
                    if let readiness {
                        group.addTask { await serveOnceReady(readiness) }
                    } else {
                        health.setAll(.serving)
                    }
                }
            }
        } beginShutdown: {
            logger.notice("graceful shutdown: draining in-flight calls")
            // In this order: server streams end, then the watches, and only then does gRPC cancel every RPC's
            // handle, so a watch ending on that cancellation already knows the server stops.
            drain.begin()
            health.shutDown()
            server.beginGracefulShutdown()
        }
        if cut {
            logger.warning(
                "gRPC calls or connections still open \(Self.drainLimit) after the drain began; closed them")
        }
        logger.notice("gRPC server stopped")
    }
}

/// A file replaced whole: the bytes go to a temporary file beside it, which is then renamed over it, so a reader (a
/// harness polling a port file, a shard polling its map, a restarted mover reading its state) sees the old file or the
/// new one, never a part.
public enum AtomicFile {
    public static func replace(_ path: String, with bytes: Data) throws {
        let temporary = path + ".tmp-\(getpid())"
        try bytes.write(to: URL(fileURLWithPath: temporary))
        guard rename(temporary, path) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
    }
}

/// Writes a bound port for a harness or launcher to read, whole (`AtomicFile`): a reader never sees half a number.
public enum PortFile {
    public static func write(_ port: Int, to path: String) throws {
        try AtomicFile.replace(path, with: Data("\(port)\n".utf8))
    }

    /// The port in the file at `url` once a whole one is there (a number and its newline, as `write` and the test
    /// peers write it), or `nil` while the file is missing or holds something else.
    public static func read(at url: URL) -> Int? {
        guard let data = try? Data(contentsOf: url) else { return nil }
        let text = String(decoding: data, as: UTF8.self)
        guard text.hasSuffix("\n"), let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)),
            (1...65535).contains(port)
        else { return nil }
        return port
    }
}

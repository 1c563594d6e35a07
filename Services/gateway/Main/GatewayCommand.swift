import ArgumentParser
import C360Clients
import C360ServerKit
import Foundation
import C360Gateway

/// `gateway`: what clients talk to. Parses its options and runs until SIGTERM/SIGINT.
@main
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Customer 360 gateway: the 360° customer view, KPIs, routed writes, API keys, audit log and privacy requests.",
        discussion: """
            Owns one SQLite database (gateway.sqlite in --data-dir) with API keys (stored hashed) and the audit log, \
            and serves customer360.v1.GatewayService over gRPC. Every call needs 'authorization: Bearer <secret>'. \
            On first start, when no admin key exists, an admin key is created and its secret written to \
            bootstrap-admin.key in --data-dir (readable only by the service user). Every option also reads \
            C360_GATEWAY_<OPTION> from the environment.
            """,
        version: C360Version.current,
        subcommands: [
            BackupCommand<GatewayStore>.self, RestoreCommand<GatewayStore>.self, HealthCommand<GatewayStore>.self,
        ]
    )

    @OptionGroup var server: ServerOptions

    @Option(help: "profile-service address. [env: C360_GATEWAY_PROFILE_ADDR] (default: 127.0.0.1:50051)")
    var profileAddr: String?

    @Option(help: "interaction-service address. [env: C360_GATEWAY_INTERACTION_ADDR] (default: 127.0.0.1:50052)")
    var interactionAddr: String?

    @Option(help: "feedback-service address. [env: C360_GATEWAY_FEEDBACK_ADDR] (default: 127.0.0.1:50053)")
    var feedbackAddr: String?

    @Option(help: "success-service address. [env: C360_GATEWAY_SUCCESS_ADDR] (default: 127.0.0.1:50054)")
    var successAddr: String?

    @Option(help: "outreach-service address. [env: C360_GATEWAY_OUTREACH_ADDR] (default: 127.0.0.1:50055)")
    var outreachAddr: String?

    @Option(help: "Deadline of each backend call, in milliseconds. [env: C360_GATEWAY_PEER_DEADLINE_MS] (default: 1000)")
    var peerDeadlineMs: Int?

    @Option(help: "Calls each API key may make: N/s (burst N), N/s,burst=M, or off. Over it: RESOURCE_EXHAUSTED (HTTP 429) with retry-after. [env: C360_GATEWAY_RATE_LIMIT] (default: 1000/s,burst=2000)")
    var rateLimit: String?

    @Option(help: "HTTP port of the JSON API and web dashboard; 0 picks a free port. [env: C360_GATEWAY_HTTP_PORT] (default: 8080)")
    var httpPort: Int?

    @Option(help: "Write the bound HTTP port to this file once listening. [env: C360_GATEWAY_HTTP_PORT_FILE]")
    var httpPortFile: String?

    func run() async throws {
        let identity = ServiceIdentity.gateway
        let environment = EnvironmentReader(service: identity, environment: ProcessInfo.processInfo.environment)
        func connect(_ flag: String?, _ key: String, _ fallback: String) throws -> PeerConnection {
            try PeerConnection(address: try environment.peerAddress(flag, key: key, default: fallback),
                               credentials: configuration.peerCredentials)
        }
        let deadlineMs: Int = try peerDeadlineMs ?? environment.value("PEER_DEADLINE_MS") ?? 1000
        guard (10...60_000).contains(deadlineMs) else { throw ValidationError("--peer-deadline-ms must be 10...60000") }
        let rateText: String = try rateLimit ?? environment.value("RATE_LIMIT") ?? "1000/s,burst=2000"
        let limit: RateLimiter.Limit?
        if rateText.lowercased() == "off" {
            limit = nil
        } else if let parsed = RateLimiter.Limit(parsing: rateText) {
            limit = parsed
        } else {
            throw ValidationError("--rate-limit must be N/s, N/s,burst=M or off, not '\(rateText)'")
        }

        let configuration = try server.resolve(for: identity)
        let host = ServiceHost(identity: identity, configuration: configuration)
        let database = try host.openDatabase()
        let store = try GatewayStore(writer: database)
        if let file = try await BootstrapKey.ensure(store: store, dataDirectory: configuration.dataDirectory) {
            host.logger.notice("created the bootstrap admin key; its secret is in the file (mode 0600)", metadata: ["file": "\(file)"])
        }
        let profile = try connect(profileAddr, "PROFILE_ADDR", "127.0.0.1:50051")
        let interaction = try connect(interactionAddr, "INTERACTION_ADDR", "127.0.0.1:50052")
        let feedback = try connect(feedbackAddr, "FEEDBACK_ADDR", "127.0.0.1:50053")
        let success = try connect(successAddr, "SUCCESS_ADDR", "127.0.0.1:50054")
        let outreach = try connect(outreachAddr, "OUTREACH_ADDR", "127.0.0.1:50055")
        host.logger.notice("peers", metadata: [
            "profile": "\(profile.address)", "interaction": "\(interaction.address)", "feedback": "\(feedback.address)",
            "success": "\(success.address)", "outreach": "\(outreach.address)", "deadline_ms": "\(deadlineMs)",
        ])
        let peers = Peers(profile: profile.client, interaction: interaction.client, feedback: feedback.client,
                          success: success.client, outreach: outreach.client, deadline: .milliseconds(deadlineMs))
        let authenticator = Authenticator(store: store)
        let service = GatewayService(store: store, peers: peers, authenticator: authenticator)
        let forwarder = BackendForwarder(peers: peers, store: store)
        host.logger.notice("forwarding the backend services' own RPCs", metadata: [
            "rpcs": "\(forwarder.forwardedMethods.count)",
        ])
        let accessControl = AccessControlInterceptor(authenticator: authenticator,
                                                     rateLimiter: limit.map { RateLimiter(limit: $0) })
        host.logger.notice("rate limit per API key", metadata: ["limit": "\(limit.map(String.init(describing:)) ?? "off")"])
        let bridge = InProcessGateway(services: [service, forwarder],
                                      interceptors: [RequestInterceptor(logger: host.logger), accessControl],
                                      drain: host.drain)
        let port: Int = try httpPort ?? environment.value("HTTP_PORT") ?? 8080
        guard (0...65_535).contains(port) else { throw ValidationError("--http-port must be 0...65535") }
        let portFile: String? = try httpPortFile ?? environment.value("HTTP_PORT_FILE")
        let http = try HTTPServer.service(host: configuration.host, port: port, portFile: portFile, tls: configuration.tls,
                                          api: JSONAPI(client: bridge.client), logger: host.logger)
        try await host.serviceGroup(
            serving: [service, forwarder], database: database, background: [profile, interaction, feedback, success, outreach, bridge],
            frontEnds: [http], interceptors: [accessControl]
        ).run()
    }
}

import ArgumentParser
import C360Clients
import C360Gateway
import C360ServerKit
import Foundation
import ServiceLifecycle

/// `gateway`: what clients talk to. Parses its options and runs until SIGTERM/SIGINT.
@main
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract:
            "Customer 360 gateway: the 360° customer view, KPIs, routed writes, API keys, audit log and privacy requests.",
        discussion: """
            Owns one SQLite database (gateway.sqlite in --data-dir) with API keys (stored hashed) and the audit log, \
            and serves customer360.v1.GatewayService over gRPC. Every call needs 'authorization: Bearer <secret>'. \
            On first start, when no admin key exists, an admin key is created and its secret written to \
            bootstrap-admin.key in --data-dir (readable only by the service user). Every option also reads \
            C360_GATEWAY_<OPTION> from the environment.

            Several replicas: run one gateway with --authority-port (it keeps the keys and the audit log, and serves \
            them to replicas on that port, to callers with the gateway's certificate or, without TLS, the \
            --authority-token-file secret) and any number with --authority-addr pointing at it and the same token \
            (they keep no database and need no --data-dir volume).
            """,
        version: C360Version.current,
        subcommands: [
            BackupCommand<GatewayStore>.self, RestoreCommand<GatewayStore>.self, HealthCommand<GatewayStore>.self,
        ]
    )

    @OptionGroup var server: ServerOptions
    @OptionGroup var profile: PeerAddressOption<ProfilePeer>
    @OptionGroup var interaction: PeerAddressOption<InteractionPeer>
    @OptionGroup var feedback: PeerAddressOption<FeedbackPeer>
    @OptionGroup var success: PeerAddressOption<SuccessPeer>
    @OptionGroup var outreach: PeerAddressOption<OutreachPeer>
    @OptionGroup var peerDeadline: PeerDeadlineOption

    @Option(
        help:
            "Calls each API key may make: N/s (burst N), N/s,burst=M, or off. Over it: RESOURCE_EXHAUSTED (HTTP 429) with retry-after. [env: C360_GATEWAY_RATE_LIMIT] (default: 1000/s,burst=2000)"
    )
    var rateLimit: String?

    @Option(
        help:
            "HTTP port of the JSON API and web dashboard; 0 picks a free port. [env: C360_GATEWAY_HTTP_PORT] (default: 8080)"
    )
    var httpPort: Int?

    @Option(help: "Write the bound HTTP port to this file once listening. [env: C360_GATEWAY_HTTP_PORT_FILE]")
    var httpPortFile: String?

    @Option(
        help:
            "Be the authority of several gateway replicas: serve this gateway's API keys and audit log to them on this internal port (0 picks a free one). Needs --authority-token-file or TLS. [env: C360_GATEWAY_AUTHORITY_PORT]"
    )
    var authorityPort: Int?

    @Option(
        help: "Write the bound authority port to this file once listening. [env: C360_GATEWAY_AUTHORITY_PORT_FILE]")
    var authorityPortFile: String?

    @Option(
        help:
            "Be a replica: use the API keys and audit log of the authority gateway at this host:port (its --authority-port) and keep no database. Needs --authority-token-file or TLS. [env: C360_GATEWAY_AUTHORITY_ADDR]"
    )
    var authorityAddr: String?

    @Option(
        help:
            "File whose first line is the secret the authority and its replicas share (at least 16 characters): without TLS, the only way in to the authority port. Give it only to gateways, not the service token's holders. [env: C360_GATEWAY_AUTHORITY_TOKEN_FILE]"
    )
    var authorityTokenFile: String?

    func run() async throws {
        try await makeGatewayServiceGroup(try resolve()).run()
    }

    /// The flags, else `C360_GATEWAY_*`, else the defaults (`GatewayConfiguration` lists them).
    func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> GatewayConfiguration {
        let identity = ServiceIdentity.gateway
        let env = EnvironmentReader(service: identity, environment: environment)
        let rateText: String = try rateLimit ?? env.value("RATE_LIMIT") ?? "1000/s,burst=2000"
        let limit: RateLimiter.Limit?
        if rateText.lowercased() == "off" {
            limit = nil
        } else if let parsed = RateLimiter.Limit(parsing: rateText) {
            limit = parsed
        } else {
            throw ValidationError("--rate-limit must be N/s, N/s,burst=M or off, not '\(rateText)'")
        }
        let port: Int = try httpPort ?? env.value("HTTP_PORT") ?? 8080
        guard (0...65_535).contains(port) else { throw ValidationError("--http-port must be 0...65535") }
        let server = try server.resolve(for: identity, environment: environment)
        let keys = try resolveKeys(env, server: server)
        return GatewayConfiguration(
            server: server,
            profileAddress: try profile.resolve(env), interactionAddress: try interaction.resolve(env),
            feedbackAddress: try feedback.resolve(env), successAddress: try success.resolve(env),
            outreachAddress: try outreach.resolve(env),
            peerDeadline: try peerDeadline.resolve(env, default: .seconds(1)),
            rateLimit: limit, httpPort: port, httpPortFile: try httpPortFile ?? env.value("HTTP_PORT_FILE"),
            keys: keys)
    }

    /// Own keys, the authority of replicas, or a replica (`GatewayConfiguration.Keys`).
    private func resolveKeys(_ env: EnvironmentReader, server: ServerConfiguration) throws -> GatewayConfiguration.Keys
    {
        let authorityPort: Int? = try self.authorityPort ?? env.value("AUTHORITY_PORT")
        let authorityText: String? = try authorityAddr ?? env.value("AUTHORITY_ADDR")
        let token = try ServerOptions.token(
            file: try authorityTokenFile ?? env.value("AUTHORITY_TOKEN_FILE"), value: nil,
            flag: "--authority-token-file", name: "the authority token")
        let proved = {
            guard server.tls != nil || token != nil else {
                throw ValidationError(
                    "--authority-port and --authority-addr need --authority-token-file (the same secret on the authority and every replica) or TLS, so only gateways reach the authority"
                )
            }
        }
        switch (authorityPort, authorityText) {
        case (nil, nil):
            return .own
        case (.some, .some):
            throw ValidationError(
                "--authority-port makes this gateway the authority and --authority-addr a replica of another: give one")
        case (let port?, nil):
            guard (0...65_535).contains(port) else { throw ValidationError("--authority-port must be 0...65535") }
            try proved()
            return .authority(
                port: port, portFile: try authorityPortFile ?? env.value("AUTHORITY_PORT_FILE"), token: token)
        case (nil, let text?):
            guard let address = PeerAddress(text) else {
                throw ValidationError("--authority-addr must be host:port, not '\(text)'")
            }
            try proved()
            return .replica(of: address, token: token)
        }
    }
}

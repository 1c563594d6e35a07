import C360Clients
import C360Contracts
import C360TestSupport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2

/// Two outreach-service shards on loopback with the four data services (one process each) and a real SMTP sink, the
/// shard map in a file every process reads: what the sharded outreach tests start.
struct OutreachShardStack {
    typealias Client = GRPCClient<HTTP2ClientTransport.Posix>

    var smtp: PythonPeer
    var mapFile: URL
    /// The map in force: `outreach-0` and `outreach-1` each own half the slots.
    var map: ShardMap
    var profile: Client
    var interaction: Client
    /// The data services' addresses as the other executables take them (`--profile-addr` …, `--success-addr`).
    var dataPeers: [String]
    var shards: [(process: ServiceProcess, client: Client)]

    /// Starts the stack, runs `body` with it, and stops every process.
    static func run(_ body: (OutreachShardStack) async throws -> Void) async throws {
        let mapFile = FileManager.default.temporaryDirectory.appendingPathComponent("c360-outreach-map-\(UUID()).json")
        defer { try? FileManager.default.removeItem(at: mapFile) }
        try map(["127.0.0.1:1", "127.0.0.1:2"], epoch: 1).json.write(to: mapFile)
        try await withPythonPeer("smtp_sink.py") { smtp in
            try await withService("profile-service") { profile, profileClient in
                let profilePeer = ["--profile-addr", "\(profile.address)"]
                try await withService("interaction-service", arguments: profilePeer) { interaction, interactionClient in
                    try await withService("feedback-service", arguments: profilePeer) { feedback, _ in
                        let dataPeers =
                            profilePeer + [
                                "--interaction-addr", "\(interaction.address)", "--feedback-addr",
                                "\(feedback.address)",
                            ]
                        try await withService("success-service", arguments: dataPeers) { success, _ in
                            let peers = dataPeers + ["--success-addr", "\(success.address)"]
                            let arguments =
                                peers + [
                                    "--refresh-delay-ms", "50", "--smtp-url", "smtp://\(smtp.address)",
                                    "--frequency-cap", "off", "--shard-map", mapFile.path,
                                ]
                            try await withService("outreach-service", arguments: arguments + ["--shard", "outreach-0"])
                            { shard0, client0 in
                                try await withService(
                                    "outreach-service", arguments: arguments + ["--shard", "outreach-1"]
                                ) { shard1, client1 in
                                    let real = try map(["\(shard0.address)", "\(shard1.address)"], epoch: 2)
                                    try real.json.write(to: mapFile)
                                    try await body(
                                        OutreachShardStack(
                                            smtp: smtp, mapFile: mapFile, map: real, profile: profileClient,
                                            interaction: interactionClient, dataPeers: peers,
                                            shards: [(shard0, client0), (shard1, client1)]))
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    static func map(_ addresses: [String], epoch: Int64) throws -> ShardMap {
        try ShardMap.even(
            epoch: epoch, services: [(name: "outreach-service", shardPrefix: "outreach", addresses: addresses)])
    }

    /// Runs `body` with an outreach client that routes by the map file, as every caller does.
    func routed(_ body: (Customer360_V1_OutreachService.Client<PeerTransport>) async throws -> Void) async throws {
        let connection = try PeerConnection(
            address: PeerAddress(host: "127.0.0.1", port: 1), service: "outreach-service",
            shards: try ShardMapSource(path: mapFile.path), routing: .current)
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await connection.run() }
            defer { group.cancelAll() }
            try await body(Customer360_V1_OutreachService.Client(wrapping: connection.client))
        }
    }

    /// A marketing email template whose subject greets the customer by name.
    static func emailTemplate(_ id: String, name: String, subject: String) -> Customer360_V1_PutTemplateRequest {
        .with {
            $0.templateID = id
            $0.name = name
            $0.purpose = .marketing
            $0.defaultLanguage = "en"
            $0.variants = [
                .with {
                    $0.channel = .email
                    $0.language = "en"
                    $0.subject = subject
                    $0.body = "Dear {{given_name|friend}}."
                }
            ]
        }
    }

    /// Creates a customer with an email address and email marketing consent; answers their id.
    func consentingCustomer(named name: String, email: String, tags: [String]) async throws -> String {
        let profiles = Customer360_V1_ProfileService.Client(wrapping: profile)
        let id = try await profiles.createCustomer(
            .with {
                $0.givenName = name
                $0.identifiers = [
                    .with {
                        $0.kind = .email
                        $0.value = email
                    }
                ]
                $0.tags = tags
            }
        ).customerID
        _ = try await profiles.setConsent(
            .with {
                $0.customerID = id
                $0.purpose = .marketing
                $0.channel = .email
                $0.status = .granted
                $0.source = "integration-test"
            })
        return id
    }
}

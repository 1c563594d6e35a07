import C360Contracts
import C360TestSupport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Testing

/// The C point-of-sale client, clients/c/build/pos: protobuf-c for the messages, libcurl for gRPC over HTTP/2 — a
/// second, independent implementation of the wire contract. `make test` builds it and names it here.
private let cClientPath = ProcessInfo.processInfo.environment["C360_C_CLIENT"]

/// A customer, a running system, keys of two roles and clients of the services' own contracts through the gateway,
/// to check what the till did.
private struct Till {
    var gateway: String
    var customerID: String
    var agentSecret: String
    var viewerSecret: String
    var profiles: Customer360_V1_ProfileService.Client<HTTP2ClientTransport.Posix>
    var interactions: Customer360_V1_InteractionService.Client<HTTP2ClientTransport.Posix>
    var admin: Metadata
    var workDirectory: URL

    /// Runs `pos --gateway <gateway> [--api-key <key>] <arguments>`.
    func pos(key: String?, _ arguments: [String]) async throws -> ChildProcess.Run {
        try await runPos(["--gateway", gateway] + (key.map { ["--api-key", $0] } ?? []) + arguments)
    }

    /// The customer's purchases, newest first, as interaction-service stored them.
    func purchases() async throws -> [Customer360_V1_Touchpoint] {
        try await interactions.listTimeline(
            .with {
                $0.customerID = customerID
                $0.kinds = [.purchase]
            }, metadata: admin
        ).touchpoints
    }

    func commerce() async throws -> Customer360_V1_CommerceStats {
        try await interactions.getCommerceStats(.with { $0.customerID = customerID }, metadata: admin)
    }

    func loyalty() async throws -> Customer360_V1_LoyaltyAccount {
        try await profiles.getLoyalty(.with { $0.customerID = customerID }, metadata: admin)
    }
}

/// The built client. Named but missing is a failure, not a skip: the Makefile said it built it.
private func cClient() throws -> URL {
    guard let path = cClientPath else {
        throw GatewayTestFailure(description: "C360_C_CLIENT is not set")
    }
    guard FileManager.default.isExecutableFile(atPath: path) else {
        throw GatewayTestFailure(
            description: "C360_C_CLIENT names \(path), which is not an executable: run make c-client")
    }
    return URL(fileURLWithPath: path)
}

/// Runs the C client (`ChildProcess`). It bounds itself: each call has a deadline (10 s default). The gateway and key
/// come from the arguments only, never from the environment of whoever runs the tests.
private func runPos(_ arguments: [String]) async throws -> ChildProcess.Run {
    try await ChildProcess.run(
        try cClient(), arguments, environment: ["C360_GATEWAY": nil, "C360_API_KEY": nil], mergingErrors: false)
}

/// Starts the five executables, makes an agent and a viewer key, creates a customer through the gateway and runs
/// `body` with them.
private func withTill(_ body: (Till) async throws -> Void) async throws {
    _ = try cClient()
    let workDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("c360-till-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: workDirectory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: workDirectory) }
    try await withGatewayStack { stack in
        let admin = bearer(stack.adminSecret)
        func secret(_ role: Customer360_V1_ApiKeyRole) async throws -> String {
            try await stack.gateway.createApiKey(
                .with {
                    $0.name = "till-\(role)"
                    $0.role = role
                }, metadata: admin
            ).secret
        }
        let (agent, viewer) = (try await secret(.agent), try await secret(.viewer))
        try await withConnectedClient(to: stack.gatewayProcess.address) { client in
            let profiles = Customer360_V1_ProfileService.Client(wrapping: client)
            let customer = try await profiles.createCustomer(
                .with {
                    $0.givenName = "Till"
                    $0.identifiers = [
                        .with {
                            $0.kind = .email
                            $0.value = "till.shopper@example.com"
                        }
                    ]
                }, metadata: bearer(agent))
            try await body(
                Till(
                    gateway: "\(stack.gatewayProcess.address)", customerID: customer.customerID, agentSecret: agent,
                    viewerSecret: viewer, profiles: profiles,
                    interactions: Customer360_V1_InteractionService.Client(wrapping: client), admin: admin,
                    workDirectory: workDirectory))
        }
    }
}

/// The `--at <seconds>` a recorded purchase printed: the time to send again when retrying it.
private func sentAt(_ run: ChildProcess.Run) -> String? {
    run.output.split(separator: "\n").lazy.compactMap { line -> String? in
        guard let range = line.range(of: "--at ") else { return nil }
        return String(line[range.upperBound...])
    }.first
}

@Suite(
    "The C client (protobuf-c + libcurl, no gRPC library) records purchases and reads loyalty through the gateway",
    .enabled(if: cClientPath != nil, "set C360_C_CLIENT to clients/c/build/pos (make test builds it and does)"))
struct CClientTests {
    @Test(
        "a purchase rung up on the C till is in the timeline and commerce stats, and the points it earned in the balance it reads"
    )
    func purchaseEarnAndBalance() async throws {
        try await withTill { till in
            // Given a customer with no purchases. When the till records order A100 with two lines and 125 points.
            let recorded = try await till.pos(
                key: till.agentSecret,
                [
                    "purchase", "--customer", till.customerID, "--order", "A100", "--amount-minor", "1250",
                    "--currency", "USD", "--item", "SKU-TEA:2:500:Green tea", "--item", "SKU-MUG:1:250", "--store",
                    "berlin-1",
                    "--points", "125",
                ])
            #expect(recorded.status == 0, "\(recorded)")
            #expect(
                recorded.output.contains("recorded purchase pos-A100 for customer \(till.customerID)"), "\(recorded)")
            #expect(recorded.output.contains("transaction pos-A100: 125 points earned"), "\(recorded)")

            // Then interaction-service holds the purchase exactly as the C code encoded it.
            let purchases = try await till.purchases()
            #expect(purchases.count == 1)
            let stored = try #require(purchases.first)
            #expect(stored.eventID == "pos-A100")
            #expect(stored.channel == .inStore && stored.direction == .inbound)
            #expect(stored.purchase.orderID == "A100")
            #expect(stored.purchase.amount.amountMinor == 1250 && stored.purchase.amount.currencyCode == "USD")
            #expect(stored.purchase.items.map(\.sku) == ["SKU-TEA", "SKU-MUG"])
            #expect(stored.purchase.items.map(\.quantity) == [2, 1])
            #expect(stored.purchase.items.map(\.unitPrice.amountMinor) == [500, 250])
            #expect(stored.purchase.items.first?.name == "Green tea")
            #expect(stored.attributes["store"] == "berlin-1")
            #expect(abs(stored.occurredAt.date.timeIntervalSinceNow) < 300, "occurred_at is the till's now")
            let commerce = try await till.commerce()
            #expect(commerce.orders == 1)
            #expect(commerce.grossRevenue.amountMinor == 1250)

            // And the balance the till reads with a viewer key is the one profile-service keeps.
            #expect(try await till.loyalty().balance == 125)
            let balance = try await till.pos(key: till.viewerSecret, ["balance", "--customer", till.customerID])
            #expect(balance.status == 0, "\(balance)")
            #expect(
                balance.output == """
                    loyalty of customer \(till.customerID): balance 125 points, lifetime earned 125, tier BRONZE

                    """, "\(balance)")
        }
    }

    @Test("ringing up the same order again at the time it printed stores nothing new and earns no more points")
    func retryIsIdempotent() async throws {
        try await withTill { till in
            let order = [
                "purchase", "--customer", till.customerID, "--order", "B7", "--amount-minor", "4200",
                "--currency", "USD", "--points", "42",
            ]
            let first = try await till.pos(key: till.agentSecret, order)
            #expect(first.status == 0, "\(first)")
            let at = try #require(sentAt(first), "\(first)")

            let retry = try await till.pos(key: till.agentSecret, order + ["--at", at])

            #expect(retry.status == 0, "\(retry)")
            #expect(retry.output.contains("purchase pos-B7 was already recorded"), "\(retry)")
            #expect(retry.output.contains("balance 42 points"), "\(retry)")
            #expect(try await till.purchases().count == 1)
            #expect(try await till.commerce().orders == 1)
            #expect(try await till.loyalty().balance == 42)
        }
    }

    @Test("an offline journal goes up as one client stream: good lines stored, the bad one reported by line, exit 1")
    func journalUpload() async throws {
        try await withTill { till in
            let journal = till.workDirectory.appendingPathComponent("journal.txt")
            let anHourAgo = Int(Date().timeIntervalSince1970) - 3_600
            try Data(
                """
                # till 4, offline since the morning
                \(till.customerID) J1 300 USD \(anHourAgo)

                \(till.customerID) J2 700 USD
                nobody J3 100 USD

                """.utf8
            ).write(to: journal)

            let upload = try await till.pos(key: till.agentSecret, ["upload", journal.path])

            #expect(upload.status == 1, "\(upload)")
            #expect(
                upload.output.contains("uploaded 3 purchase(s): received 3, stored 2, duplicate 0, rejected 1"),
                "\(upload)")
            #expect(upload.output.contains("rejected line 5 (pos-J3): INVALID_ARGUMENT customer_id"), "\(upload)")
            #expect(Set(try await till.purchases().map(\.eventID)) == ["pos-J1", "pos-J2"])
            let commerce = try await till.commerce()
            #expect(commerce.orders == 2)
            #expect(commerce.grossRevenue.amountMinor == 1_000)
        }
    }

    @Test(
        "the gateway's refusals reach the C client as gRPC statuses: no or a bad key UNAUTHENTICATED, a viewer recording PERMISSION_DENIED"
    )
    func refusals() async throws {
        try await withTill { till in
            let balance = ["balance", "--customer", till.customerID]
            let wrongKey = try await till.pos(key: "c360_not_a_key", balance)
            #expect(wrongKey.status == 1, "\(wrongKey)")
            #expect(wrongKey.output.isEmpty, "\(wrongKey)")
            #expect(
                wrongKey.errors.contains("pos: customer360.v1.ProfileService/GetLoyalty: UNAUTHENTICATED:"),
                "\(wrongKey)")

            let noKey = try await till.pos(key: nil, balance)
            #expect(noKey.status == 1, "\(noKey)")
            #expect(noKey.errors.contains("UNAUTHENTICATED"), "\(noKey)")

            let viewerRecording = try await till.pos(
                key: till.viewerSecret,
                [
                    "purchase", "--customer", till.customerID, "--order", "V1", "--amount-minor", "100", "--currency",
                    "USD",
                ])
            #expect(viewerRecording.status == 1, "\(viewerRecording)")
            #expect(
                viewerRecording.errors.contains("InteractionService/RecordTouchpoint: PERMISSION_DENIED:"),
                "\(viewerRecording)")
            #expect(try await till.purchases().isEmpty)
        }
    }
}

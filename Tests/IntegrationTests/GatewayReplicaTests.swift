import C360Clients
import C360Contracts
import C360TestExpectations
import C360TestSupport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import SwiftProtobuf
import Testing

typealias AuthorityClient = Customer360_V1_GatewayAuthorityService.Client<HTTP2ClientTransport.Posix>

/// The gateway as several replicas: one authority keeps the API keys and the audit log, a replica keeps no database
/// and uses the authority's, so a key made on either works on both and every audited call is in one hash chain.
@Suite("gateway replicas over one authority")
struct GatewayReplicaTests {
    @Test(
        "keys made on a replica work everywhere, its audited calls are stored once in the authority's chain, revoking stops the key on both, and a lost authority fails audited calls"
    )
    func replicaUsesTheAuthority() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("c360-replicas-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let token = "authority-\(UUID().uuidString)"
        let tokenFile = directory.appendingPathComponent("authority.token")
        try Data("\(token)\n".utf8).write(to: tokenFile)
        // The service token every process holds, which must not open the authority's port.
        let serviceToken = "service-\(UUID().uuidString)"
        let serviceTokenFile = directory.appendingPathComponent("service.token")
        try Data("\(serviceToken)\n".utf8).write(to: serviceTokenFile)
        let authorityPortFile = directory.appendingPathComponent("authority.port")

        try await withService("profile-service") { profile, _ in
            // Only profile-service is needed here; the other backends' addresses are never called.
            let backends = ["profile", "interaction", "feedback", "success", "outreach"].flatMap {
                ["--\($0)-addr", "\(profile.address)"]
            }
            let common =
                backends + [
                    "--http-port", "0", "--authority-token-file", tokenFile.path,
                    "--service-token-file", serviceTokenFile.path,
                ]
            try await withService(
                "gateway",
                arguments: common + ["--authority-port", "0", "--authority-port-file", authorityPortFile.path]
            ) { authorityProcess, authorityMain in
                let adminSecret = try await bootstrapSecret(of: authorityProcess)
                let authorityPort = try await portInFile(authorityPortFile, of: authorityProcess)
                let onAuthority = GatewayClient(wrapping: authorityMain)
                try await withService(
                    "gateway", arguments: common + ["--authority-addr", "127.0.0.1:\(authorityPort)"]
                ) { replicaProcess, replicaMain in
                    let onReplica = GatewayClient(wrapping: replicaMain)
                    try await checkReplica(
                        onReplica: onReplica, onAuthority: onAuthority, admin: bearer(adminSecret),
                        replicaProcess: replicaProcess, authorityPort: authorityPort, token: token,
                        serviceToken: serviceToken)

                    // A lost authority: an audited call is refused before it does anything, saying why.
                    try await authorityProcess.terminate()
                    await expectStatus(.unavailable, containing: "authority", "an audited call with no authority") {
                        _ = try await onReplica.createCustomer(
                            .with { $0.givenName = "Orphan" }, metadata: bearer(adminSecret))
                    }
                    try await withConnectedClient(to: profile.address) { client in
                        let listed = try await Customer360_V1_ProfileService.Client(wrapping: client).listCustomers(
                            .with { $0.page.pageSize = 100 })
                        #expect(!listed.customers.contains { $0.givenName == "Orphan" }, "a write with no record")
                    }

                    // Back on its port and volume: the replica's audited calls work again.
                    let returned = try await ServiceProcess.start(
                        "gateway",
                        arguments: common + ["--authority-port", "\(authorityPort)"],
                        dataDirectory: authorityProcess.dataDirectory)
                    defer { Task { await returned.cleanup() } }
                    // The replica reconnects on its own (peers back off at most 5 s between attempts); until then
                    // each audited call is refused before it does anything, so trying again is safe.
                    let back = try await untilAccepted(within: .seconds(15)) {
                        try await onReplica.createCustomer(
                            .with { $0.givenName = "Returned" }, metadata: bearer(adminSecret))
                    }
                    try await withConnectedClient(to: profile.address) { client in
                        let listed = try await Customer360_V1_ProfileService.Client(wrapping: client).listCustomers(
                            .with { $0.page.pageSize = 100 })
                        #expect(listed.customers.filter { $0.givenName == "Returned" }.count == 1)
                    }
                    let log = try await onReplica.listAuditLog(
                        .with { $0.customerID = back.customerID }, metadata: bearer(adminSecret))
                    #expect(log.records.contains { $0.method.hasSuffix("/CreateCustomer") })
                    try await returned.terminate()
                }
            }
        }
    }

    private func checkReplica(
        onReplica: GatewayClient, onAuthority: GatewayClient, admin: Metadata, replicaProcess: ServiceProcess,
        authorityPort: Int, token: String, serviceToken: String
    ) async throws {
        // The replica keeps nothing of its own.
        let replicaFiles = try FileManager.default.contentsOfDirectory(atPath: replicaProcess.dataDirectory.path)
        #expect(!replicaFiles.contains("gateway.sqlite") && !replicaFiles.contains("bootstrap-admin.key"))

        // A key made through the replica (with the authority's bootstrap key) works on both. The replica reports
        // SERVING only once its authority serves and has taken one of its calls, so it takes audited calls at once.
        let made = try await onReplica.createApiKey(
            .with {
                $0.name = "replica-made"
                $0.role = .agent
            }, metadata: admin)
        let agent = bearer(made.secret)
        let ada = try await onAuthority.createCustomer(.with { $0.givenName = "Ada" }, metadata: agent).customerID
        let grace = try await onReplica.createCustomer(.with { $0.givenName = "Grace" }, metadata: agent).customerID

        // Calls made at once on the replica are each recorded once.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<16 {
                group.addTask {
                    _ = try await onReplica.getCustomer360(.with { $0.customerID = grace }, metadata: agent)
                }
            }
            try await group.waitForAll()
        }
        // A client's oversized, control-laden customer id is cut to the log's size on the replica: its own call gets
        // the ordinary refusal, and the batch it shares with others is stored.
        let odd = String(repeating: "x", count: 200) + "\u{7}"
        let refused = await #expect(throws: RPCError.self) {
            _ = try await onReplica.getCustomer360(.with { $0.customerID = odd }, metadata: agent)
        }
        #expect(refused?.code != .internalError, "\(String(describing: refused))")
        let log = try await onAuthority.listAuditLog(.with { $0.page.pageSize = 100 }, metadata: admin).records
        #expect(log.contains { $0.customerID == String(repeating: "x", count: 64) })
        let views = log.filter { $0.method.hasSuffix("/GetCustomer360") && $0.customerID == grace }
        #expect(views.count == 16, "16 views on the replica, \(views.count) records")
        #expect(Set(views.map(\.auditID)).count == 16)
        #expect(log.contains { $0.method.hasSuffix("/CreateApiKey") && $0.statusCode == "OK" })
        #expect(log.contains { $0.method.hasSuffix("/CreateCustomer") && $0.customerID == ada })
        #expect(log.contains { $0.method.hasSuffix("/CreateCustomer") && $0.customerID == grace })
        #expect(log.contains { $0.actorKeyID == made.apiKey.keyID && $0.clientAddress.contains("127.0.0.1") })

        // One chain, whichever gateway checks it.
        let fromAuthority = try await onAuthority.verifyAuditLog(.init(), metadata: admin)
        let fromReplica = try await onReplica.verifyAuditLog(.init(), metadata: admin)
        #expect(fromAuthority.intact && fromReplica.intact)
        #expect(fromReplica.recordsChecked >= fromAuthority.recordsChecked)
        #expect(fromReplica.recordsChecked >= 20)
        let keys = try await onReplica.listApiKeys(.with { $0.page.pageSize = 10 }, metadata: admin).apiKeys
        #expect(keys.contains { $0.keyID == made.apiKey.keyID && $0.hasLastUsedAt })

        // Revoked through the replica: refused at once by the replica and by the authority, which had it cached.
        _ = try await onReplica.revokeApiKey(.with { $0.keyID = made.apiKey.keyID }, metadata: admin)
        await expectStatus(.unauthenticated, containing: "revoked", "the replica, right after revoking") {
            _ = try await onReplica.getCustomer360(.with { $0.customerID = grace }, metadata: agent)
        }
        await expectStatus(.unauthenticated, containing: "revoked", "the authority, right after the replica revoked") {
            _ = try await onAuthority.getCustomer360(.with { $0.customerID = ada }, metadata: agent)
        }

        // A replica the authority does not accept says so, instead of blaming the client's key.
        let wrongTokenFile = replicaProcess.dataDirectory.deletingLastPathComponent().appendingPathComponent("wrong")
        try Data("wrong-\(UUID().uuidString)\n".utf8).write(to: wrongTokenFile)
        let arguments = [
            "--http-port", "0", "--authority-token-file", wrongTokenFile.path,
            "--authority-addr", "127.0.0.1:\(authorityPort)",
        ]
        // Its authority serves but never takes its calls, so it is never ready: health stays NOT_SERVING (a load
        // balancer sends clients elsewhere), and a client that reaches it anyway is told why.
        let unaccepted = try await ServiceProcess.start("gateway", arguments: arguments)
        do {
            try await withConnectedClient(to: unaccepted.address) { client in
                let health = Grpc_Health_V1_Health.Client(wrapping: client)
                // Given time to hear its authority serve and be refused.
                try await Task.sleep(for: .seconds(1))
                #expect(try await health.check(.init()).status == .notServing)
                _ = await expectStatus(.internalError, containing: "not accepted by its authority") {
                    _ = try await GatewayClient(wrapping: client).getCustomer360(
                        .with { $0.customerID = "0193a3c2-5b8e-7000-8000-000000000001" }, metadata: admin)
                }
                #expect(try await health.check(.init()).status == .notServing)
            }
            #expect(try await unaccepted.terminate().isSuccess)
            #expect(unaccepted.logTail().contains("not reporting SERVING yet"))
        } catch {
            await unaccepted.cleanup()
            throw error
        }
        await unaccepted.cleanup()

        // The internal port answers only Customer 360 processes, and stores nothing malformed.
        try await withConnectedClient(to: PeerAddress(host: "127.0.0.1", port: authorityPort)) { client in
            let authority = AuthorityClient(wrapping: client)
            let record = Customer360_V1_AuditRecord.with {
                $0.auditID = "0193a3c2-5b8e-7000-8000-000000000001"
                $0.occurredAt = Google_Protobuf_Timestamp(date: Date())
                $0.actorKeyID = "forged"
                $0.actorRole = .admin
                $0.action = .admin
                $0.method = "/forged"
            }
            await expectStatus(.unauthenticated, containing: "service token", "no token") {
                _ = try await authority.appendAuditRecords(.with { $0.records = [record] })
            }
            await expectStatus(.unauthenticated, containing: "wrong", "the service token every process holds") {
                _ = try await authority.appendAuditRecords(
                    .with { $0.records = [record] }, metadata: ["x-c360-service-token": "\(serviceToken)"])
            }
            let withToken: Metadata = ["x-c360-service-token": "\(token)"]
            var unnamed = record
            unnamed.method = ""
            await expectStatus(.invalidArgument, containing: "records[1].method", "a record without a method") {
                _ = try await authority.appendAuditRecords(
                    .with { $0.records = [record, unnamed] }, metadata: withToken)
            }
            await expectStatus(.invalidArgument, containing: "secret_hash") {
                _ = try await authority.findApiKey(.with { $0.secretHash = "not-a-hash" }, metadata: withToken)
            }
            // Sent twice (an answer lost on the way): stored once.
            let first = try await authority.appendAuditRecords(.with { $0.records = [record] }, metadata: withToken)
            let again = try await authority.appendAuditRecords(.with { $0.records = [record] }, metadata: withToken)
            #expect(first.stored == 1 && again.stored == 0)
        }
        let after = try await onAuthority.verifyAuditLog(.init(), metadata: admin)
        #expect(after.intact)
    }

    @Test("with TLS, a replica proves itself to the authority with the gateway's certificate; no other may call it")
    func replicaOverMutualTLS() async throws {
        let certificates = try await DevCertificates.make()
        defer { certificates.remove() }
        let authorityPortFile = certificates.directory.appendingPathComponent("authority.port")
        try await withService(
            "profile-service", arguments: certificates.arguments(for: "profile-service"),
            security: try certificates.clientSecurity(as: "operator")
        ) { profile, _ in
            let backends = ["profile", "interaction", "feedback", "success", "outreach"].flatMap {
                ["--\($0)-addr", "\(profile.address)"]
            }
            let common = backends + ["--http-port", "0"] + certificates.arguments(for: "gateway")
            try await withService(
                "gateway",
                arguments: common + ["--authority-port", "0", "--authority-port-file", authorityPortFile.path],
                security: certificates.serverOnlySecurity
            ) { authorityProcess, _ in
                let admin = bearer(try await bootstrapSecret(of: authorityProcess))
                let authorityPort = try await portInFile(authorityPortFile, of: authorityProcess)
                try await withService(
                    "gateway", arguments: common + ["--authority-addr", "localhost:\(authorityPort)"],
                    security: certificates.serverOnlySecurity
                ) { _, replicaMain in
                    let onReplica = GatewayClient(wrapping: replicaMain)
                    // Serving means its authority has taken one of its calls: taken at once.
                    let made = try await onReplica.createApiKey(
                        .with {
                            $0.name = "over-tls"
                            $0.role = .agent
                        }, metadata: admin)
                    _ = try await onReplica.createCustomer(
                        .with { $0.givenName = "Ada" }, metadata: bearer(made.secret))
                    #expect(try await onReplica.verifyAuditLog(.init(), metadata: admin).recordsChecked >= 2)
                }
                // Another process of the deployment, even the ops tools' operator, may not call the authority.
                let address = PeerAddress(host: "localhost", port: authorityPort)
                for name in ["profile-service", "operator"] {
                    try await withConnectedClient(to: address, security: try certificates.clientSecurity(as: name)) {
                        client in
                        _ = await expectStatus(.permissionDenied, containing: "answers gateway only, not \(name)") {
                            _ = try await AuthorityClient(wrapping: client).findApiKey(
                                .with { $0.secretHash = String(repeating: "a", count: 64) })
                        }
                    }
                }
            }
        }
    }

    @Test("a gateway refuses to be an authority without a way to tell replicas from anyone, or both roles at once")
    func refusesUnsafeConfigurations() async throws {
        for (arguments, complaint) in [
            (["--authority-port", "0"], "--authority-token-file"),
            (["--authority-addr", "127.0.0.1:1"], "--authority-token-file"),
            (["--authority-port", "0", "--authority-addr", "127.0.0.1:1"], "give one"),
            (["--authority-addr", "nowhere"], "host:port"),
        ] {
            let failure = await #expect(throws: ServiceProcessError.self) {
                let process = try await ServiceProcess.start("gateway", arguments: arguments + ["--http-port", "0"])
                await process.cleanup()
            }
            #expect("\(failure.map(String.init(describing:)) ?? "")".contains(complaint), "\(arguments)")
        }
    }
}

/// `call`'s answer once it stops answering UNAVAILABLE, tried again every 100 ms for up to `limit`.
private func untilAccepted<Answer>(
    within limit: Duration, _ call: () async throws -> Answer
) async throws -> Answer {
    let until = ContinuousClock.now + limit
    while true {
        do {
            return try await call()
        } catch let error as RPCError where error.code == .unavailable && ContinuousClock.now < until {
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}

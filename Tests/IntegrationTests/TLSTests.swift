import C360Clients
import C360Contracts
import C360TestSupport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import SwiftProtobuf
import Testing

/// TLS between the real executables, with certificates from scripts/dev-certs.sh: services serve TLS only, require a
/// certificate from their CA, know each caller by its certificate's name and check it against the RPC's allow-list
/// (`callers` in Proto/); the gateway serves applications over TLS (gRPC and HTTPS) with API keys.
@Suite("TLS: mutual between services, per-service identities and allow-lists")
struct TLSTests {
    typealias Profiles = Customer360_V1_ProfileService.Client<HTTP2ClientTransport.Posix>

    /// Runs `body` with a ProfileService client connected to `address` with `security`.
    private func withProfiles<T: Sendable>(
        _ address: PeerAddress, _ security: HTTP2ClientTransport.Posix.TransportSecurity,
        _ body: (Profiles) async throws -> T
    ) async throws -> T {
        try await withConnectedClient(to: address, security: security) { client in
            try await body(Profiles(wrapping: client))
        }
    }

    @Test("a plaintext client, a certificate from another CA and a caller without a certificate are refused")
    func refusals() async throws {
        let certificates = try await DevCertificates.make()
        let stranger = try await DevCertificates.make(names: ["operator"])
        defer {
            certificates.remove()
            stranger.remove()
        }
        try await withService(
            "profile-service", arguments: certificates.arguments(for: "profile-service"),
            security: try certificates.clientSecurity(as: "operator")
        ) { profile, client in
            // The operator's certificate is served.
            let created = try await Profiles(wrapping: client).createCustomer(.with { $0.givenName = "Ada" })
            #expect(!created.customerID.isEmpty)

            let attempts: [(String, HTTP2ClientTransport.Posix.TransportSecurity)] = [
                ("plaintext", .plaintext),
                ("a certificate from another CA", try stranger.clientSecurity(as: "operator")),
                ("no client certificate", certificates.serverOnlySecurity),
            ]
            for (what, security) in attempts {
                let error = await #expect(throws: RPCError.self, "\(what)") {
                    _ = try await withProfiles(profile.address, security) { profiles in
                        try await profiles.getCustomer(
                            .with { $0.customerID = created.customerID },
                            options: .deadline(.seconds(5)))
                    }
                }
                #expect(error?.code == .unavailable, "\(what): \(String(describing: error))")
            }

            // The health subcommand (what the Kubernetes probes of a TLS deployment run) with the service's own
            // certificate answers SERVING; without one it gets no answer, and says so with exit 1.
            let binary = try ServiceBinaries.url(of: "profile-service").path
            let healthy = try await run(
                binary,
                ["health", "--addr", "\(profile.address)"]
                    + certificates.arguments(for: "profile-service"))
            #expect(healthy.status == 0 && healthy.output.contains("serving"), "\(healthy)")
            let unanswered = try await run(binary, ["health", "--addr", "\(profile.address)", "--timeout", "2"])
            #expect(unanswered.status == 1 && unanswered.output.contains("no answer"), "\(unanswered)")
            #expect(profile.isRunning)
        }
    }

    @Test(
        "each RPC answers only the services on its allow-list; anyone else is PERMISSION_DENIED naming who may call it, and logged"
    )
    func allowLists() async throws {
        let certificates = try await DevCertificates.make()
        defer { certificates.remove() }
        try await withService(
            "profile-service", arguments: certificates.arguments(for: "profile-service"),
            security: try certificates.clientSecurity(as: "operator")
        ) { profile, client in
            let ada = try await Profiles(wrapping: client).createCustomer(.with { $0.givenName = "Ada" }).customerID
            let list = Customer360_V1_ListCustomersRequest()
            let erase = Customer360_V1_EraseCustomerRequest.with { $0.customerID = ada }

            // ListCustomers lists outreach-service (it re-reads its read model); the gateway forwards it for clients.
            for caller in ["outreach-service", "gateway"] {
                let listed = try await withProfiles(profile.address, try certificates.clientSecurity(as: caller)) {
                    try await $0.listCustomers(list)
                }
                #expect(listed.customers.map(\.customerID) == [ada], "\(caller)")
            }
            let denied = await #expect(throws: RPCError.self) {
                _ = try await withProfiles(profile.address, try certificates.clientSecurity(as: "feedback-service")) {
                    try await $0.listCustomers(list)
                }
            }
            #expect(denied?.code == .permissionDenied)
            #expect(denied?.message.contains("not by feedback-service") == true, "\(String(describing: denied))")
            #expect(denied?.message.contains("outreach-service") == true, "\(String(describing: denied))")

            // EraseCustomer is internal: only the gateway's erasure fan-out calls it — not a service that may call
            // other RPCs, and the gateway is listed by name, not by being the gateway.
            let refused = await #expect(throws: RPCError.self) {
                _ = try await withProfiles(profile.address, try certificates.clientSecurity(as: "interaction-service"))
                {
                    try await $0.eraseCustomer(erase)
                }
            }
            #expect(refused?.code == .permissionDenied)
            #expect(refused?.message.contains("gateway") == true, "\(String(describing: refused))")
            let internalByGateway = await #expect(throws: RPCError.self) {
                _ = try await withProfiles(profile.address, try certificates.clientSecurity(as: "gateway")) {
                    try await $0.resolveCustomers(.with { $0.customerIds = [ada] })
                }
            }
            #expect(internalByGateway?.code == .permissionDenied)
            // Nothing was erased by the refused call; the gateway's own erasure goes through.
            _ = try await Profiles(wrapping: client).getCustomer(.with { $0.customerID = ada })
            _ = try await withProfiles(profile.address, try certificates.clientSecurity(as: "gateway")) {
                try await $0.eraseCustomer(erase)
            }
            #expect(profile.logText().contains("caller refused"), "\(profile.logTail())")
        }
    }

    @Test("a renewed certificate is served to new connections after SIGHUP, without a restart")
    func reloadOnSIGHUP() async throws {
        let certificates = try await DevCertificates.make()
        defer { certificates.remove() }
        try await withService(
            "profile-service", arguments: certificates.arguments(for: "profile-service"),
            security: try certificates.clientSecurity(as: "operator")
        ) { profile, client in
            let before = try await presentedSerial(profile.address, certificates)
            // Reissue profile-service's certificate with the same CA (new key, new serial), as a renewal does.
            try await certificates.issue(["profile-service"])
            kill(profile.processIdentifier, SIGHUP)
            let deadline = ContinuousClock.now + .seconds(10)
            while !profile.logText().contains("TLS certificate and key reloaded on SIGHUP"),
                ContinuousClock.now < deadline
            {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(profile.logText().contains("TLS certificate and key reloaded on SIGHUP"), "\(profile.logTail())")
            let after = try await presentedSerial(profile.address, certificates)
            #expect(before != after, "the server still presents serial \(before)")
            // The open connection and new ones keep working.
            _ = try await Profiles(wrapping: client).listCustomers(.init())
            _ = try await withProfiles(profile.address, try certificates.clientSecurity(as: "operator")) {
                try await $0.listCustomers(.init())
            }
            #expect(profile.isRunning)
        }
    }

    @Test("mutual TLS end to end: an application reaches every service through the gateway over TLS, gRPC and HTTPS")
    func endToEnd() async throws {
        let certificates = try await DevCertificates.make()
        defer { certificates.remove() }
        try await withGatewayStack(tls: certificates) { stack in
            let agent = bearer(stack.adminSecret)
            let ada = try await stack.gateway.createCustomer(
                .with {
                    $0.givenName = "Ada"
                    $0.familyName = "Lovelace"
                }, metadata: agent
            ).customerID
            _ = try await stack.gateway.recordTouchpoint(
                .with {
                    $0.customerID = ada
                    $0.touchpoint = .with {
                        $0.eventID = "tls-ada-1"
                        $0.occurredAt = Google_Protobuf_Timestamp(date: Date().addingTimeInterval(-60))
                        $0.channel = .email
                        $0.kind = .message
                        $0.direction = .inbound
                        $0.body = "hello over TLS"
                    }
                }, metadata: agent)
            _ = try await stack.feedback.createSurvey(
                .with {
                    $0.surveyID = "tls-nps"
                    $0.surveyType = .nps
                    $0.name = "TLS NPS"
                    $0.question = "How likely are you to recommend us?"
                    $0.language = "en"
                    $0.channel = .email
                })
            _ = try await stack.gateway.recordResponse(
                .with {
                    $0.customerID = ada
                    $0.responseID = "tls-ada-nps"
                    $0.surveyID = "tls-nps"
                    $0.score = 10
                    $0.answeredAt = Google_Protobuf_Timestamp(date: Date().addingTimeInterval(-30))
                }, metadata: agent)
            let view = try await stack.gateway.getCustomer360(.with { $0.customerID = ada }, metadata: agent)
            #expect(view.missingSections.isEmpty, "\(view.missingSections)")
            #expect(view.profile.givenName == "Ada")
            #expect(view.engagement.totalTouchpoints == 1, "\(view.engagement)")
            #expect(view.feedback.latestNpsCategory == .promoter, "\(view.feedback)")

            // The HTTP port is HTTPS with the same certificate; plain HTTP is not answered.
            let https = try await curl([
                "--cacert", certificates.authority, "-H", "Authorization: Bearer \(stack.adminSecret)",
                "-X", "POST", "-d", "{\"customerId\":\"\(ada)\"}",
                "https://127.0.0.1:\(stack.httpPort)/api/v1/GetCustomer360",
            ])
            #expect(https.status == 0 && https.output.contains("Lovelace"), "\(https)")
            let plain = try await curl(["http://127.0.0.1:\(stack.httpPort)/"])
            #expect(plain.status != 0 || !plain.output.contains("<html"), "\(plain)")

            // Every call between the services was on an allow-list.
            for process in [
                stack.profileProcess, stack.interactionProcess, stack.feedbackProcess, stack.successProcess,
            ] {
                #expect(!process.logText().contains("caller refused"), "\(process.logTail())")
            }
        }
    }

    /// The serial number of the certificate the server at `address` presents, read with openssl s_client.
    private func presentedSerial(_ address: PeerAddress, _ certificates: DevCertificates) async throws -> String {
        let shell = """
            openssl s_client -connect \(address) -cert '\(certificates.certificate("operator"))' \
            -key '\(certificates.key("operator"))' -CAfile '\(certificates.authority)' </dev/null 2>/dev/null \
            | openssl x509 -noout -serial
            """
        let result = try await run("/bin/sh", ["-c", shell])
        let serial = result.output.trimmingCharacters(in: .whitespacesAndNewlines)
        guard result.status == 0, serial.hasPrefix("serial=") else {
            throw DevCertificatesFailed(description: "no certificate read from \(address): \(result)")
        }
        return serial
    }

    private func curl(_ arguments: [String]) async throws -> ChildProcess.Run {
        try await run("/usr/bin/env", ["curl", "--silent", "--show-error", "--max-time", "10"] + arguments)
    }

    private func run(_ executable: String, _ arguments: [String]) async throws -> ChildProcess.Run {
        try await ChildProcess.run(URL(fileURLWithPath: executable), arguments)
    }
}

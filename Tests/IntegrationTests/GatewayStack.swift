import C360Clients
import C360Contracts
import C360TestSupport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Testing

typealias GatewayClient = Customer360_V1_GatewayService.Client<HTTP2ClientTransport.Posix>
typealias SurveyClient = Customer360_V1_FeedbackService.Client<HTTP2ClientTransport.Posix>

/// The deadline the gateway puts on each backend call: above the 1 s default so a loaded test machine does not turn
/// a slow first call into a missing section.
let peerDeadlineMs = 3_000

/// The five executables of one test, each on a port of its own (port 0) with its own data directory; a client of the
/// gateway, one of feedback-service (surveys are not routed by the gateway) and the bootstrap admin secret.
struct GatewayStack {
    var profileProcess: ServiceProcess
    var interactionProcess: ServiceProcess
    var feedbackProcess: ServiceProcess
    var successProcess: ServiceProcess
    var gatewayProcess: ServiceProcess
    var gateway: GatewayClient
    var feedback: SurveyClient
    var adminSecret: String
    /// The port of the gateway's HTTP/JSON API and dashboard.
    var httpPort: Int
}

/// A wait or a check in these tests that could not go on, saying why.
struct GatewayTestFailure: Error, CustomStringConvertible {
    var description: String
}

/// Starts profile-service, interaction- and feedback-service pointed at it, success-service pointed at all three and
/// the gateway pointed at all four, waits until each serves, reads the gateway's bootstrap admin secret and runs
/// `body`. Afterwards every process the body left running is stopped with SIGTERM and must exit 0, the gateway first.
///
/// With `tls`, every process serves TLS with its own certificate and the services call each other with mutual TLS;
/// the test reaches the services with the `operator` certificate and the gateway as an application does, trusting
/// the CA and presenting no certificate.
func withGatewayStack(tls: DevCertificates? = nil, _ body: (GatewayStack) async throws -> Void) async throws {
    let httpPortFile = FileManager.default.temporaryDirectory.appendingPathComponent("c360-gateway-http-\(UUID()).port")
    defer { try? FileManager.default.removeItem(at: httpPortFile) }
    let own = { (name: String) in tls?.arguments(for: name) ?? [] }
    let asOperator = try tls?.clientSecurity(as: "operator") ?? .plaintext
    try await withService("profile-service", arguments: own("profile-service"), security: asOperator) {
        profileProcess, _ in
        let profilePeer = ["--profile-addr", "\(profileProcess.address)"]
        try await withService(
            "interaction-service", arguments: profilePeer + own("interaction-service"),
            security: asOperator
        ) { interactionProcess, _ in
            try await withService(
                "feedback-service", arguments: profilePeer + own("feedback-service"),
                security: asOperator
            ) { feedbackProcess, feedbackClient in
                let peers =
                    profilePeer + [
                        "--interaction-addr", "\(interactionProcess.address)",
                        "--feedback-addr", "\(feedbackProcess.address)",
                    ]
                try await withService(
                    "success-service", arguments: peers + own("success-service"),
                    security: asOperator
                ) { successProcess, _ in
                    let successPeer = ["--success-addr", "\(successProcess.address)"]
                    try await withService(
                        "outreach-service", arguments: peers + successPeer + own("outreach-service"),
                        security: asOperator
                    ) { outreachProcess, _ in
                        let gatewayArguments =
                            peers + successPeer + [
                                "--outreach-addr", "\(outreachProcess.address)",
                                "--peer-deadline-ms", "\(peerDeadlineMs)",
                                // The JSON API/dashboard listener defaults to 8080; parallel tests need a free port each.
                                "--http-port", "0", "--http-port-file", httpPortFile.path,
                            ] + own("gateway")
                        try await withService(
                            "gateway", arguments: gatewayArguments,
                            security: tls?.serverOnlySecurity ?? .plaintext
                        ) { gatewayProcess, gatewayClient in
                            let secret = try await bootstrapSecret(of: gatewayProcess)
                            let httpPort = try await portInFile(httpPortFile, of: gatewayProcess)
                            try await body(
                                GatewayStack(
                                    profileProcess: profileProcess, interactionProcess: interactionProcess,
                                    feedbackProcess: feedbackProcess, successProcess: successProcess,
                                    gatewayProcess: gatewayProcess, gateway: GatewayClient(wrapping: gatewayClient),
                                    feedback: SurveyClient(wrapping: feedbackClient), adminSecret: secret,
                                    httpPort: httpPort))
                        }
                    }
                }
            }
        }
    }
}

/// Where the gateway writes the bootstrap admin secret.
func bootstrapFile(of gateway: ServiceProcess) -> URL {
    gateway.dataDirectory.appendingPathComponent("bootstrap-admin.key")
}

/// The secret in the gateway's bootstrap file, polled for briefly (it is written before the port file, but let a
/// slow file system finish).
func bootstrapSecret(of gateway: ServiceProcess) async throws -> String {
    let file = bootstrapFile(of: gateway)
    let deadline = ContinuousClock.now + .seconds(5)
    while true {
        if let data = try? Data(contentsOf: file) {
            let text = String(decoding: data, as: UTF8.self)
            let secret = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if text.hasSuffix("\n"), !secret.isEmpty { return secret }
        }
        guard ContinuousClock.now < deadline else {
            throw GatewayTestFailure(
                description: """
                    no admin secret in \(file.path) 5 s after the gateway listened; log tail:
                    \(gateway.logTail())
                    """)
        }
        try await Task.sleep(for: .milliseconds(20))
    }
}

/// The port a process wrote to `file` once listening, polled for briefly.
func portInFile(_ file: URL, of process: ServiceProcess) async throws -> Int {
    let deadline = ContinuousClock.now + .seconds(5)
    while true {
        if let data = try? Data(contentsOf: file),
            let port = Int(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        {
            return port
        }
        guard ContinuousClock.now < deadline else {
            throw GatewayTestFailure(
                description: "no port in \(file.path) 5 s after start; log tail:\n\(process.logTail())")
        }
        try await Task.sleep(for: .milliseconds(20))
    }
}

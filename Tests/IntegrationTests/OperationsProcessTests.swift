import C360Clients
import C360Contracts
import C360TestSupport
import Foundation
import GRDB
import GRPCCore
import GRPCNIOTransportHTTP2
import SwiftProtobuf
import Synchronization
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

private typealias Profiles = Customer360_V1_ProfileService.Client<HTTP2ClientTransport.Posix>
private typealias Admin = Customer360_V1_AdminService.Client<HTTP2ClientTransport.Posix>

/// Runs a built executable to completion with `arguments`; answers its exit status and everything it printed.
func runToCompletion(_ executable: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
    let run = try await ChildProcess.run(try ServiceBinaries.url(of: executable), arguments)
    return (run.status, run.output)
}

/// The port of the metrics endpoint, from the process's "metrics listening" log line.
private func metricsPort(of process: ServiceProcess) async throws -> Int {
    let deadline = ContinuousClock.now + .seconds(10)
    while ContinuousClock.now < deadline {
        for line in process.logText().split(separator: "\n") where line.contains("metrics listening") {
            if let range = line.range(of: #"127\.0\.0\.1:(\d+)/metrics"#, options: .regularExpression) {
                let text = line[range].dropFirst("127.0.0.1:".count).prefix { $0.isNumber }
                if let port = Int(text) { return port }
            }
        }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw GatewayTestFailure(description: "no 'metrics listening' line in 10 s; log tail:\n\(process.logTail())")
}

/// The value of the first sample of `name` whose labels contain every one of `labels`, 0 when absent.
private func sample(_ text: String, _ name: String, _ labels: [String] = []) -> Double {
    for line in text.split(separator: "\n") where line.hasPrefix(name + "{") || line.hasPrefix(name + " ") {
        guard labels.allSatisfy({ line.contains($0) }), let value = line.split(separator: " ").last else { continue }
        return Double(value) ?? 0
    }
    return 0
}

/// Ids of the customers whose creation was acknowledged, in order, shared by concurrent writers.
private final class AcknowledgedWrites: Sendable {
    private let ids = Mutex<[String]>([])

    func append(_ id: String) { ids.withLock { $0.append(id) } }
    var all: [String] { ids.withLock { $0 } }
}

private func scrape(_ port: Int) async throws -> String {
    let (data, response) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/metrics")!)
    #expect((response as? HTTPURLResponse)?.statusCode == 200)
    return String(decoding: data, as: UTF8.self)
}

@Suite("Operations")
struct OperationsProcessTests {
    @Test("every executable answers --version with a semantic version and the git revision it was built from")
    func versions() async throws {
        for executable in ["profile-service", "interaction-service", "feedback-service", "success-service", "gateway"] {
            let (status, output) = try await runToCompletion(executable, ["--version"])
            #expect(status == 0)
            let line = output.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(
                line.range(of: #"^\d+\.\d+\.\d+ \(git ([0-9a-f]{12}|unknown)\)$"#, options: .regularExpression) != nil,
                "\(executable) --version printed '\(line)'")
        }
    }

    @Test("/metrics counts requests per RPC and status, times them, and reports the database size")
    func metricsMove() async throws {
        try await withService("profile-service", arguments: ["--metrics-port", "0"]) { process, client in
            let port = try await metricsPort(of: process)
            let profiles = Profiles(wrapping: client)
            let method = #"method="customer360.v1.ProfileService/CreateCustomer""#
            let before = try await scrape(port)
            for index in 0..<3 {
                _ = try await profiles.createCustomer(.with { $0.givenName = "Metric \(index)" })
            }
            let failed = await #expect(throws: RPCError.self) {
                _ = try await profiles.getCustomer(.with { $0.customerID = "not-an-id" })
            }
            #expect(failed?.code == .invalidArgument)
            let after = try await scrape(port)
            #expect(
                sample(after, "grpc_server_requests_total", [method, #"code="ok""#])
                    - sample(before, "grpc_server_requests_total", [method, #"code="ok""#]) == 3)
            #expect(
                sample(
                    after, "grpc_server_requests_total",
                    [#"method="customer360.v1.ProfileService/GetCustomer""#, #"code="invalidArgument""#]) == 1,
                "\(after.split(separator: "\n").filter { $0.contains("GetCustomer") })")
            #expect(sample(after, "grpc_server_request_duration_seconds_count", [method]) >= 3)
            #expect(sample(after, "c360_database_size_bytes") > 0)
        }
    }

    @Test(
        "a backup taken while writes go on holds every write acknowledged before it began, and restores into a fresh directory with a keyring backup",
        .timeLimit(.minutes(3)))
    func backupUnderLoadAndRestore() async throws {
        let acknowledgedBeforeBackup: [String]
        let backupPath: String
        let restoredDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("c360-restore-\(UUID())")
        // The keyring is backed up apart from the database (personal data is sealed under keys it holds).
        let keys = FileManager.default.temporaryDirectory.appendingPathComponent("c360-keys-\(UUID())")
        defer {
            try? FileManager.default.removeItem(at: restoredDirectory)
            try? FileManager.default.removeItem(at: keys)
        }
        (acknowledgedBeforeBackup, backupPath) = try await withService("profile-service") { process, client in
            let profiles = Profiles(wrapping: client)
            let acknowledged = AcknowledgedWrites()
            // Four writers create customers as fast as they can until told to stop.
            let writers = Task {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for writer in 0..<4 {
                        group.addTask {
                            var index = 0
                            while !Task.isCancelled {
                                let id = try await profiles.createCustomer(
                                    .with { $0.givenName = "Writer \(writer)-\(index)" }
                                )
                                .customerID
                                acknowledged.append(id)
                                index += 1
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
            // Let the writers get going (a debug build on a busy machine is slow to start).
            while acknowledged.all.count < 50 { try await Task.sleep(for: .milliseconds(20)) }
            let before = acknowledged.all
            let backup = try await Admin(wrapping: client).backupDatabase(.with { $0.name = "under-load" })
            let afterBackup = acknowledged.all.count
            try await Task.sleep(for: .milliseconds(200))
            writers.cancel()
            _ = try? await writers.value
            #expect(before.count > 10, "only \(before.count) writes before the backup")
            #expect(afterBackup > before.count, "no writes went on during the backup")
            #expect(backup.path.hasPrefix(process.dataDirectory.appendingPathComponent("backups").path))
            #expect(backup.sizeBytes > 0 && backup.schemaVersion >= 1)

            let again = await #expect(throws: RPCError.self) {
                _ = try await Admin(wrapping: client).backupDatabase(.with { $0.name = "under-load" })
            }
            #expect(again?.code == .alreadyExists)
            let badName = await #expect(throws: RPCError.self) {
                _ = try await Admin(wrapping: client).backupDatabase(.with { $0.name = "../escape" })
            }
            #expect(badName?.code == .invalidArgument)
            // Keep the backup: the service's work directory goes away with it.
            let kept = restoredDirectory.deletingLastPathComponent().appendingPathComponent(
                "c360-backup-\(UUID()).sqlite")
            try FileManager.default.copyItem(atPath: backup.path, toPath: kept.path)
            let (keyStatus, keyOutput) = try await runToCompletion(
                "profile-service",
                [
                    "keyring-backup", "--from", process.dataDirectory.path, "--to", keys.path,
                ])
            #expect(keyStatus == 0 && keyOutput.contains("keyring backup written"), "\(keyOutput)")
            // Started without --kek-file, the service made a development KEK in its data directory.
            try FileManager.default.copyItem(
                at: process.dataDirectory.appendingPathComponent("profile-service.kek"),
                to: keys.appendingPathComponent("kek"))
            return (before, kept.path)
        }
        // Opening the backup (restore reads it as a database) leaves its WAL and index files beside it.
        defer {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: backupPath + suffix) }
        }

        let (status, output) = try await runToCompletion(
            "profile-service",
            [
                "restore", "--from", backupPath, "--into", restoredDirectory.path,
            ])
        #expect(status == 0, "\(output)")
        #expect(output.contains("restored"), "\(output)")
        let (refused, refusal) = try await runToCompletion(
            "profile-service",
            [
                "restore", "--from", backupPath, "--into", restoredDirectory.path,
            ])
        #expect(refused != 0 && refusal.contains("--replace"), "\(refusal)")

        let keyringBackup = try #require(
            try FileManager.default.contentsOfDirectory(atPath: keys.path)
                .first { $0.hasPrefix("profile-service-keyring-") })
        let keyOptions = [
            "--keyring", keys.appendingPathComponent(keyringBackup).path,
            "--kek-file", keys.appendingPathComponent("kek").path,
        ]
        try await withService("profile-service", arguments: keyOptions, dataDirectory: restoredDirectory) { _, client in
            let profiles = Profiles(wrapping: client)
            for id in acknowledgedBeforeBackup {
                let customer = try await profiles.getCustomer(.with { $0.customerID = id })
                #expect(customer.customerID == id)
            }
            let info = try await Admin(wrapping: client).getServerInfo(.init())
            #expect(info.service == "profile-service" && info.schemaVersion >= 1 && info.databaseSizeBytes > 0)
        }
    }

    @Test("the request id travels with a call from one service to the next and appears in both logs")
    func requestIDAcrossHops() async throws {
        try await withService("profile-service", arguments: ["--log-level", "debug"]) { profile, _ in
            try await withService("interaction-service", arguments: ["--profile-addr", "\(profile.address)"]) {
                _, client in
                let requestID = "ops-trace-\(UUID().uuidString.prefix(8))"
                let refused = await #expect(throws: RPCError.self) {
                    // An id profile-service has never seen: interaction-service must ask it.
                    _ = try await Customer360_V1_InteractionService.Client(wrapping: client).recordTouchpoint(
                        .with {
                            $0.customerID = "01900000-0000-7000-8000-0000000000ff"
                            $0.touchpoint = .with {
                                $0.eventID = "trace-1"
                                $0.occurredAt = .init(date: Date())
                                $0.channel = .web
                                $0.kind = .pageView
                                $0.direction = .inbound
                            }
                        }, metadata: ["x-request-id": "\(requestID)"])
                }
                #expect(refused?.code == .failedPrecondition)
                let lines = profile.logText().split(separator: "\n").filter { $0.contains("request_id=\(requestID)") }
                #expect(!lines.isEmpty, "profile-service never logged \(requestID):\n\(profile.logTail())")
            }
        }
    }

    @Test("a binary refuses, with a clear message, a database a newer version migrated")
    func refusesNewerDatabase() async throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("c360-newer-\(UUID())")
        defer { try? FileManager.default.removeItem(at: data) }
        // A database this binary migrated, then "upgraded" by a future migration it does not know.
        try await withService("profile-service", dataDirectory: data) { _, _ in }
        let file = data.appendingPathComponent("profile.sqlite").path
        let queue = try DatabaseQueue(path: file)
        try await queue.write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99: from a future version')")
        }
        try queue.close()

        let (status, output) = try await runToCompletion("profile-service", ["--port", "0", "--data-dir", data.path])
        #expect(status != 0)
        #expect(output.contains("was migrated by a newer version"), "\(output)")
        #expect(output.contains("v99: from a future version"), "\(output)")
        // Nothing was changed: the row is still there and the binary did not touch the schema.
        let reopened = try DatabaseQueue(path: file)
        let identifiers = try await reopened.read {
            try String.fetchAll($0, sql: "SELECT identifier FROM grdb_migrations")
        }
        #expect(identifiers.contains("v99: from a future version"))
    }
}

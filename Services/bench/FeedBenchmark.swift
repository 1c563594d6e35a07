import ArgumentParser
import C360ChangeFeed
import C360Contracts
import C360ServerKit
import C360StoreKit
import C360TestSupport
import Foundation
import GRDB
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import SwiftProtobuf

/// How fast one consumer follows a service's change feed, and how soon a merge's history shows under the survivor.
struct FeedBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "feed",
        abstract: "Change feeds: events/s one consumer applies, and merge-to-survivor latency in interaction-service.",
        discussion: """
            Starts profile- and interaction-service (from --bin-dir) on free ports and records --events touchpoints \
            spread over --customers customers. Then (1) a ChangeFeedConsumer in this process follows \
            interaction-service's feed over TCP from the start into a temporary database, one row per event in the \
            transaction that stores its position, and reports events/s (goal ≥ 20,000); (2) --merges times, merges a \
            customer holding --history touchpoints into another and measures until interaction-service's feed says \
            it re-keyed them (goal: p99 ≤ 2 s). Run a release build.
            """
    )

    static let throughputGoal = 20_000.0
    static let mergeGoalSeconds = 2.0

    @Option(help: "Touchpoints recorded before the consumer starts.")
    var events = 100_000

    @Option(help: "Customers the touchpoints are spread over.")
    var customers = 100

    @Option(help: "Merges to time.")
    var merges = 5

    @Option(help: "Touchpoints the merged-away customer of each merge holds.")
    var history = 10_000

    @Option(help: "Directory holding the executables. [env: C360_BIN_DIR] (default: beside this executable)")
    var binDir: String?

    func validate() throws {
        guard events >= 1_000, (1...10_000).contains(customers), (1...100).contains(merges), history >= 1 else {
            throw ValidationError("--events ≥ 1000, --customers 1...10000, --merges 1...100, --history ≥ 1")
        }
    }

    func run() async throws {
        let bin = IngestBenchmark.binDirectory(option: binDir)
        say("bench feed: \(events) events over \(customers) customers; \(merges) merges of \(history) touchpoints")
        try await BenchProcesses.run(bin: bin) { processes in
            let profile = try await processes.start(ServiceIdentity.profile.name)
            let interaction = try await processes.start(
                ServiceIdentity.interaction.name, ["--profile-addr", "127.0.0.1:\(profile.port)"])
            try await withClient(port: profile.port) { profileClient in
                try await withClient(port: interaction.port) { interactionClient in
                    let profiles = Customer360_V1_ProfileService.Client(wrapping: profileClient)
                    let interactions = Customer360_V1_InteractionService.Client(wrapping: interactionClient)
                    try await throughput(profiles: profiles, interactions: interactions, client: interactionClient)
                    try await mergeLatency(profiles: profiles, interactions: interactions)
                }
            }
        }
    }

    /// Records `count` page views for `customer` in one client stream.
    private func record(
        _ count: Int, for customer: String, prefix: String,
        _ interactions: Customer360_V1_InteractionService.Client<HTTP2ClientTransport.Posix>
    ) async throws {
        let now = Date()
        let response = try await interactions.recordTouchpoints { writer in
            for index in 0..<count {
                try await writer.write(
                    .with {
                        $0.customerID = customer
                        $0.touchpoint = .with {
                            $0.eventID = "\(prefix)-\(index)"
                            $0.occurredAt = Google_Protobuf_Timestamp(date: now.addingTimeInterval(Double(-index)))
                            $0.channel = .web
                            $0.kind = .pageView
                            $0.direction = .inbound
                        }
                    })
            }
        }
        guard response.stored == count else { throw ValidationError("stored \(response.stored) of \(count)") }
    }

    private func throughput(
        profiles: Customer360_V1_ProfileService.Client<HTTP2ClientTransport.Posix>,
        interactions: Customer360_V1_InteractionService.Client<HTTP2ClientTransport.Posix>,
        client: GRPCClient<HTTP2ClientTransport.Posix>
    ) async throws {
        let perCustomer = events / customers
        let fillStart = ContinuousClock.now
        for index in 0..<customers {
            let id = try await profiles.createCustomer(.with { $0.givenName = "Feed \(index)" }).customerID
            try await record(perCustomer, for: id, prefix: "fd-\(index)", interactions)
        }
        let total = perCustomer * customers
        say("  recorded \(total) touchpoints in \(Format.decimal((ContinuousClock.now - fillStart).inSeconds)) s")

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("c360-bench-feed-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let target = try ServiceDatabase.openPool(
            directory: directory.path, fileName: "consumer.sqlite", logger: Logger(label: "bench"))
        var migrator = DatabaseMigrator()
        migrator.registerMigration("effects") { db in
            try db.create(table: "effect") { t in
                t.primaryKey("sequence", .integer)
                t.column("customerId", .text).notNull()
            }
        }
        migrator.registerChangeFeed()
        try migrator.migrate(target)
        let consumer = ChangeFeedConsumer(
            source: .interaction, service: "customer360.v1.InteractionService", client: client, writer: target,
            kinds: [], logger: Logger(label: "bench"),
            apply: { db, events in
                let insert = try db.cachedStatement(sql: "INSERT INTO effect (sequence, customerId) VALUES (?, ?)")
                for event in events { try insert.execute(arguments: [Int64(event.sequence), event.customerID]) }
            },
            resync: {})
        let begin = ContinuousClock.now
        let applied = try await withThrowingTaskGroup(of: Int.self) { group in
            group.addTask {
                await consumer.run()
                return 0
            }
            group.addTask {
                while true {
                    let count = try await target.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM effect") } ?? 0
                    if count >= total { return count }
                    try await Task.sleep(for: .milliseconds(5))
                }
            }
            let count = try await group.next() ?? 0
            group.cancelAll()
            return count
        }
        let elapsed = (ContinuousClock.now - begin).inSeconds
        let rate = Double(applied) / elapsed
        say(
            "  consumer applied \(applied) events in \(Format.decimal(elapsed, 2)) s: \(Format.whole(rate)) events/s "
                + "(goal ≥ \(Format.whole(Self.throughputGoal)): \(rate >= Self.throughputGoal ? "met" : "NOT met"))")
    }

    private func mergeLatency(
        profiles: Customer360_V1_ProfileService.Client<HTTP2ClientTransport.Posix>,
        interactions: Customer360_V1_InteractionService.Client<HTTP2ClientTransport.Posix>
    ) async throws {
        var latencies: [Double] = []
        for round in 0..<merges {
            let survivor = try await profiles.createCustomer(.with { $0.givenName = "Survivor \(round)" }).customerID
            let merged = try await profiles.createCustomer(.with { $0.givenName = "Merged \(round)" }).customerID
            try await record(history, for: merged, prefix: "mg-\(round)", interactions)
            let begin = ContinuousClock.now
            _ = try await profiles.mergeCustomers(
                .with {
                    $0.customerID = survivor
                    $0.mergedID = merged
                })
            try await interactions.waitForRekey(of: merged)
            latencies.append((ContinuousClock.now - begin).inSeconds)
            let stats = try await interactions.getEngagementStats(.with { $0.customerID = survivor })
            guard stats.totalTouchpoints == Int64(history) else {
                throw ValidationError("survivor shows \(stats.totalTouchpoints) touchpoints, not \(history)")
            }
        }
        let sorted = latencies.sorted()
        let worst = sorted.last ?? 0
        say(
            "  merge → survivor's history re-keyed (\(history) touchpoints): median \(Format.decimal(sorted[sorted.count / 2] * 1_000)) ms, "
                + "max \(Format.decimal(worst * 1_000)) ms over \(merges) (goal p99 ≤ \(Format.decimal(Self.mergeGoalSeconds, 0)) s: "
                + "\(worst <= Self.mergeGoalSeconds ? "met" : "NOT met"))")
    }
}

import ArgumentParser
import C360Contracts
import C360ServerKit
import C360StoreKit
import C360TestSupport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import SwiftProtobuf
import Synchronization

/// How soon success-service re-scores a customer after a touchpoint, with nobody calling it, under steady ingest.
struct RescoreBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rescore",
        abstract: "Touchpoint → health re-score latency (p50/p99) at --rate events/s of ingest, over the change feeds.",
        discussion: """
            Starts profile-, interaction-, feedback- and success-service (from --bin-dir) on free ports, creates \
            --customers customers, then records touchpoints for random customers at --rate per second for --seconds \
            (batches every 100 ms) while watching success-service's feed for HEALTH_SCORED. A touchpoint's latency is \
            from its write being acknowledged to the first HEALTH_SCORED of its customer committed after that \
            (the re-score that includes it, with the default 1 s coalescing delay). Goal: p99 ≤ 5 s at 1,000 events/s.
            """
    )

    @Option(help: "Customers the touchpoints are spread over.")
    var customers = 200

    @Option(help: "Touchpoints per second.")
    var rate = 1_000

    @Option(help: "How long to ingest, in seconds.")
    var seconds = 20

    @Option(help: "Directory holding the executables. [env: C360_BIN_DIR] (default: beside this executable)")
    var binDir: String?

    func run() async throws {
        let bin = IngestBenchmark.binDirectory(option: binDir)
        say("bench rescore: \(rate) touchpoints/s for \(seconds) s over \(customers) customers")
        try await BenchProcesses.run(bin: bin) { processes in
            let profile = try await processes.start(ServiceIdentity.profile.name)
            let profilePeer = ["--profile-addr", "127.0.0.1:\(profile.port)"]
            let interaction = try await processes.start(ServiceIdentity.interaction.name, profilePeer)
            let feedback = try await processes.start(ServiceIdentity.feedback.name, profilePeer)
            let success = try await processes.start(
                ServiceIdentity.success.name,
                profilePeer + [
                    "--interaction-addr", "127.0.0.1:\(interaction.port)", "--feedback-addr",
                    "127.0.0.1:\(feedback.port)",
                ])
            try await withClient(port: profile.port) { profileClient in
                try await withClient(port: interaction.port) { interactionClient in
                    try await withClient(port: success.port) { successClient in
                        try await measure(
                            profiles: .init(wrapping: profileClient), interactions: .init(wrapping: interactionClient),
                            success: .init(wrapping: successClient))
                    }
                }
            }
        }
    }

    private func measure(
        profiles: Customer360_V1_ProfileService.Client<HTTP2ClientTransport.Posix>,
        interactions: Customer360_V1_InteractionService.Client<HTTP2ClientTransport.Posix>,
        success: Customer360_V1_SuccessService.Client<HTTP2ClientTransport.Posix>
    ) async throws {
        var ids: [String] = []
        for index in 0..<customers {
            ids.append(try await profiles.createCustomer(.with { $0.givenName = "Rescore \(index)" }).customerID)
        }
        let customerIDs = ids
        /// Scores seen: customer → commit instants (Unix ms), in feed order.
        let scores = Shared<[String: [Int64]]>([:])
        /// Touchpoints written: (customer, acknowledged at, Unix ms).
        let writes = Shared<[(String, Int64)]>([])
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await success.watchChanges(
                    .with {
                        $0.kinds = [.healthScored]
                        $0.startAtHead = true
                    }
                ) { response in
                    for try await batch in response.messages {
                        scores.withLock { scores in
                            for event in batch.events {
                                scores[event.customerID, default: []].append(event.committedAt.date.unixMillis)
                            }
                        }
                    }
                }
            }
            let batchSize = max(1, rate / 10)
            let end = ContinuousClock.now + .seconds(seconds)
            var next = ContinuousClock.now
            var sequence = 0
            var generator = SplitMix64(seed: 360)
            while ContinuousClock.now < end {
                let batch = (0..<batchSize).map { _ in
                    customerIDs[Int.random(in: 0..<customerIDs.count, using: &generator)]
                }
                let first = sequence
                sequence += batchSize
                _ = try await interactions.recordTouchpoints { writer in
                    for (offset, customer) in batch.enumerated() {
                        try await writer.write(
                            .with {
                                $0.customerID = customer
                                $0.touchpoint = .with {
                                    $0.eventID = "rs-\(first + offset)"
                                    $0.occurredAt = Google_Protobuf_Timestamp(date: Date())
                                    $0.channel = .app
                                    $0.kind = .featureUse
                                    $0.direction = .inbound
                                }
                            })
                    }
                }
                let acknowledged = Date().unixMillis
                writes.withLock { writes in writes += batch.map { ($0, acknowledged) } }
                next += .milliseconds(100)
                try await Task.sleep(until: next, clock: .continuous)
            }
            say("  wrote \(sequence) touchpoints; waiting 15 s for the last re-scores")
            try await Task.sleep(for: .seconds(15))
            group.cancelAll()
        }
        var samples = LatencySamples()
        var unscored = 0
        let seen = scores.withLock { $0 }
        for (customer, acknowledged) in writes.withLock({ $0 }) {
            guard let scored = seen[customer]?.first(where: { $0 >= acknowledged }) else {
                unscored += 1
                continue
            }
            samples.record(.milliseconds(scored - acknowledged))
        }
        say(
            "  touchpoint → re-score: p50 \(Format.decimal(samples.percentile(0.5) / 1_000, 2)) s, "
                + "p99 \(Format.decimal(samples.percentile(0.99) / 1_000, 2)) s (goal p99 ≤ 5 s); \(unscored) touchpoints without a later score"
        )
    }
}

/// A value the watcher and the writer share (a `Mutex` cannot be captured by the task group's closures).
private final class Shared<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) { mutex = Mutex(value) }

    func withLock<Result>(_ body: (inout Value) -> Result) -> Result {
        mutex.withLock { body(&$0) }
    }
}

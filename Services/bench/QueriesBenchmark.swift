import ArgumentParser
import C360Interaction
import C360ServerKit
import C360StoreKit
import Foundation
import GRDB
import Logging

/// `bench queries`: how long interaction-service's read queries take as the touchpoint table grows, measured
/// in-process on `InteractionStore` (no gRPC), so the numbers are the database's and the store's alone.
///
/// For each size it fills a fresh temporary database through `InteractionStore.ingest` (the write path production
/// runs), then runs every query on random customers and reports p50 and p99 latency from the sorted samples.
struct QueriesBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queries",
        abstract: "Query latency (p50/p99) of InteractionStore reads at 10k and 1M touchpoints, in-process.",
        discussion: """
            For each size: fills a fresh temporary database through InteractionStore.ingest (--fill-batch per call) \
            (progress every 100,000), then runs each query --runs times on random customers (5 warm-up runs not \
            counted): timeline (newest 50), timeline filtered to the email channel, lifetime totals, activity \
            events of the last 90 days, support inputs (all time, as GetSupportStats asks); then the reads across \
            customers (--global-runs times each: the customer count, the RFM inputs, every customer's support \
            inputs) three ways: as one process, as a shard owning every slot, and as a shard in a move (owning all \
            but slot 1,023 and holding a copy of it: its reads keep to its slots). Prints a table of size, query, \
            p50 and p99 in milliseconds.

            THE 1,000,000-TOUCHPOINT FILL TAKES MINUTES (a few in a release build, far longer in debug), and the \
            database needs a few hundred MB in the temporary directory. Use --sizes 10000 for a quick look.

            Sizes: --sizes a,b,… runs each size with size/100 customers (default 10000,1000000). --touchpoints N \
            runs one size instead, with --customers C customers (default N/100). The data mix is the ingest \
            benchmark's plus 3% self-service sessions and 1% ticket openings, so the support queries find rows.
            """
    )

    @Option(help: "Comma-separated touchpoint counts, each with count/100 customers. (default: 10000,1000000)")
    var sizes: String?

    @Option(help: "Run one size of this many touchpoints instead of --sizes.")
    var touchpoints: Int?

    @Option(help: "Customers for --touchpoints. (default: touchpoints/100)")
    var customers: Int?

    @Option(help: "Measured runs of each per-customer query.")
    var runs = 200

    @Option(help: "Measured runs of each read across customers.")
    var globalRuns = 10

    @Option(help: "Touchpoints per InteractionStore.ingest call while filling.")
    var fillBatch = 5_000

    @Option(help: "Seed of the data generator and of the customer picks.")
    var seed: UInt64 = 360

    /// One database size to measure.
    struct Plan: Sendable {
        /// Touchpoints stored before measuring.
        var touchpoints: Int
        /// Customers they are spread over.
        var customers: Int
    }

    /// The sizes this invocation measures, from the options; `ValidationError` when they are contradictory or
    /// out of range.
    func resolvedPlans() throws -> [Plan] {
        if let touchpoints {
            guard sizes == nil else { throw ValidationError("give either --sizes or --touchpoints, not both") }
            guard touchpoints >= 1 else { throw ValidationError("--touchpoints must be at least 1") }
            let count = customers ?? max(1, touchpoints / 100)
            guard count >= 1 else { throw ValidationError("--customers must be at least 1") }
            return [Plan(touchpoints: touchpoints, customers: count)]
        }
        guard customers == nil else {
            throw ValidationError("--customers goes with --touchpoints; --sizes uses size/100")
        }
        let text = sizes ?? "10000,1000000"
        var plans: [Plan] = []
        for part in text.split(separator: ",") {
            let trimmed = part.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "_", with: "")
            guard let size = Int(trimmed), size >= 1 else {
                throw ValidationError(
                    "--sizes must be comma-separated positive counts, e.g. 10000,1000000; not '\(part)'")
            }
            plans.append(Plan(touchpoints: size, customers: max(1, size / 100)))
        }
        guard !plans.isEmpty else { throw ValidationError("--sizes names no size") }
        return plans
    }

    func validate() throws {
        _ = try resolvedPlans()
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
        guard globalRuns >= 1 else { throw ValidationError("--global-runs must be at least 1") }
        guard (1...100_000).contains(fillBatch) else { throw ValidationError("--fill-batch must be 1...100000") }
    }

    func run() async throws {
        let plans = try resolvedPlans()
        let described = plans.map { "\($0.touchpoints) (\($0.customers) customers)" }
        say("bench queries: sizes \(described.joined(separator: ", "))")
        if plans.contains(where: { $0.touchpoints >= 500_000 }) {
            say("  filling the large database takes minutes; progress is printed every 100,000 touchpoints")
        }
        var rows: [ResultRow] = []
        for (offset, plan) in plans.enumerated() {
            rows += try await measure(plan, seed: seed &+ UInt64(offset))
        }

        say("")
        say(
            Format.left("touchpoints", 12) + Format.left("customers", 10) + Format.left("query", 36)
                + Format.right("p50 ms", 9) + Format.right("p99 ms", 9) + Format.right("runs", 6)
                + Format.right("rows/call", 11))
        for row in rows {
            say(
                Format.left("\(row.plan.touchpoints)", 12) + Format.left("\(row.plan.customers)", 10)
                    + Format.left(row.query, 36) + Format.right(Format.decimal(row.samples.percentile(0.5), 3), 9)
                    + Format.right(Format.decimal(row.samples.percentile(0.99), 3), 9) + Format.right("\(row.runs)", 6)
                    + Format.right(Format.decimal(row.rowsPerCall, 1), 11))
        }
    }

    /// One line of the result table.
    struct ResultRow {
        var plan: Plan
        var query: String
        var samples: LatencySamples
        var runs: Int
        /// Mean rows (or items) a call returned, to read the latency against.
        var rowsPerCall: Double
    }

    /// A query under measurement: its name, how many measured runs, and one call on a customer returning the number
    /// of rows it produced.
    private struct Query {
        var name: String
        var runs: Int
        var call: (String) async throws -> Int
    }

    /// Fills a fresh database for `plan`, measures every query on it, and removes it.
    private func measure(_ plan: Plan, seed: UInt64) async throws -> [ResultRow] {
        let scratch = try ScratchDirectory(label: "queries-\(plan.touchpoints)")
        defer { scratch.remove() }
        var logger = Logger(label: "bench.queries")
        logger.logLevel = .warning
        let fileName = "interaction.sqlite"
        let pool = try ServiceDatabase.openPool(directory: scratch.url.path, fileName: fileName, logger: logger)
        defer { try? pool.close() }
        let store = try InteractionStore(writer: pool, keyring: .inMemory(), currency: "USD")

        let customerIDs = (0..<plan.customers).map { _ in EntityID.generate() }
        try await fill(store, plan: plan, customerIDs: customerIDs, seed: seed)
        say("  database: \(Format.megabytes(databaseSize(directory: scratch.url, fileName: fileName)))")

        let now = Date()
        let emailOnly: TimelineFilter = {
            var filter = TimelineFilter()
            filter.channels = [Channel.email]
            return filter
        }()
        let queries =
            [
                Query(name: "timeline (newest 50)", runs: runs) { customer in
                    try await store.timeline(customer: customer, filter: TimelineFilter(), after: nil, limit: 50)
                        .items.count
                },
                Query(name: "timeline, channel email (50)", runs: runs) { customer in
                    try await store.timeline(customer: customer, filter: emailOnly, after: nil, limit: 50).items.count
                },
                Query(name: "totals", runs: runs) { customer in
                    try await store.totals(customer: customer) == nil ? 0 : 1
                },
                Query(name: "activityEvents, last 90 days", runs: runs) { customer in
                    try await store.activityEvents(
                        customer: customer, from: now.addingTimeInterval(-90 * 86_400),
                        until: now
                    ).count
                },
                Query(name: "supportInputs (all time)", runs: runs) { customer in
                    let inputs = try await store.supportInputs(
                        customer: customer, from: nil, until: nil,
                        deflectionWindow: 86_400)
                    return inputs.tickets.count + inputs.selfService.count + inputs.ticketOpenings.count
                },
            ] + Self.acrossCustomers(store, as: "", runs: globalRuns)
        // The same reads on a shard owning every slot and holding nothing else (no filter: the check is two reads
        // of empty tables), then on one owning all but slot 1,023 and holding a copy of it, as around a move (the
        // filter hashes every row's customer id).
        let shard = try InteractionStore(
            writer: pool, keyring: .inMemory(), currency: "USD", owned: OwnedSlots { [0...1_023] })
        let moving = try InteractionStore(
            writer: pool, keyring: .inMemory(), currency: "USD", owned: OwnedSlots { [0...1_022] })

        var random = SplitMix64(seed: seed ^ 0x5EED_CAFE)
        var results = try await run(
            queries + Self.acrossCustomers(shard, as: ", shard", runs: globalRuns), plan, customerIDs, &random)
        try await pool.write { db in try SlotCopies.record(db, slots: [1_023]) }
        results += try await run(
            Self.acrossCustomers(moving, as: ", moving shard", runs: globalRuns), plan, customerIDs, &random)
        return results
    }

    /// Reads across customers of `store`, named with `suffix`.
    private static func acrossCustomers(_ store: InteractionStore, as suffix: String, runs: Int) -> [Query] {
        [
            Query(name: "customers" + suffix, runs: runs) { _ in Int(try await store.customerCount()) },
            Query(name: "rfm inputs" + suffix, runs: runs) { _ in try await store.rfmInputs().count },
            Query(name: "support, all" + suffix, runs: runs) { _ in
                let inputs = try await store.supportInputs(
                    customer: nil, from: nil, until: nil, deflectionWindow: 86_400)
                return inputs.tickets.count + inputs.selfService.count + inputs.ticketOpenings.count
            },
        ]
    }

    /// Measures each of `queries` on random customers of `plan`.
    private func run(
        _ queries: [Query], _ plan: Plan, _ customerIDs: [String], _ random: inout SplitMix64
    ) async throws -> [ResultRow] {
        var results: [ResultRow] = []
        for query in queries {
            let warmUp = min(5, query.runs)
            for _ in 0..<warmUp {
                _ = try await query.call(customerIDs[Int.random(in: 0..<customerIDs.count, using: &random)])
            }
            var samples = LatencySamples()
            var rowCount = 0
            for _ in 0..<query.runs {
                let customer = customerIDs[Int.random(in: 0..<customerIDs.count, using: &random)]
                let start = ContinuousClock.now
                rowCount += try await query.call(customer)
                samples.record(ContinuousClock.now - start)
            }
            let row = ResultRow(
                plan: plan, query: query.name, samples: samples, runs: query.runs,
                rowsPerCall: Double(rowCount) / Double(query.runs))
            say(
                "  \(Format.left(query.name, 32)) p50 \(Format.decimal(samples.percentile(0.5), 3)) ms, "
                    + "p99 \(Format.decimal(samples.percentile(0.99), 3)) ms")
            results.append(row)
        }
        return results
    }

    /// Stores `plan.touchpoints` generated touchpoints through `InteractionStore.ingest`, `fillBatch` per call,
    /// printing progress every 100,000.
    private func fill(_ store: InteractionStore, plan: Plan, customerIDs: [String], seed: UInt64) async throws {
        say("size \(plan.touchpoints): filling a fresh database (\(plan.customers) customers)…")
        var factory = TouchpointFactory(customerIDs: customerIDs, mix: .withSupport, seed: seed)
        let start = ContinuousClock.now
        var stored = 0
        var nextReport = 100_000
        var index = 0
        while index < plan.touchpoints {
            let end = min(index + fillBatch, plan.touchpoints)
            for outcome in try await store.ingest(factory.make(index..<end)) {
                if case .stored = outcome { stored += 1 }
            }
            index = end
            if index >= nextReport || index == plan.touchpoints {
                let elapsed = (ContinuousClock.now - start).inSeconds
                say(
                    "  \(index)/\(plan.touchpoints) touchpoints (\(Format.decimal(elapsed)) s, "
                        + "\(Format.whole(Double(index) / elapsed)) per s)")
                while nextReport <= index { nextReport += 100_000 }
            }
        }
        guard stored == plan.touchpoints else {
            throw BenchError("InteractionStore.ingest stored \(stored) of \(plan.touchpoints) generated touchpoints")
        }
    }
}

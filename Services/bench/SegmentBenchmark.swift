import ArgumentParser
import C360Contracts
import C360Outreach
import C360StoreKit
import Foundation
import GRDB
import Logging

/// `bench segments`: how long outreach-service takes to preview a segment rule over a large read model, and to
/// update one customer's memberships when their facts change — in-process on `OutreachStore` (no gRPC), over a
/// fresh on-disk database filled with `--customers` generated customers.
struct SegmentBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "segments",
        abstract:
            "Segment preview latency over a 100k-customer read model, and membership update per changed customer.",
        discussion: """
            Fills a temporary database with --customers customers (tiers, tags, consents, NPS, health, purchases, \
            channel counts from a seeded generator; progress every 10%), saves --segments segments, then times \
            PreviewSegment's store query for four rules (--runs each, 3 warm-up) and OutreachStore.store of one \
            changed customer (which re-evaluates every segment for them). Prints p50/p99 in milliseconds.
            """
    )

    @Option(help: "Customers in the read model.")
    var customers = 100_000

    @Option(help: "Saved segments each changed customer is re-evaluated against.")
    var segments = 10

    @Option(help: "Measured runs of each query.")
    var runs = 30

    @Option(help: "Seed of the data generator.")
    var seed: UInt64 = 360

    func run() async throws {
        guard customers >= 1, segments >= 1, runs >= 1 else {
            throw ValidationError("--customers, --segments and --runs must be at least 1")
        }
        let scratch = try ScratchDirectory(label: "segments")
        defer { scratch.remove() }
        let database = try ServiceDatabase.openPool(
            directory: scratch.url.path, fileName: "outreach.sqlite", logger: .init(label: "bench"))
        let store = try OutreachStore(writer: database, keyring: try Keyring.inMemory())
        let now = Date()
        var generator = SplitMix64(seed: seed)
        say("filling \(customers) customers…")
        let tiers = ["", "bronze", "silver", "gold", "platinum"]
        let categories = ["", "promoter", "passive", "detractor"]
        let bands = ["", "green", "yellow", "red"]
        let tags = ["vip", "newsletter", "b2b", "beta", "churned-once"]
        let chunk = 5_000
        for start in stride(from: 0, to: customers, by: chunk) {
            var batch: [CustomerSnapshot] = []
            for index in start..<min(start + chunk, customers) {
                let id = String(format: "c%07d", index)
                var facts = CustomerFacts(customerId: id, refreshedAt: now.unixMillis)
                facts.loyaltyTier = tiers[Int.random(in: 0..<tiers.count, using: &generator)]
                facts.orders = Int64.random(in: 0..<40, using: &generator)
                facts.clvMinor = facts.orders * Int64.random(in: 1_000..<20_000, using: &generator)
                facts.npsCategory = categories[Int.random(in: 0..<categories.count, using: &generator)]
                facts.healthBand = bands[Int.random(in: 0..<bands.count, using: &generator)]
                facts.lastPurchaseAt =
                    facts.orders > 0
                    ? now.unixMillis - Int64.random(in: 0..<(400 * 86_400_000), using: &generator) : nil
                facts.touchpoints30d = Int64.random(in: 0..<60, using: &generator)
                facts.lifecycleStage =
                    ["active", "at_risk", "churned", "onboarding"][Int.random(in: 0..<4, using: &generator)]
                let customerTags = tags.filter { _ in Int.random(in: 0..<4, using: &generator) == 0 }
                let consents = [
                    CustomerConsent(
                        customerId: id, purpose: "marketing", channel: "email",
                        granted: Bool.random(using: &generator))
                ]
                let counts = [
                    ChannelCount(
                        customerId: id, windowDays: 30, channel: "email",
                        touchpoints: Int64.random(in: 0..<10, using: &generator))
                ]
                batch.append(
                    CustomerSnapshot(facts: facts, tags: customerTags, consents: consents, channelCounts: counts))
            }
            try await store.storeAll(batch, now: now)
            if (start / chunk) % max(1, customers / chunk / 10) == 0 {
                say("  \(min(start + chunk, customers)) customers")
            }
        }

        let rules: [(String, Customer360_V1_SegmentRule)] = [
            ("gold or platinum", .when("loyalty_tier", .in, ["gold", "platinum"])),
            ("vip tag and email consent", .all(.when("tag", .in, ["vip"]), .when("consent.marketing.email", .isTrue))),
            (
                "lapsed buyers (no purchase in 90 d, ≥3 orders)",
                .all(
                    .when("last_purchase_at", .notWithin, days: 90),
                    .when("orders", .greaterOrEqual, number: 3))
            ),
            (
                "detractors at risk, not churned",
                .all(
                    .when("nps_category", .equals, ["detractor"]),
                    .when("health_band", .equals, ["red"]),
                    .not(.when("lifecycle_stage", .equals, ["churned"])))
            ),
        ]
        say("")
        say(
            "\(Format.left("preview rule", 52)) \(Format.right("size", 8)) \(Format.right("p50 ms", 8)) \(Format.right("p99 ms", 8))"
        )
        for (name, rule) in rules {
            let query = try SegmentQuery(rule, now: now)
            var samples = LatencySamples()
            var size = 0
            for run in 0..<(runs + 3) {
                let started = ContinuousClock.now
                size = try await store.preview(query, sample: 10).size
                if run >= 3 { samples.record(ContinuousClock.now - started) }
            }
            say(
                "\(Format.left(name, 52)) \(Format.right("\(size)", 8)) \(Format.right(Format.decimal(samples.percentile(0.5), 2), 8)) \(Format.right(Format.decimal(samples.percentile(0.99), 2), 8))"
            )
        }

        for index in 0..<segments {
            let (name, rule) = rules[index % rules.count]
            _ = try await store.createSegment(
                SegmentRecord(
                    segmentId: "s\(index)", name: name, description: "", rule: try rule.serializedBytes(),
                    createdAt: now.unixMillis, updatedAt: now.unixMillis), now: now)
        }
        var update = LatencySamples()
        for run in 0..<(runs * 10 + 3) {
            var facts = CustomerFacts(
                customerId: String(format: "c%07d", Int.random(in: 0..<customers, using: &generator)),
                refreshedAt: now.unixMillis)
            facts.loyaltyTier = run % 2 == 0 ? "gold" : "bronze"
            let started = ContinuousClock.now
            try await store.store(
                CustomerSnapshot(facts: facts, tags: ["vip"], consents: [], channelCounts: []), now: now)
            if run >= 3 { update.record(ContinuousClock.now - started) }
        }
        say("")
        say(
            "membership update of one changed customer against \(segments) segments: p50 \(Format.decimal(update.percentile(0.5), 2)) ms, p99 \(Format.decimal(update.percentile(0.99), 2)) ms"
        )
    }
}

extension Customer360_V1_SegmentRule {
    static func when(
        _ field: String, _ op: Customer360_V1_SegmentOperator, _ values: [String] = [],
        number: Double? = nil, days: Int? = nil
    ) -> Self {
        .with {
            $0.condition = .with {
                $0.field = field
                $0.operator = op
                $0.values = values
                if let number { $0.number = number }
                if let days { $0.within = .init(seconds: Int64(days) * 86_400) }
            }
        }
    }

    static func all(_ rules: Self...) -> Self { .with { $0.all = .with { $0.rules = rules } } }
    static func not(_ rule: Self) -> Self { .with { $0.not = rule } }
}

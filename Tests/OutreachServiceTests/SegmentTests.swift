import C360ChangeFeed
import C360Contracts
import C360ServerKit
import C360StoreKit
import Foundation
import GRDB
import SwiftProtobuf
import Testing

@testable import C360Outreach

/// Builders for rules as a client writes them.
enum Rule {
    static func when(
        _ field: String, _ op: Customer360_V1_SegmentOperator, _ values: [String] = [],
        number: Double? = nil, withinDays: Int? = nil
    ) -> Customer360_V1_SegmentRule {
        .with {
            $0.condition = .with {
                $0.field = field
                $0.operator = op
                $0.values = values
                if let number { $0.number = number }
                if let withinDays { $0.within = .init(seconds: Int64(withinDays) * 86_400) }
            }
        }
    }

    static func all(_ rules: Customer360_V1_SegmentRule...) -> Customer360_V1_SegmentRule {
        .with { $0.all = .with { $0.rules = rules } }
    }

    static func any(_ rules: Customer360_V1_SegmentRule...) -> Customer360_V1_SegmentRule {
        .with { $0.any = .with { $0.rules = rules } }
    }

    static func not(_ rule: Customer360_V1_SegmentRule) -> Customer360_V1_SegmentRule {
        .with { $0.not = rule }
    }
}

let now = Date(timeIntervalSince1970: 1_780_000_000)

/// A read model of four customers with distinct facts.
func seededStore() async throws -> OutreachStore {
    let store = try OutreachStore(writer: ServiceDatabase.inMemory(), keyring: try Keyring.inMemory())
    func customer(
        _ id: String, _ edit: (inout CustomerFacts) -> Void, tags: [String] = [],
        consents: [(String, String, Bool)] = [], email: Int64 = 0
    ) -> CustomerSnapshot {
        var facts = CustomerFacts(customerId: id, refreshedAt: now.unixMillis)
        edit(&facts)
        return CustomerSnapshot(
            facts: facts, tags: tags,
            consents: consents.map { CustomerConsent(customerId: id, purpose: $0.0, channel: $0.1, granted: $0.2) },
            channelCounts: email > 0
                ? [ChannelCount(customerId: id, windowDays: 30, channel: "email", touchpoints: email)] : [])
    }
    let day: Int64 = 86_400_000
    for snapshot in [
        customer(
            "a-gold",
            {
                $0.loyaltyTier = "gold"
                $0.orders = 12
                $0.clvMinor = 90_000
                $0.npsCategory = "promoter"
                $0.latestCsat = 5
                $0.lastPurchaseAt = now.unixMillis - 3 * day
                $0.healthBand = "green"
            }, tags: ["vip", "newsletter"], consents: [("marketing", "email", true)], email: 4),
        customer(
            "b-churned",
            {
                $0.lifecycleStage = "churned"
                $0.orders = 2
                $0.clvMinor = 10_000
                $0.npsCategory = "detractor"
                $0.latestCsat = 2
                $0.lastPurchaseAt = now.unixMillis - 200 * day
                $0.healthBand = "red"
                $0.churnRisk = true
            }, tags: ["newsletter"], consents: [("marketing", "email", false)]),
        customer(
            "c-new",
            {
                $0.lifecycleStage = "onboarding"
                $0.attributes = #"{"plan":"pro"}"#
            }),
        customer(
            "d-silver",
            {
                $0.loyaltyTier = "silver"
                $0.orders = 5
                $0.clvMinor = 30_000
                $0.npsCategory = "passive"
                $0.lastPurchaseAt = now.unixMillis - 40 * day
                $0.healthBand = "yellow"
            }, tags: ["vip"], email: 1),
    ] {
        try await store.store(snapshot, now: now)
    }
    return store
}

func preview(_ store: OutreachStore, _ rule: Customer360_V1_SegmentRule) async throws -> [String] {
    try await store.preview(SegmentQuery(rule, now: now), sample: 100).sample
}

@Suite("Segments: rules over the read model")
struct SegmentRuleTests {
    @Test("each kind of field selects the customers whose facts match")
    func fields() async throws {
        let store = try await seededStore()
        #expect(
            try await preview(store, Rule.when("loyalty_tier", .in, ["gold", "silver"])) == ["a-gold", "d-silver"])
        #expect(try await preview(store, Rule.when("tag", .contains, ["vip", "newsletter"])) == ["a-gold"])
        #expect(try await preview(store, Rule.when("tag", .in, ["newsletter"])) == ["a-gold", "b-churned"])
        #expect(try await preview(store, Rule.when("orders", .greaterOrEqual, number: 5)) == ["a-gold", "d-silver"])
        #expect(try await preview(store, Rule.when("last_purchase_at", .within, withinDays: 30)) == ["a-gold"])
        #expect(
            try await preview(store, Rule.when("last_purchase_at", .notWithin, withinDays: 30))
                == ["b-churned", "c-new", "d-silver"])
        #expect(try await preview(store, Rule.when("consent.marketing.email", .isTrue)) == ["a-gold"])
        #expect(try await preview(store, Rule.when("attribute.plan", .equals, ["pro"])) == ["c-new"])
        #expect(
            try await preview(store, Rule.when("touchpoints.email", .greaterThan, number: 2, withinDays: 30)) == [
                "a-gold"
            ])
        #expect(try await preview(store, Rule.when("churn_risk", .isTrue)) == ["b-churned"])
    }

    @Test("all, any and not combine rules")
    func combinations() async throws {
        let store = try await seededStore()
        let rule = Rule.all(
            Rule.any(Rule.when("tag", .in, ["vip"]), Rule.when("nps_category", .equals, ["detractor"])),
            Rule.not(Rule.when("health_band", .equals, ["green"])))
        #expect(try await preview(store, rule) == ["b-churned", "d-silver"])
    }

    @Test("a rule that does not validate names the condition and what is wrong")
    func invalid() throws {
        func reason(_ rule: Customer360_V1_SegmentRule) -> String {
            do {
                _ = try SegmentQuery(rule, now: now)
                return "valid"
            } catch {
                return error.rpcErrorMessage
            }
        }
        #expect(
            reason(Rule.all(Rule.when("tier", .equals, ["gold"]))).hasPrefix(
                "rule.all.rules[0].condition.field: 'tier' is not a known field"))
        #expect(
            reason(Rule.when("loyalty_tier", .equals, ["diamond"])).hasPrefix(
                "rule.condition.values[0]: 'diamond' is not a value of loyalty_tier"))
        #expect(reason(Rule.when("orders", .equals, ["5"])).hasPrefix("rule.condition.number: is required"))
        #expect(reason(Rule.when("orders", .contains, ["5"])).hasPrefix("rule.condition.operator:"))
        #expect(reason(Rule.when("last_purchase_at", .within)).hasPrefix("rule.condition.within: is required"))
        #expect(
            reason(Rule.when("touchpoints", .greaterThan, number: 1, withinDays: 14)).hasPrefix(
                "rule.condition.within: must be 7, 30 or 90 days"))
        #expect(
            reason(Rule.when("consent.marketing.fax", .isTrue)).hasPrefix(
                "rule.condition.field: 'consent.marketing.fax' must be"))
        #expect(reason(Rule.any()).hasPrefix("rule.any.rules: needs at least one rule"))
        #expect(reason(Customer360_V1_SegmentRule()).hasPrefix("rule: is empty"))
        var deep = Rule.when("orders", .greaterThan, number: 1)
        for _ in 0..<9 { deep = Rule.not(deep) }
        #expect(reason(deep).contains("nests deeper than 8 levels"))
    }
}

@Suite("Segments: membership kept current")
struct SegmentMembershipTests {
    @Test("a saved segment holds its members; a fact change moves a customer in or out with feed events")
    func membership() async throws {
        // Given a segment of gold or silver customers
        let store = try await seededStore()
        let rule = Rule.when("loyalty_tier", .in, ["gold", "silver"])
        let (segment, size) = try await store.createSegment(
            SegmentRecord(
                segmentId: "loyal", name: "Loyal", description: "", rule: try rule.serializedBytes(),
                createdAt: now.unixMillis, updatedAt: now.unixMillis), now: now)
        #expect(size == 2)

        // When c-new becomes gold and a-gold drops out of the tiers
        var promoted = CustomerFacts(customerId: "c-new", refreshedAt: now.unixMillis)
        promoted.loyaltyTier = "gold"
        try await store.store(CustomerSnapshot(facts: promoted, tags: [], consents: [], channelCounts: []), now: now)
        let demoted = CustomerFacts(customerId: "a-gold", refreshedAt: now.unixMillis)
        try await store.store(CustomerSnapshot(facts: demoted, tags: [], consents: [], channelCounts: []), now: now)

        // Then the members are c-new and d-silver, and the feed tells who entered and left
        let members = try await store.members(segmentID: segment.segmentId, after: nil, limit: 10).items.map(
            \.customerId)
        #expect(members == ["c-new", "d-silver"])
        let events = try await store.writer.read { db in
            try Row.fetchAll(
                db, sql: "SELECT kind, customerId FROM change_event WHERE subjectId = 'loyal' ORDER BY sequence"
            )
            .map { "\(Customer360_V1_ChangeKind(rawValue: $0[0]) ?? .unspecified):\($0[1] as String)" }
        }
        #expect(
            events == [
                "segmentEntered:a-gold", "segmentEntered:d-silver", "segmentEntered:c-new", "segmentLeft:a-gold",
            ])
    }

    @Test("statistics summarise the members: NPS, CSAT, churn, CLV and health bands")
    func stats() async throws {
        let store = try await seededStore()
        let rule = Rule.when("orders", .greaterThan, number: 0)
        _ = try await store.createSegment(
            SegmentRecord(
                segmentId: "buyers", name: "Buyers", description: "", rule: try rule.serializedBytes(),
                createdAt: now.unixMillis, updatedAt: now.unixMillis), now: now)
        let stats = try await store.stats(segmentID: "buyers").proto(segmentID: "buyers", asOf: now)
        #expect(stats.size == 3)
        #expect(stats.npsRespondents == 3 && stats.nps == 0) // one promoter, one passive, one detractor
        #expect(stats.csatRespondents == 2 && stats.meanCsat == 3.5)
        #expect(abs(stats.churnRate - 1.0 / 3) < 1e-9 && abs(stats.atRiskRate - 1.0 / 3) < 1e-9)
        #expect(stats.meanClvMinor == 130_000.0 / 3)
        #expect(stats.green == 1 && stats.yellow == 1 && stats.red == 1 && stats.unscored == 0)
    }

    @Test("a merged-away or erased customer leaves the read model and every segment at once")
    func removal() async throws {
        let store = try await seededStore()
        _ = try await store.createSegment(
            SegmentRecord(
                segmentId: "vip", name: "VIP", description: "",
                rule: try Rule.when("tag", .in, ["vip"]).serializedBytes(),
                createdAt: now.unixMillis, updatedAt: now.unixMillis), now: now)
        try await store.writer.write { db in
            try OutreachStore.apply(
                db,
                events: [
                    .with {
                        $0.kind = .customerMerged
                        $0.customerID = "a-gold"
                        $0.relatedCustomerID = "d-silver"
                    },
                    .with {
                        $0.kind = .customerErased
                        $0.customerID = "b-churned"
                    },
                ], delay: .zero, now: now)
        }
        #expect(
            try await store.members(segmentID: "vip", after: nil, limit: 10).items.map(\.customerId) == ["d-silver"])
        #expect(try await store.facts(customerID: "a-gold") == nil)
        #expect(try await store.facts(customerID: "b-churned") == nil)
        let queued = try await store.writer.read {
            try OutreachStore.refreshQueue.due($0, at: now, limit: 10).due.map(\.customerId)
        }
        #expect(queued == ["d-silver"])
    }
}

import C360Contracts
import C360StoreKit
import Foundation
import GRDB
import SwiftProtobuf
import Testing

@testable import C360Outreach

@Suite("Journeys: enrolment in the transaction that saw the trigger")
struct JourneyStoreTests {
    func journey(
        _ id: String, segment: String = "", event: Customer360_V1_ChangeKind? = nil,
        reentry: Bool = false, active: Bool = true
    ) throws -> JourneyRecord {
        let definition = Customer360_V1_PutJourneyRequest.with {
            $0.journeyID = id
            $0.name = id
            $0.steps = [.with { $0.wait = .init(seconds: 60) }]
        }
        return JourneyRecord(
            journeyId: id, definition: try definition.serializedBytes(), active: active,
            triggerSegment: segment, triggerEvent: event?.rawValue ?? 0, allowReentry: reentry,
            createdAt: now.unixMillis, updatedAt: now.unixMillis)
    }

    func runs(_ store: OutreachStore, _ journeyID: String) async throws -> [JourneyRunRecord] {
        try await store.runs(journeyID: journeyID, after: nil, limit: 100).items
    }

    @Test("entering a segment enrols once; without re-entry leaving and entering again does not enrol twice")
    func segmentTrigger() async throws {
        let store = try await seededStore()
        _ = try await store.putJourney(try journey("gold-welcome", segment: "gold"))
        _ = try await store.createSegment(
            SegmentRecord(
                segmentId: "gold", name: "Gold", description: "",
                rule: try Rule.when("loyalty_tier", .equals, ["gold"]).serializedBytes(),
                createdAt: now.unixMillis, updatedAt: now.unixMillis), now: now)
        #expect(try await runs(store, "gold-welcome").map(\.customerId) == ["a-gold"])

        // a-gold leaves and comes back; c-new enters
        for tier in ["silver", "gold"] {
            var facts = CustomerFacts(customerId: "a-gold", refreshedAt: now.unixMillis)
            facts.loyaltyTier = tier
            try await store.store(CustomerSnapshot(facts: facts, tags: [], consents: [], channelCounts: []), now: now)
        }
        var promoted = CustomerFacts(customerId: "c-new", refreshedAt: now.unixMillis)
        promoted.loyaltyTier = "gold"
        try await store.store(CustomerSnapshot(facts: promoted, tags: [], consents: [], channelCounts: []), now: now)

        #expect(try await runs(store, "gold-welcome").map(\.customerId).sorted() == ["a-gold", "c-new"])
    }

    @Test(
        "a feed event enrols in journeys on it, with re-entry only once the earlier run ended; paused journeys enrol nobody"
    )
    func eventTrigger() async throws {
        let store = try await seededStore()
        _ = try await store.putJourney(try journey("win-back", event: .alertRaised, reentry: true))
        _ = try await store.putJourney(try journey("paused", event: .alertRaised, active: false))
        let alert = Customer360_V1_ChangeEvent.with {
            $0.kind = .alertRaised
            $0.customerID = "b-churned"
        }
        try await store.writer.write { db in
            try OutreachStore.apply(db, events: [alert, alert], delay: .zero, now: now)
        }
        #expect(try await runs(store, "win-back").count == 1)
        #expect(try await runs(store, "paused").isEmpty)

        // The customer is deleted: the run exits, and nothing is left waiting
        try await store.writer.write { db in
            try OutreachStore.apply(
                db,
                events: [
                    .with {
                        $0.kind = .customerDeleted
                        $0.customerID = "b-churned"
                    }
                ],
                delay: .zero, now: now)
        }
        let run = try #require(try await runs(store, "win-back").first)
        #expect(run.state == .exited && run.reason.contains("left"))
        try await store.writer.write { db in try OutreachStore.apply(db, events: [alert], delay: .zero, now: now) }
        #expect(try await runs(store, "win-back").count == 2)
    }
}

extension JourneyStoreTests {
    @Test(
        """
        on a shard, feed events of another shard's customers enrol nobody and queue no refresh; who merged into whom \
        is kept for every customer
        """)
    func eventsOfOtherShardsCustomers() async throws {
        let store = try await seededStore()
        _ = try await store.putJourney(try journey("win-back", event: .alertRaised))
        let events: [Customer360_V1_ChangeEvent] = ["mine", "theirs"].map { id in
            .with {
                $0.kind = .alertRaised
                $0.customerID = id
            }
        }
        let merged = Customer360_V1_ChangeEvent.with {
            $0.kind = .customerMerged
            $0.customerID = "theirs-old"
            $0.relatedCustomerID = "theirs"
        }
        try await store.writer.write { db in
            try OutreachStore.apply(db, events: events + [merged], delay: .zero, now: now) { $0 == "mine" }
        }
        #expect(try await runs(store, "win-back").map(\.customerId) == ["mine"])
        let queued = try await store.writer.read { db in
            try String.fetchAll(db, sql: "SELECT customerId FROM \(OutreachStore.refreshQueue.table) ORDER BY 1")
        }
        #expect(queued == ["mine"])
        let survivors = try await store.writer.read { db in
            try String.fetchAll(db, sql: "SELECT survivorId FROM customer_merge WHERE mergedId = 'theirs-old'")
        }
        #expect(survivors == ["theirs"])
    }
}

extension JourneyStoreTests {
    @Test(
        """
        on a shard, a survivor's erasure owned elsewhere still erases what an id merged into it left here, and says so \
        only where something was held
        """)
    func erasureOfAnotherShardsSurvivor() async throws {
        let store = try OutreachStore(writer: ServiceDatabase.inMemory(), keyring: try Keyring.inMemory())
        _ = try await store.enqueue(
            MessageRecord(
                messageId: "m-old", customerId: "theirs-old", templateId: "t", campaignId: "", idempotencyKey: "k",
                purpose: .marketing, forcedChannel: "", channel: "", status: .queued, statusReason: "",
                createdAt: now.unixMillis, scheduledFor: now.unixMillis, sentAt: nil, attempts: 0, language: ""))
        let events = [
            event(.customerMerged, "theirs-old", "theirs"), event(.customerErased, "theirs"),
            event(.customerErased, "nobody-here"),
        ]
        try await store.writer.write { db in
            try OutreachStore.apply(db, events: events, delay: .zero, now: now) { $0 == "mine" }
        }
        let messages = try await store.writer.read { db in try MessageRecord.fetchCount(db) }
        #expect(messages == 0, "the merged-away id's message went with the survivor's erasure")
        let announced = try await store.writer.read { db in
            try String.fetchAll(
                db, sql: "SELECT customerId FROM change_event WHERE kind = ? ORDER BY sequence",
                arguments: [Customer360_V1_ChangeKind.customerDataErased.rawValue])
        }
        #expect(announced == ["theirs"], "announced where something was held, not for a customer this shard never had")
    }
}

@Suite("Messages interrupted mid-delivery")
struct InterruptedSendTests {
    @Test("after a crash, an email the adapter had fails as delivery unknown (never resent); a webhook SMS is requeued")
    func recovery() async throws {
        let store = try OutreachStore(writer: ServiceDatabase.inMemory(), keyring: try Keyring.inMemory())
        for (id, channel) in [("m-email", "email"), ("m-sms", "sms")] {
            _ = try await store.enqueue(
                MessageRecord(
                    messageId: id, customerId: "c1", templateId: "t", campaignId: "", idempotencyKey: id,
                    purpose: .marketing, forcedChannel: "", channel: "", status: .queued, statusReason: "",
                    createdAt: now.unixMillis, scheduledFor: now.unixMillis, sentAt: nil, attempts: 0, language: ""))
            try await store.beginAttempts([(id, channel)])
        }
        let recovered = try await store.recoverInterruptedSends(resendable: ["sms", "push"], now: now)
        #expect(recovered.requeued == 1 && recovered.failed == 1)
        let email = try await store.message(id: "m-email")
        #expect(email.status == .failed && email.statusReason.contains("not resent"))
        let sms = try await store.message(id: "m-sms")
        #expect(sms.status == .queued && sms.attempts == 1)
        #expect(try await store.dueMessages(at: now, limit: 10).due.map(\.messageId) == ["m-sms"])
    }
}

@Suite("Campaigns")
struct CampaignStoreTests {
    @Test(
        "a campaign queues one message per member, and with suppress_discount_driven records discount buyers as suppressed"
    )
    func discountDriven() async throws {
        let store = try await seededStore()
        var bargain = CustomerFacts(customerId: "d-silver", refreshedAt: now.unixMillis)
        bargain.loyaltyTier = "silver"
        bargain.discountDriven = true
        try await store.store(CustomerSnapshot(facts: bargain, tags: [], consents: [], channelCounts: []), now: now)
        _ = try await store.createSegment(
            SegmentRecord(
                segmentId: "tiered", name: "Tiered", description: "",
                rule: try Rule.when("loyalty_tier", .in, ["gold", "silver"]).serializedBytes(),
                createdAt: now.unixMillis, updatedAt: now.unixMillis), now: now)
        _ = try await store.putTemplate(
            TemplateRecord(
                templateId: "offer", name: "Offer", purpose: .marketing, defaultLanguage: "en",
                variants: [TemplateVariant(channel: .email, language: "en", subject: "Offer", body: "10% off")],
                createdAt: now.unixMillis, updatedAt: now.unixMillis))
        _ = try await store.startCampaign(
            CampaignRecord(
                campaignId: "spring", segmentId: "tiered", templateId: "offer", queueing: true, cursor: "",
                startedAt: now.unixMillis, completedAt: nil, suppressDiscountDriven: true))

        #expect(try await store.queueNextMembers(campaignID: "spring", chunk: 1_000, now: now) == 2)

        let messages = try await store.messages(campaignID: "spring", after: nil, limit: 10).items
        #expect(messages.map(\.customerId) == ["a-gold", "d-silver"])
        #expect(messages.map(\.status) == [.queued, .suppressed])
        #expect(messages[1].statusReason.contains("discount-driven"))
        let (campaign, counts) = try await store.campaign(id: "spring")
        #expect(!campaign.queueing && counts.total == 2)
    }
}

@Suite("Erasure")
struct OutreachErasureTests {
    @Test(
        "a customer profile-service erased leaves nothing here: facts, memberships, runs and messages, with a feed event"
    )
    func erasure() async throws {
        let store = try await seededStore()
        _ = try await store.enqueue(
            MessageRecord(
                messageId: "m1", customerId: "a-gold", templateId: "t", campaignId: "", idempotencyKey: "k1",
                purpose: .marketing, forcedChannel: "", channel: "", status: .queued, statusReason: "",
                createdAt: now.unixMillis, scheduledFor: now.unixMillis, sentAt: nil, attempts: 0, language: ""))
        try await store.settle(
            "m1",
            .sent(
                customerID: "a-gold", channel: "email", recipient: "ada@example.com",
                subject: "Hi Ada", body: "Dear Ada", language: "en"), at: now)
        try await store.writer.write { db in
            try OutreachStore.apply(
                db,
                events: [
                    .with {
                        $0.kind = .customerErased
                        $0.customerID = "a-gold"
                    }
                ],
                delay: .zero, now: now)
        }
        let left = try await store.writer.read { db in
            try [
                "customer_fact", "customer_tag", "customer_consent", "customer_channel_count", "segment_member",
                "journey_run", "message",
            ].map { table in
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table) WHERE customerId = 'a-gold'") ?? -1
            }
        }
        #expect(left.allSatisfy { $0 == 0 }, "\(left)")
        let erased = try await store.writer.read { db in
            try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM change_event WHERE kind = ? AND customerId = 'a-gold'",
                arguments: [Customer360_V1_ChangeKind.customerDataErased.rawValue])
        }
        #expect(erased == 1)
    }
}

@Suite("The read model's feeds and the directory's cache")
struct ReadModelCacheTests {
    @Test("a merge or an unmerge on a feed names both of its ids for the directory to forget; other events name none")
    func mergesAndUnmergesAreForgotten() {
        let events = [
            event(.customerMerged, "bea", "ada"), event(.touchpointRecorded, "cy"),
            event(.customerUnmerged, "dee", "ada"),
            event(.customerRekeyed, "eve", "ada"),
        ]
        #expect(ReadModelUpkeep.resolvedAnew(by: events) == ["bea", "ada", "dee", "ada"])
        #expect(ReadModelUpkeep.resolvedAnew(by: [event(.alertRaised, "cy")]).isEmpty)
    }
}

/// A feed event of `kind` about `customer`, naming `related` (a merge's survivor).
private func event(_ kind: Customer360_V1_ChangeKind, _ customer: String, _ related: String = "")
    -> Customer360_V1_ChangeEvent
{
    .with {
        $0.kind = kind
        $0.customerID = customer
        $0.relatedCustomerID = related
    }
}

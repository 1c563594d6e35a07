import C360ChangeFeed
import C360Contracts
import C360StoreKit
import C360TestSupport
import Foundation
import GRDB
import Testing

@testable import C360Outreach

/// The erased customer's personal data: values found nowhere else, so any byte run matching one of them in the
/// service's files is a leftover of that customer.
private enum Xanthippa {
    static let id = "c-xanthippa"
    static let contact = CustomerContact(
        givenName: "Xanthippa", familyName: "Quillbrook", email: "xanthippa.quillbrook@example.org",
        phone: "+989127364518", pushToken: "push-token-7Qz3Wv", city: "Zarrinabad")
    static let values = [
        contact.givenName, contact.familyName, contact.email, contact.phone, contact.pushToken,
        contact.city,
    ]
}

private let sara = CustomerContact(givenName: "Sara", familyName: "Stays", email: "sara.stays@example.ir")

/// A store on disk (database and keyring in `directory`), as the service opens them.
private func diskStore(_ directory: URL, kek: KeyEncryptionKey = .generate()) throws -> (OutreachStore, DatabasePool) {
    let pool = try DatabasePool(
        path: directory.appendingPathComponent("outreach.sqlite").path,
        configuration: ServiceDatabase.configuration(label: "outreach.sqlite"))
    let keyring = try Keyring.open(
        path: directory.appendingPathComponent("keys/keyring.sqlite").path, kek: kek,
        logger: .init(label: "test"))
    return (try OutreachStore(writer: pool, keyring: keyring), pool)
}

/// A queued message to `customerID`, then settled as sent with `content`, as the dispatcher does.
private func sendMessage(
    _ store: OutreachStore, _ id: String, to customerID: String, reaching: String? = nil,
    _ content: MessageContent
) async throws {
    _ = try await store.enqueue(
        MessageRecord(
            messageId: id, customerId: customerID, templateId: "t", campaignId: "", idempotencyKey: id,
            purpose: .marketing, forcedChannel: "", channel: "", status: .queued, statusReason: "",
            createdAt: now.unixMillis, scheduledFor: now.unixMillis, sentAt: nil, attempts: 0, language: ""))
    try await store.settle(
        id,
        .sent(
            customerID: reaching ?? customerID, channel: "email", recipient: content.recipient,
            subject: content.subject, body: content.body, language: "en"), at: now)
}

/// The read model's snapshot of a customer with `contact`.
private func snapshot(_ id: String, _ contact: CustomerContact) -> CustomerSnapshot {
    var facts = CustomerFacts(customerId: id, refreshedAt: now.unixMillis)
    facts.loyaltyTier = "gold"
    return CustomerSnapshot(facts: facts, contact: contact, tags: ["vip"], consents: [], channelCounts: [])
}

@Suite("Outreach store: personal data sealed on disk, and erasure leaves nothing readable")
struct OutreachStoreErasureOnDiskTests {
    @Test(
        "the read model's names, addresses and city and a sent message's recipient and text are never on disk in the clear, yet read back"
    )
    func sealedAtRest() async throws {
        try await DatabaseFileScan.withTemporaryDirectory { directory in
            let (store, pool) = try diskStore(directory)
            try await store.store(snapshot(Xanthippa.id, Xanthippa.contact), now: now)
            let hello = MessageContent(
                recipient: Xanthippa.contact.email, subject: "Hi Xanthippa",
                body: "Dear Xanthippa Quillbrook of Zarrinabad, call us on +989127364518.")
            try await sendMessage(store, "m-x", to: Xanthippa.id, hello)
            try await pool.writeWithoutTransaction { _ = try $0.checkpoint(.truncate) }

            let found = try DatabaseFileScan.find(Xanthippa.values, under: directory)
            #expect(found.isEmpty, "in the clear on disk: \(found)")
            #expect(try await store.contact(customerID: Xanthippa.id) == Xanthippa.contact)
            #expect(try store.content(of: try await store.message(id: "m-x")) == hello)
            try pool.close()
        }
    }

    @Test(
        "after erasure the customer's keys are gone: no value is on disk, what a backup kept does not open, and another customer's data stays readable"
    )
    func erasureShredsKeys() async throws {
        try await DatabaseFileScan.withTemporaryDirectory { directory in
            let (store, pool) = try diskStore(directory)
            try await store.store(snapshot(Xanthippa.id, Xanthippa.contact), now: now)
            try await store.store(snapshot("c-sara", sara), now: now)
            try await sendMessage(
                store, "m-x", to: Xanthippa.id,
                MessageContent(
                    recipient: Xanthippa.contact.email, subject: "Hi Xanthippa", body: "Dear Xanthippa Quillbrook"))
            try await sendMessage(
                store, "m-s", to: "c-sara",
                MessageContent(
                    recipient: sara.email, subject: "Hi Sara", body: "Dear Sara"))
            // What a backup taken now holds of her.
            let backedUp = try await store.message(id: "m-x")
            let backedUpFacts = try #require(try await store.facts(customerID: Xanthippa.id))

            try await store.erase(customerID: Xanthippa.id, now: now)

            let left = try DatabaseFileScan.find(Xanthippa.values + ["Hi Xanthippa"], under: directory)
            #expect(left.isEmpty, "left on disk: \(left)")
            #expect(try await store.facts(customerID: Xanthippa.id) == nil)
            await #expect(throws: OutreachError.self) { try await store.message(id: "m-x") }
            #expect(throws: KeyringError.shredded(customerID: Xanthippa.id)) {
                try store.keyring.open(backedUpFacts.email)
            }
            #expect(try store.content(of: backedUp) == MessageContent(), "a shredded message reads as empty")
            #expect(try await store.contact(customerID: "c-sara") == sara)
            #expect(try store.content(of: try await store.message(id: "m-s")).body == "Dear Sara")
            let queued = try await store.writer.read { try OutreachStore.shredQueue.depth($0) }
            #expect(queued == 0, "the shredded key leaves the queue")
            try pool.close()
        }
    }
}

@Suite("Outreach erasure from profile-service's feed")
struct OutreachFeedErasureTests {
    func apply(_ store: OutreachStore, _ events: [Customer360_V1_ChangeEvent]) async throws {
        try await store.writer.write { db in try OutreachStore.apply(db, events: events, delay: .zero, now: now) }
    }

    func queuedForShredding(_ store: OutreachStore) async throws -> [String] {
        try await store.writer.read { db in
            try OutreachStore.shredQueue.due(db, at: now, limit: 100).due.map(\.customerId).sorted()
        }
    }

    func messageCustomers(_ store: OutreachStore) async throws -> [String] {
        try await store.writer.read { db in
            try String.fetchAll(db, sql: "SELECT customerId FROM message ORDER BY customerId")
        }
    }

    @Test(
        "CUSTOMER_ERASED queues the key for shredding in the feed's transaction, and the shredder destroys it after the commit"
    )
    func queuedThenShredded() async throws {
        let store = try OutreachStore(writer: ServiceDatabase.inMemory(), keyring: try Keyring.inMemory())
        try await store.store(snapshot(Xanthippa.id, Xanthippa.contact), now: now)
        let sealed = try #require(try await store.facts(customerID: Xanthippa.id)).email

        try await apply(
            store,
            [
                .with {
                    $0.kind = .customerErased
                    $0.customerID = Xanthippa.id
                }
            ])

        #expect(try await queuedForShredding(store) == [Xanthippa.id])
        #expect(
            try store.keyring.open(sealed) == Xanthippa.contact.email, "the key outlives the transaction until shredded"
        )
        let shredder = Task { await ReadModelUpkeep.shredder(store: store, logger: .init(label: "test")).run() }
        defer { shredder.cancel() }
        let deadline = ContinuousClock.now + .seconds(10)
        while try await !queuedForShredding(store).isEmpty, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(try await queuedForShredding(store).isEmpty)
        #expect(throws: KeyringError.shredded(customerID: Xanthippa.id)) { try store.keyring.open(sealed) }
    }

    @Test("erasing a survivor erases the messages of a customer merged into it, and shreds both keys")
    func mergedCustomerErasedWithSurvivor() async throws {
        let store = try OutreachStore(writer: ServiceDatabase.inMemory(), keyring: try Keyring.inMemory())
        // m-old was sent to the merged-away customer before the merge; m-after was queued for them and sent after it,
        // to the survivor's address; m-other belongs to a bystander.
        try await sendMessage(store, "m-old", to: "c-merged", MessageContent(recipient: "old@example.org", body: "Hi"))
        try await apply(
            store,
            [
                .with {
                    $0.kind = .customerMerged
                    $0.customerID = "c-merged"
                    $0.relatedCustomerID = "c-survivor"
                }
            ])
        try await sendMessage(
            store, "m-after", to: "c-merged", reaching: "c-survivor",
            MessageContent(recipient: "survivor@example.org", body: "Hi"))
        try await sendMessage(
            store, "m-other", to: "c-other", MessageContent(recipient: "other@example.org", body: "Hi"))

        try await apply(
            store,
            [
                .with {
                    $0.kind = .customerErased
                    $0.customerID = "c-survivor"
                }
            ])

        #expect(try await messageCustomers(store) == ["c-other"])
        #expect(try await queuedForShredding(store) == ["c-merged", "c-survivor"])
    }

    @Test("after an unmerge, erasing the former survivor leaves the unmerged customer's messages and key alone")
    func unmergedCustomerStays() async throws {
        let store = try OutreachStore(writer: ServiceDatabase.inMemory(), keyring: try Keyring.inMemory())
        try await sendMessage(store, "m-old", to: "c-merged", MessageContent(recipient: "old@example.org", body: "Hi"))
        let link = Customer360_V1_ChangeEvent.with {
            $0.customerID = "c-merged"
            $0.relatedCustomerID = "c-survivor"
        }
        var merged = link
        var unmerged = link
        merged.kind = .customerMerged
        unmerged.kind = .customerUnmerged
        try await apply(store, [merged, unmerged])

        try await apply(
            store,
            [
                .with {
                    $0.kind = .customerErased
                    $0.customerID = "c-survivor"
                }
            ])

        #expect(try await messageCustomers(store) == ["c-merged"])
        #expect(try await queuedForShredding(store) == ["c-survivor"])
        #expect(try store.content(of: try await store.message(id: "m-old")).recipient == "old@example.org")
    }
}

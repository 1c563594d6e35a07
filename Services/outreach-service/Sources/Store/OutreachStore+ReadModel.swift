import C360ChangeFeed
public import C360Contracts
import C360StoreKit
public import Foundation
public import GRDB

/// Everything the read model holds of one customer, as read from the owning services.
public struct CustomerSnapshot: Sendable, Equatable {
    /// The facts segments read; their contact columns are sealed from `contact` when stored.
    public var facts: CustomerFacts
    /// Who the customer is and how to reach them, in the clear until the store seals it.
    public var contact: CustomerContact
    public var tags: [String]
    public var consents: [CustomerConsent]
    public var channelCounts: [ChannelCount]

    public init(
        facts: CustomerFacts, contact: CustomerContact = CustomerContact(), tags: [String],
        consents: [CustomerConsent], channelCounts: [ChannelCount]
    ) {
        self.facts = facts
        self.contact = contact
        self.tags = tags
        self.consents = consents
        self.channelCounts = channelCounts
    }
}

extension OutreachStore {
    /// The kinds of change the read model follows on each peer's feed.
    public static let followedChanges: [Customer360_V1_ChangeKind] = [
        .customerCreated, .customerUpdated, .customerMerged, .customerUnmerged, .customerDeleted, .customerErased,
        .consentChanged, .loyaltyChanged,
        .touchpointRecorded, .purchaseRecorded, .ticketOpened, .ticketResolved,
        .responseRecorded, .healthScored, .alertRaised, .customerRekeyed, .customerDataErased, .featureRequestShipped,
    ]

    /// The event id prefix of the outbound touchpoints this service records for its messages.
    public static let ownTouchpointPrefix = "outreach:"

    /// Applies a batch of a peer's events to the read model inside the feed consumer's transaction: customers whose
    /// facts changed are queued for a refresh after `delay`; a merged-away, deleted or erased customer leaves the
    /// read model (and every segment) at once.
    ///
    /// - Parameter owns: Whether a customer is this process's: on a shard, the feeds name every shard's customers,
    ///   and only its own are read, segmented, enrolled and messaged here. (Who merged into whom is kept for all: it
    ///   is how an old id is followed to its survivor.)
    public static func apply(
        _ db: Database, events: [Customer360_V1_ChangeEvent], delay: Duration, now: Date,
        owns isOwned: (String) -> Bool = { _ in true }
    ) throws {
        let due = now.adding(delay)
        // A customer a move has fenced here is the target's: what changed reaches them by the refresh that follows
        // their arrival there.
        let fenced = try SlotFence.fencedCustomers(db)
        func owns(_ customerID: String) -> Bool { isOwned(customerID) && fenced?(customerID) != true }
        func refresh(_ customerID: String) throws {
            if owns(customerID) { try refreshQueue.enqueue(db, customerID: customerID, due: due) }
        }
        for event in events {
            switch event.kind {
            case .customerMerged:
                if owns(event.customerID) { try remove(db, customerID: event.customerID, now: now) }
                try recordMerge(db, merged: event.customerID, survivor: event.relatedCustomerID)
                try refresh(event.relatedCustomerID)
            case .customerUnmerged:
                try db.execute(
                    sql: "DELETE FROM customer_merge WHERE mergedId = ? AND survivorId = ?",
                    arguments: [event.customerID, event.relatedCustomerID])
                try refresh(event.customerID)
                try refresh(event.relatedCustomerID)
            case .customerDeleted where owns(event.customerID):
                try remove(db, customerID: event.customerID, now: now)
            case .customerErased:
                // On every shard: the ids merged into the customer may have left messages and runs on theirs. Past
                // any fence: an erasure is never put off, and a copy the move already took is erased on arrival.
                _ = try SlotFence.bypassing(db) {
                    try erase(db, customerID: event.customerID, now: now, announce: owns(event.customerID))
                }
            case .customerRekeyed:
                try refresh(event.relatedCustomerID)
            case .touchpointRecorded where event.subjectID.hasPrefix(Self.ownTouchpointPrefix):
                // The echo of a message this service sent: re-reading the customer for it would double a send run's
                // load on every peer, and a journey triggered by it would answer itself. Its count arrives with the
                // customer's next change.
                continue
            case .customerDeleted:
                continue
            default:
                guard !event.customerID.isEmpty, owns(event.customerID) else { continue }
                try refreshQueue.enqueue(db, customerID: event.customerID, due: due)
                try enroll(db, .event(event.kind, subject: event.subjectID), customerID: event.customerID, now: now)
            }
        }
    }

    /// Stores what the owners answered for one customer and updates the customer's segment memberships, in one
    /// transaction.
    public func store(_ snapshot: CustomerSnapshot, now: Date) async throws {
        try await writer.write { [keyring] db in try Self.store(db, snapshot, keyring: keyring, now: now) }
    }

    static func store(_ db: Database, _ snapshot: CustomerSnapshot, keyring: Keyring, now: Date) throws {
        let id = snapshot.facts.customerId
        var facts = snapshot.facts
        let contact = snapshot.contact
        facts.givenName = try keyring.seal(contact.givenName, for: id)
        facts.familyName = try keyring.seal(contact.familyName, for: id)
        facts.email = try keyring.seal(contact.email, for: id)
        facts.phone = try keyring.seal(contact.phone, for: id)
        facts.pushToken = try keyring.seal(contact.pushToken, for: id)
        facts.city = try keyring.seal(contact.city, for: id)
        try facts.upsert(db)
        try CustomerTag.filter(Column("customerId") == id).deleteAll(db)
        for tag in Set(snapshot.tags) { try CustomerTag(customerId: id, tag: tag).insert(db) }
        try CustomerConsent.filter(Column("customerId") == id).deleteAll(db)
        for consent in snapshot.consents { try consent.upsert(db) }
        try ChannelCount.filter(Column("customerId") == id).deleteAll(db)
        for count in snapshot.channelCounts { try count.upsert(db) }
        try Self.updateMemberships(db, customerID: id, now: now)
    }

    /// Stores many customers at once (a bulk load, a benchmark's fill): each as `store` would, in one transaction.
    public func storeAll(_ snapshots: [CustomerSnapshot], now: Date) async throws {
        try await writer.write { [keyring] db in
            for snapshot in snapshots { try Self.store(db, snapshot, keyring: keyring, now: now) }
        }
    }

    /// Removes a customer the owners no longer know (deleted, erased, merged away).
    public func forget(customerID: String, now: Date) async throws {
        try await writer.write { db in try Self.remove(db, customerID: customerID, now: now) }
    }

    static func remove(_ db: Database, customerID: String, now: Date) throws {
        guard !customerID.isEmpty else { return }
        for membership in try SegmentMembership.filter(SegmentMembership.Columns.customerId == customerID).fetchAll(db)
        {
            try membership.delete(db)
            try ChangeLog.append(db, .segmentLeft, customer: customerID, subject: membership.segmentId, at: now)
        }
        try CustomerFacts.deleteOne(db, key: customerID)
        try CustomerTag.filter(Column("customerId") == customerID).deleteAll(db)
        try CustomerConsent.filter(Column("customerId") == customerID).deleteAll(db)
        try ChannelCount.filter(Column("customerId") == customerID).deleteAll(db)
        try refreshQueue.remove(db, customerID: customerID)
        try exitRuns(db, customerID: customerID, reason: "the customer left (merged away, deleted or erased)", now: now)
    }

    /// Erases everything this service holds about a customer profile-service erased — and about every customer merged
    /// into them, whom profile-service erases with them under the one CUSTOMER_ERASED — in the transaction that applies
    /// the erasure event: the read model, memberships, journey runs and messages (their addresses and texts are
    /// personal data), with CUSTOMER_DATA_ERASED on this service's feed. Their data keys are queued for shredding
    /// (`shredQueue`), which happens once this transaction has committed.
    ///
    /// The keys shredded are exactly those customers': every value here is sealed under the key of the customer it
    /// describes (a message under the customer it reached, which after a merge is the survivor), so a row of the
    /// erased customer sealed under another key holds that other, living customer's data, whose key must stay.
    ///
    /// - Returns: The customers whose keys are queued for shredding.
    @discardableResult
    ///
    /// - Parameter announce: Whether to append CUSTOMER_DATA_ERASED even when nothing was held here (the customer's
    ///   own shard does; another shard only when it held something of an id merged into them).
    static func erase(_ db: Database, customerID: String, now: Date, announce: Bool = true) throws -> [String] {
        guard !customerID.isEmpty else { return [] }
        let erased = try String.fetchAll(
            db,
            sql: """
                WITH RECURSIVE merged(id) AS (
                    SELECT ? UNION SELECT m.mergedId FROM customer_merge m JOIN merged ON m.survivorId = merged.id)
                SELECT id FROM merged ORDER BY id
                """, arguments: [customerID])
        var held = false
        for id in erased {
            let before = db.totalChangesCount
            try remove(db, customerID: id, now: now)
            try MessageRecord.filter(MessageRecord.Columns.customerId == id).deleteAll(db)
            try JourneyRunRecord.filter(JourneyRunRecord.Columns.customerId == id).deleteAll(db)
            held = held || db.totalChangesCount > before
            // As the other services do: earlier feed events naming the customer go, the erasure event stays.
            try ChangeLog.forget(db, customer: id)
            try CustomerAlias.forget(db, customer: id)
            try shredQueue.enqueue(db, customerID: id, due: now)
            // Remembered on every shard, so a copy a move brings in later is erased on arrival.
            try db.execute(sql: "INSERT OR IGNORE INTO \(erasedTable) (customerId) VALUES (?)", arguments: [id])
        }
        let marks = databaseQuestionMarks(count: erased.count)
        try db.execute(
            sql: "DELETE FROM customer_merge WHERE mergedId IN (\(marks)) OR survivorId IN (\(marks))",
            arguments: StatementArguments(erased + erased))
        if announce || held { try ChangeLog.append(db, .customerDataErased, customer: customerID, at: now) }
        return erased
    }

    /// Erases a customer as the CUSTOMER_ERASED event does (`erase(_:customerID:now:)`), then shreds the keys at once
    /// and purges the deleted rows from the WAL, rather than leaving that to the shredder in the background.
    public func erase(customerID: String, now: Date) async throws {
        let owners = try await writer.write { db in try Self.erase(db, customerID: customerID, now: now) }
        try await shredKeys(of: owners)
        try await writer.write { db in
            for owner in owners { try Self.shredQueue.remove(db, customerID: owner) }
        }
    }

    /// Destroys the data keys of erased customers (after their erasure committed), so whatever was sealed under them —
    /// in this database, its WAL or any backup — is unreadable; then makes the deletions final on disk
    /// (`purgeDeletedData()`). Repeating it is harmless; taking the customers off `shredQueue` is the caller's.
    public func shredKeys(of customerIDs: [String]) async throws {
        guard !customerIDs.isEmpty else { return }
        try keyring.shred(customerIDs)
        await writer.purgeDeletedData()
    }

    /// Records that `merged` now belongs to `survivor`, so erasing the survivor erases the merged customer's messages
    /// and runs too (they keep the merged id). One row per merge, as it happened: an unmerge removes exactly its own.
    static func recordMerge(_ db: Database, merged: String, survivor: String) throws {
        guard !merged.isEmpty, !survivor.isEmpty, merged != survivor else { return }
        try db.execute(
            sql: """
                INSERT INTO customer_merge (mergedId, survivorId) VALUES (?, ?)
                ON CONFLICT (mergedId) DO UPDATE SET survivorId = excluded.survivorId
                """, arguments: [merged, survivor])
    }

    /// Re-evaluates every segment for one customer, recording entries and exits with their feed events.
    static func updateMemberships(_ db: Database, customerID: String, now: Date) throws {
        let current = Set(
            try String.fetchAll(
                db,
                SegmentMembership.select(SegmentMembership.Columns.segmentId)
                    .filter(SegmentMembership.Columns.customerId == customerID)))
        for segment in try SegmentRecord.fetchAll(db) {
            let query = try segment.query(now: now)
            let member =
                try CustomerFacts.filter(CustomerFacts.Columns.customerId == customerID)
                .filter(query.condition).fetchCount(db) > 0
            if member, !current.contains(segment.segmentId) {
                try SegmentMembership(segmentId: segment.segmentId, customerId: customerID, enteredAt: now.unixMillis)
                    .insert(db)
                try ChangeLog.append(db, .segmentEntered, customer: customerID, subject: segment.segmentId, at: now)
                try SegmentRecord.touch(db, segment.segmentId, at: now)
                try enroll(db, .segment(segment.segmentId), customerID: customerID, now: now)
            } else if !member, current.contains(segment.segmentId) {
                try SegmentMembership.deleteOne(db, key: ["segmentId": segment.segmentId, "customerId": customerID])
                try ChangeLog.append(db, .segmentLeft, customer: customerID, subject: segment.segmentId, at: now)
                try SegmentRecord.touch(db, segment.segmentId, at: now)
            }
        }
    }

    /// Customers in the read model.
    public func customerCount() async throws -> Int {
        try await writer.read { db in try CustomerFacts.fetchCount(db) }
    }

    /// One customer's contact details as the read model holds them, opened; nil when it holds no facts of them.
    public func contact(customerID: String) async throws -> CustomerContact? {
        guard let facts = try await facts(customerID: customerID) else { return nil }
        return CustomerContact(
            givenName: try keyring.open(facts.givenName), familyName: try keyring.open(facts.familyName),
            email: try keyring.open(facts.email), phone: try keyring.open(facts.phone),
            pushToken: try keyring.open(facts.pushToken), city: try keyring.open(facts.city))
    }

    /// One customer's facts, or nil when the read model does not hold them (yet).
    public func facts(customerID: String) async throws -> CustomerFacts? {
        try await writer.read { db in try CustomerFacts.fetchOne(db, key: customerID) }
    }

    /// The read model's facts of each of `customerIDs` it holds, in one read.
    public func facts(customerIDs: [String]) async throws -> [String: CustomerFacts] {
        try await writer.read { db in
            Dictionary(
                uniqueKeysWithValues: try CustomerFacts.fetchAll(db, keys: customerIDs).map { ($0.customerId, $0) })
        }
    }

    /// Every customer id the read model holds, for a resync.
    public func customerIDs() async throws -> [String] {
        try await writer.read { db in try String.fetchAll(db, CustomerFacts.select(CustomerFacts.Columns.customerId)) }
    }

    /// Queues customers for a refresh now (a resync, or a customer a send found missing).
    public func queueRefresh(_ customerIDs: [String], now: Date) async throws {
        try await writer.write { db in
            for id in customerIDs { try Self.refreshQueue.enqueue(db, customerID: id, due: now) }
        }
    }
}

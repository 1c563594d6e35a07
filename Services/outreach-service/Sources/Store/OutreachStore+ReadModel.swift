import C360ChangeFeed
public import C360Contracts
import C360StoreKit
public import Foundation
public import GRDB

/// Everything the read model holds of one customer, as read from the owning services.
public struct CustomerSnapshot: Sendable, Equatable {
    public var facts: CustomerFacts
    public var tags: [String]
    public var consents: [CustomerConsent]
    public var channelCounts: [ChannelCount]

    public init(facts: CustomerFacts, tags: [String], consents: [CustomerConsent], channelCounts: [ChannelCount]) {
        self.facts = facts
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

    /// Applies a batch of a peer's events to the read model inside the feed consumer's transaction: customers whose
    /// facts changed are queued for a refresh after `delay`; a merged-away, deleted or erased customer leaves the
    /// read model (and every segment) at once.
    /// The event id prefix of the outbound touchpoints this service records for its messages.
    public static let ownTouchpointPrefix = "outreach:"

    public static func apply(_ db: Database, events: [Customer360_V1_ChangeEvent], delay: Duration, now: Date) throws {
        let due = now.adding(delay)
        for event in events {
            switch event.kind {
            case .customerMerged:
                try remove(db, customerID: event.customerID, now: now)
                try refreshQueue.enqueue(db, customerID: event.relatedCustomerID, due: due)
            case .customerUnmerged:
                try refreshQueue.enqueue(db, customerID: event.customerID, due: due)
                try refreshQueue.enqueue(db, customerID: event.relatedCustomerID, due: due)
            case .customerDeleted:
                try remove(db, customerID: event.customerID, now: now)
            case .customerErased:
                try erase(db, customerID: event.customerID, now: now)
            case .customerRekeyed:
                try refreshQueue.enqueue(db, customerID: event.relatedCustomerID, due: due)
            case .touchpointRecorded where event.subjectID.hasPrefix(Self.ownTouchpointPrefix):
                // The echo of a message this service sent: re-reading the customer for it would double a send run's
                // load on every peer, and a journey triggered by it would answer itself. Its count arrives with the
                // customer's next change.
                continue
            default:
                guard !event.customerID.isEmpty else { continue }
                try refreshQueue.enqueue(db, customerID: event.customerID, due: due)
                try enroll(db, .event(event.kind, subject: event.subjectID), customerID: event.customerID, now: now)
            }
        }
    }

    /// Stores what the owners answered for one customer and updates the customer's segment memberships, in one
    /// transaction.
    public func store(_ snapshot: CustomerSnapshot, now: Date) async throws {
        try await writer.write { db in try Self.store(db, snapshot, now: now) }
    }

    static func store(_ db: Database, _ snapshot: CustomerSnapshot, now: Date) throws {
        let id = snapshot.facts.customerId
        try snapshot.facts.upsert(db)
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
        try await writer.write { db in
            for snapshot in snapshots { try Self.store(db, snapshot, now: now) }
        }
    }

    /// Removes a customer the owners no longer know (deleted, erased, merged away).
    public func forget(customerID: String, now: Date) async throws {
        try await writer.write { db in try Self.remove(db, customerID: customerID, now: now) }
    }

    static func remove(_ db: Database, customerID: String, now: Date) throws {
        guard !customerID.isEmpty else { return }
        for membership in try SegmentMembership.filter(SegmentMembership.Columns.customerId == customerID).fetchAll(db) {
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

    /// Erases everything this service holds about a customer profile-service erased: the read model, memberships,
    /// journey runs and messages (their addresses and texts are personal data), in the transaction that applies the
    /// erasure event, with CUSTOMER_DATA_ERASED on this service's feed.
    static func erase(_ db: Database, customerID: String, now: Date) throws {
        guard !customerID.isEmpty else { return }
        try remove(db, customerID: customerID, now: now)
        try MessageRecord.filter(MessageRecord.Columns.customerId == customerID).deleteAll(db)
        try JourneyRunRecord.filter(JourneyRunRecord.Columns.customerId == customerID).deleteAll(db)
        // As the other services do: earlier feed events naming the customer go, the erasure event stays.
        try ChangeLog.forget(db, customer: customerID)
        try CustomerAlias.forget(db, customer: customerID)
        try ChangeLog.append(db, .customerDataErased, customer: customerID, at: now)
    }

    /// Re-evaluates every segment for one customer, recording entries and exits with their feed events.
    static func updateMemberships(_ db: Database, customerID: String, now: Date) throws {
        let current = Set(try String.fetchAll(
            db, SegmentMembership.select(SegmentMembership.Columns.segmentId)
                .filter(SegmentMembership.Columns.customerId == customerID)))
        for segment in try SegmentRecord.fetchAll(db) {
            let query = try segment.query(now: now)
            let member = try CustomerFacts.filter(CustomerFacts.Columns.customerId == customerID)
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

    /// One customer's facts, or nil when the read model does not hold them (yet).
    public func facts(customerID: String) async throws -> CustomerFacts? {
        try await writer.read { db in try CustomerFacts.fetchOne(db, key: customerID) }
    }

    /// The read model's facts of each of `customerIDs` it holds, in one read.
    public func facts(customerIDs: [String]) async throws -> [String: CustomerFacts] {
        try await writer.read { db in
            Dictionary(uniqueKeysWithValues: try CustomerFacts.fetchAll(db, keys: customerIDs).map { ($0.customerId, $0) })
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

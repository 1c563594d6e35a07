import C360ChangeFeed
import C360ServerKit
import C360StoreKit
public import Foundation
import GRDB

extension OutreachStore {
    /// Starts a campaign; the same id with the same segment and template answers the stored one.
    ///
    /// - Throws: `OutreachError.segmentNotFound`, `.templateNotFound`, `.campaignExists` for the same id with
    ///   another audience or template, or `.slotsMoving` while a move has fenced customers here.
    public func startCampaign(_ campaign: CampaignRecord) async throws -> CampaignRecord {
        try await writer.write { db in
            if let stored = try CampaignRecord.fetchOne(db, key: campaign.campaignId) {
                guard stored.segmentId == campaign.segmentId, stored.templateId == campaign.templateId,
                    stored.suppressDiscountDriven == campaign.suppressDiscountDriven
                else {
                    throw OutreachError.campaignExists(campaign.campaignId)
                }
                return stored
            }
            // Customers fenced here would be queued by neither this shard nor the one they move to.
            guard try SlotFence.fencedCustomers(db) == nil else {
                throw OutreachError.slotsMoving(campaign: campaign.campaignId)
            }
            guard try SegmentRecord.exists(db, key: campaign.segmentId) else {
                throw OutreachError.segmentNotFound(campaign.segmentId)
            }
            guard try TemplateRecord.exists(db, key: campaign.templateId) else {
                throw OutreachError.templateNotFound(campaign.templateId)
            }
            try campaign.insert(db)
            return campaign
        }
    }

    public func campaign(id: String) async throws -> (CampaignRecord, CampaignCounts) {
        try await writer.read { db in
            guard let campaign = try CampaignRecord.fetchOne(db, key: id) else {
                throw OutreachError.campaignNotFound(id)
            }
            return (campaign, try counts(db, campaignID: id))
        }
    }

    /// Campaigns still queueing members (resumed after a restart).
    public func queueingCampaigns() async throws -> [CampaignRecord] {
        try await writer.read { db in try CampaignRecord.filter(CampaignRecord.Columns.queueing == true).fetchAll(db) }
    }

    /// Queues the next `chunk` members of a campaign's segment after its cursor, one message each (key
    /// `<campaign>:<customer>`), and moves the cursor, in one transaction: a restart resumes after the last chunk
    /// stored. Answers how many were queued; 0 once every member is (the campaign then stops queueing).
    public func queueNextMembers(campaignID: String, chunk: Int, now: Date) async throws -> Int {
        try await writer.write { db in
            guard var campaign = try CampaignRecord.fetchOne(db, key: campaignID), campaign.queueing else { return 0 }
            guard let template = try TemplateRecord.fetchOne(db, key: campaign.templateId) else {
                throw OutreachError.templateNotFound(campaign.templateId)
            }
            let members = try String.fetchAll(
                db,
                SegmentMembership.select(SegmentMembership.Columns.customerId)
                    .filter(SegmentMembership.Columns.segmentId == campaign.segmentId)
                    .filter(SegmentMembership.Columns.customerId > campaign.cursor)
                    .order(SegmentMembership.Columns.customerId).limit(chunk))
            let suppressed: Set<String> =
                campaign.suppressDiscountDriven && !members.isEmpty
                ? Set(
                    try String.fetchAll(
                        db,
                        CustomerFacts.select(CustomerFacts.Columns.customerId)
                            .filter(members.contains(CustomerFacts.Columns.customerId))
                            .filter(CustomerFacts.Columns.discountDriven == true)))
                : []
            for customerID in members {
                try Self.queueMember(
                    db, campaign, purpose: template.purpose, customerID: customerID,
                    suppressed: suppressed.contains(customerID), now: now)
            }
            if let last = members.last { campaign.cursor = last }
            if members.count < chunk {
                campaign.queueing = false
                try campaign.update(db)
                try Self.completeCampaignIfDone(db, campaignID, now: now)
            } else {
                try campaign.update(db)
            }
            return members.count
        }
    }

    /// Queues a campaign's message to one member. A member's key is "<campaign>:<customer>", so a conflict is only
    /// ever a replay (of a chunk, or of a move's arrival): it is ignored. One cached statement per row; the general
    /// `enqueue` check cost a query per member.
    static func queueMember(
        _ db: Database, _ campaign: CampaignRecord, purpose: MessagePurpose, customerID: String, suppressed: Bool,
        now: Date
    ) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO message (messageId, customerId, templateId, campaignId, idempotencyKey, purpose, forcedChannel,
                    channel, status, statusReason, createdAt, scheduledFor, sentAt, attempts, recipient, subject, body,
                    language, touchpointRecorded)
                VALUES (?, ?, ?, ?, ?, ?, '', '', ?, ?, ?, ?, NULL, 0, '', '', '', '', 0)
                ON CONFLICT (idempotencyKey) DO NOTHING
                """
        ).execute(arguments: [
            EntityID.generate(), customerID, campaign.templateId, campaign.campaignId,
            "\(campaign.campaignId):\(customerID)", purpose.rawValue,
            (suppressed ? MessageStatus.suppressed : .queued).rawValue,
            suppressed ? "discount-driven customer, left out by the campaign" : "", now.unixMillis, now.unixMillis,
        ])
    }

    /// Queues an arriving customer's message of every campaign here they were a member of when it started and have
    /// none of: the campaign was started here while the shard they came from could not queue them (their slot was
    /// fenced there), or this shard queued it for its copy of them and the move's next copy replaced it.
    static func queueMissedCampaigns(_ db: Database, customerID: String, now: Date) throws {
        let missed = try CampaignRecord.fetchAll(
            db,
            sql: """
                SELECT c.* FROM campaign c JOIN segment_member m ON m.segmentId = c.segmentId AND m.customerId = ?1
                WHERE m.enteredAt <= c.startedAt
                AND NOT EXISTS (SELECT 1 FROM message WHERE idempotencyKey = c.campaignId || ':' || ?1)
                """, arguments: [customerID])
        guard !missed.isEmpty else { return }
        let discountDriven =
            try Bool.fetchOne(
                db,
                CustomerFacts.filter(key: customerID).select(CustomerFacts.Columns.discountDriven)) ?? false
        for campaign in missed {
            guard let template = try TemplateRecord.fetchOne(db, key: campaign.templateId) else { continue }
            try queueMember(
                db, campaign, purpose: template.purpose, customerID: customerID,
                suppressed: campaign.suppressDiscountDriven && discountDriven, now: now)
        }
    }

    /// The campaign's messages by status: those to customers this shard owns (a move's copies are another shard's).
    func counts(_ db: Database, campaignID: String) throws -> CampaignCounts {
        var counts = CampaignCounts()
        let rows = try Row.fetchAll(
            db,
            MessageRecord.select(MessageRecord.Columns.status, count(MessageRecord.Columns.messageId))
                .filter(MessageRecord.Columns.campaignId == campaignID)
                .filter(try ownership.slots.expression(db, customer: MessageRecord.Columns.customerId))
                .group(MessageRecord.Columns.status))
        for row in rows {
            // Positional: (status, count) of one GROUP BY.
            if let status = MessageStatus(rawValue: row[0]) { counts.byStatus[status] = row[1] }
        }
        return counts
    }

    /// Marks a campaign completed once it queued every member and none of its messages is pending.
    static func completeCampaignIfDone(_ db: Database, _ campaignID: String, now: Date) throws {
        guard var campaign = try CampaignRecord.fetchOne(db, key: campaignID), !campaign.queueing,
            campaign.completedAt == nil
        else { return }
        // One pending message is enough to know (index message_by_campaign_status): counting them all on every
        // settle made a 100k-message campaign quadratic.
        let pending = try String.fetchOne(
            db,
            MessageRecord.filter(MessageRecord.Columns.campaignId == campaignID)
                .filter([MessageStatus.queued, .deferred, .sending].contains(MessageRecord.Columns.status))
                .select(MessageRecord.Columns.messageId).limit(1))
        guard pending == nil else { return }
        campaign.completedAt = now.unixMillis
        try campaign.update(db)
    }
}

import C360ChangeFeed
import C360ServerKit
public import C360StoreKit
public import Foundation
import GRDB

/// How one attempt to send a message ended.
public enum SendOutcome: Sendable, Equatable {
    /// The adapter accepted it, addressed to `customerID` as profile-service knows them now (the survivor, when the
    /// message was queued for a customer merged since): the recipient, subject and body are sealed under their key.
    case sent(customerID: String, channel: String, recipient: String, subject: String, body: String, language: String)
    /// Held back until `until` (quiet hours, or a retry's backoff after `reason`).
    case deferred(until: Date, reason: String)
    /// Not sent on purpose (no consent, no address, frequency cap).
    case suppressed(reason: String)
    /// The adapter refused it for good, or the last retry failed.
    case failed(reason: String)
}

/// Messages of a campaign by status.
public struct CampaignCounts: Sendable, Equatable {
    public var byStatus: [MessageStatus: Int] = [:]
    public var total: Int { byStatus.values.reduce(0, +) }
}

extension OutreachStore {
    /// Queues a message; a message with the same idempotency key answers instead.
    ///
    /// - Throws: `OutreachError.idempotencyKeyReused` when the key was used for another customer, template or
    ///   campaign.
    public func enqueue(_ message: MessageRecord) async throws -> MessageRecord {
        try await writer.write { db in try Self.enqueue(db, message) }
    }

    static func enqueue(_ db: Database, _ message: MessageRecord) throws -> MessageRecord {
        if let stored = try MessageRecord.filter(MessageRecord.Columns.idempotencyKey == message.idempotencyKey)
            .fetchOne(db)
        {
            for (field, same) in [
                ("customer_id", stored.customerId == message.customerId),
                ("template_id", stored.templateId == message.templateId),
                ("channel", stored.forcedChannel == message.forcedChannel),
                ("campaign_id", stored.campaignId == message.campaignId),
            ] where !same {
                throw OutreachError.idempotencyKeyReused(key: message.idempotencyKey, field: field)
            }
            return stored
        }
        try message.insert(db)
        return message
    }

    /// What a sent message said and where it went, opened; empty before it is sent, and empty too once the customer it
    /// reached was erased (their key is gone, so nobody can read it — the row may outlive them when it belongs to a
    /// customer who was merged into them and unmerged again).
    ///
    /// - Throws: `KeyringError.tampered` when a value does not open under its key.
    public func content(of message: MessageRecord) throws -> MessageContent {
        do {
            return MessageContent(
                recipient: try keyring.open(message.recipient),
                subject: try keyring.open(message.subject), body: try keyring.open(message.body))
        } catch KeyringError.shredded {
            return MessageContent()
        }
    }

    public func message(id: String) async throws -> MessageRecord {
        try await writer.read { db in
            guard let message = try MessageRecord.fetchOne(db, key: id) else { throw OutreachError.messageNotFound(id) }
            return message
        }
    }

    /// Messages due by `now` (queued or deferred), earliest first, and when the next of the rest falls due.
    public func dueMessages(at now: Date, limit: Int) async throws -> (due: [MessageRecord], next: Date?) {
        try await writer.read { db in
            // Spelled as the partial index `message_due` is (status = 'queued' OR status = 'deferred'): SQLite uses
            // a partial index only when the query's condition implies the index's as written, and `status IN (…)`
            // does not, so the dispatcher's every tick read every message ever sent.
            let status = MessageRecord.Columns.status
            let pending = MessageRecord.filter(
                status == MessageStatus.queued.rawValue || status == MessageStatus.deferred.rawValue)
            let due = try workableRows(
                db,
                pending.filter(MessageRecord.Columns.scheduledFor <= now.unixMillis)
                    .order(MessageRecord.Columns.scheduledFor), customer: \.customerId, limit: limit)
            let next = try Int64.fetchOne(db, pending.select(min(MessageRecord.Columns.scheduledFor)))
            return (due, Self.nextDue(next, due: due.isEmpty, now: now))
        }
    }

    /// Marks messages as handed to the adapter for their channel (status `sending`, one more attempt) before the
    /// adapter is called, in one transaction, so a crash mid-delivery is known after the restart
    /// (`recoverInterruptedSends`).
    public func beginAttempts(_ attempts: [(messageID: String, channel: String)]) async throws {
        guard !attempts.isEmpty else { return }
        try await writer.write { db in
            let statement = try db.cachedStatement(
                sql: """
                    UPDATE message SET attempts = attempts + 1, channel = ?, status = ? WHERE messageId = ?
                    """)
            for attempt in attempts {
                try statement.execute(arguments: [attempt.channel, MessageStatus.sending.rawValue, attempt.messageID])
            }
        }
    }

    /// Settles the messages a previous process stopped in the middle of delivering — whether the customer got them
    /// is unknown. Those on `resendable` channels (whose receiver drops a repeat of the idempotency key: the webhook)
    /// are queued again; the others (email: SMTP has no such key) fail with the reason, because a customer must never
    /// get a message twice. Call once at start-up, before sending. Answers (requeued, failed).
    public func recoverInterruptedSends(resendable: Set<String>, now: Date) async throws -> (requeued: Int, failed: Int)
    {
        try await writer.write { db in
            // A move's copy of a message another shard was sending is that shard's to settle.
            let acting = try workable(db)
            let interrupted = try MessageRecord.filter(MessageRecord.Columns.status == MessageStatus.sending.rawValue)
                .fetchAll(db).filter { acting($0.customerId) }
            var counts = (requeued: 0, failed: 0)
            for var message in interrupted {
                if resendable.contains(message.channel) {
                    message.status = .queued
                    message.statusReason =
                        "requeued after an interrupted delivery; the receiver drops a repeat of its idempotency key"
                    message.scheduledFor = now.unixMillis
                    counts.requeued += 1
                } else {
                    message.status = .failed
                    message.statusReason =
                        "the service stopped while the \(message.channel) adapter had it; delivery is "
                        + "unknown and it is not resent, so the customer never gets it twice"
                    try ChangeLog.append(
                        db, .messageFailed, customer: message.customerId, subject: message.messageId, at: now)
                    counts.failed += 1
                }
                try message.update(db)
                if !message.campaignId.isEmpty { try Self.completeCampaignIfDone(db, message.campaignId, now: now) }
            }
            return counts
        }
    }

    /// Records how an attempt ended, with its feed event, in one transaction. A message already settled is left as it
    /// is (a second dispatcher, or a replay, changes nothing).
    @discardableResult
    public func settle(_ messageID: String, _ outcome: SendOutcome, at now: Date) async throws -> MessageRecord {
        try await writer.write { [keyring] db in
            guard let message = try Self.settle(db, messageID, outcome, keyring: keyring, at: now) else {
                throw OutreachError.messageNotFound(messageID)
            }
            if !message.campaignId.isEmpty { try Self.completeCampaignIfDone(db, message.campaignId, now: now) }
            return message
        }
    }

    /// `settle` for a batch of messages in one transaction: what a send run writes per batch instead of per message.
    /// Unknown message ids are skipped.
    public func settleAll(_ outcomes: [(messageID: String, outcome: SendOutcome)], at now: Date) async throws {
        guard !outcomes.isEmpty else { return }
        try await writer.write { [keyring] db in
            // One read for the batch: a lookup per message was a tenth of a send run's CPU.
            let stored = Dictionary(
                uniqueKeysWithValues: try MessageRecord.fetchAll(db, keys: outcomes.map(\.messageID))
                    .map { ($0.messageId, $0) })
            var campaigns = Set<String>()
            for (messageID, outcome) in outcomes {
                guard let message = stored[messageID] else { continue }
                let settled = try Self.settle(db, message, outcome, keyring: keyring, at: now)
                if !settled.campaignId.isEmpty { campaigns.insert(settled.campaignId) }
            }
            for campaign in campaigns { try Self.completeCampaignIfDone(db, campaign, now: now) }
        }
    }

    /// Applies one outcome inside the caller's transaction; nil when the message does not exist.
    static func settle(
        _ db: Database, _ messageID: String, _ outcome: SendOutcome, keyring: Keyring, at now: Date
    ) throws -> MessageRecord? {
        guard let message = try MessageRecord.fetchOne(db, key: messageID) else { return nil }
        return try settle(db, message, outcome, keyring: keyring, at: now)
    }

    /// Applies one outcome to `message` as read in the caller's transaction, sealing what a sent message said.
    static func settle(
        _ db: Database, _ stored: MessageRecord, _ outcome: SendOutcome, keyring: Keyring, at now: Date
    ) throws -> MessageRecord {
        var message = stored
        let messageID = message.messageId
        guard message.status.isPending else { return message }
        switch outcome {
        case .sent(let customerID, let channel, let recipient, let subject, let body, let language):
            message.status = .sent
            message.statusReason = ""
            message.channel = channel
            message.recipient = try keyring.seal(recipient, for: customerID)
            message.subject = try keyring.seal(subject, for: customerID)
            message.body = try keyring.seal(body, for: customerID)
            message.language = language
            message.sentAt = now.unixMillis
            try ChangeLog.append(db, .messageSent, customer: message.customerId, subject: messageID, at: now)
        case .deferred(let until, let reason):
            message.status = .deferred
            message.statusReason = reason
            message.scheduledFor = until.unixMillis
        case .suppressed(let reason):
            message.status = .suppressed
            message.statusReason = reason
        case .failed(let reason):
            message.status = .failed
            message.statusReason = reason
            try ChangeLog.append(db, .messageFailed, customer: message.customerId, subject: messageID, at: now)
        }
        try message.update(db)
        return message
    }

    /// Marketing messages sent to each of `customerIDs` since `since` (the frequency cap's counts), in one read.
    public func marketingSent(customerIDs: [String], since: Date) async throws -> [String: Int] {
        guard !customerIDs.isEmpty else { return [:] }
        return try await writer.read { db in
            let rows = try Row.fetchAll(
                db,
                MessageRecord
                    .select(MessageRecord.Columns.customerId, count(MessageRecord.Columns.messageId))
                    .filter(customerIDs.contains(MessageRecord.Columns.customerId))
                    .filter(MessageRecord.Columns.purpose == MessagePurpose.marketing.rawValue)
                    .filter(MessageRecord.Columns.status == MessageStatus.sent.rawValue)
                    .filter(MessageRecord.Columns.sentAt >= since.unixMillis)
                    .group(MessageRecord.Columns.customerId))
            return Dictionary(uniqueKeysWithValues: rows.map { ($0[0] as String, $0[1] as Int) })
        }
    }

    /// Sent messages whose outbound touchpoint is not stored in interaction-service yet, oldest first.
    public func unrecordedTouchpoints(limit: Int) async throws -> [MessageRecord] {
        try await writer.read { db in
            try workableRows(
                db,
                MessageRecord.filter(MessageRecord.Columns.status == MessageStatus.sent.rawValue)
                    .filter(MessageRecord.Columns.touchpointRecorded == false)
                    .order(MessageRecord.Columns.sentAt), customer: \.customerId, limit: limit)
        }
    }

    /// Marks messages' outbound touchpoints as stored, in one transaction.
    public func markTouchpointsRecorded(_ messageIDs: [String]) async throws {
        guard !messageIDs.isEmpty else { return }
        _ = try await writer.write { db in
            try MessageRecord.filter(messageIDs.contains(MessageRecord.Columns.messageId))
                .updateAll(db, MessageRecord.Columns.touchpointRecorded.set(to: true))
        }
    }

    /// One customer's messages, newest first, after the position (createdAt, messageId).
    public func messages(customerID: String, after: InstantPosition?, limit: Int) async throws -> Page<MessageRecord> {
        try await writer.read { db in
            let rows = try MessageRecord.filter(MessageRecord.Columns.customerId == customerID).page(
                .descending(MessageRecord.Columns.createdAt, tie: MessageRecord.Columns.messageId), after: after,
                limit: limit
            ).fetchAll(db)
            return Page(fetched: rows, limit: limit)
        }
    }

    /// One campaign's messages by customer id after `after`.
    public func messages(campaignID: String, after: String?, limit: Int) async throws -> Page<MessageRecord> {
        try await writer.read { db in
            var request = MessageRecord.filter(MessageRecord.Columns.campaignId == campaignID)
                .filter(try ownership.slots.expression(db, customer: MessageRecord.Columns.customerId))
            if let after { request = request.filter(MessageRecord.Columns.customerId > after) }
            return Page(
                fetched: try request.order(MessageRecord.Columns.customerId).limit(limit + 1).fetchAll(db),
                limit: limit)
        }
    }
}

public import C360ChangeFeed
public import C360ServerKit
public import C360StoreKit
import Foundation
public import GRDB

/// outreach-service's database: the read model of every customer (facts copied from the other services' feeds),
/// segments with their current members, message templates, outbound messages and campaigns.
///
/// Instants are Unix milliseconds. A message's status change, its feed event and its campaign's counters are stored
/// in one transaction; a segment membership change and its SEGMENT_ENTERED/LEFT event likewise.
///
/// Personal data — the read model's names, addresses and city, and each sent message's recipient, subject and body —
/// is sealed under the customer's data key from `keyring` (a separate database; see `Keyring`), so this database, its
/// WAL and its backups hold ciphertext, and erasing a customer shreds the keys (`shredQueue`).
public struct OutreachStore: Sendable {
    public let writer: any DatabaseWriter
    let keyring: Keyring
    /// The customers whose messages, journey steps and refreshes this process does: on a shard, those the map gives
    /// it (rows of others are a move's copy, inert until the map flips).
    let ownership: CustomerOwnership

    public init(writer: any DatabaseWriter, keyring: Keyring, ownership: CustomerOwnership = .everyone) throws {
        self.writer = writer
        self.keyring = keyring
        self.ownership = ownership
        try DatabaseSchema.migrate(writer, with: Self.schema(keyring: keyring))
        try writer.write { db in try SlotTouchLog.renew(db, tables: Self.customerTables) }
    }

    /// The schema's migrations, for the `restore` subcommand's version check (which runs none of them).
    public static var schema: DatabaseMigrator { schema(keyring: nil) }

    /// The migrations; v7, which seals what earlier versions stored in the clear, needs the keyring and refuses to
    /// run without one.
    static func schema(keyring: Keyring?) -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: read model, segments, templates, messages, campaigns") { db in
            try db.create(table: CustomerFacts.databaseTableName) { t in
                t.primaryKey("customerId", .text)
                t.column("givenName", .text).notNull().defaults(to: "")
                t.column("familyName", .text).notNull().defaults(to: "")
                t.column("email", .text).notNull().defaults(to: "")
                t.column("phone", .text).notNull().defaults(to: "")
                t.column("pushToken", .text).notNull().defaults(to: "")
                t.column("language", .text).notNull().defaults(to: "")
                t.column("countryCode", .text).notNull().defaults(to: "")
                t.column("city", .text).notNull().defaults(to: "")
                t.column("timeZone", .text).notNull().defaults(to: "")
                t.column("quietStartMinute", .integer)
                t.column("quietEndMinute", .integer)
                t.column("preferredChannel", .text).notNull().defaults(to: "")
                t.column("bestChannel", .text).notNull().defaults(to: "")
                t.column("lifecycleStage", .text).notNull().defaults(to: "")
                t.column("loyaltyTier", .text).notNull().defaults(to: "")
                t.column("loyaltyPoints", .integer).notNull().defaults(to: 0)
                t.column("rfmSegment", .text).notNull().defaults(to: "")
                t.column("clvMinor", .integer).notNull().defaults(to: 0)
                t.column("orders", .integer).notNull().defaults(to: 0)
                t.column("discountDriven", .boolean).notNull().defaults(to: false)
                t.column("lastPurchaseAt", .integer)
                t.column("lastSeenAt", .integer)
                t.column("createdAt", .integer)
                t.column("totalTouchpoints", .integer).notNull().defaults(to: 0)
                t.column("touchpoints7d", .integer).notNull().defaults(to: 0)
                t.column("touchpoints30d", .integer).notNull().defaults(to: 0)
                t.column("touchpoints90d", .integer).notNull().defaults(to: 0)
                t.column("npsCategory", .text).notNull().defaults(to: "")
                t.column("latestCsat", .integer)
                t.column("sentiment", .text).notNull().defaults(to: "")
                t.column("healthBand", .text).notNull().defaults(to: "")
                t.column("healthScore", .double)
                t.column("openAlerts", .integer).notNull().defaults(to: 0)
                t.column("churnRisk", .boolean).notNull().defaults(to: false)
                t.column("attributes", .text).notNull().defaults(to: "{}")
                t.column("refreshedAt", .integer).notNull()
            }
            try db.create(table: CustomerTag.databaseTableName) { t in
                t.column("customerId", .text).notNull()
                t.column("tag", .text).notNull()
                t.primaryKey(["customerId", "tag"])
            }
            try db.create(
                index: "customer_tag_by_tag", on: CustomerTag.databaseTableName, columns: ["tag", "customerId"])
            try db.create(table: CustomerConsent.databaseTableName) { t in
                t.column("customerId", .text).notNull()
                t.column("purpose", .text).notNull()
                t.column("channel", .text).notNull()
                t.column("granted", .boolean).notNull()
                t.primaryKey(["customerId", "purpose", "channel"])
            }
            try db.create(table: ChannelCount.databaseTableName) { t in
                t.column("customerId", .text).notNull()
                t.column("windowDays", .integer).notNull()
                t.column("channel", .text).notNull()
                t.column("touchpoints", .integer).notNull()
                t.primaryKey(["customerId", "windowDays", "channel"])
            }
            try refreshQueue.create(db)

            try db.create(table: SegmentRecord.databaseTableName) { t in
                t.primaryKey("segmentId", .text)
                t.column("name", .text).notNull()
                t.column("description", .text).notNull()
                t.column("rule", .blob).notNull()
                t.column("createdAt", .integer).notNull()
                t.column("updatedAt", .integer).notNull()
            }
            try db.create(table: SegmentMembership.databaseTableName) { t in
                t.column("segmentId", .text).notNull().references(SegmentRecord.databaseTableName, onDelete: .cascade)
                t.column("customerId", .text).notNull()
                t.column("enteredAt", .integer).notNull()
                t.primaryKey(["segmentId", "customerId"])
            }
            try db.create(
                index: "segment_member_by_customer", on: SegmentMembership.databaseTableName,
                columns: ["customerId"])

            try db.create(table: TemplateRecord.databaseTableName) { t in
                t.primaryKey("templateId", .text)
                t.column("name", .text).notNull()
                t.column("purpose", .text).notNull()
                t.column("defaultLanguage", .text).notNull()
                t.column("variants", .text).notNull()
                t.column("createdAt", .integer).notNull()
                t.column("updatedAt", .integer).notNull()
            }

            try db.create(table: MessageRecord.databaseTableName) { t in
                t.primaryKey("messageId", .text)
                t.column("customerId", .text).notNull()
                t.column("templateId", .text).notNull()
                t.column("campaignId", .text).notNull()
                t.column("idempotencyKey", .text).notNull().unique()
                t.column("purpose", .text).notNull()
                t.column("forcedChannel", .text).notNull()
                t.column("channel", .text).notNull()
                t.column("status", .text).notNull()
                t.column("statusReason", .text).notNull()
                t.column("createdAt", .integer).notNull()
                t.column("scheduledFor", .integer).notNull()
                t.column("sentAt", .integer)
                t.column("attempts", .integer).notNull()
                t.column("recipient", .text).notNull()
                t.column("subject", .text).notNull()
                t.column("body", .text).notNull()
                t.column("language", .text).notNull()
                t.column("touchpointRecorded", .boolean).notNull().defaults(to: false)
            }
            try db.create(
                index: "message_touchpoint_pending", on: MessageRecord.databaseTableName,
                columns: ["sentAt"], condition: Column("touchpointRecorded") == false && Column("status") == "sent")
            try db.create(
                index: "message_due", on: MessageRecord.databaseTableName, columns: ["scheduledFor"],
                condition: Column("status") == MessageStatus.queued.rawValue
                    || Column("status") == MessageStatus.deferred.rawValue)
            try db.create(
                index: "message_by_customer", on: MessageRecord.databaseTableName,
                columns: ["customerId", "createdAt"])
            try db.create(
                index: "message_by_campaign", on: MessageRecord.databaseTableName,
                columns: ["campaignId", "customerId"])

            try db.create(table: CampaignRecord.databaseTableName) { t in
                t.primaryKey("campaignId", .text)
                t.column("segmentId", .text).notNull()
                t.column("templateId", .text).notNull()
                t.column("queueing", .boolean).notNull()
                t.column("cursor", .text).notNull()
                t.column("startedAt", .integer).notNull()
                t.column("completedAt", .integer)
            }
        }
        migrator.registerChangeFeed()
        migrator.registerMergeJournal()
        registerJourneys(&migrator)
        migrator.registerMigration("v3: campaigns may leave out discount-driven customers") { db in
            try db.alter(table: CampaignRecord.databaseTableName) { t in
                t.add(column: "suppressDiscountDriven", .boolean).notNull().defaults(to: false)
            }
        }
        migrator.registerMigration("v4: the top product recommendation in the read model") { db in
            try db.alter(table: CustomerFacts.databaseTableName) { t in
                t.add(column: "recommendation", .text).notNull().defaults(to: "")
            }
        }
        migrator.registerMigration("v5: a campaign's pending messages found by index") { db in
            try db.create(
                index: "message_by_campaign_status", on: MessageRecord.databaseTableName,
                columns: ["campaignId", "status"])
        }
        migrator.registerMigration("v6: what triggered a journey run; placeholder values carried by a message") { db in
            try db.alter(table: JourneyRunRecord.databaseTableName) { t in
                t.add(column: "triggerSubject", .text).notNull().defaults(to: "")
            }
            try db.alter(table: MessageRecord.databaseTableName) { t in
                t.add(column: "context", .text).notNull().defaults(to: "{}")
            }
        }
        migrator.registerMigration(
            "v7: personal data sealed under per-customer keys; merges and key shredding remembered"
        ) { db in
            guard let keyring else {
                throw KeyringError.badKeyEncryptionKey("sealing the outreach database needs its keyring")
            }
            try sealStoredText(db, keyring: keyring)
            try db.create(table: "customer_merge") { t in
                t.primaryKey("mergedId", .text)
                t.column("survivorId", .text).notNull().indexed()
            }
            try shredQueue.create(db)
        }
        // A journey's counts of waiting and completed runs (read with every journey shown) read the index alone, and
        // its runs page in run-id order without sorting them all each page.
        migrator.registerMigration("v8: a journey's runs indexed by state and by run id") { db in
            try db.create(
                index: "journey_run_by_state", on: JourneyRunRecord.databaseTableName, columns: ["journeyId", "state"])
            try db.create(
                index: "journey_run_page", on: JourneyRunRecord.databaseTableName, columns: ["journeyId", "runId"])
        }
        registerSlotMoves(&migrator)
        return migrator
    }

    /// Seals what versions before 7 stored in the clear — the read model's contact columns and sent messages' texts —
    /// each under the key of the customer its row belongs to.
    static func sealStoredText(_ db: Database, keyring: Keyring) throws {
        let tables: [(table: String, key: String, columns: [String])] = [
            (
                CustomerFacts.databaseTableName, "customerId",
                ["givenName", "familyName", "email", "phone", "pushToken", "city"]
            ),
            (MessageRecord.databaseTableName, "messageId", ["recipient", "subject", "body"]),
        ]
        for (table, key, columns) in tables {
            let assignments = columns.map { "\($0) = ?" }.joined(separator: ", ")
            let update = try db.makeStatement(sql: "UPDATE \(table) SET \(assignments) WHERE \(key) = ?")
            // All read first: updating the table under an open cursor could visit a sealed row again. Read by column
            // names on purpose: a migration reads the tables as version 6 left them, column by column from the list
            // above, so no record type (which follows the current schema, where these columns are sealed) fits here.
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT \(key), customerId, \(columns.joined(separator: ", ")) FROM \(table)
                    WHERE \(columns.map { "\($0) <> ''" }.joined(separator: " OR "))
                    """)
            for row in rows {
                let owner: String = row["customerId"]
                var arguments = StatementArguments()
                for column in columns { _ = arguments.append(contentsOf: [try keyring.seal(row[column], for: owner)]) }
                _ = arguments.append(contentsOf: [row[key] as String])
                try update.execute(arguments: arguments)
            }
        }
    }

    /// Customers whose facts must be read again from their owners, a burst of changes coalesced into one read.
    public static let refreshQueue = CustomerQueue(table: "fact_refresh")

    /// Customers whose data keys an erasure committed to destroy: filled in the erasure's transaction, worked after
    /// the commit (`shredKey(of:)`), so a crash in between neither loses a shred nor destroys a key before the rows
    /// it sealed are gone.
    public static let shredQueue = CustomerQueue(table: "key_shred")
}

/// Whose database this is, for the shared `backup` and `restore` subcommands.
extension OutreachStore: ServiceStore {
    public static var identity: ServiceIdentity { .outreach }
}

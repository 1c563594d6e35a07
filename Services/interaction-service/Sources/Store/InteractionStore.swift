import C360ChangeFeed
public import C360ServerKit
public import C360StoreKit
public import Foundation
public import GRDB

/// interaction-service's database: touchpoints, support tickets, and per-customer counters kept up to date on
/// ingest so statistics never scan a customer's whole history.
///
/// Instants are stored as Unix milliseconds (integers keep the 1M-row indexes small and comparisons cheap).
/// Every write is one transaction: an event is stored whole with its counters and ticket update, or not at all.
///
/// What people write — touchpoint bodies and attributes, ticket subjects — is sealed under the customer's data key
/// from `keyring` (a separate database; see `Keyring`), so this database and its backups hold ciphertext, and
/// erasing a customer (`eraseCustomer`) shreds the keys that could open it.
public struct InteractionStore: Sendable {
    let writer: any DatabaseWriter
    let keyring: Keyring
    let now: @Sendable () -> Date
    /// Sums are kept in this ISO-4217 currency; purchases in others are counted but not summed.
    public let currency: String
    /// The customers reads across customers count: on a shard, those of its slots (a move's copies are left out).
    let owned: OwnedSlots
    /// Sees, in the write's transaction, a survivor a write was re-keyed to by a merge applied since it was resolved
    /// (`CustomerAlias.survivor(_:ofWrite:handOver:)`): on a shard, `SlotHandoff.queueing`.
    let handOver: @Sendable (Database, String) throws -> Void

    public init(
        writer: any DatabaseWriter, keyring: Keyring, currency: String = "USD", owned: OwnedSlots = .everyone,
        handOver: @escaping @Sendable (Database, String) throws -> Void = { _, _ in },
        now: @escaping @Sendable () -> Date = Date.init
    ) throws {
        self.writer = writer
        self.keyring = keyring
        self.currency = currency
        self.owned = owned
        self.handOver = handOver
        self.now = now
        try DatabaseSchema.migrate(writer, with: Self.schema(keyring: keyring))
    }

    /// The schema without a keyring, for tools that only read a database's version (sealing existing rows needs one).
    public static var schema: DatabaseMigrator { schema(keyring: nil) }

    static func schema(keyring: Keyring?) -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: touchpoints, tickets, customer summaries") { db in
            try db.execute(
                sql: """
                    CREATE TABLE touchpoint (
                        seq INTEGER PRIMARY KEY,
                        eventId TEXT NOT NULL UNIQUE,
                        customerId TEXT NOT NULL,
                        occurredAt INTEGER NOT NULL,
                        recordedAt INTEGER NOT NULL,
                        channel TEXT NOT NULL,
                        kind TEXT NOT NULL,
                        direction TEXT NOT NULL,
                        agentId TEXT NOT NULL DEFAULT '',
                        ticketId TEXT NOT NULL DEFAULT '',
                        campaignId TEXT NOT NULL DEFAULT '',
                        durationMs INTEGER,
                        purchase TEXT,
                        attributes TEXT,
                        body TEXT NOT NULL DEFAULT ''
                    );
                    CREATE INDEX touchpoint_timeline ON touchpoint(customerId, occurredAt, seq);
                    CREATE INDEX touchpoint_ticket ON touchpoint(ticketId, occurredAt) WHERE ticketId <> '';
                    CREATE INDEX touchpoint_self_service ON touchpoint(occurredAt) WHERE kind = 'self_service';

                    CREATE TABLE ticket (
                        ticketId TEXT PRIMARY KEY,
                        customerId TEXT NOT NULL,
                        subject TEXT NOT NULL,
                        status TEXT NOT NULL,
                        priority TEXT NOT NULL,
                        channel TEXT NOT NULL,
                        openedAt INTEGER NOT NULL,
                        firstResponseAt INTEGER,
                        resolvedAt INTEGER,
                        agentReplyCount INTEGER NOT NULL DEFAULT 0,
                        customerReplyCount INTEGER NOT NULL DEFAULT 0,
                        reopenCount INTEGER NOT NULL DEFAULT 0,
                        assignedAgentId TEXT NOT NULL DEFAULT '',
                        openedEventId TEXT NOT NULL,
                        updatedAt INTEGER NOT NULL
                    );
                    CREATE INDEX ticket_by_customer ON ticket(customerId, openedAt);
                    CREATE INDEX ticket_by_opened ON ticket(openedAt);

                    CREATE TABLE customer_summary (
                        customerId TEXT PRIMARY KEY,
                        touchpoints INTEGER NOT NULL,
                        firstSeenAt INTEGER NOT NULL,
                        lastSeenAt INTEGER NOT NULL,
                        lastInboundAt INTEGER,
                        orders INTEGER NOT NULL DEFAULT 0,
                        refunds INTEGER NOT NULL DEFAULT 0,
                        grossMinor INTEGER NOT NULL DEFAULT 0,
                        refundedMinor INTEGER NOT NULL DEFAULT 0,
                        discountedOrders INTEGER NOT NULL DEFAULT 0,
                        firstPurchaseAt INTEGER,
                        lastPurchaseAt INTEGER,
                        otherCurrencyOrders INTEGER NOT NULL DEFAULT 0,
                        openTickets INTEGER NOT NULL DEFAULT 0
                    ) WITHOUT ROWID;
                    """)
        }
        migrator.registerChangeFeed()
        migrator.registerMergeJournal()
        registerItemAffinity(&migrator)
        migrator.registerMigration("v3: bodies, attributes and ticket subjects sealed under per-customer keys") { db in
            guard let keyring else {
                throw KeyringError.badKeyEncryptionKey("sealing the interaction database needs its keyring")
            }
            try sealExisting(db, keyring: keyring)
        }
        SlotFence.register(&migrator)
        SlotHandoff.register(&migrator)
        return migrator
    }

    /// Seals what versions before 3 stored in the clear, in batches in `seq` order (a cursor must not run over rows
    /// being updated, and a million bodies at once would sit in memory); the migration's transaction makes it all or
    /// nothing. It reads rows by column name rather than through `TouchpointRecord` and `TicketRecord`: a migration
    /// reads the schema as it was when it landed (text in the clear), which the records no longer describe.
    static func sealExisting(_ db: Database, keyring: Keyring) throws {
        let sealTouchpoint = try db.makeStatement(sql: "UPDATE touchpoint SET attributes = ?, body = ? WHERE seq = ?")
        var after: Int64 = 0
        while true {
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT seq, customerId, attributes, body FROM touchpoint
                    WHERE seq > ? AND (body <> '' OR attributes IS NOT NULL) ORDER BY seq LIMIT 1000
                    """, arguments: [after])
            guard let last = rows.last else { break }
            for row in rows {
                let customerID: String = row["customerId"]
                let attributes = try (row["attributes"] as String?).map { try keyring.seal($0, for: customerID) }
                try sealTouchpoint.execute(arguments: [
                    attributes, try keyring.seal(row["body"], for: customerID),
                    row["seq"] as Int64,
                ])
            }
            after = last["seq"]
        }
        let sealTicket = try db.makeStatement(sql: "UPDATE ticket SET subject = ? WHERE ticketId = ?")
        for row in try Row.fetchAll(db, sql: "SELECT ticketId, customerId, subject FROM ticket") {
            try sealTicket.execute(arguments: [
                try keyring.seal(row["subject"], for: row["customerId"]),
                row["ticketId"] as String,
            ])
        }
    }
}

/// Whose database this is, for the shared `backup` and `restore` subcommands.
extension InteractionStore: ServiceStore {
    public static var identity: ServiceIdentity { .interaction }
}

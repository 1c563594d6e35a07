import C360ChangeFeed
public import C360ServerKit
public import C360StoreKit
public import Foundation
public import GRDB

/// profile-service's database: every read and every write that keeps an invariant, behind one type.
///
/// Shaped like GRDB's `AppDatabase`: it owns a `DatabaseWriter` (a pool in production, a queue in tests), migrates
/// the schema on init, and exposes narrow methods. Every write is one transaction, so a failed validation or a
/// conflict stores nothing.
///
/// Personal data — names, city, company, identifiers' values, attribute values, match explanations, merge snapshots —
/// is sealed under each customer's data key from `keyring` (a separate database), so this database and its backups
/// hold ciphertext and blind indexes only, and erasure shreds the key.
public struct ProfileStore: Sendable {
    let writer: any DatabaseWriter
    let keyring: Keyring
    let now: @Sendable () -> Date
    /// The customers reads across customers count: on a shard, those of its slots (a move's copies are left out).
    let owned: OwnedSlots

    /// Limits enforced on stored state.
    public static let maxTags = 50
    public static let maxAttributes = 100

    /// Migrates `writer` to the current schema, sealing any personal data an older version stored in the clear.
    public init(
        writer: any DatabaseWriter, keyring: Keyring, owned: OwnedSlots = .everyone,
        now: @escaping @Sendable () -> Date = Date.init
    ) throws {
        self.writer = writer
        self.keyring = keyring
        self.owned = owned
        self.now = now
        try DatabaseSchema.migrate(writer, with: Self.schema(keyring: keyring))
        // A move or a merge across shards under way logs and fences writes through triggers this version defines.
        try writer.write { db in
            try SlotTouchLog.renew(db, tables: Self.customerTables)
            try FamilyFence.renew(db)
        }
        // A hand-back that ended just before a crash still shreds the keys it named (unless needed again).
        try PendingShreds.shred(writer, keyring: keyring, keeping: keepsPendingKey)
    }

    /// The schema's migrations, for the `restore` subcommand's version check (which runs none of them).
    public static var schema: DatabaseMigrator { schema(keyring: nil) }

    /// The schema, one named migration per change; a landed migration is never edited. Sealing existing rows (v4)
    /// needs the keyring; without one that migration refuses to run.
    static func schema(keyring: Keyring?) -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: customers, identifiers, tags, attributes, traits, consents, loyalty") { db in
            try db.create(table: "customer") { t in
                t.primaryKey("id", .text)
                t.column("state", .text).notNull().indexed()
                t.column("mergedInto", .text).references("customer").indexed()
                t.column("givenName", .text).notNull()
                t.column("familyName", .text).notNull()
                t.column("fullNameKey", .text).notNull().indexed()
                t.column("familyNameKey", .text).notNull().indexed()
                t.column("birthYear", .integer)
                t.column("city", .text).notNull()
                t.column("countryCode", .text).notNull()
                t.column("language", .text).notNull()
                t.column("company", .text).notNull()
                t.column("preferredChannel", .text)
                t.column("preferredLanguage", .text).notNull()
                t.column("quietHours", .jsonText)
                t.column("lifecycleStage", .text)
                t.column("loyaltyBalance", .integer).notNull().check { $0 >= 0 }
                t.column("loyaltyLifetime", .integer).notNull().check { $0 >= 0 }
                t.column("createdAt", .datetime).notNull()
                t.column("updatedAt", .datetime).notNull()
                t.column("deletedAt", .datetime)
                t.column("erasedAt", .datetime)
            }
            try db.create(table: "customer_identifier") { t in
                t.column("kind", .text).notNull()
                t.column("value", .text).notNull()
                t.column("customerId", .text).notNull().references("customer", onDelete: .cascade).indexed()
                t.column("createdAt", .datetime).notNull()
                t.primaryKey(["kind", "value"])
            }
            try db.create(table: "customer_tag") { t in
                t.column("customerId", .text).notNull().references("customer", onDelete: .cascade)
                t.column("tag", .text).notNull()
                t.primaryKey(["customerId", "tag"])
            }
            try db.create(index: "customer_tag_by_tag", on: "customer_tag", columns: ["tag", "customerId"])
            try db.create(table: "customer_attribute") { t in
                t.column("customerId", .text).notNull().references("customer", onDelete: .cascade)
                t.column("key", .text).notNull()
                t.column("value", .text).notNull()
                t.primaryKey(["customerId", "key"])
            }
            try db.create(table: "customer_trait") { t in
                t.column("customerId", .text).notNull().references("customer", onDelete: .cascade)
                t.column("key", .text).notNull()
                t.column("value", .jsonText).notNull()
                t.column("updatedAt", .datetime).notNull()
                t.primaryKey(["customerId", "key"])
            }
            try db.create(table: "consent_decision") { t in
                t.primaryKey("id", .text)
                t.column("customerId", .text).notNull().references("customer", onDelete: .cascade)
                t.column("purpose", .text).notNull()
                t.column("channel", .text).notNull()
                t.column("status", .text).notNull()
                t.column("source", .text).notNull()
                t.column("decidedAt", .datetime).notNull()
                t.column("recordedAt", .datetime).notNull()
            }
            try db.create(
                index: "consent_by_customer", on: "consent_decision",
                columns: ["customerId", "decidedAt", "id"])
            try db.create(table: "loyalty_transaction") { t in
                t.primaryKey("id", .text)
                t.column("customerId", .text).notNull().references("customer", onDelete: .cascade)
                t.column("pointsDelta", .integer).notNull()
                t.column("reason", .text).notNull()
                t.column("occurredAt", .datetime).notNull()
                t.column("balanceAfter", .integer).notNull()
                // What the client sent, so a retried transaction_id can be told apart from a reused one.
                t.column("requestFingerprint", .text).notNull()
            }
            try db.create(index: "loyalty_by_customer", on: "loyalty_transaction", columns: ["customerId"])
        }
        migrator.registerChangeFeed()
        migrator.registerMigration("v2: merge ledger, match suggestions") { db in
            try db.create(table: "merge_ledger") { t in
                t.autoIncrementedPrimaryKey("seq")
                t.column("mergeId", .text).notNull().unique()
                t.column("survivorId", .text).notNull().indexed()
                t.column("mergedId", .text).notNull().indexed()
                t.column("reason", .text).notNull()
                t.column("rule", .text).notNull()
                t.column("matchedOn", .jsonText).notNull()
                t.column("note", .text).notNull()
                t.column("requestedBy", .text).notNull()
                t.column("mergedAt", .datetime).notNull()
                t.column("unmergedAt", .datetime)
                t.column("unmergedBy", .text).notNull()
                t.column("undo", .jsonText).notNull()
            }
            try db.create(table: "match_suggestion") { t in
                t.primaryKey("suggestionId", .text)
                t.column("customerId", .text).notNull()
                t.column("candidateId", .text).notNull().indexed()
                t.column("rule", .text).notNull()
                t.column("score", .double).notNull()
                t.column("explanation", .text).notNull()
                t.column("state", .text).notNull()
                t.column("suggestedAt", .datetime).notNull()
                t.column("decidedBy", .text).notNull()
                t.column("decidedAt", .datetime)
                t.uniqueKey(["customerId", "candidateId"])
            }
            try db.create(index: "match_suggestion_open", on: "match_suggestion", columns: ["state", "score"])
            // Identity resolution's keys, indexed so a new or changed customer is matched without a scan.
            try db.alter(table: "customer") { t in t.add(column: "matchKey", .text) }
            try db.alter(table: "customer_identifier") { t in
                t.add(column: "matchKey", .text).notNull().defaults(to: "")
            }
            try db.create(
                index: "customer_by_match_key", on: "customer", columns: ["matchKey"],
                options: [], condition: Column("matchKey") != nil)
            try db.create(index: "identifier_by_match_key", on: "customer_identifier", columns: ["kind", "matchKey"])
            // Backfilled with plain rows, not the records: a migration must not change when the records do.
            let people = try Row.fetchAll(
                db,
                sql: """
                    SELECT id, givenName, familyName, birthYear, city FROM customer WHERE state = 'active'
                    """)
            for person in people {
                let key = IdentityMatch.personKey(
                    givenName: person["givenName"], familyName: person["familyName"],
                    birthYear: person["birthYear"], city: person["city"])
                try db.execute(
                    sql: "UPDATE customer SET matchKey = ? WHERE id = ?", arguments: [key, person["id"] as String])
            }
            for identifier in try Row.fetchAll(db, sql: "SELECT kind, value FROM customer_identifier") {
                guard let kind = IdentifierKind(rawValue: identifier["kind"]) else { continue }
                let value: String = identifier["value"]
                try db.execute(
                    sql: "UPDATE customer_identifier SET matchKey = ? WHERE kind = ? AND value = ?",
                    arguments: [IdentityMatch.identifierKey(kind, value), kind.rawValue, value])
            }
        }
        migrator.registerMigration("v3: loyalty program: applied purchases, expiring lots, spend tier, cashback") {
            db in
            try db.create(table: "loyalty_purchase") { t in
                t.primaryKey("touchpointId", .text)
                t.column("customerId", .text).notNull().indexed()
                t.column("orderId", .text).notNull().indexed()
                t.column("kind", .text).notNull()
                t.column("amountMinor", .integer).notNull()
                t.column("currencyCode", .text).notNull()
                t.column("occurredAt", .datetime).notNull()
                t.column("points", .integer).notNull()
                t.column("cashbackMinor", .integer).notNull()
                t.column("appliedAt", .datetime).notNull()
            }
            try db.alter(table: "loyalty_transaction") { t in
                t.add(column: "remaining", .integer)
                t.add(column: "expiresAt", .datetime)
                t.add(column: "rewardDeltaMinor", .integer)
            }
            // The expiry sweep and redemptions read only lots with points left.
            try db.create(
                index: "loyalty_lot_by_expiry", on: "loyalty_transaction", columns: ["expiresAt"],
                condition: Column("remaining") > 0)
            try db.create(
                index: "loyalty_lot_by_customer", on: "loyalty_transaction", columns: ["customerId", "expiresAt"],
                condition: Column("remaining") > 0)
            try db.alter(table: "customer") { t in
                t.add(column: "spendTier", .text)
                t.add(column: "windowSpendMinor", .integer)
                t.add(column: "rewardBalanceMinor", .integer)
            }
            try ProfileStore.loyaltyQueue.create(db)
        }
        migrator.registerMigration("v4: personal data sealed under per-customer keys, blind indexes, search tokens") {
            db in
            guard let keyring else {
                throw KeyringError.badKeyEncryptionKey("sealing the profile database needs its keyring")
            }
            try SealingMigration(db: db, keyring: keyring).run()
        }
        // SQLite plans without statistics (the project never runs ANALYZE), so for `customerId = ? AND kind = ?` it
        // saw two one-column equalities and chose the index led by `kind`, which every email identifier shares: the
        // email lookup of a new customer's search index walked every customer's emails, and creating customers grew
        // quadratic (74 customers/s at 10k). Led by the match key, the index still serves the match-suggestion
        // lookup (`kind` and `matchKey` both equal) and no longer competes for queries that only know `kind`.
        migrator.registerMigration("v5: the identifiers' match-key index leads with the key") { db in
            try db.drop(index: "identifier_by_match_key")
            try db.create(index: "identifier_by_match_key", on: "customer_identifier", columns: ["matchKey", "kind"])
        }
        // profile-service as several shards: the identifier index's part this shard owns (by the slot of each
        // identifier's blind index), which claims an identifier for one customer across all shards. Unused, and
        // empty, when the service runs as one process.
        migrator.registerMigration("v6: identifier index across shards") { db in
            try db.create(table: "identifier_claim") { t in
                t.column("kind", .text).notNull()
                t.column("valueIndex", .text).notNull()
                t.column("customerId", .text).notNull().indexed()
                t.column("claimedAt", .datetime).notNull()
                t.primaryKey(["kind", "valueIndex"])
            }
        }
        registerSlotMoves(&migrator)
        PendingShreds.register(&migrator, name: "v9: keys to shred once a committed transaction is followed up")
        return migrator
    }
}

/// Whose database this is, for the shared `backup` and `restore` subcommands.
extension ProfileStore: ServiceStore {
    public static var identity: ServiceIdentity { .profile }
}

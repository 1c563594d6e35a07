public import C360Contracts
import C360StoreKit
public import Foundation
public import GRDB

/// The change feed's storage in a service's own database: the events (`change_event`), how far retention has
/// pruned them (`change_feed_state`), and the positions this service's own consumers reached in other services'
/// feeds (`change_feed_position`).
///
/// A write appends its event with `ChangeLog.append` inside its own transaction — the transactional outbox — so the
/// event exists exactly when the write committed, and SQLite's single writer makes commit order sequence order: a
/// reader never sees sequence n+1 before n.
public enum ChangeLog {
    /// The one migration every service registers (`migrator.registerChangeFeed()`), after its own.
    static let migrationName = "change feed: events, retention watermark, consumer positions, customer aliases"

    /// Appends one event for the transaction `db` is in.
    ///
    /// - Returns: The event's sequence.
    @discardableResult
    public static func append(
        _ db: Database, _ kind: Customer360_V1_ChangeKind, customer customerID: String, related: String = "",
        subject: String = "", at committedAt: Date = Date()
    ) throws -> Int64 {
        try db.cachedStatement(sql: insertSQL).execute(arguments: [
            kind.rawValue, customerID, related, subject, committedAt.unixMillis,
        ])
        return db.lastInsertedRowID
    }

    /// The insert `append` runs, one cached statement per connection. It is every write's companion, and building it
    /// through the record's persistence methods on each call (query interface, then a fresh statement) was a third
    /// of interaction-service's ingest CPU in a perf profile of `bench ingest`.
    private static let insertSQL: String = {
        typealias C = ChangeRecord.Columns
        let names = [C.kind, C.customerId, C.relatedCustomerId, C.subjectId, C.committedAt].map(\.name)
        return "INSERT INTO \(ChangeRecord.databaseTableName) (\(names.joined(separator: ", ")))"
            + " VALUES (?, ?, ?, ?, ?)"
    }()

    /// The newest sequence ever appended (0 for none), counting events retention has pruned.
    public static func head(_ db: Database) throws -> Int64 {
        // AUTOINCREMENT keeps the largest sequence ever issued in sqlite_sequence, so the head survives pruning.
        // Read by every watcher's batch, so both statements are prepared once per connection.
        let issued =
            try Int64.fetchOne(
                db.cachedStatement(sql: "SELECT seq FROM sqlite_sequence WHERE name = 'change_event'")) ?? 0
        return max(issued, try prunedThrough(db))
    }

    /// Every event up to this sequence has been pruned (0 when none has).
    public static func prunedThrough(_ db: Database) throws -> Int64 {
        try FeedState.fetchOne(db.cachedStatement(sql: "SELECT * FROM \(FeedState.databaseTableName)"))?.prunedThrough
            ?? 0
    }

    /// One batch of the feed after `after`: at most `limit` events matching `filter`, and how far the scan got.
    static func batch(_ db: Database, after: Int64, filter: ChangeFilter, limit: Int) throws -> ChangeBatch {
        let head = try head(db)
        typealias C = ChangeRecord.Columns
        var conditions = [C.sequence > after]
        if !filter.kinds.isEmpty {
            conditions.append(filter.kinds.map(\.rawValue).contains(C.kind))
        }
        if let customerID = filter.customerID {
            conditions.append(C.customerId == customerID || C.relatedCustomerId == customerID)
        }
        // Every watcher runs this after every commit that appended, so it is compiled once per connection: its text
        // varies only with the number of kinds asked for and whether a customer is (the limit is an argument), the
        // bounded set a cached statement needs.
        let records = try SQLRequest<ChangeRecord>(
            literal: """
                SELECT * FROM \(ChangeRecord.self) WHERE \(conditions.joined(operator: .and))
                ORDER BY \(C.sequence) LIMIT \(limit)
                """, cached: true
        ).fetchAll(db)
        // A full batch may have more behind it; otherwise the scan covered everything up to the head.
        let full = records.count == limit
        let through = full ? (records.last?.sequence ?? after) : max(head, after)
        return ChangeBatch(records: records, through: through, caughtUp: !full)
    }

    /// Deletes the events committed before `cutoff`, always keeping the newest, and records how far it went.
    ///
    /// - Returns: How many events were deleted.
    static func prune(_ db: Database, before cutoff: Date) throws -> Int {
        let head = try head(db)
        guard
            let last = try Int64.fetchOne(
                db,
                ChangeRecord
                    .select(max(ChangeRecord.Columns.sequence))
                    .filter(
                        ChangeRecord.Columns.committedAt < cutoff.unixMillis && ChangeRecord.Columns.sequence < head))
        else { return 0 }
        let deleted = try ChangeRecord.filter(ChangeRecord.Columns.sequence <= last).deleteAll(db)
        var state = try FeedState.fetchOne(db) ?? FeedState(id: 1, prunedThrough: 0)
        state.prunedThrough = max(state.prunedThrough, last)
        try state.save(db)
        return deleted
    }

    /// Removes every event about `customerID` — erasure reaches the feed too — keeping the sequence numbering intact.
    public static func forget(_ db: Database, customer customerID: String) throws {
        try ChangeRecord
            .filter(
                ChangeRecord.Columns.customerId == customerID || ChangeRecord.Columns.relatedCustomerId == customerID
            )
            .filter(
                ChangeRecord.Columns.kind != Customer360_V1_ChangeKind.customerErased.rawValue
                    && ChangeRecord.Columns.kind != Customer360_V1_ChangeKind.customerDataErased.rawValue
            )
            .deleteAll(db)
    }

    /// The position a consumer of `source` stored (0 before its first batch).
    public static func position(_ db: Database, source: String) throws -> Int64 {
        try ConsumerPosition.fetchOne(db, key: source)?.sequence ?? 0
    }

    /// Stores the position of the consumer of `source`, in the transaction that applied the batch.
    public static func setPosition(_ db: Database, source: String, to sequence: Int64, at date: Date = Date()) throws {
        try ConsumerPosition(source: source, sequence: sequence, updatedAt: date.unixMillis).save(db)
    }
}

extension DatabaseMigrator {
    /// Registers the change feed's tables. Every service calls it once, after its own migrations; being a named
    /// migration, it runs once per database and is never edited.
    public mutating func registerChangeFeed() {
        registerMigration(ChangeLog.migrationName) { db in
            // AUTOINCREMENT, so a sequence is never reused after the newest events are deleted.
            try db.create(table: ChangeRecord.databaseTableName) { t in
                t.autoIncrementedPrimaryKey("sequence")
                t.column("kind", .integer).notNull()
                t.column("customerId", .text).notNull()
                t.column("relatedCustomerId", .text).notNull()
                t.column("subjectId", .text).notNull()
                t.column("committedAt", .integer).notNull().indexed()
            }
            try db.create(
                index: "change_event_by_customer", on: ChangeRecord.databaseTableName,
                columns: ["customerId", "sequence"])
            try db.create(
                index: "change_event_by_related", on: ChangeRecord.databaseTableName,
                columns: ["relatedCustomerId", "sequence"])
            try db.create(table: FeedState.databaseTableName) { t in
                t.primaryKey("id", .integer).check { $0 == 1 }
                t.column("prunedThrough", .integer).notNull()
            }
            try db.create(table: ConsumerPosition.databaseTableName) { t in
                t.primaryKey("source", .text)
                t.column("sequence", .integer).notNull()
                t.column("updatedAt", .integer).notNull()
            }
            // The merges a service applied (`CustomerAlias`); profile-service's own merges live in its customer table.
            try db.create(table: "customer_alias") { t in
                t.primaryKey("mergedId", .text)
                t.column("survivorId", .text).notNull().indexed()
            }
        }
    }
}

/// What a watcher asked for.
struct ChangeFilter: Sendable {
    var kinds: Set<Customer360_V1_ChangeKind> = []
    var customerID: String?
}

/// One read of the feed.
struct ChangeBatch {
    var records: [ChangeRecord]
    var through: Int64
    var caughtUp: Bool
}

/// A row of `change_event`.
struct ChangeRecord: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "change_event"
    var sequence: Int64?
    var kind: Int
    var customerId: String
    var relatedCustomerId: String
    var subjectId: String
    var committedAt: Int64

    /// The table's columns in their order, which `init(row:)` reads by position; a test holds it to the schema.
    static let tableColumns = ["sequence", "kind", "customerId", "relatedCustomerId", "subjectId", "committedAt"]

    /// Reads a `SELECT *` row (`ChangeLog.batch`, the one read of this record) by position rather than through
    /// `Decodable`'s keyed containers: every watcher reads a batch after every commit that appended.
    init(row: Row) throws {
        sequence = try row.decode(atIndex: 0)
        kind = try row.decode(atIndex: 1)
        customerId = try row.decode(atIndex: 2)
        relatedCustomerId = try row.decode(atIndex: 3)
        subjectId = try row.decode(atIndex: 4)
        committedAt = try row.decode(atIndex: 5)
    }

    enum Columns {
        static let sequence = Column(CodingKeys.sequence)
        static let kind = Column(CodingKeys.kind)
        static let customerId = Column(CodingKeys.customerId)
        static let relatedCustomerId = Column(CodingKeys.relatedCustomerId)
        static let subjectId = Column(CodingKeys.subjectId)
        static let committedAt = Column(CodingKeys.committedAt)
    }

    mutating func didInsert(_ inserted: InsertionSuccess) {
        sequence = inserted.rowID
    }

    var proto: Customer360_V1_ChangeEvent {
        .with {
            $0.sequence = UInt64(sequence ?? 0)
            $0.kind = Customer360_V1_ChangeKind(rawValue: kind) ?? .unspecified
            $0.customerID = customerId
            $0.relatedCustomerID = relatedCustomerId
            $0.subjectID = subjectId
            // From the integer milliseconds, not a Date: a Double would print .003999949 for .004.
            var (seconds, millis) = committedAt.quotientAndRemainder(dividingBy: 1_000)
            if millis < 0 { (seconds, millis) = (seconds - 1, millis + 1_000) }
            $0.committedAt = .with {
                $0.seconds = seconds
                $0.nanos = Int32(millis) * 1_000_000
            }
        }
    }
}

/// The one row of `change_feed_state`.
struct FeedState: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "change_feed_state"
    var id: Int
    var prunedThrough: Int64
}

/// A row of `change_feed_position`: how far this service's consumer of another service's feed got.
struct ConsumerPosition: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "change_feed_position"
    var source: String
    var sequence: Int64
    var updatedAt: Int64
}

public import GRDB

/// Where a move's catch-up finds the customers written since the copy began.
public enum SlotCatchUp: Sendable {
    /// The store's change feed: every write to a customer's rows appends an event naming them.
    case changeFeed
    /// The store's touch log (`SlotTouchLog`): for a store whose rows change without a feed event (a message going to
    /// `sending`, a journey run's step, a refresh of copied facts).
    case touchLog
}

/// Which customers' rows were written last, in write order: one row per customer holding the sequence number of the
/// last write that touched any of their rows, kept by triggers on every customer table. A move's catch-up reads it
/// after a position as it would read the change feed, and unlike the feed it misses no write (the triggers see every
/// one) and needs no pruning (it holds one row per customer).
///
/// The number comes from the table itself (one more than its greatest), inside the writing transaction, so it grows
/// in commit order: SQLite has one writer at a time. A write that passes a fence (an erasure, which is never put
/// off) moves a fenced customer past the fence's head, out of the move's last catch-up: that is safe only for writes
/// every shard applies for itself, as erasures are.
public enum SlotTouchLog {
    static let table = "slot_touch"

    /// Creates the log and its triggers on `tables`; a store whose catch-up is `.touchLog` calls it from one
    /// migration, after its customer tables exist.
    public static func create(_ db: Database, tables: [CustomerTable]) throws {
        try db.create(table: table) { t in
            t.primaryKey("customerId", .text)
            t.column("sequence", .integer).notNull().unique()
        }
        for customerTable in tables {
            let column = customerTable.customerColumn
            // (operation, the row whose customer it touches, when): an update touches its row's customer, and the
            // one the row left too when it changed customers (a re-key).
            let triggers = [
                ("insert", "INSERT", "NEW", ""), ("update", "UPDATE", "NEW", ""),
                ("rekey", "UPDATE", "OLD", "WHEN OLD.\(column) IS NOT NEW.\(column)"), ("delete", "DELETE", "OLD", ""),
            ]
            for (name, operation, row, condition) in triggers {
                try db.execute(
                    sql: """
                        CREATE TRIGGER slot_touch_\(customerTable.name)_\(name) AFTER \(operation) ON \(customerTable.name)
                        \(condition)
                        BEGIN
                            INSERT INTO \(table) (customerId, sequence)
                            VALUES (\(row).\(column), (SELECT IFNULL(MAX(sequence), 0) + 1 FROM \(table)))
                            ON CONFLICT (customerId) DO UPDATE SET sequence = excluded.sequence;
                        END
                        """)
            }
        }
    }

    /// The sequence number of the last write.
    public static func head(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT IFNULL(MAX(sequence), 0) FROM \(table)")) ?? 0
    }

    /// Up to `limit` customers written after `after`, in write order, each with the number of its last write.
    public static func touched(_ db: Database, after: Int64, limit: Int) throws -> [(
        customerID: String, sequence: Int64
    )] {
        try Row.fetchAll(
            db.cachedStatement(
                sql: "SELECT customerId, sequence FROM \(table) WHERE sequence > ? ORDER BY sequence LIMIT ?"),
            arguments: [after, limit]
        ).map { row in (row[0], row[1]) }
    }
}

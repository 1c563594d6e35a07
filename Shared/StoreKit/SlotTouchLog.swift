public import Foundation
public import GRDB

/// Where a move's catch-up finds the customers written since the copy began.
public enum SlotCatchUp: Sendable {
    /// The store's change feed: every write to a customer's rows appends an event naming them.
    case changeFeed
    /// The store's touch log (`SlotTouchLog`): for a store whose rows change without a feed event (a message deferred,
    /// a journey run's step, a refresh of copied facts).
    case touchLog
}

/// Which customers' rows were written, in write order, while a move of theirs runs: triggers on every customer table
/// append the id of a moving customer, with the time, for each of their rows written (but the updates a table says a
/// move need not carry, `CustomerTable.touchingUpdates`). A move's catch-up reads it after a position as it would
/// read the change feed, and unlike the feed it sees writes that announce nothing.
///
/// The triggers exist only while a move is under way (`begin` with the copy's first page, `end` with the drop's
/// last), as the fence's do: they cost a send run a sixth of its rate (`bench sends`, 1,755–1,824 messages/s against
/// 2,093–2,193 without), which no shard should pay while nothing moves. Append-only, so a touch is one insert at the
/// end of one table; touches older than the retention are pruned (`prune(before:)`, hourly by the store's process),
/// and a catch-up from before them is refused: the move starts again from its copy. The sequence is the row id, which
/// grows in commit order (SQLite has one writer at a time), and pruning always keeps the newest row so no id is given
/// twice.
///
/// A write that passes a fence (an erasure, which is never put off) lands after the fence's head, out of the move's
/// last catch-up: that is safe only for writes every shard applies for itself, as erasures are.
public enum SlotTouchLog {
    static let table = "slot_touch"
    static let stateTable = "slot_touch_state"

    static let movesTable = "slot_touch_move"

    /// Creates the log, empty and not yet written to; a store whose catch-up is `.touchLog` calls it from one migration.
    public static func create(_ db: Database) throws {
        try db.create(table: table) { t in
            t.primaryKey("sequence", .integer)
            t.column("customerId", .text).notNull()
            t.column("touchedAt", .integer).notNull()
        }
        try db.create(table: stateTable) { t in
            t.primaryKey("id", .integer).check { $0 == 1 }
            t.column("prunedThrough", .integer).notNull()
        }
        try db.create(table: movesTable) { t in
            t.column("firstSlot", .integer).notNull()
            t.column("lastSlot", .integer).notNull()
            // The head when logging began: a catch-up from before it would miss what was written unlogged.
            t.column("since", .integer).notNull()
            t.primaryKey(["firstSlot", "lastSlot"])
        }
    }

    /// Starts logging writes for a move of `ranges` (again, harmlessly, for a move already logged), and (re)creates
    /// the triggers on `tables` as this version defines them. Call in a write transaction before reading the copy's
    /// first page and its head, so every write after that read is logged.
    public static func begin(_ db: Database, _ ranges: [ClosedRange<Int>], tables: [CustomerTable]) throws {
        let since = try head(db)
        for range in ranges {
            try db.execute(
                sql: "INSERT OR IGNORE INTO \(movesTable) (firstSlot, lastSlot, since) VALUES (?, ?, ?)",
                arguments: [range.lowerBound, range.upperBound, since])
        }
        try createTriggers(db, tables: tables)
    }

    /// Creates the triggers again as this version defines them when a move is being logged: a process upgraded in
    /// the middle of a move (whose mover may not copy a page again) logs with its own definitions. Call at start-up.
    public static func renew(_ db: Database, tables: [CustomerTable]) throws {
        guard try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(movesTable)") ?? 0 > 0 else { return }
        try createTriggers(db, tables: tables)
    }

    private static let triggerNames = ["insert", "update", "rekey", "delete"]

    private static func createTriggers(_ db: Database, tables: [CustomerTable]) throws {
        for customerTable in tables {
            func moving(_ row: String) -> String {
                """
                EXISTS (SELECT 1 FROM \(movesTable) WHERE c360_slot(\(customerTable.customer(of: row))) \
                BETWEEN firstSlot AND lastSlot)
                """
            }
            let changedCustomer = "\(customerTable.customer(of: "OLD")) IS NOT \(customerTable.customer(of: "NEW"))"
            // (name, operation, the row whose customer it touches, when): an update touches its row's customer when
            // the table says the update matters to a move (or it changed customers), and the one the row left.
            let triggers = [
                ("insert", "INSERT", "NEW", moving("NEW")),
                (
                    "update", "UPDATE", "NEW",
                    customerTable.touchingUpdates.map { "((\($0)) OR \(changedCustomer)) AND \(moving("NEW"))" }
                        ?? moving("NEW")
                ),
                ("rekey", "UPDATE", "OLD", "\(changedCustomer) AND \(moving("OLD"))"),
                ("delete", "DELETE", "OLD", moving("OLD")),
            ]
            for (name, operation, row, condition) in triggers {
                try db.execute(sql: "DROP TRIGGER IF EXISTS slot_touch_\(customerTable.name)_\(name)")
                try db.execute(
                    sql: """
                        CREATE TRIGGER slot_touch_\(customerTable.name)_\(name) AFTER \(operation) ON \(customerTable.name)
                        WHEN \(condition)
                        BEGIN
                            INSERT INTO \(table) (customerId, touchedAt)
                            VALUES (\(customerTable.customer(of: row)), CAST(strftime('%s', 'now') AS INTEGER));
                        END
                        """)
            }
        }
    }

    /// Whether the writes after `after` are logged for a move of every range of `ranges`: each is being logged, and
    /// has been since at or before `after`. A catch-up without it would miss writes.
    public static func isLogging(_ db: Database, _ ranges: [ClosedRange<Int>], since after: Int64) throws -> Bool {
        try ranges.allSatisfy { range in
            try Bool.fetchOne(
                db,
                sql: "SELECT EXISTS (SELECT 1 FROM \(movesTable) WHERE firstSlot = ? AND lastSlot = ? AND since <= ?)",
                arguments: [range.lowerBound, range.upperBound, after]) == true
        }
    }

    /// Ends logging for a move of `ranges` (its drop is done, or its fence lifted), and for any other logged range
    /// overlapping them (a drop asked in other pieces); the triggers go with the last move.
    public static func end(_ db: Database, _ ranges: [ClosedRange<Int>], tables: [CustomerTable]) throws {
        for range in ranges {
            try db.execute(
                sql: "DELETE FROM \(movesTable) WHERE firstSlot <= ? AND lastSlot >= ?",
                arguments: [range.upperBound, range.lowerBound])
        }
        guard try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(movesTable)") == 0 else { return }
        try dropTriggers(db, tables: tables)
    }

    /// Drops the triggers on `tables`, whether or not they exist.
    public static func dropTriggers(_ db: Database, tables: [CustomerTable]) throws {
        for customerTable in tables {
            for name in triggerNames {
                try db.execute(sql: "DROP TRIGGER IF EXISTS slot_touch_\(customerTable.name)_\(name)")
            }
        }
    }

    /// The sequence number of the last write (counting those pruned).
    public static func head(_ db: Database) throws -> Int64 {
        let last = try Int64.fetchOne(db.cachedStatement(sql: "SELECT MAX(sequence) FROM \(table)")) ?? 0
        return max(last, try prunedThrough(db))
    }

    /// Every touch up to this sequence has been pruned (0 when none has).
    public static func prunedThrough(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT prunedThrough FROM \(stateTable)")) ?? 0
    }

    /// Up to `limit` touches after `after`, in write order: the customer and the touch's sequence number (a customer
    /// written several times appears as often).
    public static func touched(_ db: Database, after: Int64, limit: Int) throws -> [(
        customerID: String, sequence: Int64
    )] {
        // Positional: (customerId, sequence) of one SELECT.
        try Row.fetchAll(
            db.cachedStatement(
                sql: "SELECT customerId, sequence FROM \(table) WHERE sequence > ? ORDER BY sequence LIMIT ?"),
            arguments: [after, limit]
        ).map { row in (row[0], row[1]) }
    }

    /// Deletes the touches made before `cutoff`, always keeping the newest, and records how far it went.
    ///
    /// - Returns: How many touches were deleted.
    public static func prune(_ db: Database, before cutoff: Date) throws -> Int {
        guard
            let last = try Int64.fetchOne(
                db,
                sql: """
                    SELECT MAX(sequence) FROM \(table)
                    WHERE touchedAt < ? AND sequence < (SELECT MAX(sequence) FROM \(table))
                    """, arguments: [Int64(cutoff.timeIntervalSince1970)])
        else { return 0 }
        try db.execute(sql: "DELETE FROM \(table) WHERE sequence <= ?", arguments: [last])
        let deleted = db.changesCount
        try db.execute(
            sql: """
                INSERT INTO \(stateTable) (id, prunedThrough) VALUES (1, ?)
                ON CONFLICT (id) DO UPDATE SET prunedThrough = MAX(prunedThrough, excluded.prunedThrough)
                """, arguments: [last])
        return deleted
    }
}

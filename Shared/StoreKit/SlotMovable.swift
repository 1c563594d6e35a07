public import GRDB

/// A table that holds customers' rows, as a move between shards copies them.
public struct CustomerTable: Sendable {
    public var name: String
    /// The column naming the customer (indexed: a move reads and deletes by it). It may be a generated column (the
    /// survivor a merged-away profile travels with): the copy leaves it out and the target computes it again.
    public var customerColumn: String
    /// A column the database assigns, such as an `INTEGER PRIMARY KEY` sequence: left out of the copy so the target
    /// assigns its own, which cannot collide with its other customers' rows.
    public var assignedKey: String?
    /// Whether every customer with rows anywhere in the store has a row here: these tables are scanned to list the
    /// customers of a slot range (one is enough; several are unioned).
    public var listsCustomers: Bool
    /// Whether a row may lawfully sit on a shard that does not own its customer column's slot: a pointer kept where
    /// calls arrive (profile-service's alias of an id merged into a customer handed back after an unmerge, on the
    /// survivor's shard). `SlotCopies.unrecorded` leaves such a table out: its rows are not copies.
    public var keptOffOwner: Bool
    /// For a store whose moves catch up from its touch log: the SQL condition on `OLD` and `NEW` under which an update
    /// of a row touches its customer; nil for every update. An update a move need not carry (one the source must end
    /// before its fence, or one the target may repeat harmlessly) is left out, since every touch costs the write.
    public var touchingUpdates: String?
    /// JSON columns holding sealed values (base64, as `SealedText` encodes itself in JSON: a merge's undo snapshot),
    /// which the target seals again under its own keys like the blobs of every other column.
    public var sealedJSONColumns: [String]
    /// For a generated customer column: the SQL it is generated from, with `{row}` for the row (`NEW`, `OLD`), which
    /// the fence's and the touch log's triggers read instead. SQLite does not always compute a generated column of
    /// `NEW` for a `BEFORE UPDATE` trigger (an update that does not set the columns it is generated from).
    public var customerExpression: String?

    public init(
        name: String, customerColumn: String, assignedKey: String? = nil, listsCustomers: Bool = false,
        keptOffOwner: Bool = false, touchingUpdates: String? = nil, sealedJSONColumns: [String] = [],
        customerExpression: String? = nil
    ) {
        self.name = name
        self.customerColumn = customerColumn
        self.assignedKey = assignedKey
        self.listsCustomers = listsCustomers
        self.keptOffOwner = keptOffOwner
        self.touchingUpdates = touchingUpdates
        self.sealedJSONColumns = sealedJSONColumns
        self.customerExpression = customerExpression
    }

    /// The customer of `row` (`NEW` or `OLD`) in a trigger.
    public func customer(of row: String) -> String {
        customerExpression?.replacingOccurrences(of: "{row}", with: row) ?? "\(row).\(customerColumn)"
    }
}

/// A table of reference data every shard of a service holds alike (written on every shard by the router), which a
/// shard joining the map copies before it takes customers whose rows refer to it.
public struct ReferenceTable: Sendable {
    public var name: String
    /// A column the database assigns (left out of the copy, as in `CustomerTable`).
    public var assignedKey: String?
    /// Columns each shard keeps for itself (a count of its own customers' votes): left out, so the copy starts with
    /// the column's default and the shard's own customers fill it as they arrive.
    public var localColumns: [String]

    /// When a copied row's key (`conflict`, a unique column) is held already: the `SET` clause of an upsert that brings
    /// the held row up to date where the two can be ordered (`active = MIN(active, excluded.active)`: a retired survey
    /// stays retired); `nil` keeps the held row as it is.
    public var refresh: (conflict: String, set: String)?

    public init(
        name: String, assignedKey: String? = nil, localColumns: [String] = [],
        refresh: (conflict: String, set: String)? = nil
    ) {
        self.name = name
        self.assignedKey = assignedKey
        self.localColumns = localColumns
        self.refresh = refresh
    }
}

/// A store whose customers can move from one shard to another (`SlotMoves`, driven by `<service> reshard`): it names
/// the tables that hold a customer's rows and keeps its state across customers right as whole customers come and go.
public protocol SlotMovable: Sendable {
    var database: any DatabaseWriter { get }
    var dataKeys: Keyring { get }
    /// Every table with rows of a customer. Tables not listed (the change feed, derived counts) stay where they are.
    static var customerTables: [CustomerTable] { get }
    /// Reference data every shard holds alike, in the order rows can be inserted; none by default.
    static var referenceTables: [ReferenceTable] { get }
    /// Called in the importing transaction after the customer's rows were inserted: add them to state kept across
    /// customers (e.g. product co-purchase counts).
    func customerArrived(_ db: Database, _ customerID: String) throws
    /// Called in the transaction that is about to delete the customer's rows (a drop, or an import replacing them),
    /// and before a handover adds rows to them.
    func customerLeaving(_ db: Database, _ customerID: String) throws
    /// Called in the transaction of a handover (a merge across shards) after rows were added to the customer's: rebuild
    /// what is kept per customer from the rows (counters), before `customerArrived`.
    func customerGrew(_ db: Database, _ customerID: String) throws
    /// Called in a handover's transaction, after every table's rows were added and before `customerGrew`, with the
    /// handed-over rows of `table` that were not added because this shard held a row under the same key: each is this
    /// shard's row again (handed over twice) or a different row the merge would have had to reconcile (both customers
    /// voted for the same request). None by default.
    func handOverKept(_ db: Database, _ customerID: String, table: String, rows: [Row]) throws
    /// Where a move's catch-up finds the customers written since its copy: the change feed by default.
    static var catchUp: SlotCatchUp { get }
    /// Why `ranges` cannot be fenced yet, read in the transaction that would fence them; `nil` (the default) when they
    /// can. For work in flight that must not be cut in two (a message handed to its adapter, whose outcome could then
    /// be recorded on neither shard); the shard waits a while for it to end before refusing the fence.
    func fenceBlocker(_ db: Database, _ ranges: [ClosedRange<Int>]) throws -> String?
    /// Whether this shard erased the customer already; a copy of them that arrives afterwards (taken before the source
    /// applied the erasure) is imported empty, so none of it is stored here even for an instant. False by default: a
    /// store whose erasures reach every shard remembers them to say so.
    func wasErased(_ db: Database, _ customerID: String) throws -> Bool
    /// Whether the rows a move lists under `customerID` are that customer's, sealed under their key: then the key
    /// travels with them and the source shreds it once they are dropped. True by default; false for a key that is not
    /// a customer whose data lives here (profile-service's merged-away ids and indexed identifiers, listed only so
    /// their pointers move with their slot), whose key may still open rows of another customer here.
    func holdsDataKey(_ db: Database, _ customerID: String) throws -> Bool
    /// The keys, besides `customerID`'s own, to shred once `leaving` (customers a drop, or a profile family handed to
    /// another shard, deletes) are gone: those of other customers `customerID`'s rows are sealed under (merged into
    /// it), which `sealedOwners` reads, that this shard no longer needs. None by default: every such key is kept, and
    /// the rows are not read again. A store that knows where each key is still used (profile-service: by a customer
    /// of its own here) names them, so the old shard's copy does not outlive an erasure on the new one.
    func othersKeysLeaving(
        _ db: Database, with customerID: String, leaving: Set<String>, sealedOwners: () throws -> Set<String>
    ) throws -> [String]
}

extension SlotMovable {
    public static var catchUp: SlotCatchUp { .changeFeed }
    public func fenceBlocker(_ db: Database, _ ranges: [ClosedRange<Int>]) throws -> String? { nil }
    public func wasErased(_ db: Database, _ customerID: String) throws -> Bool { false }
    public func holdsDataKey(_ db: Database, _ customerID: String) throws -> Bool { true }
    public func othersKeysLeaving(
        _ db: Database, with customerID: String, leaving: Set<String>, sealedOwners: () throws -> Set<String>
    ) throws -> [String] { [] }
}

extension SlotMovable {
    public func handOverKept(_ db: Database, _ customerID: String, table: String, rows: [Row]) throws {}
}

extension SlotMovable {
    public static var referenceTables: [ReferenceTable] { [] }
}

/// The fence that stops writes to moving slots: a table of fenced slot ranges and, while it holds any, triggers on
/// every customer table that abort a write touching a customer of a fenced slot with this message. Being checked by
/// SQLite inside the write transaction, it holds for every write path, and a write either committed before the fence
/// (and is in the change feed the move catches up from) or fails after it.
public enum SlotFence {
    /// The `RAISE(ABORT, …)` message, which the server turns into UNAVAILABLE.
    public static let refusal = "c360-fenced"

    /// Registers the fence's table (empty until a move fences slots), and the copied slots' (`SlotCopies`). A store
    /// that moves customers calls it once.
    public static func register(_ migrator: inout DatabaseMigrator) {
        defer { SlotCopies.register(&migrator) }
        migrator.registerMigration("slot fence: slot ranges whose writes are stopped while they move") { db in
            try db.create(table: "slot_fence") { t in
                t.column("firstSlot", .integer).notNull()
                t.column("lastSlot", .integer).notNull()
                t.column("epoch", .integer).notNull()
                t.column("targetShard", .text).notNull()
                t.primaryKey(["firstSlot", "lastSlot"])
            }
        }
    }

    /// Fences `ranges` (recording the epoch and target of the move) and creates the triggers if this is the first.
    public static func fence(
        _ db: Database, _ ranges: [ClosedRange<Int>], epoch: Int64, target: String, tables: [CustomerTable]
    ) throws {
        for range in ranges {
            try db.execute(
                sql: "INSERT OR REPLACE INTO slot_fence (firstSlot, lastSlot, epoch, targetShard) VALUES (?, ?, ?, ?)",
                arguments: [range.lowerBound, range.upperBound, epoch, target])
        }
        try createTriggers(db, tables: tables)
    }

    /// Lifts the fence of exactly these ranges; the triggers go with the last one.
    public static func lift(_ db: Database, _ ranges: [ClosedRange<Int>], tables: [CustomerTable]) throws {
        for range in ranges {
            try db.execute(
                sql: "DELETE FROM slot_fence WHERE firstSlot = ? AND lastSlot = ?",
                arguments: [range.lowerBound, range.upperBound])
        }
        if try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM slot_fence") == 0 {
            try dropTriggers(db, tables: tables)
        }
    }

    /// Whether a move has fenced a customer's slot here, the fence read once for the caller's transaction; `nil` when
    /// no move is under way. Work no caller waits for (a queued re-score) leaves such a customer to the shard it moves
    /// to, rather than fail its whole transaction on the fence or retry what can be neither done nor put off.
    public static func fencedCustomers(_ db: Database) throws -> (@Sendable (String) -> Bool)? {
        let ranges = try fencedRanges(db)
        guard !ranges.isEmpty else { return nil }
        return { customerID in
            let slot = CustomerSlot.of(customerID)
            return ranges.contains { $0.contains(slot) }
        }
    }

    /// The slot ranges fenced here now.
    static func fencedRanges(_ db: Database) throws -> [ClosedRange<Int>] {
        try Row.fetchAll(db.cachedStatement(sql: "SELECT firstSlot, lastSlot FROM slot_fence")).map { row in
            Int(row[0] as Int64)...Int(row[1] as Int64)
        }
    }

    /// Runs `body` with every fence set aside, inside the caller's transaction: how a shard deletes the rows of
    /// slots it has given away, which are fenced until the last of them is gone.
    public static func bypassing<T>(_ db: Database, _ body: () throws -> T) throws -> T {
        let saved = try Row.fetchAll(db, sql: "SELECT firstSlot, lastSlot, epoch, targetShard FROM slot_fence")
        try db.execute(sql: "DELETE FROM slot_fence")
        let result = try body()
        for row in saved {
            try db.execute(
                sql: "INSERT INTO slot_fence (firstSlot, lastSlot, epoch, targetShard) VALUES (?, ?, ?, ?)",
                arguments: StatementArguments(Array(row.databaseValues)))
        }
        return result
    }

    /// The triggers, created with the first fenced range and dropped with the last, so writes pay nothing when no move
    /// is under way.
    private static func createTriggers(_ db: Database, tables: [CustomerTable]) throws {
        try createRefusingTriggers(db, named: "slot_fence", tables: tables) { customers in
            let slots = customers.map { "c360_slot(\($0)) BETWEEN firstSlot AND lastSlot" }.joined(separator: " OR ")
            return "EXISTS (SELECT 1 FROM slot_fence WHERE \(slots))"
        }
    }

    private static func dropTriggers(_ db: Database, tables: [CustomerTable]) throws {
        try dropRefusingTriggers(db, named: "slot_fence", tables: tables)
    }

    /// Triggers `<name>_<table>_<operation>` on every table of `tables` that refuse a write with `refusal` when
    /// `condition` holds for the SQL of the row's customer (`NEW`'s, `OLD`'s, or both for an update): the slot fence's,
    /// and any narrower fence a store keeps (profile-service's families being handed to another shard).
    public static func createRefusingTriggers(
        _ db: Database, named name: String, tables: [CustomerTable], when condition: ([String]) -> String
    ) throws {
        for table in tables {
            for (operation, rows) in [("INSERT", ["NEW"]), ("UPDATE", ["OLD", "NEW"]), ("DELETE", ["OLD"])] {
                try db.execute(
                    sql: """
                        CREATE TRIGGER IF NOT EXISTS \(name)_\(table.name)_\(operation.lowercased()) \
                        BEFORE \(operation) ON \(table.name)
                        WHEN \(condition(rows.map { table.customer(of: $0) }))
                        BEGIN SELECT RAISE(ABORT, '\(refusal)'); END
                        """)
            }
        }
    }

    /// Drops the triggers `createRefusingTriggers` made under `name`, whether or not they exist.
    public static func dropRefusingTriggers(_ db: Database, named name: String, tables: [CustomerTable]) throws {
        for table in tables {
            for operation in ["insert", "update", "delete"] {
                try db.execute(sql: "DROP TRIGGER IF EXISTS \(name)_\(table.name)_\(operation)")
            }
        }
    }
}

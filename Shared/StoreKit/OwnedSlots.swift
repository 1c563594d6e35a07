public import GRDB

/// The customers a shard's reads across customers count (KPIs, tallies, lists, segment sizes): those of the slots it
/// owns in the map in force.
///
/// A shard holds rows of other shards' slots only around a move — the target's copies before the map gives it their
/// slots, and the source's rows after the map gave them away, until the drop — after a merge or an unmerge across
/// shards, until the rows re-keyed here reach the other customer's shard (for a moment, while that shard answers),
/// and in profile-service, while a family handed back after an unmerge is still active here. The caller adds every
/// shard's answer, so those rows would be counted twice. Otherwise a shard holds only its own customers and the
/// predicate is `1`: reads pay the slot hash of every row only while they must.
public struct OwnedSlots: Sendable {
    private let current: @Sendable () -> [ClosedRange<Int>]?

    /// Every slot: a process that is not a shard.
    public static let everyone = OwnedSlots { nil }

    /// - Parameter current: The slots this shard owns in the map in force, read at each call (the map is reloaded
    ///   while the process runs); `nil` when the process is not a shard.
    public init(_ current: @escaping @Sendable () -> [ClosedRange<Int>]?) {
        self.current = current
    }

    /// SQL that holds for the rows a read across customers counts, given the SQL of their customer id (a column,
    /// qualified where the query joins), decided in the caller's transaction: `1` unless this shard holds rows of
    /// slots it does not own (`SlotCopies.held`), then the slots it owns. Only integers are spliced in, so the text
    /// goes into raw SQL as well as a query's `filter(literal:)`.
    public func predicate(_ db: Database, customer: String) throws -> String {
        guard let owned = try ranges(db) else { return "1" }
        guard !owned.isEmpty else { return "0" }
        let each = owned.map { "c360_slot(\(customer)) BETWEEN \($0.lowerBound) AND \($0.upperBound)" }
        return "(" + each.joined(separator: " OR ") + ")"
    }

    /// `predicate` for a query, given its customer column (an aliased one where the query joins).
    public func expression(_ db: Database, customer: some SQLExpressible) throws -> SQL {
        guard let owned = try ranges(db) else { return "1" }
        guard !owned.isEmpty else { return "0" }
        let column = customer.sqlExpression
        let each = owned.map { range -> SQL in
            "c360_slot(\(column)) BETWEEN \(range.lowerBound) AND \(range.upperBound)"
        }
        return "(\(each.joined(separator: " OR ")))"
    }

    /// The slots a read across customers must keep to, in the caller's transaction; `nil` when every row here counts
    /// (not a shard, or no rows held of other shards' slots).
    public func ranges(_ db: Database) throws -> [ClosedRange<Int>]? {
        guard let owned = current() else { return nil }
        let held = try SlotCopies.held(db)
        guard !held.isEmpty else { return nil }
        var isOwned = [Bool](repeating: false, count: CustomerSlot.count)
        for range in owned { for slot in range where isOwned.indices.contains(slot) { isOwned[slot] = true } }
        return held.allSatisfy({ range in range.allSatisfy { isOwned.indices.contains($0) && isOwned[$0] } })
            ? nil : owned
    }
}

/// The slots a shard may hold rows of without owning them: the slots a move copied in (recorded by the import, until
/// a drop takes them out or a fence of the new owner's takes over), the fenced ranges (owned until the map gives
/// them away, then held until the drop lifts the fence), and the slots of customers a merge or an unmerge re-keyed
/// rows to here that wait to be handed over. What `OwnedSlots` reads to know whether a read must filter.
public enum SlotCopies {
    /// Registers the table of copied slots (empty until a move copies customers in). `SlotFence.register` calls it.
    static func register(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("slot copies: slots a move copied customers of into this shard") { db in
            try db.create(table: "slot_copy") { t in
                t.primaryKey("slot", .integer)
            }
        }
    }

    /// Records that customers of `slots` were copied in, in the import's transaction.
    public static func record(_ db: Database, slots: Set<Int>) throws {
        let insert = try db.cachedStatement(sql: "INSERT OR IGNORE INTO slot_copy (slot) VALUES (?)")
        for slot in slots { try insert.execute(arguments: [slot]) }
    }

    /// Forgets the copies of `ranges`: dropped, or fenced by this shard as their owner (the fence stands for them).
    public static func forget(_ db: Database, _ ranges: [ClosedRange<Int>]) throws {
        for range in ranges {
            try db.execute(
                sql: "DELETE FROM slot_copy WHERE slot BETWEEN ? AND ?",
                arguments: [range.lowerBound, range.upperBound])
        }
    }

    /// The slots of which `tables` (those that list customers, less those whose rows may be kept off their owner) hold
    /// rows, that `owned` leaves out and nothing held covers yet, in order: what `record` must be told of. A move
    /// records its copies as it imports them, but rows can be here unrecorded: a database upgraded in the middle of a
    /// move (before this record existed), or restored from a backup taken before a drop. One pass over the tables: a
    /// shard runs it once, as it starts.
    public static func unrecorded(_ db: Database, owned: [ClosedRange<Int>], tables: [CustomerTable]) throws -> [Int] {
        let listing = tables.filter { $0.listsCustomers && !$0.keptOffOwner }.map {
            "SELECT c360_slot(\($0.customerColumn)) FROM \($0.name)"
        }
        guard !listing.isEmpty else { return [] }
        let known = owned + (try held(db))
        return try Int.fetchAll(db, sql: listing.joined(separator: " UNION ") + " ORDER BY 1")
            .filter { slot in !known.contains { $0.contains(slot) } }
    }

    /// The copied slots, the fenced ranges and the slots of customers queued to be handed over: every slot this
    /// shard may hold rows of without owning it.
    ///
    /// The last are a merge's: merging a customer of this shard into a survivor another shard owns re-keys the rows
    /// here and queues the survivor (an unmerge queues the customer split off) in `slot_handoff`, which ChangeFeed's
    /// `SlotHandoff` keeps in the stores that follow merges; until the owner has the rows and they are deleted here,
    /// that customer would be counted on both shards.
    public static func held(_ db: Database) throws -> [ClosedRange<Int>] {
        let copied = try Int.fetchAll(db.cachedStatement(sql: "SELECT slot FROM slot_copy")).map { $0...$0 }
        let queued = Set(try queuedForHandoff(db).map(CustomerSlot.of)).map { $0...$0 }
        return copied + queued + (try SlotFence.fencedRanges(db))
    }

    /// The customers waiting in `slot_handoff` to be handed to their own shard; none where the store keeps no such
    /// queue (it does not follow merges while sharded). Their rows are not this shard's to count, nor to drop.
    public static func queuedForHandoff(_ db: Database) throws -> Set<String> {
        guard try db.tableExists("slot_handoff") else { return [] }
        return Set(try String.fetchAll(db.cachedStatement(sql: "SELECT customerId FROM slot_handoff")))
    }
}

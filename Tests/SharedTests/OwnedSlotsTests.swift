import C360StoreKit
import Foundation
import GRDB
import Synchronization
import Testing

/// A shard's reads across customers filter by its slots only while it holds rows of slots it does not own (a move's
/// copies, its fenced ranges), and then keep to exactly its slots.
@Suite("Owned slots (reads across customers on a shard)")
struct OwnedSlotsTests {
    /// A database with the fence's and copies' tables and a table of rows by customer, one per customer of `ids`.
    private static func database(_ ids: [String]) throws -> DatabaseQueue {
        let queue = try ServiceDatabase.inMemory()
        var migrator = DatabaseMigrator()
        SlotFence.register(&migrator)
        try migrator.migrate(queue)
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE row (customerId TEXT NOT NULL)")
            for id in ids { try db.execute(sql: "INSERT INTO row (customerId) VALUES (?)", arguments: [id]) }
        }
        return queue
    }

    /// `count` customer ids whose slots are below 512, and as many at or above it.
    private static func customers(_ count: Int) -> (low: [String], high: [String]) {
        var (low, high): ([String], [String]) = ([], [])
        var index = 0
        while low.count < count || high.count < count {
            let id = "customer-\(index)"
            index += 1
            if CustomerSlot.of(id) < 512 {
                if low.count < count { low.append(id) }
            } else if high.count < count {
                high.append(id)
            }
        }
        return (low, high)
    }

    private static func counted(_ owned: OwnedSlots, in queue: DatabaseQueue) throws -> (predicate: String, rows: Int) {
        try queue.read { db in
            let predicate = try owned.predicate(db, customer: "customerId")
            let rows = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM row WHERE \(predicate)") ?? -1
            let expression = try owned.expression(db, customer: Column("customerId"))
            let rowsViaExpression = try Table("row").filter(expression).fetchCount(db)
            #expect(rowsViaExpression == rows, "the query's expression selects what the raw predicate does")
            return (predicate, rows)
        }
    }

    @Test(
        "nothing is filtered outside a move; copies of slots not owned, or a fenced range the map gave away, filter to exactly the owned slots; a drop ends it"
    )
    func filtersOnlyWhileHoldingOthersRows() throws {
        let (low, high) = Self.customers(3)
        let queue = try Self.database(low + high)
        let ranges = Mutex<[ClosedRange<Int>]?>([0...511])
        let owned = OwnedSlots { ranges.withLock { $0 } }

        // Not a shard, or a shard holding only what it owns: every row, and no slot hash in the query
        #expect(try Self.counted(.everyone, in: queue) == ("1", 6))
        #expect(try Self.counted(owned, in: queue) == ("1", 6))

        // A copy of an owned slot changes nothing; a copy of a slot the shard does not own keeps reads to its slots
        try queue.write { db in try SlotCopies.record(db, slots: [CustomerSlot.of(low[0])]) }
        #expect(try Self.counted(owned, in: queue).predicate == "1")
        try queue.write { db in try SlotCopies.record(db, slots: [CustomerSlot.of(high[0])]) }
        #expect(try Self.counted(owned, in: queue).rows == 3)

        // The map gives the copied half to this shard: its rows all count again
        ranges.withLock { $0 = [0...1_023] }
        #expect(try Self.counted(owned, in: queue) == ("1", 6))

        // It fences the low half for a move: still its own until the map gives it away, then left out until the drop
        try queue.write { db in
            try SlotCopies.forget(db, [0...511])
            try SlotFence.fence(db, [0...511], epoch: 2, target: "other", tables: [])
        }
        #expect(try Self.counted(owned, in: queue).predicate == "1")
        ranges.withLock { $0 = [512...1_023] }
        #expect(try Self.counted(owned, in: queue).rows == 3)
        // The drop deletes them and lifts the fence
        try queue.write { db in
            try db.execute(sql: "DELETE FROM row WHERE c360_slot(customerId) < 512")
            try SlotFence.lift(db, [0...511], tables: [])
            try SlotCopies.forget(db, [0...511])
        }
        let copies = try queue.read { db in try SlotCopies.held(db) }
        #expect(copies == [CustomerSlot.of(high[0])...CustomerSlot.of(high[0])], "the high copy is owned now")
        #expect(try Self.counted(owned, in: queue) == ("1", 3))

        // A shard the map gives no slot counts nothing it holds of others
        try queue.write { db in try SlotCopies.record(db, slots: [CustomerSlot.of(low[1])]) }
        ranges.withLock { $0 = [] }
        #expect(try Self.counted(owned, in: queue) == ("0", 0))
    }

    @Test(
        """
        at start-up a shard records the slots it holds rows of that it does not own and nothing recorded (upgraded \
        during a move, restored from before a drop), once: then its reads keep to its own slots
        """)
    func recordsUnrecordedSlotsOnce() throws {
        let (low, high) = Self.customers(3)
        let queue = try Self.database(low + high)
        let owned = OwnedSlots { [0...511] }
        let tables = [CustomerTable(name: "row", customerColumn: "customerId", listsCustomers: true)]
        #expect(try Self.counted(owned, in: queue) == ("1", 6), "unrecorded: the high rows count here too")

        // A fence of the shard's own covers some of what it holds; the rest is recorded
        try queue.write { db in
            try SlotFence.fence(
                db, [CustomerSlot.of(high[0])...CustomerSlot.of(high[0])], epoch: 2, target: "b", tables: [])
        }
        let found = try queue.read { db in try SlotCopies.unrecorded(db, owned: [0...511], tables: tables) }
        #expect(found == high.dropFirst().map(CustomerSlot.of).sorted())
        try queue.write { db in try SlotCopies.record(db, slots: Set(found)) }
        #expect(try Self.counted(owned, in: queue).rows == 3)
        #expect(try queue.read { db in try SlotCopies.unrecorded(db, owned: [0...511], tables: tables) } == [])

        // A table that does not list customers, or whose rows may be kept off their owner, is not read
        let unlisted = [CustomerTable(name: "row", customerColumn: "customerId")]
        let pointers = [
            CustomerTable(name: "row", customerColumn: "customerId", listsCustomers: true, keptOffOwner: true)
        ]
        for tables in [unlisted, pointers] {
            #expect(try queue.read { db in try SlotCopies.unrecorded(db, owned: [], tables: tables) } == [])
        }
    }
}

import C360StoreKit
import GRDB
import Testing

/// Keys named in a transaction are shredded after it commits, and at the next start when a crash came in between.
@Suite("Pending shreds")
struct PendingShredsTests {
    @Test(
        "keys named in a committed transaction are shredded after the commit, or at the next start after a crash, unless needed again by then; a rolled-back one names none"
    )
    func namedKeysAreShreddedOnce() async throws {
        let queue = try ServiceDatabase.inMemory()
        var migrator = DatabaseMigrator()
        PendingShreds.register(&migrator, name: "pending shreds")
        try migrator.migrate(queue)
        let keyring = try Keyring.inMemory()
        for id in ["ada", "sara", "nora", "back"] { _ = try keyring.dataKey(for: id) }
        // "back" stands for a customer whose rows came back to this shard after its key was named.
        let keeping: (Database, String) throws -> Bool = { _, id in id == "back" }

        // A rolled-back transaction names nothing
        struct Rollback: Error {}
        await #expect(throws: Rollback.self) {
            try await queue.write { db in
                try PendingShreds.record(db, ["nora"])
                throw Rollback()
            }
        }
        // Committed, then shredded
        try await queue.write { db in try PendingShreds.record(db, ["ada", "back"]) }
        #expect(try PendingShreds.shred(queue, keyring: keyring, keeping: keeping) == 1)
        #expect(try keyring.existingDataKey(for: "ada") == nil)
        #expect(try keyring.existingDataKey(for: "back") != nil, "needed again: forgotten, not shredded")

        // Committed, then a crash before the shred: the next start shreds it, once
        try await queue.write { db in try PendingShreds.record(db, ["sara", "sara"]) }
        #expect(try keyring.existingDataKey(for: "sara") != nil)
        #expect(try PendingShreds.shred(queue, keyring: keyring, keeping: keeping) == 1)
        #expect(try keyring.existingDataKey(for: "sara") == nil)
        #expect(try PendingShreds.shred(queue, keyring: keyring, keeping: keeping) == 0)
        #expect(try keyring.existingDataKey(for: "back") != nil)
        #expect(try keyring.existingDataKey(for: "nora") != nil)
    }
}

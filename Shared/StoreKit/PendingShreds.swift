public import GRDB

/// Keys a transaction decides to shred only once it has committed, where a crash between the commit and the shred
/// must not keep them: named in the transaction itself (`record`), shredded after it (`shred`), and shredded at the
/// next start-up when a crash came in between (`shred` again, before the process serves). Shredding is idempotent,
/// so a key named twice is simply gone.
///
/// For work nobody retries: a retried erasure shreds its keys again by itself, but a hand-back's end deletes the
/// transfer that would have brought it back.
public enum PendingShreds {
    static let table = "pending_shred"

    /// Registers the table under the store's migration `name`.
    public static func register(_ migrator: inout DatabaseMigrator, name: String) {
        migrator.registerMigration(name) { db in
            try db.create(table: table) { t in
                t.primaryKey("customerId", .text)
            }
        }
    }

    /// Names the keys of `customerIDs` to shred once the caller's transaction commits.
    public static func record(_ db: Database, _ customerIDs: [String]) throws {
        let insert = try db.cachedStatement(sql: "INSERT OR IGNORE INTO \(table) (customerId) VALUES (?)")
        for id in customerIDs { try insert.execute(arguments: [id]) }
    }

    /// Shreds the keys named by committed transactions, then forgets them; answers how many it shredded. Called after
    /// the naming transaction commits, and at start-up before the process serves, for what a crash (or a failed shred)
    /// left. A name is an id, not a key: a customer the store needs a key for again by now (`keeping`, read in the same
    /// snapshot: its rows came back) is forgotten without shredding.
    @discardableResult
    public static func shred(
        _ writer: any DatabaseWriter, keyring: Keyring, keeping: (Database, String) throws -> Bool
    ) throws -> Int {
        let (doomed, kept) = try writer.read { db in
            var (doomed, kept): ([String], [String]) = ([], [])
            for id in try named(db) {
                if try keeping(db, id) { kept.append(id) } else { doomed.append(id) }
            }
            return (doomed, kept)
        }
        guard !doomed.isEmpty || !kept.isEmpty else { return 0 }
        if !doomed.isEmpty { try keyring.shred(doomed) }
        try writer.write { db in try forget(db, doomed + kept) }
        return doomed.count
    }

    private static func named(_ db: Database) throws -> [String] {
        try String.fetchAll(db.cachedStatement(sql: "SELECT customerId FROM \(table)"))
    }

    private static func forget(_ db: Database, _ ids: [String]) throws {
        let delete = try db.cachedStatement(sql: "DELETE FROM \(table) WHERE customerId = ?")
        for id in ids { try delete.execute(arguments: [id]) }
    }
}

import C360StoreKit
public import GRDB
import GRDBSQLite
import Synchronization

/// Counts the work SQLite does on the connections of one database, in virtual-machine instructions.
///
/// A test states with it that an operation's cost does not grow with rows it should never read — a per-customer
/// write that must not walk other customers' rows — by measuring the operation on a small and on a large database.
/// The count is deterministic, unlike a timing, and it sees what a plan chosen without statistics does: an index on
/// a column every row shares is a `SEARCH` in `EXPLAIN QUERY PLAN`, yet it visits every row.
public final class SQLiteWork: Sendable {
    /// Instructions between two calls of SQLite's progress handler: the resolution of the count.
    public static let resolution: Int32 = 16

    private let ticks = Atomic<Int>(0)

    private init() {}

    /// An in-memory database with the production configuration whose connection counts into the answered counter.
    public static func inMemory(label: String = "test") throws -> (DatabaseQueue, SQLiteWork) {
        let work = SQLiteWork()
        var configuration = ServiceDatabase.configuration(label: label)
        configuration.prepareDatabase { db in
            sqlite3_progress_handler(
                db.sqliteConnection, resolution,
                { context in
                    Unmanaged<SQLiteWork>.fromOpaque(context!).takeUnretainedValue().ticks.add(1, ordering: .relaxed)
                    return 0
                }, Unmanaged.passUnretained(work).toOpaque())
        }
        // The configuration (kept by the queue) holds `work` through the closure above for as long as the
        // connection can call the handler.
        return (try DatabaseQueue(configuration: configuration), work)
    }

    /// The instructions SQLite ran while `body` ran.
    public func measure(_ body: () async throws -> Void) async rethrows -> Int {
        let before = ticks.load(ordering: .relaxed)
        try await body()
        return (ticks.load(ordering: .relaxed) - before) * Int(Self.resolution)
    }
}

extension SQLiteWork {
    /// The statements compiled and not yet finalized on `db`'s connection: a statement cache shows up here, a
    /// statement compiled for one call does not outlive it.
    public static func liveStatements(_ db: Database) -> Int {
        var count = 0
        var statement = sqlite3_next_stmt(db.sqliteConnection, nil)
        while let current = statement {
            count += 1
            statement = sqlite3_next_stmt(db.sqliteConnection, current)
        }
        return count
    }
}

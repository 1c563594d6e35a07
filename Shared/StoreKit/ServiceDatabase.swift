public import Foundation
public import GRDB
public import Logging

/// Opens the one SQLite database a service owns, configured the same way in every service.
///
/// Production uses a `DatabasePool` in WAL mode with `synchronous = NORMAL`: an acknowledged transaction survives a
/// process crash (kill -9), and readers never block the writer. Tests use the same configuration on a temporary file
/// or in memory, so they exercise what production runs.
public enum ServiceDatabase {
    /// How long a connection waits for a lock held by another connection before it fails with SQLITE_BUSY.
    public static let busyTimeout: TimeInterval = 5

    /// The page cache of the one connection that writes, in KiB (SQLite's default is 2 MiB per connection). A write
    /// touches index pages all over the file (a touchpoint's event id and its customer's timeline position land in
    /// random places); with 2 MiB most of them were read again through `pread` on every batch, and `bench ingest`
    /// stored 14k touchpoints/s instead of 16k. Readers keep the default: there are several of them, and each read
    /// is narrow. The cache holds only pages the writer has read or written, never more than the file: an idle
    /// service, or a small database such as the keyring, pays little for it.
    public static let writerCacheKiB = 32 * 1024

    /// The configuration every service database uses: foreign keys on, a busy timeout, `synchronous = NORMAL`,
    /// `secure_delete = ON`.
    public static func configuration(label: String) -> Configuration {
        var config = Configuration()
        config.label = label
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(busyTimeout)
        config.prepareDatabase { db in
            // With WAL, NORMAL keeps every committed transaction across a process crash; only a power loss may drop
            // the last transactions, never corrupt the file.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // Without it SQLite only unlinks a deleted row: its bytes stay readable in the page's free space and in
            // freed pages until something happens to overwrite them, so an erased customer's email and name remain
            // in the file. ON zeroes them as part of the deleting transaction (and an updated row's old value, and
            // index entries), at the cost of writing the zeroed pages. It is per connection, hence here. The WAL
            // still holds the pages as they were before; `purgeDeletedData()` clears that after an erasure.
            try db.execute(sql: "PRAGMA secure_delete = ON")
            if !db.configuration.readonly {
                try db.execute(sql: "PRAGMA cache_size = -\(writerCacheKiB)")
            }
            // The slot of a customer id, for the triggers that fence moving slots (`SlotFence`).
            db.add(function: CustomerSlot.sqlFunction)
        }
        return config
    }

    /// Opens (creating if needed) `<directory>/<fileName>` as a WAL-mode pool.
    ///
    /// - Throws: when the directory cannot be created or the file is not a usable SQLite database.
    public static func openPool(directory: String, fileName: String, logger: Logger) throws -> DatabasePool {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = (directory as NSString).appendingPathComponent(fileName)
        let pool = try DatabasePool(path: path, configuration: configuration(label: fileName))
        let mode = try pool.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") } ?? "?"
        logger.info("opened database", metadata: ["path": "\(path)", "journal_mode": "\(mode)"])
        return pool
    }

    /// An in-memory database with the production configuration, for tests.
    public static func inMemory(label: String = "test") throws -> DatabaseQueue {
        try DatabaseQueue(configuration: configuration(label: label))
    }
}

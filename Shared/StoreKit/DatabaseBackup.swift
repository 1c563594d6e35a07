public import Foundation
public import GRDB

/// Online backup and offline restore of a service's SQLite database.
///
/// A backup is SQLite's backup API reading one snapshot of the live pool, so the service keeps serving reads and
/// writes meanwhile and the copy holds every transaction committed before it began. It is written beside its final
/// name and renamed once complete, so a backup file is never half-written. A restore checks the file (SQLite's
/// integrity check, and a schema this binary knows) before it replaces anything, and keeps what it replaces.
public enum DatabaseBackup {
    /// What a finished backup or restore produced.
    public struct Report: Sendable {
        /// The backup file, or the restored database file.
        public var path: String
        public var sizeBytes: Int64
        /// Schema version of the copied database (`PRAGMA user_version`).
        public var schemaVersion: Int
        /// Files moved aside by a restore (the database it replaced), empty otherwise.
        public var movedAside: [String] = []
    }

    /// Copies `source` into `destination` (which must not exist yet) without blocking the cooperative pool.
    ///
    /// - Throws: `BackupError.exists` when `destination` exists; SQLite errors otherwise (nothing is left behind).
    public static func backup(_ source: any DatabaseReader, to destination: URL) async throws -> Report {
        let fileManager = FileManager.default
        guard !fileManager.fileExists(atPath: destination.path) else { throw BackupError.exists(destination.path) }
        try fileManager.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
        let partial = destination.appendingPathExtension("partial")
        try? fileManager.removeItem(at: partial)
        do {
            try await onBackgroundThread {
                let target = try DatabaseQueue(path: partial.path)
                try source.backup(to: target)
                try target.close()
            }
            guard !fileManager.fileExists(atPath: destination.path) else { throw BackupError.exists(destination.path) }
            try fileManager.moveItem(at: partial, to: destination)
        } catch {
            try? fileManager.removeItem(at: partial)
            throw error
        }
        return Report(
            path: destination.path, sizeBytes: fileSize(destination.path),
            schemaVersion: try schemaVersion(of: destination))
    }

    /// Installs `backup` as the database `fileName` in `directory`, after checking it. The service must be stopped.
    ///
    /// An existing database is refused unless `replace`; then it (with its -wal and -shm files) is moved aside to
    /// `<file>.before-restore-<UTC time>`, never deleted.
    ///
    /// - Throws: `BackupError` when the backup is unreadable, damaged, of a newer schema, or a database is in the way.
    public static func restore(
        _ backup: URL, into directory: URL, fileName: String, schema: DatabaseMigrator, replace: Bool,
        now: Date = Date()
    ) throws -> Report {
        let fileManager = FileManager.default
        guard fileManager.fileExists(atPath: backup.path) else { throw BackupError.missing(backup.path) }
        try verify(backup, schema: schema)

        try fileManager.createDirectory(at: directory, withIntermediateDirectories: true)
        let target = directory.appendingPathComponent(fileName)
        var movedAside: [String] = []
        if fileManager.fileExists(atPath: target.path) {
            guard replace else { throw BackupError.databaseInTheWay(target.path) }
            let stamp = ISO8601DateFormatter.compactUTC.string(from: now)
            for suffix in ["", "-wal", "-shm"] where fileManager.fileExists(atPath: target.path + suffix) {
                let aside = target.path + suffix + ".before-restore-" + stamp
                try fileManager.moveItem(atPath: target.path + suffix, toPath: aside)
                movedAside.append(aside)
            }
        }
        let staging = directory.appendingPathComponent(fileName + ".restoring")
        try? fileManager.removeItem(at: staging)
        try fileManager.copyItem(at: backup, to: staging)
        try fileManager.moveItem(at: staging, to: target)
        return Report(
            path: target.path, sizeBytes: fileSize(target.path), schemaVersion: try schemaVersion(of: target),
            movedAside: movedAside)
    }

    /// Checks that `file` is an intact SQLite database with a schema `schema` knows.
    public static func verify(_ file: URL, schema: DatabaseMigrator) throws {
        var configuration = Configuration()
        configuration.readonly = true
        let queue: DatabaseQueue
        do {
            queue = try DatabaseQueue(path: file.path, configuration: configuration)
        } catch {
            throw BackupError.unreadable(file.path, "\(error)")
        }
        defer { try? queue.close() }
        let integrity: [String]
        do {
            integrity = try queue.read { try String.fetchAll($0, sql: "PRAGMA integrity_check") }
        } catch {
            throw BackupError.unreadable(file.path, "\(error)")
        }
        guard integrity == ["ok"] else {
            throw BackupError.damaged(file.path, integrity.prefix(3).joined(separator: "; "))
        }
        let applied = try queue.read { try schema.appliedIdentifiers($0) }
        guard !applied.isDisjoint(with: schema.migrations) else { throw BackupError.notThisService(file.path) }
        try DatabaseSchema.check(queue, against: schema)
    }

    /// The database file's size plus its write-ahead log's, in bytes (0 for files that are not there).
    public static func sizeOnDisk(_ path: String) -> Int64 {
        fileSize(path) + fileSize(path + "-wal")
    }

    private static func fileSize(_ path: String) -> Int64 {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.int64Value ?? 0
    }

    private static func schemaVersion(of file: URL) throws -> Int {
        var configuration = Configuration()
        configuration.readonly = true
        let queue = try DatabaseQueue(path: file.path, configuration: configuration)
        defer { try? queue.close() }
        return try queue.read { try Int.fetchOne($0, sql: "PRAGMA user_version") } ?? 0
    }

    /// Runs blocking SQLite work on a thread of its own rather than a cooperative one.
    private static func onBackgroundThread(_ work: @escaping @Sendable () throws -> Void) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            DispatchQueue.global(qos: .utility).async {
                do {
                    try work()
                    continuation.resume()
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }
}

/// Why a backup or restore did not happen.
public enum BackupError: Error, CustomStringConvertible, Equatable {
    case exists(String)
    case missing(String)
    case unreadable(String, String)
    case damaged(String, String)
    case notThisService(String)
    case databaseInTheWay(String)

    public var description: String {
        switch self {
        case .exists(let path): "\(path) already exists; choose another backup name"
        case .missing(let path): "\(path) does not exist"
        case .unreadable(let path, let reason): "\(path) is not a readable SQLite database: \(reason)"
        case .damaged(let path, let report): "\(path) fails SQLite's integrity check: \(report)"
        case .notThisService(let path): "\(path) holds no schema of this service; is it another service's backup?"
        case .databaseInTheWay(let path):
            "\(path) already exists; stop the service and pass --replace to move it aside and restore over it"
        }
    }
}

extension ISO8601DateFormatter {
    /// `20261124T101500Z`: sortable, and safe in file names.
    public static var compactUTC: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withYear, .withMonth, .withDay, .withTime, .withTimeZone]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter
    }
}

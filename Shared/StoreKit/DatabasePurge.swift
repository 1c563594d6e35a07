public import GRDB
public import Logging

/// What `purgeDeletedData()` achieved.
public enum DatabasePurge: Sendable, Equatable {
    /// Every committed page is in the database file and the WAL file is empty (or the database keeps no WAL): with
    /// `secure_delete` on, deleted values are in no file any more.
    case complete
    /// The WAL could not be emptied — readers kept an older snapshot through every attempt, or the checkpoint
    /// failed — so it may still hold page images from before the deletion until a later checkpoint truncates it.
    case walRetained(reason: String)

    /// Where a purge that fell short is reported when the caller names no logger.
    public static let logger = Logger(label: "c360.database-purge")
}

extension DatabaseWriter {
    /// Makes committed deletions final on disk: checkpoints the WAL into the database file and truncates it to zero
    /// bytes (`PRAGMA wal_checkpoint(TRUNCATE)`). Call it after a transaction that erased personal data has
    /// committed.
    ///
    /// Why it is needed on top of `secure_delete` (see `ServiceDatabase.configuration`): that pragma zeroes a
    /// deleted row in the page it rewrites, but in WAL mode the rewritten page is appended to the -wal file while
    /// earlier images of the same page — with the row in clear — stay in that file until a checkpoint copies the
    /// newest image into the database and the log is truncated. SQLite only does that by itself when the last
    /// connection closes cleanly, and an automatic checkpoint merely rewinds the log without shortening it, so
    /// whether the bytes survived used to depend on how the process happened to stop.
    ///
    /// A TRUNCATE checkpoint must wait for readers still using an older snapshot, and it holds this writer while it
    /// waits, so each attempt waits at most `readerWait` (not the connection's usual busy timeout) and the writer is
    /// released between attempts. The deletion has already committed, so a purge that cannot finish is not an
    /// error: it is logged and reported as `.walRetained`, and the next purge (the next erasure) or a clean close
    /// removes the old images.
    ///
    /// - Parameters:
    ///   - attempts: How many checkpoints to try before giving up.
    ///   - readerWait: How long one attempt waits for readers of an older snapshot.
    ///   - logger: Where a purge that fell short is reported (a warning naming the database).
    @discardableResult
    public func purgeDeletedData(
        attempts: Int = 3, readerWait: Duration = .milliseconds(200), logger: Logger = DatabasePurge.logger
    ) async -> DatabasePurge {
        precondition(attempts > 0, "attempts must be positive")
        let waitMs = Int(readerWait / .milliseconds(1))
        // The busy timeout to restore after an attempt; nil when a busy callback is configured, which a pragma
        // cannot restore, so such a connection keeps its own busy handling for the checkpoint.
        let configuredMs: Int? =
            switch configuration.busyMode {
            case .immediateError: 0
            case .timeout(let seconds): Int(seconds * 1000)
            case .callback: nil
            }
        var reason = ""
        for attempt in 1...attempts {
            do {
                try await writeWithoutTransaction { db in
                    if configuredMs != nil { try db.execute(sql: "PRAGMA busy_timeout = \(waitMs)") }
                    defer {
                        if let configuredMs { try? db.execute(sql: "PRAGMA busy_timeout = \(configuredMs)") }
                    }
                    _ = try db.checkpoint(.truncate)
                }
                return .complete
            } catch let error as DatabaseError
                where error.resultCode == .SQLITE_BUSY
                || error.resultCode == .SQLITE_LOCKED
            {
                reason = "readers kept an older snapshot (\(error.resultCode)) through \(attempt) attempt(s)"
                if attempt < attempts { try? await Task.sleep(for: readerWait * attempt) }
            } catch {
                reason = "checkpoint failed: \(error)"
                break
            }
        }
        logger.warning(
            "deleted data may remain in the WAL until the next truncating checkpoint",
            metadata: [
                "database": "\(configuration.label ?? "?")", "reason": "\(reason)",
            ])
        return .walRetained(reason: reason)
    }
}

import C360StoreKit
import C360TestSupport
import Foundation
import GRDB
import Testing

/// The personal value every test here deletes: distinctive enough that no other byte run in a database matches it.
private let erasedEmail = "kestrel.vantongeren@example.net"

/// A pool opened the way every service opens its database (`ServiceDatabase.openPool`), in a fresh temporary
/// directory, with a `note` table of 200 filler rows and 3 rows holding `erasedEmail`; `secureDelete: false` turns
/// the pragma back off to show what it is for. The directory is removed afterwards.
private func withNotes(
    secureDelete: Bool = true, _ body: (DatabasePool, URL) async throws -> Void
) async throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("c360-purge-\(UUID())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    var configuration = ServiceDatabase.configuration(label: "notes.sqlite")
    if !secureDelete {
        configuration.prepareDatabase { try $0.execute(sql: "PRAGMA secure_delete = OFF") }
    }
    let pool = try DatabasePool(
        path: directory.appendingPathComponent("notes.sqlite").path, configuration: configuration)
    try await pool.write { db in
        try db.execute(sql: "CREATE TABLE note (id INTEGER PRIMARY KEY, owner TEXT NOT NULL, text TEXT NOT NULL)")
        try db.execute(sql: "CREATE INDEX note_by_text ON note(text)")
        for index in 0..<200 {
            try db.execute(
                sql: "INSERT INTO note (owner, text) VALUES ('other', ?)",
                arguments: ["filler note \(index) with some text to fill the pages"])
        }
        for index in 0..<3 {
            try db.execute(
                sql: "INSERT INTO note (owner, text) VALUES ('erased', ?)",
                arguments: ["write to \(erasedEmail) about order \(index)"])
        }
    }
    try await body(pool, directory)
    try pool.close()
}

/// Deletes the rows holding `erasedEmail` in one committed transaction.
private func deleteErased(_ pool: DatabasePool) async throws {
    try await pool.write { try $0.execute(sql: "DELETE FROM note WHERE owner = 'erased'") }
}

@Suite("Database purge: a deleted value leaves no byte in the database, its WAL or its index")
struct DatabasePurgeTests {
    @Test("once purged, a deleted value is in no file; before the purge the WAL still held it")
    func purgeRemovesDeletedBytes() async throws {
        try await withNotes { pool, directory in
            try await deleteErased(pool)
            // The deletion has committed, yet the WAL keeps the page images written when the rows were inserted.
            let before = try DatabaseFileScan.find([erasedEmail], under: directory)
            #expect(before.contains { $0.file.hasSuffix("notes.sqlite-wal") }, "\(before)")

            #expect(await pool.purgeDeletedData() == .complete)

            let after = try DatabaseFileScan.find([erasedEmail], under: directory)
            #expect(after.isEmpty, "left on disk: \(after)")
            let wal = directory.appendingPathComponent("notes.sqlite-wal").path
            #expect(try FileManager.default.attributesOfItem(atPath: wal)[.size] as? Int == 0)
            // Only the deleted rows are gone.
            #expect(try await pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM note") } == 200)
        }
    }

    @Test("without secure_delete a purge is not enough: the checkpoint copies the deleted bytes into the database file")
    func secureDeleteIsNeeded() async throws {
        try await withNotes(secureDelete: false) { pool, directory in
            try await deleteErased(pool)
            #expect(await pool.purgeDeletedData() == .complete)
            let after = try DatabaseFileScan.find([erasedEmail], under: directory)
            #expect(after.contains { $0.file.hasSuffix("notes.sqlite") }, "\(after)")
        }
    }

    @Test("every connection of a service database, writer and readers, has secure_delete on")
    func everyConnectionSecureDeletes() async throws {
        try await withNotes { pool, _ in
            let writer = try await pool.write { try Int.fetchOne($0, sql: "PRAGMA secure_delete") }
            let reader = try await pool.read { try Int.fetchOne($0, sql: "PRAGMA secure_delete") }
            let inMemory = try await ServiceDatabase.inMemory().read {
                try Int.fetchOne($0, sql: "PRAGMA secure_delete")
            }
            #expect(writer == 1 && reader == 1 && inMemory == 1)
        }
    }

    @Test(
        "a reader holding an older snapshot makes the purge report walRetained without undoing the deletion; a later purge completes"
    )
    func blockedByReader() async throws {
        try await withNotes { pool, directory in
            let snapshot = try pool.makeSnapshot() // a read transaction that stays open until closed
            try await deleteErased(pool)

            let blocked = await pool.purgeDeletedData(attempts: 2, readerWait: .milliseconds(20))
            guard case .walRetained = blocked else {
                Issue.record("a purge under an open snapshot answered \(blocked)")
                return
            }
            #expect(
                try await pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM note WHERE owner = 'erased'") }
                    == 0)
            // The snapshot still sees the rows it started with: that is why the WAL had to stay.
            #expect(
                try await snapshot.read {
                    try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM note WHERE owner = 'erased'")
                } == 3)
            // The writer got its usual busy timeout back.
            #expect(
                try await pool.write { try Int.fetchOne($0, sql: "PRAGMA busy_timeout") }
                    == Int(ServiceDatabase.busyTimeout * 1000))

            try snapshot.close()
            #expect(await pool.purgeDeletedData() == .complete)
            let after = try DatabaseFileScan.find([erasedEmail], under: directory)
            #expect(after.isEmpty, "left on disk: \(after)")
        }
    }

    @Test("a database without a WAL (in memory, as in handler tests) purges as a no-op")
    func noWAL() async throws {
        let queue = try ServiceDatabase.inMemory()
        #expect(await queue.purgeDeletedData() == .complete)
    }
}

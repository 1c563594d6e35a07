import C360StoreKit
import Foundation
import GRDB
import Testing

/// A temporary directory removed after `body`.
private func withTemporaryDirectory(_ body: (URL) async throws -> Void) async throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("c360-schema-\(UUID())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    try await body(directory)
}

/// A schema of `count` migrations: a `note` table, then one column per further migration.
private func schema(_ count: Int) -> DatabaseMigrator {
    var migrator = DatabaseMigrator()
    migrator.registerMigration("v1: notes") { db in
        try db.execute(sql: "CREATE TABLE note (id INTEGER PRIMARY KEY, text TEXT NOT NULL)")
    }
    for version in stride(from: 2, through: count, by: 1) {
        migrator.registerMigration("v\(version): column \(version)") { db in
            try db.execute(sql: "ALTER TABLE note ADD COLUMN c\(version) TEXT")
        }
    }
    return migrator
}

@Suite("Database schema versions and backups")
struct DatabaseSchemaTests {
    @Test("the schema version is the number of migrations, recorded in user_version; an older binary is refused")
    func versionsAndRefusal() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("notes.sqlite").path
            let pool = try DatabasePool(path: path)
            try DatabaseSchema.migrate(pool, with: schema(1))
            #expect(try pool.read { try Int.fetchOne($0, sql: "PRAGMA user_version") } == 1)
            try DatabaseSchema.migrate(pool, with: schema(3)) // the upgrade
            #expect(try pool.read { try Int.fetchOne($0, sql: "PRAGMA user_version") } == 3)

            // Back to the binary that knew one migration: refused, naming what it does not know; nothing changes.
            do {
                try DatabaseSchema.migrate(pool, with: schema(1))
                Issue.record("an older schema migrated a newer database")
            } catch let error as SchemaTooNew {
                #expect(error.unknownMigrations == ["v2: column 2", "v3: column 3"])
                #expect(error.knownVersion == 1)
                #expect(error.description.contains("migrated by a newer version"))
            }
            #expect(try pool.read { try Int.fetchOne($0, sql: "PRAGMA user_version") } == 3)
        }
    }

    @Test(
        "an online backup holds every write committed before it; restore refuses damage, strangers and a database in the way"
    )
    func backupAndRestore() async throws {
        try await withTemporaryDirectory { directory in
            let pool = try DatabasePool(path: directory.appendingPathComponent("notes.sqlite").path)
            try DatabaseSchema.migrate(pool, with: schema(2))
            for index in 0..<100 {
                try await pool.write {
                    try $0.execute(sql: "INSERT INTO note (text) VALUES (?)", arguments: ["note \(index)"])
                }
            }
            // Writes keep going while the backup runs.
            let writer = Task {
                var index = 100
                while !Task.isCancelled {
                    let text = "note \(index)"
                    try await pool.write {
                        try $0.execute(sql: "INSERT INTO note (text) VALUES (?)", arguments: [text])
                    }
                    index += 1
                }
            }
            let destination = directory.appendingPathComponent("backups/first.sqlite")
            let report = try await DatabaseBackup.backup(pool, to: destination)
            writer.cancel()
            _ = try? await writer.value
            #expect(report.schemaVersion == 2 && report.sizeBytes > 0)
            #expect(!FileManager.default.fileExists(atPath: destination.path + ".partial"))
            await #expect(throws: BackupError.exists(destination.path)) {
                _ = try await DatabaseBackup.backup(pool, to: destination)
            }

            let restoreInto = directory.appendingPathComponent("restored")
            let restored = try DatabaseBackup.restore(
                destination, into: restoreInto, fileName: "notes.sqlite",
                schema: schema(2), replace: false)
            let copy = try DatabaseQueue(path: restored.path)
            let texts = try await copy.read { try String.fetchSet($0, sql: "SELECT text FROM note") }
            try copy.close()
            #expect((0..<100).allSatisfy { texts.contains("note \($0)") })

            #expect(throws: BackupError.databaseInTheWay(restored.path)) {
                _ = try DatabaseBackup.restore(
                    destination, into: restoreInto, fileName: "notes.sqlite",
                    schema: schema(2), replace: false)
            }
            let replaced = try DatabaseBackup.restore(
                destination, into: restoreInto, fileName: "notes.sqlite",
                schema: schema(2), replace: true)
            #expect(replaced.movedAside.count >= 1)
            #expect(replaced.movedAside.allSatisfy { FileManager.default.fileExists(atPath: $0) })

            // A binary that knows less than the backup refuses it.
            #expect(throws: SchemaTooNew.self) {
                _ = try DatabaseBackup.restore(
                    destination, into: directory.appendingPathComponent("older"),
                    fileName: "notes.sqlite", schema: schema(1), replace: false)
            }
            // Another service's database, and a file that is not SQLite at all.
            var stranger = DatabaseMigrator()
            stranger.registerMigration("v1: something else") { _ in }
            #expect(throws: BackupError.notThisService(destination.path)) {
                try DatabaseBackup.verify(destination, schema: stranger)
            }
            let garbage = directory.appendingPathComponent("garbage.sqlite")
            try Data(repeating: 0x42, count: 8_192).write(to: garbage)
            #expect(throws: BackupError.self) {
                _ = try DatabaseBackup.restore(
                    garbage, into: directory.appendingPathComponent("g"), fileName: "notes.sqlite",
                    schema: schema(2), replace: false)
            }
        }
    }
}

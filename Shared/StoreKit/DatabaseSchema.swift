public import GRDB

/// Brings a service's database to the schema this binary knows, and refuses one a newer binary has migrated.
///
/// The schema version is the number of migrations applied; it is also written to `PRAGMA user_version`, so
/// `sqlite3 file 'PRAGMA user_version'` tells an operator which schema a file (or a backup) has. Going back to an
/// older binary after an upgrade that added a migration is refused with `SchemaTooNew` instead of running old code
/// on a schema it does not know: restore the backup taken before the upgrade, or run the newer binary.
public enum DatabaseSchema {
    /// The schema version `migrator` produces: how many migrations it has.
    public static func version(of migrator: DatabaseMigrator) -> Int {
        migrator.migrations.count
    }

    /// Migrates `writer` with `migrator` after checking that no newer binary migrated it, then records the version.
    ///
    /// - Throws: `SchemaTooNew` when the database has migrations `migrator` does not know; nothing is changed then.
    public static func migrate(_ writer: any DatabaseWriter, with migrator: DatabaseMigrator) throws {
        try check(writer, against: migrator)
        try migrator.migrate(writer)
        // A pool's reader that was open before a migration changed a table (the check above opens one, and so does
        // logging the journal mode) keeps that table's old columns in its schema cache: a `SELECT *` it prepares
        // next is expanded to the old columns, SQLite re-prepares it on the first step, and GRDB then decodes the
        // new row by the old column names. New readers read the new schema.
        (writer as? DatabasePool)?.invalidateReadOnlyConnections()
        let version = version(of: migrator)
        try writer.writeWithoutTransaction { db in
            if try Int.fetchOne(db, sql: "PRAGMA user_version") != version {
                try db.execute(sql: "PRAGMA user_version = \(version)")
            }
        }
    }

    /// Throws `SchemaTooNew` when `reader` has migrations `migrator` does not know.
    public static func check(_ reader: any DatabaseReader, against migrator: DatabaseMigrator) throws {
        let unknown = try reader.read { db in
            try migrator.appliedIdentifiers(db).subtracting(migrator.migrations)
        }
        guard unknown.isEmpty else {
            throw SchemaTooNew(
                database: reader.path, knownVersion: version(of: migrator), unknownMigrations: unknown.sorted())
        }
    }
}

/// A database migrated by a newer binary than the one trying to open it.
public struct SchemaTooNew: Error, CustomStringConvertible {
    /// The file (or label) of the database.
    public let database: String
    /// The schema version this binary migrates to.
    public let knownVersion: Int
    /// Migrations the database has and this binary does not know.
    public let unknownMigrations: [String]

    public var description: String {
        "\(database) was migrated by a newer version (it has \(unknownMigrations.count) migration(s) this binary does "
            + "not know: \(unknownMigrations.joined(separator: "; "))); this binary knows schema version "
            + "\(knownVersion). Run the newer binary, or restore a backup taken before the upgrade."
    }
}

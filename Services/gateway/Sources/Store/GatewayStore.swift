public import C360ServerKit
import C360StoreKit
import Foundation
public import GRDB

/// The gateway's own database: API keys (hashed) and the audit log.
public struct GatewayStore: Sendable {
    let writer: any DatabaseWriter

    public init(writer: any DatabaseWriter) throws {
        self.writer = writer
        try DatabaseSchema.migrate(writer, with: Self.schema)
    }

    public static var schema: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: api keys and audit log") { db in
            try db.execute(
                sql: """
                    CREATE TABLE api_key (
                        keyId TEXT PRIMARY KEY,
                        name TEXT NOT NULL,
                        role TEXT NOT NULL,
                        secretHash TEXT NOT NULL UNIQUE,
                        secretPrefix TEXT NOT NULL,
                        createdAt INTEGER NOT NULL,
                        createdBy TEXT NOT NULL,
                        expiresAt INTEGER,
                        revokedAt INTEGER,
                        lastUsedAt INTEGER
                    ) WITHOUT ROWID;

                    CREATE TABLE audit_record (
                        seq INTEGER PRIMARY KEY,
                        auditId TEXT NOT NULL UNIQUE,
                        occurredAt INTEGER NOT NULL,
                        actorKeyId TEXT NOT NULL,
                        actorRole TEXT NOT NULL,
                        action TEXT NOT NULL,
                        method TEXT NOT NULL,
                        customerId TEXT NOT NULL,
                        statusCode TEXT NOT NULL,
                        requestId TEXT NOT NULL,
                        clientAddress TEXT NOT NULL
                    );
                    CREATE INDEX audit_by_time ON audit_record(occurredAt, auditId);
                    CREATE INDEX audit_by_customer ON audit_record(customerId, occurredAt);
                    CREATE INDEX audit_by_actor ON audit_record(actorKeyId, occurredAt);
                    """)
        }
        migrator.registerMigration("v2: audit notes (erasure reasons)") { db in
            try db.execute(sql: "ALTER TABLE audit_record ADD COLUMN note TEXT NOT NULL DEFAULT ''")
        }
        migrator.registerMigration("v3: hash-chained, append-only audit log") { db in
            try db.execute(
                sql: """
                    ALTER TABLE audit_record ADD COLUMN previousHash TEXT NOT NULL DEFAULT '';
                    ALTER TABLE audit_record ADD COLUMN hash TEXT NOT NULL DEFAULT '';
                    """)
            // Chain the records written before, oldest first. (AuditRow as of v3: a later migration that adds a column
            // to it must give this one a frozen copy of the v3 row.)
            var previous = ""
            for var row in try AuditRow.fetchAll(db, sql: "SELECT * FROM audit_record ORDER BY seq") {
                row.chain(after: previous)
                try db.execute(
                    sql: "UPDATE audit_record SET previousHash = ?, hash = ? WHERE auditId = ?",
                    arguments: [row.previousHash, row.hash, row.auditId])
                previous = row.hash
            }
            // The application never changes or removes a record; these make that a rule of the database too (the
            // chain is what detects someone who works around them with the file itself).
            try db.execute(
                sql: """
                    CREATE TRIGGER audit_record_no_update BEFORE UPDATE ON audit_record
                    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
                    CREATE TRIGGER audit_record_no_delete BEFORE DELETE ON audit_record
                    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
                    """)
        }
        return migrator
    }
}

/// Whose database this is, for the shared `backup` and `restore` subcommands.
extension GatewayStore: ServiceStore {
    public static var identity: ServiceIdentity { .gateway }
}

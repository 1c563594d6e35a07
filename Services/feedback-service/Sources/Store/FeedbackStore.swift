import C360ChangeFeed
public import C360ServerKit
public import C360StoreKit
import Foundation
public import GRDB

/// feedback-service's database: surveys, responses with their comments' sentiment and theme terms, feature requests
/// with votes and status history, and churn reasons.
///
/// Instants are Unix milliseconds. Every write is one transaction; a response is stored with its theme terms or not
/// at all. Scores are computed by SQL aggregates over indexed ranges, never by loading responses into memory.
///
/// Free text customers write — response comments, vote comments, churn reasons — is sealed under the customer's data
/// key from `keyring` (a separate database; see `Keyring`), so this database and its backups hold ciphertext, and
/// erasure shreds the keys. Theme terms are words of those comments (a family name is a word too): each is stored
/// as a blind index of its stem, which themes are counted by across customers, and its stem and surface form sealed
/// under the customer's key, opened only to name the top themes.
public struct FeedbackStore: Sendable {
    let writer: any DatabaseWriter
    let keyring: Keyring
    /// The customers reads across customers count: on a shard, those of its slots (a move's copies are left out).
    let owned: OwnedSlots

    /// Sees, in the write's transaction, a survivor a write was re-keyed to by a merge applied since it was resolved
    /// (`CustomerAlias.survivor(_:ofWrite:handOver:)`): on a shard, `SlotHandoff.queueing`.
    let handOver: @Sendable (Database, String) throws -> Void

    public init(
        writer: any DatabaseWriter, keyring: Keyring, owned: OwnedSlots = .everyone,
        handOver: @escaping @Sendable (Database, String) throws -> Void = { _, _ in }
    ) throws {
        self.writer = writer
        self.keyring = keyring
        self.owned = owned
        self.handOver = handOver
        try DatabaseSchema.migrate(writer, with: Self.schema(keyring: keyring))
    }

    /// The schema's migrations, for the `restore` subcommand's version check (which runs none of them).
    public static var schema: DatabaseMigrator { schema(keyring: nil) }

    static func schema(keyring: Keyring?) -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: surveys, responses, themes, feature requests, churn reasons") { db in
            try db.execute(
                sql: """
                    CREATE TABLE survey (
                        seq INTEGER PRIMARY KEY,
                        surveyId TEXT NOT NULL UNIQUE,
                        type TEXT NOT NULL,
                        name TEXT NOT NULL,
                        question TEXT NOT NULL,
                        language TEXT NOT NULL,
                        channel TEXT NOT NULL,
                        scaleMin INTEGER NOT NULL,
                        scaleMax INTEGER NOT NULL,
                        createdAt INTEGER NOT NULL,
                        active INTEGER NOT NULL DEFAULT 1
                    );

                    CREATE TABLE survey_response (
                        seq INTEGER PRIMARY KEY,
                        responseId TEXT NOT NULL UNIQUE,
                        customerId TEXT NOT NULL,
                        surveyId TEXT NOT NULL REFERENCES survey(surveyId),
                        surveyType TEXT NOT NULL,
                        surveyLanguage TEXT NOT NULL,
                        score INTEGER NOT NULL,
                        npsCategory TEXT,
                        comment TEXT NOT NULL DEFAULT '',
                        commentLanguage TEXT,
                        sentimentScore REAL,
                        sentimentLabel TEXT,
                        channel TEXT NOT NULL,
                        answeredAt INTEGER NOT NULL,
                        touchpointId TEXT NOT NULL DEFAULT '',
                        ticketId TEXT NOT NULL DEFAULT '',
                        recordedAt INTEGER NOT NULL
                    );
                    CREATE INDEX response_by_customer ON survey_response(customerId, answeredAt);
                    CREATE INDEX response_by_answered ON survey_response(answeredAt);
                    CREATE INDEX response_by_survey ON survey_response(surveyId, answeredAt);
                    CREATE INDEX response_by_sentiment ON survey_response(sentimentLabel, answeredAt)
                        WHERE sentimentLabel IS NOT NULL;

                    CREATE TABLE response_term (
                        responseSeq INTEGER NOT NULL REFERENCES survey_response(seq) ON DELETE CASCADE,
                        stem TEXT NOT NULL,
                        surface TEXT NOT NULL,
                        PRIMARY KEY (responseSeq, stem)
                    ) WITHOUT ROWID;

                    CREATE TABLE feature_request (
                        seq INTEGER PRIMARY KEY,
                        featureRequestId TEXT NOT NULL UNIQUE,
                        title TEXT NOT NULL,
                        details TEXT NOT NULL,
                        status TEXT NOT NULL,
                        votes INTEGER NOT NULL DEFAULT 0,
                        createdAt INTEGER NOT NULL,
                        updatedAt INTEGER NOT NULL,
                        statusNote TEXT NOT NULL DEFAULT '',
                        duplicateOfId TEXT NOT NULL DEFAULT ''
                    );
                    CREATE INDEX feature_request_by_votes ON feature_request(votes, seq);

                    CREATE TABLE feature_vote (
                        featureRequestId TEXT NOT NULL REFERENCES feature_request(featureRequestId),
                        customerId TEXT NOT NULL,
                        comment TEXT NOT NULL DEFAULT '',
                        channel TEXT,
                        votedAt INTEGER NOT NULL,
                        PRIMARY KEY (featureRequestId, customerId)
                    ) WITHOUT ROWID;
                    CREATE INDEX feature_vote_by_customer ON feature_vote(customerId);
                    CREATE INDEX feature_vote_by_time ON feature_vote(featureRequestId, votedAt);

                    CREATE TABLE feature_status_change (
                        seq INTEGER PRIMARY KEY,
                        featureRequestId TEXT NOT NULL REFERENCES feature_request(featureRequestId),
                        status TEXT NOT NULL,
                        note TEXT NOT NULL,
                        duplicateOfId TEXT NOT NULL DEFAULT '',
                        changedAt INTEGER NOT NULL
                    );

                    CREATE TABLE churn_reason (
                        seq INTEGER PRIMARY KEY,
                        churnReasonId TEXT NOT NULL UNIQUE,
                        customerId TEXT NOT NULL,
                        category TEXT NOT NULL,
                        text TEXT NOT NULL DEFAULT '',
                        sentimentScore REAL,
                        sentimentLabel TEXT,
                        sentimentLanguage TEXT,
                        churnedAt INTEGER NOT NULL,
                        channel TEXT,
                        recordedBy TEXT NOT NULL DEFAULT '',
                        recordedAt INTEGER NOT NULL
                    );
                    CREATE INDEX churn_reason_by_customer ON churn_reason(customerId);
                    CREATE INDEX churn_reason_by_time ON churn_reason(churnedAt);
                    """)
        }
        migrator.registerChangeFeed()
        migrator.registerMergeJournal()
        // The migrations below read rows by column name rather than through the records of Records.swift: a
        // migration reads the schema as it was when it landed (text in the clear), which the records no longer describe.
        migrator.registerMigration("v2: comments and churn reasons sealed under per-customer keys") { db in
            guard let keyring else {
                throw KeyringError.badKeyEncryptionKey("sealing the feedback database needs its keyring")
            }
            for (table, key, column) in [("survey_response", "seq", "comment"), ("churn_reason", "seq", "text")] {
                for row in try Row.fetchAll(db, sql: "SELECT \(key), customerId, \(column) FROM \(table)") {
                    let text: String = row[column]
                    guard !text.isEmpty else { continue }
                    try db.execute(
                        sql: "UPDATE \(table) SET \(column) = ? WHERE \(key) = ?",
                        arguments: [try keyring.seal(text, for: row["customerId"]), row[key] as Int64])
                }
            }
            for row in try Row.fetchAll(db, sql: "SELECT featureRequestId, customerId, comment FROM feature_vote") {
                let text: String = row["comment"]
                guard !text.isEmpty else { continue }
                try db.execute(
                    sql: "UPDATE feature_vote SET comment = ? WHERE featureRequestId = ? AND customerId = ?",
                    arguments: [
                        try keyring.seal(text, for: row["customerId"]),
                        row["featureRequestId"] as String, row["customerId"] as String,
                    ])
            }
            // Votes journaled by a merge keep their comment in JSON: sealed too, as base64.
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT rowid, mergedId, payload FROM merge_journal WHERE tableName = 'feature_vote_dropped'
                    """)
            {
                guard
                    var payload = try JSONSerialization.jsonObject(with: Data((row["payload"] as String).utf8))
                        as? [String: Any], let comment = payload["comment"] as? String, !comment.isEmpty
                else { continue }
                payload["comment"] = try keyring.seal(comment, for: row["mergedId"]).combined.base64EncodedString()
                try db.execute(
                    sql: "UPDATE merge_journal SET payload = ? WHERE rowid = ?",
                    arguments: [
                        String(decoding: try JSONSerialization.data(withJSONObject: payload), as: UTF8.self),
                        row["rowid"] as Int64,
                    ])
            }
        }
        migrator.registerMigration("v3: theme terms counted by blind index, their words sealed") { db in
            guard let keyring else {
                throw KeyringError.badKeyEncryptionKey("sealing the feedback database needs its keyring")
            }
            try db.execute(
                sql: """
                    CREATE TABLE response_term_sealed (
                        responseSeq INTEGER NOT NULL REFERENCES survey_response(seq) ON DELETE CASCADE,
                        stem TEXT NOT NULL,
                        sealedStem BLOB NOT NULL,
                        surface BLOB NOT NULL,
                        PRIMARY KEY (responseSeq, stem)
                    ) WITHOUT ROWID
                    """)
            let insert = try db.makeStatement(
                sql: """
                    INSERT OR IGNORE INTO response_term_sealed (responseSeq, stem, sealedStem, surface) VALUES (?, ?, ?, ?)
                    """)
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT t.responseSeq, t.stem, t.surface, r.customerId
                    FROM response_term t JOIN survey_response r ON r.seq = t.responseSeq
                    """)
            {
                try insert.execute(
                    arguments: try termArguments(
                        row["responseSeq"] as Int64, ThemeExtractor.Term(stem: row["stem"], surface: row["surface"]),
                        owner: row["customerId"], keyring: keyring))
            }
            try db.execute(
                sql: """
                    DROP TABLE response_term;
                    ALTER TABLE response_term_sealed RENAME TO response_term;
                    """)
        }
        // A move between shards copies a customer's rows by their customer column and lets the target number
        // responses anew, so a theme term names its response by id and its customer, not by the source's sequence.
        migrator.registerMigration("v4: theme terms name their response by id and their customer") { db in
            try db.execute(
                sql: """
                    CREATE TABLE response_term_v4 (
                        responseId TEXT NOT NULL REFERENCES survey_response(responseId) ON DELETE CASCADE,
                        customerId TEXT NOT NULL,
                        stem TEXT NOT NULL,
                        sealedStem BLOB NOT NULL,
                        surface BLOB NOT NULL,
                        PRIMARY KEY (responseId, stem)
                    ) WITHOUT ROWID;
                    INSERT INTO response_term_v4 (responseId, customerId, stem, sealedStem, surface)
                        SELECT r.responseId, r.customerId, t.stem, t.sealedStem, t.surface
                        FROM response_term t JOIN survey_response r ON r.seq = t.responseSeq;
                    DROP TABLE response_term;
                    ALTER TABLE response_term_v4 RENAME TO response_term;
                    CREATE INDEX response_term_by_customer ON response_term(customerId);
                    """)
        }
        // Shards list responses in one merged order only if each breaks ties alike: by the response id, not by the
        // sequence each shard assigns. The answered-at ranges of scores and themes read the same index.
        migrator.registerMigration("v5: responses newest first with ties broken by response id") { db in
            try db.execute(
                sql: """
                    CREATE INDEX response_by_answered_id ON survey_response(answeredAt, responseId);
                    DROP INDEX response_by_answered;
                    """)
        }
        SlotFence.register(&migrator)
        SlotHandoff.register(&migrator)
        return migrator
    }

    /// What a theme stem's blind index is keyed for.
    static let themeStemPurpose = "theme-stem"

    /// A theme term as stored: the stem's blind index (themes group by it), then the stem and the surface form
    /// sealed under the key of the customer whose comment holds them.
    static func termArguments(
        _ response: some DatabaseValueConvertible, _ term: ThemeExtractor.Term, owner: String, keyring: Keyring
    ) throws -> StatementArguments {
        [
            response, keyring.blindIndex(term.stem, purpose: themeStemPurpose), try keyring.seal(term.stem, for: owner),
            try keyring.seal(term.surface, for: owner),
        ]
    }
}

/// Where a feedback list continues: after the row with this sort key (an instant, a vote count, or the sequence
/// itself) and insertion sequence, which breaks ties.
public typealias SequencePosition = KeysetPosition<Int64, Int64>

/// Whose database this is, for the shared `backup` and `restore` subcommands.
extension FeedbackStore: ServiceStore {
    public static var identity: ServiceIdentity { .feedback }
}

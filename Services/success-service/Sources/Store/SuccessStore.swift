import C360ChangeFeed
public import C360ServerKit
public import C360StoreKit
import Foundation
public import GRDB

/// success-service's database: plans with goals, milestones and progress; health-score history with each
/// customer's latest score; alerts with their event log (the replayable feed); playbook tasks; batch recomputes.
///
/// Instants are Unix milliseconds. A health score, the alerts it raises, their tasks and feed events are stored in
/// one transaction.
///
/// What people write about a customer (plan, goal and milestone titles, summaries, notes, tasks, alerts) is sealed
/// under the customer's data key from `keyring` (a separate database; see `Keyring`), so this database and its
/// backups hold ciphertext, and erasing a customer (`erase`) shreds the keys that could open it.
public struct SuccessStore: Sendable {
    let writer: any DatabaseWriter
    let keyring: Keyring
    /// The customers reads across customers count: on a shard, those of its slots (a move's copies are left out).
    let owned: OwnedSlots

    public init(writer: any DatabaseWriter, keyring: Keyring, owned: OwnedSlots = .everyone) throws {
        self.writer = writer
        self.keyring = keyring
        self.owned = owned
        try DatabaseSchema.migrate(writer, with: Self.schema(keyring: keyring))
    }

    /// The schema without a keyring, for tools that only read a database's version (sealing existing rows needs one).
    public static var schema: DatabaseMigrator { schema(keyring: nil) }

    static func schema(keyring: Keyring?) -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: plans, goals, health scores, alerts, tasks, batches") { db in
            try db.execute(
                sql: """
                    CREATE TABLE plan (
                        seq INTEGER PRIMARY KEY,
                        planId TEXT NOT NULL UNIQUE,
                        customerId TEXT NOT NULL,
                        title TEXT NOT NULL,
                        summary TEXT NOT NULL,
                        csmOwnerId TEXT NOT NULL,
                        status TEXT NOT NULL,
                        startsAt INTEGER NOT NULL,
                        endsAt INTEGER,
                        createdAt INTEGER NOT NULL,
                        updatedAt INTEGER NOT NULL
                    );
                    CREATE INDEX plan_by_customer ON plan(customerId, createdAt);
                    CREATE INDEX plan_by_owner ON plan(csmOwnerId, customerId);

                    CREATE TABLE goal (
                        seq INTEGER PRIMARY KEY,
                        goalId TEXT NOT NULL UNIQUE,
                        planId TEXT NOT NULL REFERENCES plan(planId) ON DELETE CASCADE,
                        customerId TEXT NOT NULL,
                        title TEXT NOT NULL,
                        metric TEXT NOT NULL,
                        unit TEXT NOT NULL,
                        baselineValue REAL NOT NULL,
                        targetValue REAL NOT NULL,
                        currentValue REAL NOT NULL,
                        dueAt INTEGER NOT NULL,
                        status TEXT NOT NULL,
                        createdAt INTEGER NOT NULL,
                        achievedAt INTEGER,
                        updatedAt INTEGER NOT NULL
                    );
                    CREATE INDEX goal_by_plan ON goal(planId);
                    CREATE INDEX goal_by_customer ON goal(customerId);

                    CREATE TABLE milestone (
                        seq INTEGER PRIMARY KEY,
                        milestoneId TEXT NOT NULL UNIQUE,
                        planId TEXT NOT NULL REFERENCES plan(planId) ON DELETE CASCADE,
                        title TEXT NOT NULL,
                        dueAt INTEGER,
                        status TEXT NOT NULL,
                        completedAt INTEGER,
                        goalId TEXT NOT NULL DEFAULT ''
                    );
                    CREATE INDEX milestone_by_plan ON milestone(planId);

                    CREATE TABLE goal_progress (
                        seq INTEGER PRIMARY KEY,
                        progressId TEXT NOT NULL UNIQUE,
                        goalId TEXT NOT NULL REFERENCES goal(goalId) ON DELETE CASCADE,
                        customerId TEXT NOT NULL,
                        value REAL NOT NULL,
                        recordedAt INTEGER NOT NULL,
                        note TEXT NOT NULL,
                        recordedBy TEXT NOT NULL
                    );
                    CREATE INDEX goal_progress_by_goal ON goal_progress(goalId, recordedAt);
                    CREATE INDEX goal_progress_by_customer ON goal_progress(customerId);

                    CREATE TABLE health_score (
                        seq INTEGER PRIMARY KEY,
                        healthScoreId TEXT NOT NULL UNIQUE,
                        customerId TEXT NOT NULL,
                        score REAL NOT NULL,
                        band TEXT NOT NULL,
                        components TEXT NOT NULL,
                        missing TEXT NOT NULL,
                        computedAt INTEGER NOT NULL,
                        previousScore REAL,
                        change30d REAL,
                        configVersion TEXT NOT NULL,
                        batchId TEXT NOT NULL DEFAULT ''
                    );
                    CREATE INDEX health_score_by_customer ON health_score(customerId, computedAt);

                    CREATE TABLE latest_health (
                        customerId TEXT PRIMARY KEY,
                        healthScoreId TEXT NOT NULL,
                        score REAL NOT NULL,
                        band TEXT NOT NULL,
                        computedAt INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    CREATE INDEX latest_health_by_score ON latest_health(score, customerId);

                    CREATE TABLE alert (
                        seq INTEGER PRIMARY KEY,
                        alertId TEXT NOT NULL UNIQUE,
                        customerId TEXT NOT NULL,
                        kind TEXT NOT NULL,
                        state TEXT NOT NULL,
                        raisedAt INTEGER NOT NULL,
                        goalId TEXT NOT NULL DEFAULT '',
                        body TEXT NOT NULL
                    );
                    CREATE INDEX alert_by_customer ON alert(customerId, raisedAt);
                    CREATE INDEX alert_by_raised ON alert(raisedAt, alertId);
                    CREATE INDEX alert_by_goal ON alert(goalId) WHERE goalId <> '';

                    CREATE TABLE alert_event (
                        seq INTEGER PRIMARY KEY,
                        eventId TEXT NOT NULL UNIQUE,
                        customerId TEXT NOT NULL,
                        kind TEXT NOT NULL,
                        type TEXT NOT NULL,
                        occurredAt INTEGER NOT NULL,
                        alert TEXT NOT NULL
                    );
                    CREATE INDEX alert_event_by_time ON alert_event(occurredAt);

                    CREATE TABLE task (
                        seq INTEGER PRIMARY KEY,
                        taskId TEXT NOT NULL UNIQUE,
                        customerId TEXT NOT NULL,
                        alertId TEXT NOT NULL,
                        playbook TEXT NOT NULL,
                        title TEXT NOT NULL,
                        instructions TEXT NOT NULL,
                        ownerId TEXT NOT NULL,
                        dueAt INTEGER NOT NULL,
                        status TEXT NOT NULL,
                        createdAt INTEGER NOT NULL,
                        completedAt INTEGER,
                        completedBy TEXT NOT NULL DEFAULT '',
                        outcomeNote TEXT NOT NULL DEFAULT ''
                    );
                    CREATE INDEX task_by_customer ON task(customerId, dueAt);
                    CREATE INDEX task_by_due ON task(dueAt, taskId);

                    CREATE TABLE batch (
                        batchId TEXT PRIMARY KEY,
                        state TEXT NOT NULL,
                        processed INTEGER NOT NULL DEFAULT 0,
                        scored INTEGER NOT NULL DEFAULT 0,
                        partial INTEGER NOT NULL DEFAULT 0,
                        failed INTEGER NOT NULL DEFAULT 0,
                        alertsRaised INTEGER NOT NULL DEFAULT 0,
                        cursorCustomerId TEXT NOT NULL DEFAULT '',
                        pageToken TEXT NOT NULL DEFAULT '',
                        startedAt INTEGER NOT NULL,
                        updatedAt INTEGER NOT NULL,
                        finishedAt INTEGER,
                        lastError TEXT NOT NULL DEFAULT '',
                        resumes INTEGER NOT NULL DEFAULT 0,
                        activeSince INTEGER
                    ) WITHOUT ROWID;
                    """)
        }
        migrator.registerChangeFeed()
        registerRescoreQueue(&migrator)
        migrator.registerMergeJournal()
        migrator.registerMigration("v2: what people write sealed under per-customer keys") { db in
            guard let keyring else {
                throw KeyringError.badKeyEncryptionKey("sealing the success database needs its keyring")
            }
            try sealExisting(db, keyring: keyring)
        }
        // Merges re-key and erasure deletes a customer's alert events by customer id: without an index each of them
        // read every customer's events.
        migrator.registerMigration("v3: alert events indexed by customer") { db in
            try db.create(index: "alert_event_by_customer", on: "alert_event", columns: ["customerId"])
        }
        // A customer moves to another shard table by table, by customer id: milestones named only their plan.
        migrator.registerMigration("v4: milestones name their customer") { db in
            try db.execute(
                sql: """
                    ALTER TABLE milestone ADD COLUMN customerId TEXT NOT NULL DEFAULT '';
                    UPDATE milestone SET customerId = COALESCE((SELECT customerId FROM plan p WHERE p.planId = milestone.planId), '');
                    CREATE INDEX milestone_by_customer ON milestone(customerId);
                    """)
        }
        SlotFence.register(&migrator)
        SlotHandoff.register(&migrator)
        return migrator
    }

    /// The columns version 1 stored in the clear: table, key, columns, and how to find the row's customer.
    private static let personalColumns: [(table: String, key: String, columns: [String], customer: String)] = [
        ("plan", "planId", ["title", "summary"], "customerId"),
        ("goal", "goalId", ["title"], "customerId"),
        ("milestone", "milestoneId", ["title"], "(SELECT customerId FROM plan p WHERE p.planId = milestone.planId)"),
        ("goal_progress", "progressId", ["note"], "customerId"),
        ("task", "taskId", ["title", "instructions", "outcomeNote"], "customerId"),
        ("alert", "alertId", ["body"], "customerId"),
        ("alert_event", "eventId", ["alert"], "customerId"),
    ]

    /// Seals what version 1 stored in the clear, table by table; the migration's transaction makes it all or nothing.
    static func sealExisting(_ db: Database, keyring: Keyring) throws {
        for (table, key, columns, customer) in personalColumns {
            let update = try db.makeStatement(
                sql: """
                    UPDATE \(table) SET \(columns.map { "\($0) = ?" }.joined(separator: ", ")) WHERE \(key) = ?
                    """)
            // Read by column names on purpose: a migration reads the tables as version 1 left them, column by
            // column from the list above, so no record type (which follows the current schema) fits here.
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT \(key) AS rowKey, \(customer) AS owner, \(columns.joined(separator: ", ")) FROM \(table)
                    """)
            for row in rows {
                let owner: String = row["owner"] ?? ""
                var values: [(any DatabaseValueConvertible)?] = try columns.map { column in
                    try keyring.seal(row[column] ?? "", for: owner)
                }
                values.append(row["rowKey"] as String)
                try update.execute(arguments: StatementArguments(values))
            }
        }
    }
}

/// Where the at-risk list continues: a score and a customer id.
public typealias ScorePosition = KeysetPosition<Double, String>
/// Where the plan list continues: a customer id and the negated created-at of their plan.
public typealias PlanPosition = KeysetPosition<String, Int64>

/// Whose database this is, for the shared `backup` and `restore` subcommands.
extension SuccessStore: ServiceStore {
    public static var identity: ServiceIdentity { .success }
}

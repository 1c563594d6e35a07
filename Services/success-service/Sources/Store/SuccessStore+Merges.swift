import C360ChangeFeed
import C360StoreKit
import Foundation
public import GRDB

extension SuccessStore {
    /// Moves every plan, goal, progress entry, health score, alert and task of `merged` to `survivor` (journaled for
    /// an unmerge), the alerts' stored bodies included, and queues the survivor for a re-score over the combined
    /// history. The survivor's latest score stays its own when it has one. Runs inside the transaction of
    /// `MergeFollower`, which also stores the feed position; a second run finds nothing left to move.
    public func rekey(_ db: Database, merged: String, survivor: String) throws {
        for (table, key) in Self.rekeyedTables {
            try MergeJournal.record(
                db, merged: merged, survivor: survivor, table: table,
                keys: "SELECT \(key) AS k FROM \(table) WHERE customerId = ?", arguments: [merged])
        }
        try move(db, from: merged, to: survivor, where: "customerId = ?2", [])
        try Self.alignWithPlans(db, merged, survivor)
        try db.execute(
            sql: "UPDATE OR IGNORE latest_health SET customerId = ? WHERE customerId = ?",
            arguments: [survivor, merged])
        try db.execute(sql: "DELETE FROM latest_health WHERE customerId = ?", arguments: [merged])
        try db.execute(sql: "DELETE FROM rescore_queue WHERE customerId = ?", arguments: [merged])
        // The survivor's score now rests on more history: score it again soon.
        try Self.enqueueRescore(db, customerID: survivor, delay: .seconds(1), now: Date())
    }

    /// Moves back the rows `rekey` moved for this merge (what the survivor gained since stays), gives each customer
    /// its own latest score again, and queues both for a re-score.
    public func unrekey(_ db: Database, merged: String, survivor: String) throws {
        try move(
            db, from: survivor, to: merged, where: "customerId = ?2 AND %KEY% IN (\(MergeJournal.keysSubquery))",
            [merged])
        try Self.alignWithPlans(db, merged, survivor)
        for customer in [survivor, merged] {
            try db.execute(sql: "DELETE FROM latest_health WHERE customerId = ?", arguments: [customer])
            try db.execute(
                sql: """
                    INSERT INTO latest_health (customerId, healthScoreId, score, band, computedAt)
                    SELECT customerId, healthScoreId, score, band, computedAt FROM health_score
                    WHERE customerId = ? ORDER BY computedAt DESC, rowid DESC LIMIT 1
                    """, arguments: [customer])
            try Self.enqueueRescore(db, customerID: customer, delay: .seconds(1), now: Date())
        }
    }

    /// Moves the rows of every table matching `condition` (`?1` the new owner, `?2` the old, then `extra` per table
    /// followed by the table's name; `%KEY%` the table's key) from `from` to `to`. An alert's stored body names its
    /// customer too: it is opened, re-addressed and sealed again (under the new owner's key; erasing either customer
    /// finds the owner in the value).
    private func move(
        _ db: Database, from: String, to: String, where condition: String, _ extra: [String]
    ) throws {
        for (table, key) in Self.rekeyedTables {
            let filter = condition.replacingOccurrences(of: "%KEY%", with: key)
            let arguments = StatementArguments([to, from] + extra + (extra.isEmpty ? [] : [table]))
            if let column = ["alert": "body", "alert_event": "alert"][table] {
                let rows = try SealedAlertRow.fetchAll(
                    db, sql: "SELECT \(key) AS rowKey, \(column) AS sealed FROM \(table) WHERE \(filter)",
                    arguments: arguments)
                for row in rows {
                    var alert = try Alert(sealed: row.sealed, keyring: keyring)
                    alert.customerID = to
                    try db.execute(
                        sql: "UPDATE \(table) SET \(column) = ? WHERE \(key) = ?",
                        arguments: [try alert.sealed(keyring), row.rowKey])
                }
            }
            try db.execute(sql: "UPDATE \(table) SET customerId = ?1 WHERE \(filter)", arguments: arguments)
        }
    }

    /// Gives the goals, milestones and progress of both customers' plans their plan's customer. The journal holds the
    /// rows a merge moved; a goal added to a merged plan after the merge, or a milestone of a merge journaled before
    /// milestones named their customer, would otherwise stay with the other customer when the plan moves back, and a
    /// move between shards (which goes by customer) would split a plan from its children.
    private static func alignWithPlans(_ db: Database, _ first: String, _ second: String) throws {
        for child in ["goal", "milestone"] {
            try db.execute(
                sql: """
                    UPDATE \(child) SET customerId = (SELECT p.customerId FROM plan p WHERE p.planId = \(child).planId)
                    WHERE planId IN (SELECT planId FROM plan WHERE customerId IN (?1, ?2))
                    AND customerId <> (SELECT p.customerId FROM plan p WHERE p.planId = \(child).planId)
                    """, arguments: [first, second])
        }
        try db.execute(
            sql: """
                UPDATE goal_progress SET customerId = (SELECT g.customerId FROM goal g WHERE g.goalId = goal_progress.goalId)
                WHERE goalId IN (SELECT goalId FROM goal WHERE customerId IN (?1, ?2))
                AND customerId <> (SELECT g.customerId FROM goal g WHERE g.goalId = goal_progress.goalId)
                """, arguments: [first, second])
    }

    /// The tables holding rows of one customer, with each row's key.
    private static let rekeyedTables = [
        ("plan", "planId"), ("goal", "goalId"), ("milestone", "milestoneId"), ("goal_progress", "progressId"),
        ("health_score", "healthScoreId"),
        ("alert", "alertId"), ("alert_event", "eventId"), ("task", "taskId"),
    ]

    /// Every customer this service holds data for (for a merge resync).
    public static func customerIDs(_ db: Database) throws -> [String] {
        try String.fetchAll(
            db,
            sql: """
                SELECT customerId FROM plan UNION SELECT customerId FROM health_score UNION SELECT customerId FROM alert
                """)
    }
}

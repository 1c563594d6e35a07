import C360ChangeFeed
import Foundation
public import GRDB

extension SuccessStore {
    /// Moves every plan, goal, progress entry, health score, alert and task of `merged` to `survivor`, the alerts'
    /// stored bodies included. The survivor's latest score stays its own when it has one (it is re-scored over the
    /// combined history by the next computation). Runs inside the transaction of `MergeFollower`, which also stores
    /// the feed position; a second run finds nothing left to move.
    public static func rekey(_ db: Database, merged: String, survivor: String) throws {
        for table in ["plan", "goal", "goal_progress", "health_score", "task"] {
            try db.execute(sql: "UPDATE \(table) SET customerId = ? WHERE customerId = ?", arguments: [survivor, merged])
        }
        try db.execute(sql: """
            UPDATE alert SET customerId = ?1, body = json_set(body, '$.customerID', ?1) WHERE customerId = ?2
            """, arguments: [survivor, merged])
        try db.execute(sql: """
            UPDATE alert_event SET customerId = ?1, alert = json_set(alert, '$.customerID', ?1) WHERE customerId = ?2
            """, arguments: [survivor, merged])
        try db.execute(sql: "UPDATE OR IGNORE latest_health SET customerId = ? WHERE customerId = ?",
                       arguments: [survivor, merged])
        try db.execute(sql: "DELETE FROM latest_health WHERE customerId = ?", arguments: [merged])
        try db.execute(sql: "DELETE FROM rescore_queue WHERE customerId = ?", arguments: [merged])
        // The survivor's score now rests on more history: score it again soon.
        try enqueueRescore(db, customerID: survivor, delay: .seconds(1), now: Date())
    }

    /// Every customer this service holds data for (for a merge resync).
    public static func customerIDs(_ db: Database) throws -> [String] {
        try String.fetchAll(db, sql: """
            SELECT customerId FROM plan UNION SELECT customerId FROM health_score UNION SELECT customerId FROM alert
            """)
    }
}

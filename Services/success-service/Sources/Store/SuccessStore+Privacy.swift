import C360ChangeFeed
import C360StoreKit
import Foundation
import GRDB

/// Everything held about one customer, as exported.
public struct SuccessExport: Sendable {
    public var plans: [SuccessPlan] = []
    public var progress: [GoalProgressEntry] = []
    public var scores: [HealthScore] = []
    public var alerts: [Alert] = []
    public var tasks: [PlaybookTask] = []
}

/// What erasing one customer removed.
public struct ErasedSuccess: Sendable, Equatable {
    public var plans = 0, healthScores = 0, alerts = 0, tasks = 0
}

extension SuccessStore {
    /// One customer's plans, goal progress, health history, alerts and tasks.
    public func export(customerID: String) async throws -> SuccessExport {
        try await writer.read { db in
            var export = SuccessExport()
            export.plans = try String.fetchAll(
                db, sql: "SELECT planId FROM plan WHERE customerId = ? ORDER BY seq",
                arguments: [customerID]
            ).compactMap { try fetchPlan(db, id: $0) }
            export.progress = try GoalProgressRecord.fetchAll(
                db, sql: "SELECT * FROM goal_progress WHERE customerId = ? ORDER BY seq", arguments: [customerID]
            ).map { try $0.domain(keyring: keyring) }
            export.scores = try HealthScoreRecord.fetchAll(
                db, sql: "SELECT * FROM health_score WHERE customerId = ? ORDER BY seq", arguments: [customerID]
            ).map { try $0.domain() }
            export.alerts = try SealedText.fetchAll(
                db, sql: "SELECT body FROM alert WHERE customerId = ? ORDER BY seq",
                arguments: [customerID]
            ).map { try Alert(sealed: $0, keyring: keyring) }
            export.tasks = try TaskRecord.fetchAll(
                db, sql: "SELECT * FROM task WHERE customerId = ? ORDER BY seq",
                arguments: [customerID]
            ).map { try $0.domain(keyring: keyring) }
            return export
        }
    }

    /// Deletes everything held about one customer in one transaction; erasing again removes nothing. After the
    /// commit it shreds every key that sealed the deleted rows — the customer's own and those of customers merged
    /// into them (a merge moves rows as they are) — so copies of those rows in backups can no longer be opened, and
    /// purges the deleted pages from the WAL (`purgeDeletedData()`), so no file keeps them.
    public func erase(customerID: String) async throws -> ErasedSuccess {
        let (erased, owners) = try await writer.write { db in
            var erased = ErasedSuccess()
            let owners = try MergeJournal.keyOwners(
                db, of: customerID,
                sealedValues: [
                    "SELECT title FROM plan WHERE customerId = ?", "SELECT summary FROM plan WHERE customerId = ?",
                    "SELECT title FROM goal WHERE customerId = ?",
                    "SELECT note FROM goal_progress WHERE customerId = ?",
                    "SELECT m.title FROM milestone m JOIN plan p USING (planId) WHERE p.customerId = ?",
                    "SELECT title FROM task WHERE customerId = ?", "SELECT outcomeNote FROM task WHERE customerId = ?",
                    "SELECT body FROM alert WHERE customerId = ?", "SELECT alert FROM alert_event WHERE customerId = ?",
                ])
            try db.execute(sql: "DELETE FROM plan WHERE customerId = ?", arguments: [customerID])
            erased.plans = db.changesCount
            try db.execute(sql: "DELETE FROM goal_progress WHERE customerId = ?", arguments: [customerID])
            try db.execute(sql: "DELETE FROM health_score WHERE customerId = ?", arguments: [customerID])
            erased.healthScores = db.changesCount
            try db.execute(sql: "DELETE FROM latest_health WHERE customerId = ?", arguments: [customerID])
            try db.execute(sql: "DELETE FROM alert WHERE customerId = ?", arguments: [customerID])
            erased.alerts = db.changesCount
            try db.execute(sql: "DELETE FROM alert_event WHERE customerId = ?", arguments: [customerID])
            try db.execute(sql: "DELETE FROM task WHERE customerId = ?", arguments: [customerID])
            erased.tasks = db.changesCount
            try db.execute(sql: "DELETE FROM rescore_queue WHERE customerId = ?", arguments: [customerID])
            try ChangeLog.forget(db, customer: customerID)
            try CustomerAlias.forget(db, customer: customerID)
            try ChangeLog.append(db, .customerDataErased, customer: customerID)
            return (erased, owners)
        }
        try keyring.shred(owners)
        await writer.purgeDeletedData()
        return erased
    }
}

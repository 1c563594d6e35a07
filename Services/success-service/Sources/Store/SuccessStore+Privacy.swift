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
            export.plans = try String.fetchAll(db, sql: "SELECT planId FROM plan WHERE customerId = ? ORDER BY seq",
                                               arguments: [customerID]).compactMap { try fetchPlan(db, id: $0) }
            export.progress = try Row.fetchAll(db, sql: "SELECT * FROM goal_progress WHERE customerId = ? ORDER BY seq",
                                               arguments: [customerID]).map(GoalProgressEntry.init(row:))
            export.scores = try Row.fetchAll(db, sql: "SELECT * FROM health_score WHERE customerId = ? ORDER BY seq",
                                             arguments: [customerID]).map(HealthScore.init(row:))
            export.alerts = try String.fetchAll(db, sql: "SELECT body FROM alert WHERE customerId = ? ORDER BY seq",
                                                arguments: [customerID]).map { try JSONColumn.decode(Alert.self, $0) }
            export.tasks = try Row.fetchAll(db, sql: "SELECT * FROM task WHERE customerId = ? ORDER BY seq",
                                            arguments: [customerID]).map(PlaybookTask.init(row:))
            return export
        }
    }

    /// Deletes everything held about one customer in one transaction; erasing again removes nothing. Once
    /// committed, the deleted text is purged from the WAL too (`purgeDeletedData()`), so no file keeps it.
    public func erase(customerID: String) async throws -> ErasedSuccess {
        let erased = try await writer.write { db in
            var erased = ErasedSuccess()
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
            return erased
        }
        await writer.purgeDeletedData()
        return erased
    }
}

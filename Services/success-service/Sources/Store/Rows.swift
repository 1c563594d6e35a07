import C360StoreKit
import Foundation
import GRDB

// Conversions between domain values and database rows, kept in one place.

extension SuccessPlan {
    init(row: Row) throws {
        self.init(id: row["planId"], customerID: row["customerId"], title: row["title"], summary: row["summary"],
                  csmOwnerID: row["csmOwnerId"], status: try StoredValue.decode(PlanStatus.self, row["status"]),
                  startsAt: Date(unixMillis: row["startsAt"]), endsAt: (row["endsAt"] as Int64?).map(Date.init(unixMillis:)),
                  createdAt: Date(unixMillis: row["createdAt"]))
        updatedAt = Date(unixMillis: row["updatedAt"])
    }
}

extension Goal {
    init(row: Row) throws {
        self.init(id: row["goalId"], planID: row["planId"], title: row["title"], metric: row["metric"],
                  unit: row["unit"], baselineValue: row["baselineValue"], targetValue: row["targetValue"],
                  dueAt: Date(unixMillis: row["dueAt"]), createdAt: Date(unixMillis: row["createdAt"]))
        currentValue = row["currentValue"]
        status = try StoredValue.decode(GoalStatus.self, row["status"])
        achievedAt = (row["achievedAt"] as Int64?).map(Date.init(unixMillis:))
        updatedAt = Date(unixMillis: row["updatedAt"])
    }

    var rowArguments: StatementArguments {
        [id, planID, title, metric, unit, baselineValue, targetValue, currentValue, dueAt.unixMillis, status.rawValue,
         createdAt.unixMillis, achievedAt?.unixMillis, updatedAt.unixMillis]
    }
}

extension Milestone {
    init(row: Row) throws {
        self.init(id: row["milestoneId"], planID: row["planId"], title: row["title"],
                  dueAt: (row["dueAt"] as Int64?).map(Date.init(unixMillis:)),
                  status: try StoredValue.decode(MilestoneStatus.self, row["status"]),
                  completedAt: (row["completedAt"] as Int64?).map(Date.init(unixMillis:)), goalID: row["goalId"])
    }
}

extension GoalProgressEntry {
    init(row: Row) {
        self.init(id: row["progressId"], goalID: row["goalId"], value: row["value"],
                  recordedAt: Date(unixMillis: row["recordedAt"]), note: row["note"], recordedBy: row["recordedBy"])
    }
}

extension HealthScore {
    init(row: Row) throws {
        self.init(id: row["healthScoreId"], customerID: row["customerId"], score: row["score"],
                  band: try StoredValue.decode(HealthBand.self, row["band"]),
                  components: try JSONColumn.decode([HealthComponent].self, row["components"]),
                  missing: try JSONColumn.decode([MissingHealthComponent].self, row["missing"]),
                  computedAt: Date(unixMillis: row["computedAt"]), previousScore: row["previousScore"],
                  change30d: row["change30d"], configVersion: row["configVersion"], batchID: row["batchId"])
    }
}

extension PlaybookTask {
    init(row: Row) throws {
        self.init(id: row["taskId"], customerID: row["customerId"], alertID: row["alertId"], playbook: row["playbook"],
                  title: row["title"], instructions: row["instructions"], ownerID: row["ownerId"],
                  dueAt: Date(unixMillis: row["dueAt"]), createdAt: Date(unixMillis: row["createdAt"]))
        status = try StoredValue.decode(TaskStatus.self, row["status"])
        completedAt = (row["completedAt"] as Int64?).map(Date.init(unixMillis:))
        completedBy = row["completedBy"]
        outcomeNote = row["outcomeNote"]
    }
}

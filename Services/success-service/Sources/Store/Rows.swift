import C360StoreKit
import Foundation
import GRDB

// Conversions between domain values and database rows, kept in one place.
//
// What people write about a customer — plan titles and summaries, goal and milestone titles, progress notes, task
// titles, instructions and outcomes, alerts (their messages quote goal titles, their details people's notes) — is
// stored sealed under the customer's data key (`Keyring`), so the database and its backups hold ciphertext that
// erasing the customer makes unreadable. Rows are read with the keyring that opens them.

extension SuccessPlan {
    init(row: Row, keyring: Keyring) throws {
        self.init(id: row["planId"], customerID: row["customerId"], title: try keyring.open(row["title"]),
                  summary: try keyring.open(row["summary"]),
                  csmOwnerID: row["csmOwnerId"], status: try StoredValue.decode(PlanStatus.self, row["status"]),
                  startsAt: Date(unixMillis: row["startsAt"]), endsAt: (row["endsAt"] as Int64?).map(Date.init(unixMillis:)),
                  createdAt: Date(unixMillis: row["createdAt"]))
        updatedAt = Date(unixMillis: row["updatedAt"])
    }
}

extension Goal {
    init(row: Row, keyring: Keyring) throws {
        try self.init(kpiRow: row)
        title = try keyring.open(row["title"])
    }

    /// A goal without its title, for KPIs over many customers' goals: they never read a title, and opening it would
    /// cost a key per customer.
    init(kpiRow row: Row) throws {
        self.init(id: row["goalId"], planID: row["planId"], title: "", metric: row["metric"],
                  unit: row["unit"], baselineValue: row["baselineValue"], targetValue: row["targetValue"],
                  dueAt: Date(unixMillis: row["dueAt"]), createdAt: Date(unixMillis: row["createdAt"]))
        currentValue = row["currentValue"]
        status = try StoredValue.decode(GoalStatus.self, row["status"])
        achievedAt = (row["achievedAt"] as Int64?).map(Date.init(unixMillis:))
        updatedAt = Date(unixMillis: row["updatedAt"])
    }

    func rowArguments(customerID: String, keyring: Keyring) throws -> StatementArguments {
        [id, planID, try keyring.seal(title, for: customerID), metric, unit, baselineValue, targetValue, currentValue, dueAt.unixMillis, status.rawValue,
         createdAt.unixMillis, achievedAt?.unixMillis, updatedAt.unixMillis]
    }
}

extension Milestone {
    init(row: Row, keyring: Keyring) throws {
        self.init(id: row["milestoneId"], planID: row["planId"], title: try keyring.open(row["title"]),
                  dueAt: (row["dueAt"] as Int64?).map(Date.init(unixMillis:)),
                  status: try StoredValue.decode(MilestoneStatus.self, row["status"]),
                  completedAt: (row["completedAt"] as Int64?).map(Date.init(unixMillis:)), goalID: row["goalId"])
    }
}

extension GoalProgressEntry {
    init(row: Row, keyring: Keyring) throws {
        self.init(id: row["progressId"], goalID: row["goalId"], value: row["value"],
                  recordedAt: Date(unixMillis: row["recordedAt"]), note: try keyring.open(row["note"]),
                  recordedBy: row["recordedBy"])
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
    init(row: Row, keyring: Keyring) throws {
        self.init(id: row["taskId"], customerID: row["customerId"], alertID: row["alertId"], playbook: row["playbook"],
                  title: try keyring.open(row["title"]), instructions: try keyring.open(row["instructions"]),
                  ownerID: row["ownerId"],
                  dueAt: Date(unixMillis: row["dueAt"]), createdAt: Date(unixMillis: row["createdAt"]))
        status = try StoredValue.decode(TaskStatus.self, row["status"])
        completedAt = (row["completedAt"] as Int64?).map(Date.init(unixMillis:))
        completedBy = row["completedBy"]
        outcomeNote = try keyring.open(row["outcomeNote"])
    }
}

extension Alert {
    /// An alert as stored: its JSON, sealed under the customer's key (`alert.body`, `alert_event.alert`).
    func sealed(_ keyring: Keyring) throws -> SealedText {
        try keyring.seal(JSONColumn.encode(self), for: customerID)
    }

    init(sealed: SealedText, keyring: Keyring) throws {
        self = try JSONColumn.decode(Alert.self, keyring.open(sealed))
    }
}

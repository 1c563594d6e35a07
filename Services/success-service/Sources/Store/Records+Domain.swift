import C360StoreKit
import Foundation
import GRDB

// Conversions between the domain values and the records of `Records.swift`, kept in one place.
//
// What people write about a customer — plan titles and summaries, goal and milestone titles, progress notes, task
// titles, instructions and outcomes, alerts (their messages quote goal titles, their details people's notes) — is
// stored sealed under the customer's data key (`Keyring`), so the database and its backups hold ciphertext that
// erasing the customer makes unreadable. Records are opened with the keyring here.

extension PlanRecord {
    /// The plan without its goals and milestones (`SuccessStore.loadChildren` adds them).
    func domain(keyring: Keyring) throws -> SuccessPlan {
        var plan = SuccessPlan(
            id: planId, customerID: customerId, title: try keyring.open(title),
            summary: try keyring.open(summary), csmOwnerID: csmOwnerId, status: status,
            startsAt: Date(unixMillis: startsAt), endsAt: endsAt.map(Date.init(unixMillis:)),
            createdAt: Date(unixMillis: createdAt))
        plan.updatedAt = Date(unixMillis: updatedAt)
        return plan
    }
}

extension GoalRecord {
    func domain(keyring: Keyring) throws -> Goal {
        var goal = untitled()
        goal.title = try keyring.open(title)
        return goal
    }

    /// The goal without its title, for KPIs over many customers' goals: they never read a title, and opening it would
    /// cost a key per customer.
    func untitled() -> Goal {
        var goal = Goal(
            id: goalId, planID: planId, title: "", metric: metric, unit: unit, baselineValue: baselineValue,
            targetValue: targetValue, dueAt: Date(unixMillis: dueAt),
            createdAt: Date(unixMillis: createdAt))
        goal.currentValue = currentValue
        goal.status = status
        goal.achievedAt = achievedAt.map(Date.init(unixMillis:))
        goal.updatedAt = Date(unixMillis: updatedAt)
        return goal
    }
}

extension Goal {
    func rowArguments(customerID: String, keyring: Keyring) throws -> StatementArguments {
        [
            id, planID, try keyring.seal(title, for: customerID), metric, unit, baselineValue, targetValue,
            currentValue, dueAt.unixMillis, status.rawValue,
            createdAt.unixMillis, achievedAt?.unixMillis, updatedAt.unixMillis,
        ]
    }
}

extension MilestoneRecord {
    func domain(keyring: Keyring) throws -> Milestone {
        Milestone(
            id: milestoneId, planID: planId, title: try keyring.open(title),
            dueAt: dueAt.map(Date.init(unixMillis:)), status: status,
            completedAt: completedAt.map(Date.init(unixMillis:)), goalID: goalId)
    }
}

extension GoalProgressRecord {
    func domain(keyring: Keyring) throws -> GoalProgressEntry {
        GoalProgressEntry(
            id: progressId, goalID: goalId, value: value, recordedAt: Date(unixMillis: recordedAt),
            note: try keyring.open(note), recordedBy: recordedBy)
    }
}

extension HealthScoreRecord {
    func domain() throws -> HealthScore {
        HealthScore(
            id: healthScoreId, customerID: customerId, score: score, band: band,
            components: try JSONColumn.decode([HealthComponent].self, components),
            missing: try JSONColumn.decode([MissingHealthComponent].self, missing),
            computedAt: Date(unixMillis: computedAt), previousScore: previousScore,
            change30d: change30d, configVersion: configVersion, batchID: batchId)
    }
}

extension AlertEventRecord {
    func domain(keyring: Keyring) throws -> AlertEvent {
        AlertEvent(
            id: eventId, type: type, alert: try Alert(sealed: alert, keyring: keyring),
            occurredAt: Date(unixMillis: occurredAt))
    }
}

extension TaskRecord {
    func domain(keyring: Keyring) throws -> PlaybookTask {
        var task = PlaybookTask(
            id: taskId, customerID: customerId, alertID: alertId, playbook: playbook,
            title: try keyring.open(title), instructions: try keyring.open(instructions),
            ownerID: ownerId, dueAt: Date(unixMillis: dueAt),
            createdAt: Date(unixMillis: createdAt))
        task.status = status
        task.completedAt = completedAt.map(Date.init(unixMillis:))
        task.completedBy = completedBy
        task.outcomeNote = try keyring.open(outcomeNote)
        return task
    }
}

extension BatchRecord {
    var domain: HealthBatch {
        var batch = HealthBatch(
            id: batchId, activeSince: activeSince.map(Date.init(unixMillis:)),
            startedAt: Date(unixMillis: startedAt))
        batch.state = state
        batch.processed = processed
        batch.scored = scored
        batch.partial = partial
        batch.failed = failed
        batch.alertsRaised = alertsRaised
        batch.cursorCustomerID = cursorCustomerId
        batch.pageToken = pageToken
        batch.updatedAt = Date(unixMillis: updatedAt)
        batch.finishedAt = finishedAt.map(Date.init(unixMillis:))
        batch.lastError = lastError
        batch.resumes = resumes
        return batch
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

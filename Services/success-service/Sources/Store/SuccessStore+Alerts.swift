import C360ChangeFeed
public import C360StoreKit
public import Foundation
import GRDB

/// Which alerts a list shows; every part optional.
public struct AlertFilter: Sendable, Hashable {
    public var customerID = ""
    public var kinds: Set<AlertKind> = []
    public var states: Set<AlertState> = []
    public var from: Date?
    public var until: Date?

    public init() {}

    public var fingerprint: String {
        [
            customerID, kinds.map(\.rawValue).sorted().joined(separator: ","),
            states.map(\.rawValue).sorted().joined(separator: ","), from.map { "\($0.unixMillis)" } ?? "",
            until.map { "\($0.unixMillis)" } ?? "",
        ].joined(separator: "\u{1F}")
    }
}

/// Which tasks a list shows.
public struct TaskFilter: Sendable, Hashable {
    public var customerID = ""
    public var ownerID = ""
    public var statuses: Set<TaskStatus> = []
    /// Only open tasks due before this instant.
    public var overdueAt: Date?

    public init() {}

    public var fingerprint: String {
        [
            customerID, ownerID, statuses.map(\.rawValue).sorted().joined(separator: ","),
            overdueAt == nil ? "" : "overdue",
        ].joined(separator: "\u{1F}")
    }
}

extension SuccessStore {
    /// Stores alerts for `drafts` with a playbook task each and a raised event each.
    func raise(
        _ db: Database, _ drafts: [AlertRules.Draft], customerID: String, healthScoreID: String, owner: String,
        rules: AlertRules, at now: Date
    ) throws -> [(alert: Alert, event: AlertEvent)] {
        try drafts.map { draft in
            var alert = Alert(
                id: EntityID.generate(), customerID: customerID, kind: draft.kind, message: draft.message,
                details: draft.details, raisedAt: now)
            alert.planID = draft.planID
            alert.goalID = draft.goalID
            if draft.kind != .goalOverdue { alert.healthScoreID = healthScoreID }
            let step = rules.playbook(for: draft.kind)
            let task = PlaybookTask(
                id: EntityID.generate(), customerID: customerID, alertID: alert.id,
                playbook: step.name, title: step.title, instructions: step.instructions,
                ownerID: owner, dueAt: now.addingTimeInterval(step.due), createdAt: now)
            alert.taskID = task.id
            try db.execute(
                sql: """
                    INSERT INTO alert (alertId, customerId, kind, state, raisedAt, goalId, body) VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    alert.id, customerID, alert.kind.rawValue, alert.state.rawValue, now.unixMillis,
                    alert.goalID, try alert.sealed(keyring),
                ])
            try db.execute(
                sql: """
                    INSERT INTO task (taskId, customerId, alertId, playbook, title, instructions, ownerId, dueAt, status, createdAt)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'open', ?)
                    """,
                arguments: [
                    task.id, customerID, alert.id, task.playbook, try keyring.seal(task.title, for: customerID),
                    try keyring.seal(task.instructions, for: customerID), task.ownerID, task.dueAt.unixMillis,
                    now.unixMillis,
                ])
            try ChangeLog.append(db, .alertRaised, customer: customerID, subject: alert.id, at: now)
            return (alert, try appendEvent(db, .raised, alert, at: now))
        }
    }

    /// Alerts newest first, one page after `position` (raised-at, alert id).
    public func alerts(
        filter: AlertFilter, after position: InstantPosition?, limit: Int
    ) async throws -> Page<(alert: Alert, position: InstantPosition)> {
        try await writer.read { db in try alerts(db, filter: filter, after: position, limit: limit) }
    }

    func alerts(
        _ db: Database, filter: AlertFilter, after position: InstantPosition?, limit: Int
    ) throws -> Page<(alert: Alert, position: InstantPosition)> {
        var request = AlertRecord.all().filter(AlertRecord.Columns.kind, anyOf: filter.kinds.map(\.rawValue))
            .filter(AlertRecord.Columns.state, anyOf: filter.states.map(\.rawValue))
            .filter(AlertRecord.Columns.raisedAt, from: filter.from, until: filter.until)
        if !filter.customerID.isEmpty {
            request = request.filter(AlertRecord.Columns.customerId == filter.customerID)
        } else {
            request = request.filter(try owned.expression(db, customer: AlertRecord.Columns.customerId))
        }
        // Sets of a few kinds and states, optional bounds and customer: a bounded set of texts.
        let bodies = try request.page(AlertRecord.order, after: position, limit: limit)
            .select(AlertRecord.Columns.body, as: SealedText.self).preparedOnce.fetchAll(db)
        return try Page(fetched: bodies, limit: limit).map { body in
            let alert = try Alert(sealed: body, keyring: keyring)
            return (alert, InstantPosition(key: alert.raisedAt.unixMillis, tie: alert.id))
        }
    }

    /// Moves an alert to acknowledged or resolved; answers the alert and the event, or no event when nothing
    /// changed (idempotent).
    ///
    /// - Throws: `SuccessError.alertNotFound`; `.alertResolved` when acknowledging a resolved alert.
    public func transition(
        alert id: String, customerID: String, to state: AlertState, by person: String, note: String, at now: Date
    ) async throws -> (alert: Alert, event: AlertEvent?) {
        try await writer.write { db in
            guard
                let body = try SealedText.fetchOne(
                    db, sql: "SELECT body FROM alert WHERE alertId = ? AND customerId = ?",
                    arguments: [id, customerID])
            else {
                throw SuccessError.alertNotFound(id)
            }
            var alert = try Alert(sealed: body, keyring: keyring)
            switch (alert.state, state) {
            case (.resolved, .acknowledged): throw SuccessError.alertResolved(id)
            case (.acknowledged, .acknowledged), (.resolved, .resolved): return (alert, nil)
            default: break
            }
            if state == .acknowledged {
                alert.acknowledgedAt = now
                alert.acknowledgedBy = person
            } else {
                alert.resolvedAt = now
                alert.resolvedBy = person
            }
            alert.state = state
            if !note.isEmpty { alert.details["\(state.rawValue)_note"] = note }
            try db.execute(
                sql: "UPDATE alert SET state = ?, body = ? WHERE alertId = ?",
                arguments: [state.rawValue, try alert.sealed(keyring), id])
            let event = try appendEvent(db, state == .acknowledged ? .acknowledged : .resolved, alert, at: now)
            try ChangeLog.append(db, .alertUpdated, customer: customerID, subject: id, at: now)
            return (alert, event)
        }
    }

    /// Stored feed events after `afterEventID` (or at/after `since`), oldest first, at most `limit`.
    public func events(afterEventID: String?, since: Date?, limit: Int) async throws -> [AlertEvent] {
        try await writer.read { db in
            var request = AlertEventRecord.order(AlertEventRecord.Columns.eventId).limit(limit)
                .filter(try owned.expression(db, customer: AlertEventRecord.Columns.customerId))
            if let afterEventID {
                request = request.filter(AlertEventRecord.Columns.eventId > afterEventID)
            } else {
                request = request.filter(AlertEventRecord.Columns.occurredAt, from: since, until: nil)
            }
            return try request.fetchAll(db)
                .map { try $0.domain(keyring: keyring) }
        }
    }

    private func appendEvent(_ db: Database, _ type: AlertEventType, _ alert: Alert, at now: Date) throws -> AlertEvent
    {
        let event = AlertEvent(id: EntityID.generate(), type: type, alert: alert, occurredAt: now)
        try db.execute(
            sql: """
                INSERT INTO alert_event (eventId, customerId, kind, type, occurredAt, alert) VALUES (?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                event.id, alert.customerID, alert.kind.rawValue, type.rawValue, now.unixMillis,
                try alert.sealed(keyring),
            ])
        return event
    }

    // MARK: - Tasks

    /// Tasks earliest due first, one page after `position` (due-at, task id).
    public func tasks(
        filter: TaskFilter, after position: InstantPosition?, limit: Int
    ) async throws -> Page<(task: PlaybookTask, position: InstantPosition)> {
        try await writer.read { db in
            var request = TaskRecord.all().filter(TaskRecord.Columns.status, anyOf: filter.statuses.map(\.rawValue))
            if !filter.customerID.isEmpty {
                request = request.filter(TaskRecord.Columns.customerId == filter.customerID)
            } else {
                request = request.filter(try owned.expression(db, customer: TaskRecord.Columns.customerId))
            }
            if !filter.ownerID.isEmpty { request = request.filter(TaskRecord.Columns.ownerId == filter.ownerID) }
            if let overdueAt = filter.overdueAt {
                request = request.filter(
                    TaskRecord.Columns.status == TaskStatus.open.rawValue
                        && TaskRecord.Columns.dueAt < overdueAt.unixMillis)
            }
            let records = try request.page(
                .ascending(TaskRecord.Columns.dueAt, tie: TaskRecord.Columns.taskId), after: position, limit: limit
            ).fetchAll(db)
            return try Page(fetched: records, limit: limit).map { record in
                let task = try record.domain(keyring: keyring)
                return (task, InstantPosition(key: task.dueAt.unixMillis, tie: task.id))
            }
        }
    }

    /// Marks a task done (idempotent).
    ///
    /// - Throws: `SuccessError.taskNotFound`; `.taskCancelled`.
    /// Stores a task a person or a journey asked for. The same `task.id` again answers the stored task when its
    /// customer, playbook, title and instructions match (a retry), else `taskExists`.
    public func createTask(_ task: PlaybookTask) async throws -> PlaybookTask {
        try await writer.write { db in
            if let stored = try TaskRecord.fetchOne(
                db, sql: "SELECT * FROM task WHERE taskId = ?",
                arguments: [task.id])?.domain(keyring: keyring)
            {
                guard stored.customerID == task.customerID, stored.playbook == task.playbook,
                    stored.title == task.title,
                    stored.instructions == task.instructions
                else { throw SuccessError.taskExists(task.id) }
                return stored
            }
            try db.execute(
                sql: """
                    INSERT INTO task (taskId, customerId, alertId, playbook, title, instructions, ownerId, dueAt, status, createdAt)
                    VALUES (?, ?, '', ?, ?, ?, ?, ?, 'open', ?)
                    """,
                arguments: [
                    task.id, task.customerID, task.playbook, try keyring.seal(task.title, for: task.customerID),
                    try keyring.seal(task.instructions, for: task.customerID), task.ownerID,
                    task.dueAt.unixMillis, task.createdAt.unixMillis,
                ])
            try ChangeLog.append(db, .taskChanged, customer: task.customerID, subject: task.id, at: task.createdAt)
            return task
        }
    }

    public func completeTask(
        id: String, customerID: String, by person: String, note: String, at now: Date
    ) async throws -> PlaybookTask {
        try await writer.write { db in
            guard
                var task = try TaskRecord.fetchOne(
                    db, sql: "SELECT * FROM task WHERE taskId = ? AND customerId = ?",
                    arguments: [id, customerID])?.domain(keyring: keyring)
            else {
                throw SuccessError.taskNotFound(id)
            }
            switch task.status {
            case .done: return task
            case .cancelled: throw SuccessError.taskCancelled(id)
            case .open: break
            }
            task.status = .done
            task.completedAt = now
            task.completedBy = person
            task.outcomeNote = note
            try db.execute(
                sql: """
                    UPDATE task SET status = 'done', completedAt = ?, completedBy = ?, outcomeNote = ? WHERE taskId = ?
                    """, arguments: [now.unixMillis, person, try keyring.seal(note, for: customerID), id])
            try ChangeLog.append(db, .taskChanged, customer: customerID, subject: id, at: now)
            return task
        }
    }
}

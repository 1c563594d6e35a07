import C360ChangeFeed
public import C360StoreKit
public import Foundation
import GRDB

/// Which plans a list shows.
public struct PlanFilter: Sendable, Hashable {
    /// One customer's plans; empty = everyone's.
    public var customerID = ""
    public var csmOwnerID = ""
    public var statuses: Set<PlanStatus> = []

    public init() {}

    public var fingerprint: String {
        [customerID, csmOwnerID, statuses.map(\.rawValue).sorted().joined(separator: ",")].joined(separator: "\u{1F}")
    }
}

extension SuccessStore {
    /// Stores a new plan with its goals and milestones, or answers the existing plan when one with the same id,
    /// customer and title exists.
    ///
    /// - Throws: `SuccessError.planExists` when the id is taken by another plan; `.goalExists` / `.milestoneExists`
    ///   when a goal or milestone id is taken.
    public func createPlan(_ plan: SuccessPlan) async throws -> SuccessPlan {
        try await writer.write { db in
            if let existing = try fetchPlan(db, id: plan.id) {
                guard existing.customerID == plan.customerID, existing.title == plan.title else {
                    throw SuccessError.planExists(plan.id)
                }
                return existing
            }
            try db.execute(
                sql: """
                    INSERT INTO plan (planId, customerId, title, summary, csmOwnerId, status, startsAt, endsAt, createdAt, updatedAt)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    plan.id, plan.customerID, try keyring.seal(plan.title, for: plan.customerID),
                    try keyring.seal(plan.summary, for: plan.customerID), plan.csmOwnerID,
                    plan.status.rawValue, plan.startsAt.unixMillis, plan.endsAt?.unixMillis,
                    plan.createdAt.unixMillis, plan.updatedAt.unixMillis,
                ])
            for goal in plan.goals { _ = try insertGoal(db, goal, customerID: plan.customerID) }
            for milestone in plan.milestones { _ = try insertMilestone(db, milestone, customerID: plan.customerID) }
            try ChangeLog.append(db, .planChanged, customer: plan.customerID, subject: plan.id, at: plan.createdAt)
            return try requirePlan(db, id: plan.id, customerID: plan.customerID)
        }
    }

    /// One plan of one customer with its goals and milestones.
    ///
    /// - Throws: `SuccessError.planNotFound` (also for another customer's plan).
    public func plan(id: String, customerID: String) async throws -> SuccessPlan {
        try await writer.read { db in try requirePlan(db, id: id, customerID: customerID) }
    }

    /// Every plan of one customer, with goals and milestones.
    public func plans(customerID: String) async throws -> [SuccessPlan] {
        try await writer.read { db in
            try PlanRecord.fetchAll(
                db.cachedStatement(sql: "SELECT * FROM plan WHERE customerId = ? ORDER BY createdAt DESC, seq DESC"),
                arguments: [customerID]
            ).map { try loadChildren(db, $0.domain(keyring: keyring)) }
        }
    }

    /// Plans ordered by customer id, then newest first, one page after `position` (customer id, created-at).
    public func plans(
        filter: PlanFilter, after position: PlanPosition?, limit: Int
    ) async throws -> Page<(plan: SuccessPlan, position: PlanPosition)> {
        try await writer.read { db in try plans(db, filter: filter, after: position, limit: limit) }
    }

    func plans(
        _ db: Database, filter: PlanFilter, after position: PlanPosition?, limit: Int
    ) throws -> Page<(plan: SuccessPlan, position: PlanPosition)> {
        var request = PlanRecord.all().filter(PlanRecord.Columns.status, anyOf: filter.statuses.map(\.rawValue))
        if !filter.customerID.isEmpty {
            request = request.filter(PlanRecord.Columns.customerId == filter.customerID)
        } else {
            request = request.filter(try owned.expression(db, customer: PlanRecord.Columns.customerId))
        }
        if !filter.csmOwnerID.isEmpty {
            request = request.filter(PlanRecord.Columns.csmOwnerId == filter.csmOwnerID)
        }
        // By customer, then newest first: the tie is the negated created-at. A few statuses and optional owner and
        // customer: a bounded set of texts.
        let records = try request.page(
            .ascending(PlanRecord.Columns.customerId, tie: -PlanRecord.Columns.createdAt), after: position,
            limit: limit
        ).preparedOnce.fetchAll(db)
        return try Page(fetched: records, limit: limit).map { record in
            let plan = try loadChildren(db, record.domain(keyring: keyring))
            return (plan, PlanPosition(key: plan.customerID, tie: -record.createdAt))
        }
    }

    /// Changes a plan's own fields through `change`.
    public func updatePlan(
        id: String, customerID: String, at now: Date, _ change: @Sendable (inout SuccessPlan) throws -> Void
    ) async throws -> SuccessPlan {
        try await writer.write { db in
            var plan = try requirePlan(db, id: id, customerID: customerID)
            try change(&plan)
            try db.execute(
                sql: """
                    UPDATE plan SET title = ?, summary = ?, csmOwnerId = ?, status = ?, startsAt = ?, endsAt = ?, updatedAt = ?
                    WHERE planId = ?
                    """,
                arguments: [
                    try keyring.seal(plan.title, for: customerID), try keyring.seal(plan.summary, for: customerID),
                    plan.csmOwnerID, plan.status.rawValue, plan.startsAt.unixMillis,
                    plan.endsAt?.unixMillis, now.unixMillis, id,
                ])
            try ChangeLog.append(db, .planChanged, customer: customerID, subject: id, at: now)
            return try requirePlan(db, id: id, customerID: customerID)
        }
    }

    /// Deletes a plan with its goals, milestones and progress; `false` when there was none.
    public func deletePlan(id: String, customerID: String) async throws -> Bool {
        try await writer.write { db in
            try db.execute(sql: "DELETE FROM plan WHERE planId = ? AND customerId = ?", arguments: [id, customerID])
            guard db.changesCount > 0 else { return false }
            try ChangeLog.append(db, .planChanged, customer: customerID, subject: id)
            return true
        }
    }

    // MARK: - Goals and milestones

    /// Adds a goal to a plan; the same goal id with the same title on the same plan answers the existing goal.
    public func addGoal(_ goal: Goal, customerID: String) async throws -> Goal {
        try await writer.write { db in
            _ = try requirePlan(db, id: goal.planID, customerID: customerID)
            try ChangeLog.append(db, .planChanged, customer: customerID, subject: goal.planID)
            return try insertGoal(db, goal, customerID: customerID)
        }
    }

    /// Changes a goal through `change`.
    public func updateGoal(
        id: String, planID: String, customerID: String, _ change: @Sendable (inout Goal) throws -> Void
    ) async throws -> Goal {
        try await writer.write { db in
            var goal = try requireGoal(db, id: id, planID: planID, customerID: customerID)
            try change(&goal)
            try saveGoal(db, goal, customerID: customerID)
            try ChangeLog.append(db, .planChanged, customer: customerID, subject: planID)
            return goal
        }
    }

    /// Records a new value of a goal's metric (idempotent by progress id); reaching the target marks the goal
    /// achieved.
    ///
    /// - Throws: `SuccessError.progressExists` when the progress id was used for another goal.
    public func recordProgress(
        _ entry: GoalProgressEntry, planID: String, customerID: String, at now: Date
    ) async throws -> Goal {
        try await writer.write { db in
            var goal = try requireGoal(db, id: entry.goalID, planID: planID, customerID: customerID)
            if let existing = try String.fetchOne(
                db.cachedStatement(sql: "SELECT goalId FROM goal_progress WHERE progressId = ?"),
                arguments: [entry.id])
            {
                guard existing == goal.id else { throw SuccessError.progressExists(entry.id) }
                return goal
            }
            try db.execute(
                sql: """
                    INSERT INTO goal_progress (progressId, goalId, customerId, value, recordedAt, note, recordedBy)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    entry.id, goal.id, customerID, entry.value, entry.recordedAt.unixMillis,
                    try keyring.seal(entry.note, for: customerID), entry.recordedBy,
                ])
            let latest =
                try Double.fetchOne(
                    db.cachedStatement(
                        sql: """
                            SELECT value FROM goal_progress WHERE goalId = ? ORDER BY recordedAt DESC, seq DESC LIMIT 1
                            """), arguments: [goal.id]) ?? entry.value
            goal.currentValue = latest
            if goal.progress >= 1, goal.status != .achieved, goal.status != .cancelled {
                goal.status = .achieved
                goal.achievedAt = max(entry.recordedAt, goal.createdAt)
            } else if goal.status != .achieved, goal.status != .cancelled {
                goal.status = GoalTracking.status(of: goal, at: now)
            }
            goal.updatedAt = now
            try saveGoal(db, goal, customerID: customerID)
            try ChangeLog.append(db, .planChanged, customer: customerID, subject: planID, at: now)
            return goal
        }
    }

    /// A goal's progress newest first, one page after `position` (recorded-at, progress id).
    public func progress(
        goalID: String, planID: String, customerID: String, after position: InstantPosition?, limit: Int
    ) async throws -> Page<(entry: GoalProgressEntry, position: InstantPosition)> {
        try await writer.read { db in
            _ = try requireGoal(db, id: goalID, planID: planID, customerID: customerID)
            let records = try GoalProgressRecord.filter(GoalProgressRecord.Columns.goalId == goalID).page(
                .descending(GoalProgressRecord.Columns.recordedAt, tie: GoalProgressRecord.Columns.progressId),
                after: position, limit: limit
            ).fetchAll(db)
            return try Page(fetched: records, limit: limit).map { record in
                let entry = try record.domain(keyring: keyring)
                return (entry, InstantPosition(key: entry.recordedAt.unixMillis, tie: entry.id))
            }
        }
    }

    /// Adds a milestone; the same milestone id on the same plan with the same title answers the existing one.
    public func addMilestone(_ milestone: Milestone, customerID: String) async throws -> Milestone {
        try await writer.write { db in
            _ = try requirePlan(db, id: milestone.planID, customerID: customerID)
            try ChangeLog.append(db, .planChanged, customer: customerID, subject: milestone.planID)
            return try insertMilestone(db, milestone, customerID: customerID)
        }
    }

    /// Changes a milestone through `change`.
    public func updateMilestone(
        id: String, planID: String, customerID: String, _ change: @Sendable (inout Milestone) throws -> Void
    ) async throws -> Milestone {
        try await writer.write { db in
            _ = try requirePlan(db, id: planID, customerID: customerID)
            guard
                var milestone = try MilestoneRecord.fetchOne(
                    db.cachedStatement(sql: "SELECT * FROM milestone WHERE milestoneId = ? AND planId = ?"),
                    arguments: [id, planID]
                )?.domain(keyring: keyring)
            else {
                throw SuccessError.milestoneNotFound(id)
            }
            try change(&milestone)
            try db.execute(
                sql: """
                    UPDATE milestone SET title = ?, dueAt = ?, status = ?, completedAt = ?, goalId = ? WHERE milestoneId = ?
                    """,
                arguments: [
                    try keyring.seal(milestone.title, for: customerID), milestone.dueAt?.unixMillis,
                    milestone.status.rawValue,
                    milestone.completedAt?.unixMillis, milestone.goalID, id,
                ])
            try ChangeLog.append(db, .planChanged, customer: customerID, subject: planID)
            return milestone
        }
    }

    /// Goal KPIs of one customer, one CSM's customers or everyone, over goals due or achieved in [from, until).
    public func kpis(customerID: String, csmOwnerID: String, from: Date?, until: Date?, at now: Date) async throws
        -> SuccessKpis
    {
        try await writer.read { db in
            // The plans in scope; with neither filter, every plan.
            var scope: [SQLExpression] = []
            if !customerID.isEmpty {
                scope.append(PlanRecord.Columns.customerId == customerID)
            } else {
                scope.append(try owned.expression(db, customer: PlanRecord.Columns.customerId).sqlExpression)
            }
            if !csmOwnerID.isEmpty { scope.append(PlanRecord.Columns.csmOwnerId == csmOwnerID) }
            let inScope = scope.joined(operator: .and)
            var kpis = SuccessKpis()
            let goals = try GoalRecord.joining(required: GoalRecord.plan.filter(inScope)).fetchAll(db)
            for goal in goals.map({ $0.untitled() }) {
                let instant = goal.achievedAt ?? goal.dueAt
                if let from, instant < from { continue }
                if let until, instant >= until { continue }
                kpis.add(goal, at: now)
            }
            kpis.activePlans = try PlanRecord.filter(inScope && PlanRecord.Columns.status == PlanStatus.active.rawValue)
                .fetchCount(db)
            return kpis
        }
    }

    // MARK: - Helpers

    func fetchPlan(_ db: Database, id: String) throws -> SuccessPlan? {
        guard
            let record = try PlanRecord.fetchOne(
                db.cachedStatement(sql: "SELECT * FROM plan WHERE planId = ?"), arguments: [id])
        else { return nil }
        return try loadChildren(db, record.domain(keyring: keyring))
    }

    func requirePlan(_ db: Database, id: String, customerID: String) throws -> SuccessPlan {
        guard let plan = try fetchPlan(db, id: id), plan.customerID == customerID else {
            throw SuccessError.planNotFound(id)
        }
        return plan
    }

    private func loadChildren(_ db: Database, _ plan: SuccessPlan) throws -> SuccessPlan {
        var plan = plan
        plan.goals = try GoalRecord.fetchAll(
            db.cachedStatement(sql: "SELECT * FROM goal WHERE planId = ? ORDER BY seq"),
            arguments: [plan.id]
        ).map { try $0.domain(keyring: keyring) }
        plan.milestones = try MilestoneRecord.fetchAll(
            db.cachedStatement(sql: "SELECT * FROM milestone WHERE planId = ? ORDER BY seq"),
            arguments: [plan.id]
        ).map { try $0.domain(keyring: keyring) }
        return plan
    }

    private func requireGoal(_ db: Database, id: String, planID: String, customerID: String) throws -> Goal {
        _ = try requirePlan(db, id: planID, customerID: customerID)
        guard
            let goal = try GoalRecord.fetchOne(
                db.cachedStatement(sql: "SELECT * FROM goal WHERE goalId = ? AND planId = ?"),
                arguments: [id, planID])?.domain(keyring: keyring)
        else {
            throw SuccessError.goalNotFound(id)
        }
        return goal
    }

    private func insertGoal(_ db: Database, _ goal: Goal, customerID: String) throws -> Goal {
        if let existing = try GoalRecord.fetchOne(
            db.cachedStatement(sql: "SELECT * FROM goal WHERE goalId = ?"), arguments: [goal.id])?
            .domain(keyring: keyring)
        {
            guard existing.planID == goal.planID, existing.title == goal.title else {
                throw SuccessError.goalExists(goal.id)
            }
            return existing
        }
        try db.execute(
            sql: """
                INSERT INTO goal (goalId, planId, title, metric, unit, baselineValue, targetValue, currentValue, dueAt,
                    status, createdAt, achievedAt, updatedAt, customerId)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: try goal.rowArguments(customerID: customerID, keyring: keyring) + [customerID])
        return goal
    }

    private func saveGoal(_ db: Database, _ goal: Goal, customerID: String) throws {
        try db.execute(
            sql: """
                UPDATE goal SET title = ?, metric = ?, unit = ?, baselineValue = ?, targetValue = ?, currentValue = ?,
                    dueAt = ?, status = ?, achievedAt = ?, updatedAt = ? WHERE goalId = ?
                """,
            arguments: [
                try keyring.seal(goal.title, for: customerID), goal.metric, goal.unit, goal.baselineValue,
                goal.targetValue,
                goal.currentValue, goal.dueAt.unixMillis, goal.status.rawValue,
                goal.achievedAt?.unixMillis, goal.updatedAt.unixMillis, goal.id,
            ])
    }

    private func insertMilestone(_ db: Database, _ milestone: Milestone, customerID: String) throws -> Milestone {
        if let existing = try MilestoneRecord.fetchOne(
            db.cachedStatement(sql: "SELECT * FROM milestone WHERE milestoneId = ?"),
            arguments: [milestone.id])?.domain(keyring: keyring)
        {
            guard existing.planID == milestone.planID, existing.title == milestone.title else {
                throw SuccessError.milestoneExists(milestone.id)
            }
            return existing
        }
        try db.execute(
            sql: """
                INSERT INTO milestone (milestoneId, planId, customerId, title, dueAt, status, completedAt, goalId)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                milestone.id, milestone.planID, customerID, try keyring.seal(milestone.title, for: customerID),
                milestone.dueAt?.unixMillis,
                milestone.status.rawValue, milestone.completedAt?.unixMillis, milestone.goalID,
            ])
        return milestone
    }
}

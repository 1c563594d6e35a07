import C360StoreKit
import Foundation
import GRDB
import Testing

@testable import C360Success

private let rules = AlertRules(configuration: .default, defaultOwner: "csm-default")

/// `Fixed.day0` plus whole days and hours.
private func at(day: Double = 0, hour: Double = 0) -> Date {
    Fixed.day0.addingTimeInterval(day * Fixed.day + hour * Fixed.hour)
}

/// An evaluation worth `value`: one engagement component, feedback missing.
private func evaluation(_ value: Double) -> HealthCalculator.Evaluation {
    HealthCalculator.Evaluation(
        score: value,
        components: [
            HealthComponent(
                kind: .engagement, value: value, weight: 0.3, effectiveWeight: 1,
                inputs: ["active_days_30d": "3"], explanation: "active on 3 days")
        ],
        missing: [MissingHealthComponent(kind: .feedback, reason: "feedback-service unavailable")])
}

/// Records a score of `value` for `customer` at `date` with the default rules.
@discardableResult
private func record(
    _ store: SuccessStore, _ customer: String, _ value: Double, at date: Date, dryRun: Bool = false
) async throws -> ScoreOutcome {
    try await store.recordScore(
        customerID: customer, evaluation: evaluation(value), score: value, computedAt: date,
        rules: rules, dryRun: dryRun)
}

/// Rows of `table` about `customer`, read straight from the store's database.
private func rowCount(_ store: SuccessStore, _ table: String, customer: String) async throws -> Int {
    try await store.writer.read { db in
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table) WHERE customerId = ?", arguments: [customer]) ?? 0
    }
}

private func alertFilter(_ customer: String) -> AlertFilter {
    var filter = AlertFilter()
    filter.customerID = customer
    return filter
}

private func taskFilter(_ customer: String) -> TaskFilter {
    var filter = TaskFilter()
    filter.customerID = customer
    return filter
}

private func progressEntry(_ id: String, goal: String = "g1", value: Double, day: Double) -> GoalProgressEntry {
    GoalProgressEntry(
        id: id, goalID: goal, value: value, recordedAt: at(day: day), note: "weekly check-in",
        recordedBy: "csm-ada")
}

@Suite("Success store: plans and goal progress")
struct SuccessStorePlanTests {
    @Test("creating a plan again with the same id, customer and title answers the stored plan; another is refused")
    func idempotentPlan() async throws {
        let store = try makeSuccessStore()
        var plan = makePlan("plan-1", goals: [makeGoal("g1", created: Fixed.day0, due: at(day: 30))])
        plan.milestones = [Milestone(id: "m1", planID: "plan-1", title: "Kick-off call", dueAt: at(day: 7))]
        let original = plan
        #expect(try await store.createPlan(original) == original)

        var retried = original
        retried.summary = "A retry with another summary"
        retried.createdAt = at(day: 1)
        let retry = retried
        #expect(try await store.createPlan(retry) == original)

        var renamed = original
        renamed.title = "Another plan"
        let taken = renamed
        await #expect(throws: SuccessError.planExists("plan-1")) { _ = try await store.createPlan(taken) }
        var moved = original
        moved.customerID = Customers.sara
        let foreign = moved
        await #expect(throws: SuccessError.planExists("plan-1")) { _ = try await store.createPlan(foreign) }

        #expect(try await store.plan(id: "plan-1", customerID: Customers.ada) == original)
        await #expect(throws: SuccessError.planNotFound("plan-1")) {
            _ = try await store.plan(id: "plan-1", customerID: Customers.sara)
        }
        #expect(try await store.plans(customerID: Customers.ada).map(\.id) == ["plan-1"])
        #expect(try await store.plans(customerID: Customers.sara).isEmpty)
        #expect(try await rowCount(store, "goal", customer: Customers.ada) == 1)
    }

    @Test("progress reaching the target marks the goal achieved at its recorded instant; a progress id counts once")
    func progressToTarget() async throws {
        let store = try makeSuccessStore()
        _ = try await store.createPlan(
            makePlan(
                "plan-1",
                goals: [
                    makeGoal("g1", created: Fixed.day0, due: at(day: 30)),
                    makeGoal("g2", created: Fixed.day0, due: at(day: 30)),
                ]))

        // 40 % after a sixth of the time: on track.
        let partway = try await store.recordProgress(
            progressEntry("p1", value: 40, day: 5), planID: "plan-1",
            customerID: Customers.ada, at: at(day: 5))
        #expect(partway.currentValue == 40 && partway.status == .onTrack && partway.achievedAt == nil)

        let reached = try await store.recordProgress(
            progressEntry("p2", value: 100, day: 10), planID: "plan-1",
            customerID: Customers.ada, at: at(day: 10, hour: 1))
        #expect(reached.currentValue == 100 && reached.status == .achieved)
        #expect(reached.achievedAt == at(day: 10))
        #expect(reached.timeToGoal == 10 * Fixed.day)
        #expect(reached.updatedAt == at(day: 10, hour: 1))

        // The same progress id again, even with another value: nothing changes.
        let retried = try await store.recordProgress(
            progressEntry("p2", value: 55, day: 11), planID: "plan-1",
            customerID: Customers.ada, at: at(day: 11))
        #expect(retried == reached)
        await #expect(throws: SuccessError.progressExists("p2")) {
            _ = try await store.recordProgress(
                progressEntry("p2", goal: "g2", value: 10, day: 11), planID: "plan-1",
                customerID: Customers.ada, at: at(day: 11))
        }

        // Falling back below the target later keeps the achievement.
        let after = try await store.recordProgress(
            progressEntry("p3", value: 80, day: 12), planID: "plan-1",
            customerID: Customers.ada, at: at(day: 12))
        #expect(after.currentValue == 80 && after.status == .achieved && after.achievedAt == at(day: 10))

        let history = try await store.progress(
            goalID: "g1", planID: "plan-1", customerID: Customers.ada, after: nil,
            limit: 10)
        #expect(history.items.map(\.entry.id) == ["p3", "p2", "p1"])
        #expect(history.items.map(\.entry.value) == [80, 100, 40])
        let untouched = try await store.progress(
            goalID: "g2", planID: "plan-1", customerID: Customers.ada,
            after: nil, limit: 10)
        #expect(untouched.items.isEmpty)

        // A target reached by a value recorded before the goal existed counts from the goal's creation.
        let backdated = try await store.recordProgress(
            progressEntry("p6", goal: "g2", value: 100, day: -2),
            planID: "plan-1", customerID: Customers.ada, at: at(day: 12))
        #expect(backdated.status == .achieved && backdated.achievedAt == Fixed.day0 && backdated.timeToGoal == 0)

        await #expect(throws: SuccessError.goalNotFound("g9")) {
            _ = try await store.recordProgress(
                progressEntry("p4", goal: "g9", value: 1, day: 12), planID: "plan-1",
                customerID: Customers.ada, at: at(day: 12))
        }
        await #expect(throws: SuccessError.planNotFound("plan-1")) {
            _ = try await store.recordProgress(
                progressEntry("p5", value: 1, day: 12), planID: "plan-1",
                customerID: Customers.sara, at: at(day: 12))
        }
    }
}

@Suite("Success store: health scores and alerts")
struct SuccessStoreHealthTests {
    @Test("scores are kept as history with the previous score and score − the highest of the last 30 days")
    func history() async throws {
        let store = try makeSuccessStore()
        // A dry run stores nothing.
        let dry = try await record(store, Customers.ada, 20, at: at(day: 0), dryRun: true)
        #expect(dry.score.score == 20 && dry.score.band == .red && dry.raised.isEmpty && dry.events.isEmpty)
        await #expect(throws: SuccessError.healthScoreNotFound(customer: Customers.ada)) {
            _ = try await store.latestScore(customerID: Customers.ada)
        }
        #expect(try await rowCount(store, "alert", customer: Customers.ada) == 0)

        let first = try await record(store, Customers.ada, 50, at: at(day: 0))
        #expect(first.score.previousScore == nil && first.score.change30d == nil)
        let second = try await record(store, Customers.ada, 65, at: at(day: 5))
        #expect(second.score.previousScore == 50 && second.score.change30d == 15)
        let third = try await record(store, Customers.ada, 60, at: at(day: 20))
        #expect(third.score.previousScore == 65 && third.score.change30d == -5)
        // Day 40: only day 20's 60 lies within the last 30 days (65 on day 5 has left the window).
        let fourth = try await record(store, Customers.ada, 55, at: at(day: 40))
        #expect(fourth.score.previousScore == 60 && fourth.score.change30d == -5)
        for outcome in [first, second, third, fourth] {
            #expect(outcome.raised.isEmpty && outcome.events.isEmpty)
            #expect(outcome.score.band == .yellow)
            #expect(outcome.score.configVersion == HealthConfiguration.default.version)
        }

        let latest = try await store.latestScore(customerID: Customers.ada)
        #expect(latest == fourth.score)
        #expect(latest.components == evaluation(55).components)
        #expect(latest.missing == [MissingHealthComponent(kind: .feedback, reason: "feedback-service unavailable")])

        let all = try await store.history(customerID: Customers.ada, from: nil, until: nil, after: nil, limit: 10)
        #expect(all.items.map(\.score.score) == [55, 60, 65, 50])
        let page = try await store.history(
            customerID: Customers.ada, from: at(day: 1), until: at(day: 40), after: nil,
            limit: 1)
        #expect(page.items.map(\.score.score) == [60] && page.hasMore)
        let next = try await store.history(
            customerID: Customers.ada, from: at(day: 1), until: at(day: 40),
            after: page.items.last?.position, limit: 1)
        #expect(next.items.map(\.score.score) == [65] && !next.hasMore)
    }

    @Test("entering red raises one churn-risk alert with a task and a feed event; staying red raises no other")
    func churnRiskOnce() async throws {
        let store = try makeSuccessStore()
        _ = try await store.createPlan(
            makePlan(
                "plan-1", csm: "csm-ada",
                goals: [makeGoal("g1", created: Fixed.day0, due: at(day: 90))]))
        let yellow = try await record(store, Customers.ada, 45, at: at(day: 1))
        #expect(yellow.raised.isEmpty && yellow.events.isEmpty)

        let red = try await record(store, Customers.ada, 38, at: at(day: 2))
        try #require(red.raised.count == 1)
        let alert = red.raised[0]
        #expect(alert.kind == .churnRisk && alert.state == .open && alert.customerID == Customers.ada)
        #expect(alert.message == "Health entered red from yellow at 38")
        #expect(alert.healthScoreID == red.score.id && alert.raisedAt == at(day: 2))
        #expect(alert.planID.isEmpty && alert.goalID.isEmpty && !alert.taskID.isEmpty)
        #expect(red.events.map(\.type) == [.raised])
        #expect(red.events.first?.alert == alert && red.events.first?.occurredAt == at(day: 2))

        // Still red, down by 9 from the peak: nothing new.
        let redder = try await record(store, Customers.ada, 36, at: at(day: 3))
        #expect(redder.score.change30d == -9)
        #expect(redder.raised.isEmpty && redder.events.isEmpty)

        let alerts = try await store.alerts(filter: alertFilter(Customers.ada), after: nil, limit: 10)
        #expect(alerts.items.map(\.alert) == [alert])
        let tasks = try await store.tasks(filter: taskFilter(Customers.ada), after: nil, limit: 10)
        try #require(tasks.items.count == 1)
        let task = tasks.items[0].task
        #expect(task.id == alert.taskID && task.alertID == alert.id && task.customerID == Customers.ada)
        #expect(task.playbook == "churn-risk/call" && task.ownerID == "csm-ada" && task.status == .open)
        #expect(task.dueAt == at(day: 4) && task.createdAt == at(day: 2))
        let events = try await store.events(afterEventID: nil, since: nil, limit: 10)
        #expect(events == red.events)
    }

    @Test("a customer without an active plan: the task goes to the default owner")
    func defaultOwner() async throws {
        let store = try makeSuccessStore()
        _ = try await store.createPlan(
            makePlan(
                "plan-old", customer: Customers.sara, csm: "csm-sara",
                status: .completed))
        let red = try await record(store, Customers.sara, 20, at: at(day: 1))
        #expect(red.raised.map(\.message) == ["Health entered red at 20"])
        let tasks = try await store.tasks(filter: taskFilter(Customers.sara), after: nil, limit: 10)
        #expect(tasks.items.map(\.task.ownerID) == ["csm-default"])
    }

    @Test("an overdue goal of an active plan raises one goal-overdue alert, not again on the next score")
    func overdueGoal() async throws {
        let store = try makeSuccessStore()
        _ = try await store.createPlan(
            makePlan(
                "plan-1", csm: "csm-ada",
                goals: [makeGoal("g1", created: Fixed.day0, due: at(day: 5))]))
        let green = try await record(store, Customers.ada, 80, at: at(day: 6))
        try #require(green.raised.count == 1)
        let alert = green.raised[0]
        #expect(alert.kind == .goalOverdue && alert.planID == "plan-1" && alert.goalID == "g1")
        #expect(alert.healthScoreID.isEmpty)
        let tasks = try await store.tasks(filter: taskFilter(Customers.ada), after: nil, limit: 10)
        #expect(tasks.items.map(\.task.playbook) == ["goal-overdue/replan"])
        #expect(tasks.items.map(\.task.dueAt) == [at(day: 11)])
        #expect(tasks.items.map(\.task.ownerID) == ["csm-ada"])

        let again = try await record(store, Customers.ada, 80, at: at(day: 7))
        #expect(again.raised.isEmpty)
        #expect(try await rowCount(store, "alert", customer: Customers.ada) == 1)
    }

    @Test("acknowledge and resolve are idempotent; a resolved alert cannot be acknowledged")
    func transitions() async throws {
        let store = try makeSuccessStore()
        let raised = try await record(store, Customers.ada, 20, at: at(day: 1))
        let alertID = try #require(raised.raised.first?.id)

        let acknowledged = try await store.transition(
            alert: alertID, customerID: Customers.ada, to: .acknowledged,
            by: "csm-ada", note: "calling tomorrow", at: at(day: 1, hour: 2))
        #expect(acknowledged.alert.state == .acknowledged && acknowledged.alert.acknowledgedBy == "csm-ada")
        #expect(acknowledged.alert.acknowledgedAt == at(day: 1, hour: 2))
        #expect(acknowledged.alert.details["acknowledged_note"] == "calling tomorrow")
        #expect(acknowledged.event?.type == .acknowledged && acknowledged.event?.alert == acknowledged.alert)

        let again = try await store.transition(
            alert: alertID, customerID: Customers.ada, to: .acknowledged,
            by: "someone-else", note: "", at: at(day: 1, hour: 3))
        #expect(again.event == nil && again.alert == acknowledged.alert)

        let resolved = try await store.transition(
            alert: alertID, customerID: Customers.ada, to: .resolved,
            by: "csm-ada", note: "", at: at(day: 2))
        #expect(resolved.alert.state == .resolved && resolved.alert.resolvedAt == at(day: 2))
        #expect(resolved.alert.acknowledgedBy == "csm-ada" && resolved.event?.type == .resolved)
        let resolvedAgain = try await store.transition(
            alert: alertID, customerID: Customers.ada, to: .resolved,
            by: "csm-ada", note: "", at: at(day: 3))
        #expect(resolvedAgain.event == nil && resolvedAgain.alert == resolved.alert)

        await #expect(throws: SuccessError.alertResolved(alertID)) {
            _ = try await store.transition(
                alert: alertID, customerID: Customers.ada, to: .acknowledged,
                by: "csm-ada", note: "", at: at(day: 3))
        }
        await #expect(throws: SuccessError.alertNotFound(alertID)) {
            _ = try await store.transition(
                alert: alertID, customerID: Customers.sara, to: .resolved,
                by: "csm-ada", note: "", at: at(day: 3))
        }
        let unknown = "01900000-0000-7000-8000-0000000000ee"
        await #expect(throws: SuccessError.alertNotFound(unknown)) {
            _ = try await store.transition(
                alert: unknown, customerID: Customers.ada, to: .resolved,
                by: "csm-ada", note: "", at: at(day: 3))
        }

        let events = try await store.events(afterEventID: nil, since: nil, limit: 10)
        #expect(events.map(\.type) == [.raised, .acknowledged, .resolved])
        let first = try #require(events.first)
        let after = try await store.events(afterEventID: first.id, since: nil, limit: 10)
        #expect(after.map(\.type) == [.acknowledged, .resolved])
        let since = try await store.events(afterEventID: nil, since: at(day: 1, hour: 2), limit: 10)
        #expect(since.map(\.type) == [.acknowledged, .resolved])
        let afterwards = try await store.summary(csmOwnerID: "", at: at(day: 3))
        #expect(afterwards.openAlerts.isEmpty)
    }
}

@Suite("Success store: at-risk list, summary, batches, privacy")
struct SuccessStoreListTests {
    /// Five customers scored on day 1: c1 35, c2 20 (plan owned by csm-x), c3 55, c4 10, c5 20.
    private static let c = (1...5).map { "01900000-0000-7000-8000-00000000020\($0)" }

    private func scoredStore() async throws -> SuccessStore {
        let store = try makeSuccessStore()
        _ = try await store.createPlan(makePlan("plan-c2", customer: Self.c[1], csm: "csm-x"))
        for (customer, value) in zip(Self.c, [35.0, 20, 55, 10, 20]) {
            try await record(store, customer, value, at: at(day: 1))
        }
        return store
    }

    @Test("at risk: lowest latest score first, ties by customer id, paged; by band, max score and CSM")
    func atRisk() async throws {
        let store = try await scoredStore()
        let c = Self.c
        let first = try await store.atRisk(filter: AtRiskFilter(), after: nil, limit: 2)
        #expect(first.items.map(\.customer.latest.customerID) == [c[3], c[1]] && first.hasMore)
        let second = try await store.atRisk(filter: AtRiskFilter(), after: first.items.last?.position, limit: 2)
        #expect(second.items.map(\.customer.latest.customerID) == [c[4], c[0]] && !second.hasMore)
        #expect((first.items + second.items).map(\.customer.latest.score) == [10, 20, 20, 35])
        #expect((first.items + second.items).allSatisfy { $0.customer.openAlerts == 1 })
        #expect(first.items.map(\.customer.csmOwnerID) == ["", "csm-x"])

        var capped = AtRiskFilter()
        capped.maxScore = 55
        let upTo55 = try await store.atRisk(filter: capped, after: nil, limit: 10)
        #expect(upTo55.items.map(\.customer.latest.customerID) == [c[3], c[1], c[4], c[0], c[2]])
        #expect(upTo55.items.last?.customer.openAlerts == 0)

        var yellow = AtRiskFilter()
        yellow.bands = [.yellow]
        let yellowOnly = try await store.atRisk(filter: yellow, after: nil, limit: 10)
        #expect(yellowOnly.items.map(\.customer.latest.customerID) == [c[2]])

        var owned = AtRiskFilter()
        owned.csmOwnerID = "csm-x"
        let csmOnly = try await store.atRisk(filter: owned, after: nil, limit: 10)
        #expect(csmOnly.items.map(\.customer.latest.customerID) == [c[1]])
    }

    @Test("summary counts latest scores per band, open alerts per kind and overdue tasks")
    func summary() async throws {
        let store = try await scoredStore()
        let everyone = try await store.summary(csmOwnerID: "", at: at(day: 1))
        #expect(everyone.scored == 5 && everyone.green == 0 && everyone.yellow == 1 && everyone.red == 4)
        #expect(everyone.scoreSum == 140)
        #expect(everyone.openAlerts == [.churnRisk: 4])
        #expect(everyone.overdueTasks == 0)
        // Churn-risk tasks are due two days after the score.
        #expect(try await store.summary(csmOwnerID: "", at: at(day: 4)).overdueTasks == 4)

        let csm = try await store.summary(csmOwnerID: "csm-x", at: at(day: 4))
        #expect(csm.scored == 1 && csm.red == 1 && csm.scoreSum == 20)
        #expect(csm.openAlerts == [.churnRisk: 1] && csm.overdueTasks == 1)
        let nobody = try await store.summary(csmOwnerID: "csm-nobody", at: at(day: 4))
        #expect(nobody == HealthSummary())
    }

    @Test("batches: start, save progress, orphaned running batches interrupted, resume keeps the cursor")
    func batches() async throws {
        let store = try makeSuccessStore()
        #expect(try await store.batch(id: "b1") == nil)
        let started = try await store.startBatch(
            HealthBatch(id: "b1", activeSince: at(day: -7), startedAt: at(day: 1)), resume: false)
        #expect(started.state == .running && started.processed == 0 && started.resumes == 0)
        #expect(started.activeSince == at(day: -7) && started.startedAt == at(day: 1) && started.finishedAt == nil)

        var progressed = started
        progressed.processed = 3
        progressed.scored = 1
        progressed.partial = 2
        progressed.alertsRaised = 1
        progressed.cursorCustomerID = "c3"
        progressed.pageToken = "page1"
        progressed.updatedAt = at(day: 1, hour: 1)
        let saved = progressed
        try await store.saveBatch(saved)
        #expect(try await store.batch(id: "b1") == saved)

        var done = try await store.startBatch(
            HealthBatch(id: "b2", activeSince: nil, startedAt: at(day: 1)),
            resume: false)
        done.state = .completed
        done.finishedAt = at(day: 1, hour: 2)
        let finished = done
        try await store.saveBatch(finished)

        #expect(try await store.interruptOrphanedBatches(at: at(day: 2)) == ["b1"])
        let fetched = try await store.batch(id: "b1")
        let interrupted = try #require(fetched)
        #expect(interrupted.state == .interrupted && interrupted.updatedAt == at(day: 2))
        #expect(interrupted.lastError == "the service stopped while the batch ran")
        #expect(interrupted.processed == 3 && interrupted.cursorCustomerID == "c3" && interrupted.pageToken == "page1")
        #expect(try await store.batch(id: "b2") == finished)
        #expect(try await store.interruptOrphanedBatches(at: at(day: 2)).isEmpty)

        let resumed = try await store.startBatch(
            HealthBatch(id: "b1", activeSince: nil, startedAt: at(day: 3)),
            resume: true)
        #expect(resumed.state == .running && resumed.resumes == 1 && resumed.updatedAt == at(day: 3))
        #expect(resumed.processed == 3 && resumed.cursorCustomerID == "c3" && resumed.pageToken == "page1")
        #expect(resumed.startedAt == at(day: 1) && resumed.activeSince == at(day: -7))
    }

    @Test("export holds one customer's data; erase removes it all, export is then empty, erasing again reports zeros")
    func eraseTwice() async throws {
        let store = try makeSuccessStore()
        _ = try await store.createPlan(
            makePlan(
                "plan-ada",
                goals: [
                    makeGoal(
                        "g1", created: Fixed.day0,
                        due: at(day: 30))
                ]))
        _ = try await store.createPlan(
            makePlan(
                "plan-sara", customer: Customers.sara, csm: "csm-sara",
                goals: [makeGoal("g2", created: Fixed.day0, due: at(day: 30))]))
        _ = try await store.recordProgress(
            progressEntry("p1", value: 10, day: 1), planID: "plan-ada",
            customerID: Customers.ada, at: at(day: 1))
        try await record(store, Customers.ada, 20, at: at(day: 2))
        try await record(store, Customers.sara, 20, at: at(day: 2))

        let export = try await store.export(customerID: Customers.ada)
        #expect(export.plans.map(\.id) == ["plan-ada"] && export.plans.first?.goals.map(\.id) == ["g1"])
        #expect(export.progress.map(\.id) == ["p1"])
        #expect(export.scores.count == 1 && export.alerts.count == 1 && export.tasks.count == 1)
        #expect(export.alerts.allSatisfy { $0.customerID == Customers.ada })

        let erased = try await store.erase(customerID: Customers.ada)
        #expect(erased == ErasedSuccess(plans: 1, healthScores: 1, alerts: 1, tasks: 1))
        let empty = try await store.export(customerID: Customers.ada)
        #expect(empty.plans.isEmpty && empty.progress.isEmpty && empty.scores.isEmpty)
        #expect(empty.alerts.isEmpty && empty.tasks.isEmpty)
        for table in ["goal", "goal_progress", "latest_health", "alert_event"] {
            #expect(try await rowCount(store, table, customer: Customers.ada) == 0, "\(table)")
        }
        await #expect(throws: SuccessError.healthScoreNotFound(customer: Customers.ada)) {
            _ = try await store.latestScore(customerID: Customers.ada)
        }
        #expect(try await store.erase(customerID: Customers.ada) == ErasedSuccess())

        // Sara's data is untouched.
        let sara = try await store.export(customerID: Customers.sara)
        #expect(sara.plans.map(\.id) == ["plan-sara"] && sara.scores.count == 1 && sara.alerts.count == 1)
        #expect(try await store.summary(csmOwnerID: "", at: at(day: 2)).scored == 1)
    }
}

import Foundation
import Testing

@testable import C360Success

private let now = Fixed.now
private let day = Fixed.day

/// A goal from 0 to 100 at `current`, created `createdDaysAgo` days before now and due `dueInDays` days after it
/// (negative: already past due).
private func goal(
    _ id: String = "g1", current: Double = 0, createdDaysAgo: Double = 10, dueInDays: Double = 10,
    status: GoalStatus? = nil
) -> Goal {
    makeGoal(id, current: current, created: now - createdDaysAgo * day, due: now + dueInDays * day, status: status)
}

@Suite("Goal tracking: progress, time elapsed and status")
struct GoalProgressTests {
    @Test("progress is (current − baseline) ÷ (target − baseline), clamped to 0…1")
    func rising() {
        #expect(goal(current: 0).progress == 0)
        #expect(goal(current: 50).progress == 0.5)
        #expect(goal(current: 100).progress == 1)
        #expect(goal(current: 150).progress == 1)
        #expect(goal(current: -10).progress == 0)
    }

    @Test("a falling metric: baseline 10, target 2, current 6 → 0.5; clamped on both sides")
    func falling() {
        func ticketsPerWeek(_ current: Double) -> Goal {
            makeGoal("tickets", baseline: 10, target: 2, current: current, created: now - day, due: now + day)
        }
        #expect(ticketsPerWeek(6).progress == 0.5)
        #expect(ticketsPerWeek(10).progress == 0)
        #expect(ticketsPerWeek(12).progress == 0)
        #expect(ticketsPerWeek(2).progress == 1)
        #expect(ticketsPerWeek(1).progress == 1)
        // A new goal starts at its baseline.
        let fresh = makeGoal("fresh", baseline: 10, target: 2, created: now, due: now + day)
        #expect(fresh.currentValue == 10 && fresh.progress == 0 && fresh.status == .notStarted)
    }

    @Test("a target equal to the baseline counts as reached")
    func degenerate() {
        #expect(makeGoal("flat", baseline: 5, target: 5, created: now, due: now + day).progress == 1)
    }

    @Test("time to goal is achieved-at − created-at, nil until achieved")
    func timeToGoal() {
        var reached = goal(current: 100, createdDaysAgo: 10)
        #expect(reached.timeToGoal == nil)
        reached.achievedAt = now - 6 * day
        #expect(reached.timeToGoal == 4 * day)
    }

    @Test("elapsed share: half way through is 0.5, before creation 0, after the due date 1, no span 1")
    func elapsed() {
        let halfway = goal(createdDaysAgo: 10, dueInDays: 10)
        #expect(GoalTracking.elapsedShare(of: halfway, at: now) == 0.5)
        #expect(GoalTracking.elapsedShare(of: halfway, at: now - 11 * day) == 0)
        #expect(GoalTracking.elapsedShare(of: halfway, at: now + 30 * day) == 1)
        let instant = makeGoal("instant", created: now, due: now)
        #expect(GoalTracking.elapsedShare(of: instant, at: now - day) == 1)
    }

    @Test("not started: no progress within the first 10 % of the time; later it is at risk")
    func notStarted() {
        // 1 of 20 days elapsed: 5 %.
        #expect(GoalTracking.status(of: goal(createdDaysAgo: 1, dueInDays: 19), at: now) == .notStarted)
        // Just created.
        #expect(GoalTracking.status(of: goal(createdDaysAgo: 0, dueInDays: 10), at: now) == .notStarted)
        // Half the time gone without progress.
        #expect(GoalTracking.status(of: goal(createdDaysAgo: 10, dueInDays: 10), at: now) == .atRisk)
    }

    @Test("on track while progress ≥ 90 % of the time elapsed, else at risk")
    func onTrack() {
        // Half the time elapsed: on track from 45 % progress.
        #expect(GoalTracking.status(of: goal(current: 50), at: now) == .onTrack)
        #expect(GoalTracking.status(of: goal(current: 80), at: now) == .onTrack)
        #expect(GoalTracking.status(of: goal(current: 25), at: now) == .atRisk)
        #expect(GoalTracking.status(of: goal(current: 40), at: now) == .atRisk)
    }

    @Test("achieved: reaching the target achieves an open goal; a stored achieved goal stays achieved")
    func achieved() {
        #expect(GoalTracking.status(of: goal(current: 100, status: .onTrack), at: now) == .achieved)
        let stored = goal(current: 20, dueInDays: -1, status: .achieved)
        #expect(GoalTracking.status(of: stored, at: now) == .achieved)
    }

    @Test("missed: at or past the due date without reaching the target; a later due date makes it open again")
    func missed() {
        #expect(GoalTracking.status(of: goal(current: 50, createdDaysAgo: 20, dueInDays: -1), at: now) == .missed)
        #expect(GoalTracking.status(of: goal(current: 99, createdDaysAgo: 20, dueInDays: 0), at: now) == .missed)
        // Stored as missed, then the due date was moved: derived again from progress against time.
        let moved = goal(current: 50, createdDaysAgo: 10, dueInDays: 10, status: .missed)
        #expect(GoalTracking.status(of: moved, at: now) == .onTrack)
    }

    @Test("cancelled stays cancelled, past due or at target")
    func cancelled() {
        #expect(GoalTracking.status(of: goal(current: 0, dueInDays: -5, status: .cancelled), at: now) == .cancelled)
        #expect(GoalTracking.status(of: goal(current: 100, status: .cancelled), at: now) == .cancelled)
    }

    @Test("overdue: past due, not achieved, not cancelled")
    func overdue() {
        #expect(GoalTracking.isOverdue(goal(current: 50, createdDaysAgo: 20, dueInDays: -1), at: now))
        #expect(GoalTracking.isOverdue(goal(current: 0, createdDaysAgo: 20, dueInDays: 0), at: now))
        #expect(!GoalTracking.isOverdue(goal(current: 50, dueInDays: 1), at: now))
        #expect(!GoalTracking.isOverdue(goal(current: 100, dueInDays: -1, status: .achieved), at: now))
        #expect(!GoalTracking.isOverdue(goal(current: 100, dueInDays: -1), at: now))
        #expect(!GoalTracking.isOverdue(goal(current: 10, dueInDays: -1, status: .cancelled), at: now))
    }
}

@Suite("Goal tracking: the goals score and the KPIs")
struct GoalScoreAndKpiTests {
    @Test("goalsScore: nil without goals that count")
    func noGoals() {
        #expect(GoalTracking.goalsScore([], at: now) == nil)
        #expect(GoalTracking.goalsScore([goal(status: .cancelled)], at: now) == nil)
    }

    @Test("goalsScore: achieved, on track and not started 100, missed 0, at risk progress ÷ time elapsed, mean")
    func scores() {
        let achieved = goal("achieved", current: 100, status: .achieved)
        let missed = goal("missed", current: 50, createdDaysAgo: 20, dueInDays: -1)
        let behind = goal("behind", current: 25) // at risk: 0.25 ÷ 0.5 → 50
        let farBehind = goal("far-behind", current: 10, createdDaysAgo: 16, dueInDays: 4) // 0.1 ÷ 0.8 → 12.5
        let ahead = goal("ahead", current: 80) // on track → 100
        // On track though a little behind pace (0.5 ≥ 0.9 × 0.55): still 100, not 0.5 ÷ 0.55.
        let nearlyThere = goal("nearly", current: 50, createdDaysAgo: 11, dueInDays: 9)
        let fresh = goal("fresh", createdDaysAgo: 1, dueInDays: 19) // not started, 5 % elapsed → 100
        let dropped = goal("dropped", status: .cancelled)

        #expect(GoalTracking.status(of: nearlyThere, at: now) == .onTrack)
        #expect(GoalTracking.status(of: farBehind, at: now) == .atRisk)
        #expect(isClose(GoalTracking.goalsScore([achieved, missed], at: now), 50))
        #expect(isClose(GoalTracking.goalsScore([behind], at: now), 50))
        #expect(isClose(GoalTracking.goalsScore([farBehind], at: now), 12.5))
        #expect(isClose(GoalTracking.goalsScore([ahead], at: now), 100))
        #expect(isClose(GoalTracking.goalsScore([nearlyThere], at: now), 100))
        #expect(isClose(GoalTracking.goalsScore([fresh], at: now), 100))
        #expect(isClose(GoalTracking.goalsScore([behind, achieved, missed, dropped], at: now), 50))
    }

    @Test("KPIs: achievement rate achieved ÷ (achieved + missed), mean time-to-goal, cancelled left out")
    func kpis() {
        var fast = goal("fast", current: 100, createdDaysAgo: 20, status: .achieved)
        fast.achievedAt = now - 16 * day // 4 days
        var slow = goal("slow", current: 100, createdDaysAgo: 20, status: .achieved)
        slow.achievedAt = now - 14 * day // 6 days
        let missed = goal("missed", current: 30, createdDaysAgo: 20, dueInDays: -1)
        let ongoing = goal("ongoing", current: 50)
        let dropped = goal("dropped", current: 10, createdDaysAgo: 20, dueInDays: -1, status: .cancelled)

        var kpis = SuccessKpis()
        for tracked in [fast, slow, missed, ongoing, dropped] { kpis.add(tracked, at: now) }
        #expect(kpis.goals == 4)
        #expect(kpis.achieved == 2 && kpis.missed == 1 && kpis.overdue == 1)
        #expect(kpis.timeToGoalTotal == 10 * day)
        #expect(isClose(kpis.achievementRate, 2.0 / 3))
        #expect(kpis.meanTimeToGoal == 5 * day)
        #expect(kpis.activePlans == 0)
    }

    @Test("KPIs: rates are nil while undefined")
    func undefinedRates() {
        let empty = SuccessKpis()
        #expect(empty.goals == 0 && empty.achievementRate == nil && empty.meanTimeToGoal == nil)

        var openOnly = SuccessKpis()
        openOnly.add(goal(current: 50), at: now)
        #expect(openOnly.goals == 1 && openOnly.achievementRate == nil && openOnly.meanTimeToGoal == nil)

        var missedOnly = SuccessKpis()
        missedOnly.add(goal(current: 50, createdDaysAgo: 20, dueInDays: -1), at: now)
        #expect(missedOnly.achievementRate == 0 && missedOnly.meanTimeToGoal == nil)

        var cancelledOnly = SuccessKpis()
        cancelledOnly.add(goal(status: .cancelled), at: now)
        #expect(cancelledOnly == SuccessKpis())
    }
}

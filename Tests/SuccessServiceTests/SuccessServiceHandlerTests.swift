import C360Clients
import C360Contracts
import C360ServerKit
import C360StoreKit
import C360TestSupport
import Foundation
import GRPCCore
import GRPCInProcessTransport
import SwiftProtobuf
import Synchronization
import Testing

@testable import C360Success

private typealias Client = Customer360_V1_SuccessService.Client<InProcessTransport.Client>

/// interaction-service and feedback-service as a test wants them, and the customer pages a batch reads.
///
/// Interaction facts are unreachable for everyone (with `interactionReason`); feedback is looked up per customer. The
/// pager answers `pages` one after the other (tokens "page1", "page2", …), throws UNAVAILABLE for `failingPage` and
/// holds `heldPage` back until released.
private final class FakePeers: HealthFactsSource, CustomerPager {
    typealias InteractionAnswer = (Fact<EngagementFacts>, Fact<SupportFacts>, Fact<CommercialFacts>)

    struct State: Sendable {
        var interactionReason = "interaction-service unavailable"
        var feedback: [String: Fact<FeedbackFacts>] = [:]
        var defaultFeedback: Fact<FeedbackFacts> = .unreachable("feedback-service unavailable")
        var pages: [[String]] = []
        var failingPage: Int?
        var heldPage: Int?
        /// How often each customer's interaction facts were asked for (once per score).
        var asked: [String: Int] = [:]
        /// Every page token the pager was asked for, in order.
        var pageTokens: [String] = []
    }

    private let state: Mutex<State>

    init(_ configure: (inout State) -> Void = { _ in }) {
        var initial = State()
        configure(&initial)
        state = Mutex(initial)
    }

    var asked: [String: Int] { state.withLock { $0.asked } }
    var pageTokens: [String] { state.withLock { $0.pageTokens } }

    /// Lets every page through from now on.
    func repairPager() {
        state.withLock { $0.failingPage = nil }
    }

    /// Lets the held page through.
    func releasePage() {
        state.withLock { $0.heldPage = nil }
    }

    func setFeedback(_ feedback: Fact<FeedbackFacts>, for customerID: String) {
        state.withLock { $0.feedback[customerID] = feedback }
    }

    func interactionFacts(customerID: String, at now: Date) async -> InteractionAnswer {
        let reason = state.withLock { current -> String in
            current.asked[customerID, default: 0] += 1
            return current.interactionReason
        }
        return (.unreachable(reason), .unreachable(reason), .unreachable(reason))
    }

    func feedbackFacts(customerID: String) async -> Fact<FeedbackFacts> {
        state.withLock { $0.feedback[customerID] ?? $0.defaultFeedback }
    }

    func customers(pageToken: String, activeSince: Date?, pageSize: Int) async throws -> (ids: [String], next: String) {
        let index = pageToken.isEmpty ? 0 : Int(pageToken.dropFirst("page".count)) ?? 0
        while state.withLock({ $0.heldPage == index }) { try await Task.sleep(for: .milliseconds(5)) }
        let (pages, failing) = state.withLock { current -> ([[String]], Int?) in
            current.pageTokens.append(pageToken)
            return (current.pages, current.failingPage)
        }
        if failing == index { throw RPCError(code: .unavailable, message: "interaction-service is down") }
        guard index < pages.count else { return ([], "") }
        return (pages[index], index + 1 < pages.count ? "page\(index + 1)" : "")
    }
}

/// What a test can reach behind the gRPC client.
private struct Harness: Sendable {
    let store: SuccessStore
    let peers: FakePeers
    let feed: AlertFeed
    let batches: BatchRunner
    let clock: TestClock
}

/// Runs `body` against a SuccessService over the in-process transport: the clock starts at `Fixed.now` and moves
/// only when the test advances it; the profile directory knows ada, sara and nora and maps the merged-away id to ada;
/// the peers are `peers`; batches read pages of 2; tasks without a plan go to "csm-default".
private func withSuccessClient(
    peers: FakePeers = FakePeers(), _ body: @Sendable (Client, Harness) async throws -> Void
) async throws {
    let clock = TestClock(Fixed.now)
    let store = try makeSuccessStore()
    let feed = AlertFeed()
    let scorer = HealthScorer(
        store: store, facts: peers, configuration: .default, defaultOwner: "csm-default",
        feed: feed, now: { clock.now() })
    let batches = BatchRunner(store: store, scorer: scorer, customers: peers, pageSize: 2)
    let directory = StaticCustomerDirectory(
        customers: [Customers.ada, Customers.sara, Customers.nora],
        merged: [Customers.mergedAway: Customers.ada])
    let service = SuccessService(
        store: store, customers: directory, scorer: scorer, batches: batches, feed: feed,
        now: { clock.now() })
    let harness = Harness(store: store, peers: peers, feed: feed, batches: batches, clock: clock)
    try await InProcessServer.withClient(serving: [service]) { client in
        // Ends any watch still open, so the server can drain.
        defer { feed.shutDown() }
        try await body(Customer360_V1_SuccessService.Client(wrapping: client), harness)
    }
}

/// Feedback of a single NPS answer, worth `score × 10`.
private func nps(_ score: Int) -> Fact<FeedbackFacts> {
    .known(FeedbackFacts(latestNps: score))
}

private func goalMessage(
    _ id: String, baseline: Double = 0, target: Double = 10, due: Date
) -> Customer360_V1_SuccessGoal {
    .with {
        $0.goalID = id
        $0.title = "Goal \(id)"
        $0.metric = "weekly active seats"
        $0.unit = "seats"
        $0.baselineValue = baseline
        $0.targetValue = target
        $0.dueAt = Google_Protobuf_Timestamp(date: due)
    }
}

/// A valid CreateSuccessPlan request (active, starting now) unless changed.
private func planRequest(
    _ planID: String, customer: String = Customers.ada, csm: String = "csm-ada",
    goals: [Customer360_V1_SuccessGoal] = []
) -> Customer360_V1_CreateSuccessPlanRequest {
    .with {
        $0.customerID = customer
        $0.planID = planID
        $0.title = "Adoption plan"
        $0.summary = "Get the whole team on board"
        $0.csmOwnerID = csm
        $0.goals = goals
    }
}

private func compute(_ customer: String, dryRun: Bool = false) -> Customer360_V1_ComputeHealthScoreRequest {
    .with {
        $0.customerID = customer
        $0.dryRun = dryRun
    }
}

/// The first `count` events of a watch (fewer if the stream ends first).
private func collectEvents(
    _ success: Client, _ request: Customer360_V1_WatchAlertsRequest, count: Int
) async throws -> [Customer360_V1_AlertEvent] {
    try await success.watchAlerts(request) { response in
        var received: [Customer360_V1_AlertEvent] = []
        for try await event in response.messages {
            received.append(event)
            if received.count >= count { break }
        }
        return received
    }
}

@Suite("SuccessService RPCs: plans and goals")
struct SuccessPlanHandlerTests {
    /// One way to break an otherwise valid CreateSuccessPlan request, and the field the answer must name.
    enum PlanBreakage: String, CaseIterable, Sendable {
        case missingTitle, missingOwner, targetIsBaseline, endsBeforeStart

        var field: String {
            switch self {
            case .missingTitle: "title"
            case .missingOwner: "csm_owner_id"
            case .targetIsBaseline: "goals[0].target_value"
            case .endsBeforeStart: "ends_at"
            }
        }

        var request: Customer360_V1_CreateSuccessPlanRequest {
            var request = planRequest("plan-bad", goals: [goalMessage("g1", due: Fixed.now + 30 * Fixed.day)])
            switch self {
            case .missingTitle: request.title = "   "
            case .missingOwner: request.csmOwnerID = ""
            case .targetIsBaseline: request.goals[0].targetValue = request.goals[0].baselineValue
            case .endsBeforeStart:
                request.startsAt = Google_Protobuf_Timestamp(date: Fixed.now)
                request.endsAt = Google_Protobuf_Timestamp(date: Fixed.now - Fixed.day)
            }
            return request
        }
    }

    @Test(
        "CreateSuccessPlan refuses a malformed plan with INVALID_ARGUMENT naming the field, and stores nothing",
        arguments: PlanBreakage.allCases)
    func invalidPlan(breakage: PlanBreakage) async throws {
        try await withSuccessClient { success, _ in
            let error = await #expect(throws: RPCError.self) {
                _ = try await success.createSuccessPlan(breakage.request)
            }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.hasPrefix("\(breakage.field):") == true, "\(error?.message ?? "")")
            let plans = try await success.listSuccessPlans(.with { $0.customerID = Customers.ada })
            #expect(plans.plans.isEmpty)
        }
    }

    @Test(
        "CreateSuccessPlan: an unknown customer is FAILED_PRECONDITION; a merged-away id is stored under the survivor")
    func customerChecks() async throws {
        try await withSuccessClient { success, _ in
            let unknown = await #expect(throws: RPCError.self) {
                _ = try await success.createSuccessPlan(planRequest("plan-x", customer: Customers.unknown))
            }
            #expect(unknown?.code == .failedPrecondition)
            #expect(unknown?.message.contains("not known to profile-service") == true, "\(unknown?.message ?? "")")

            let created = try await success.createSuccessPlan(
                planRequest(
                    "plan-1", customer: Customers.mergedAway,
                    goals: [goalMessage("g1", due: Fixed.now + 30 * Fixed.day)]))
            #expect(created.customerID == Customers.ada && created.planID == "plan-1" && created.status == .active)
            #expect(created.startsAt.date == Fixed.now && created.createdAt.date == Fixed.now && !created.hasEndsAt)
            #expect(created.goals.map(\.status) == [.notStarted] && created.hasProgress && created.progress == 0)
            // A retry under the survivor's id answers the stored plan.
            #expect(try await success.createSuccessPlan(planRequest("plan-1")) == created)
            let plans = try await success.listSuccessPlans(.with { $0.customerID = Customers.ada })
            #expect(plans.plans.map(\.planID) == ["plan-1"])
        }
    }

    @Test("UpdateGoal refuses the derived statuses (ON_TRACK …) naming status; CANCELLED is accepted")
    func updateGoalStatus() async throws {
        try await withSuccessClient { success, _ in
            _ = try await success.createSuccessPlan(
                planRequest(
                    "plan-1", goals: [goalMessage("g1", due: Fixed.now + 30 * Fixed.day)]))
            let derived: [Customer360_V1_GoalStatus] = [.onTrack, .notStarted, .atRisk, .missed]
            for status in derived {
                let error = await #expect(throws: RPCError.self) {
                    _ = try await success.updateGoal(
                        .with {
                            $0.customerID = Customers.ada
                            $0.planID = "plan-1"
                            $0.goalID = "g1"
                            $0.status = status
                        })
                }
                #expect(error?.code == .invalidArgument)
                #expect(error?.message.hasPrefix("status:") == true, "\(error?.message ?? "")")
            }
            let plan = try await success.getSuccessPlan(
                .with {
                    $0.customerID = Customers.ada
                    $0.planID = "plan-1"
                })
            #expect(plan.goals.map(\.status) == [.notStarted])

            let cancelled = try await success.updateGoal(
                .with {
                    $0.customerID = Customers.ada
                    $0.planID = "plan-1"
                    $0.goalID = "g1"
                    $0.status = .cancelled
                })
            #expect(cancelled.status == .cancelled && !cancelled.hasAchievedAt)
        }
    }

    @Test("GetSuccessKpis: achievement rate, time to goal, cancelled goals left out; unset rates without outcomes")
    func kpis() async throws {
        try await withSuccessClient { success, harness in
            let start = Fixed.now
            let day = Fixed.day
            _ = try await success.createSuccessPlan(
                planRequest(
                    "plan-1",
                    goals: [
                        goalMessage("g1", target: 10, due: start + 30 * day),
                        goalMessage("g2", target: 5, due: start + 10 * day),
                        goalMessage("g3", target: 1, due: start + 60 * day),
                        goalMessage("g4", target: 1, due: start + 60 * day),
                    ]))

            harness.clock.advance(by: 6 * day)
            let achieved = try await success.recordGoalProgress(
                .with {
                    $0.customerID = Customers.ada
                    $0.planID = "plan-1"
                    $0.goalID = "g1"
                    $0.progressID = "p1"
                    $0.currentValue = 10
                    $0.recordedBy = "csm-ada"
                })
            #expect(achieved.status == .achieved && achieved.achievedAt.date == start + 6 * day)
            #expect(achieved.timeToGoal.seconds == Int64(6 * day))
            let cancelled = try await success.updateGoal(
                .with {
                    $0.customerID = Customers.ada
                    $0.planID = "plan-1"
                    $0.goalID = "g4"
                    $0.status = .cancelled
                })
            #expect(cancelled.status == .cancelled)

            // Day 12: g2 (due day 10) is missed, g3 still open.
            harness.clock.advance(by: 6 * day)
            let kpis = try await success.getSuccessKpis(.with { $0.customerID = Customers.ada })
            #expect(kpis.goals == 3 && kpis.goalsAchieved == 1 && kpis.goalsMissed == 1 && kpis.goalsOverdue == 1)
            #expect(kpis.hasGoalAchievementRate && isClose(kpis.goalAchievementRate, 0.5))
            #expect(kpis.timeToGoalTotal.seconds == Int64(6 * day))
            #expect(kpis.hasMeanTimeToGoal && kpis.meanTimeToGoal.seconds == Int64(6 * day))
            #expect(kpis.plansActive == 1)

            let none = try await success.getSuccessKpis(.with { $0.customerID = Customers.sara })
            #expect(none.goals == 0 && none.plansActive == 0)
            #expect(!none.hasGoalAchievementRate && !none.hasMeanTimeToGoal)
        }
    }
}

@Suite("SuccessService RPCs: health scores and alerts")
struct SuccessHealthHandlerTests {
    @Test("ComputeHealthScore with interaction-service down scores feedback and goals and names what is missing")
    func partialScore() async throws {
        let peers = FakePeers {
            $0.feedback[Customers.ada] = .known(FeedbackFacts(latestNps: 8, latestCsat: 4, meanSentiment: 0.5))
        }
        try await withSuccessClient(peers: peers) { success, _ in
            // A goal created now: no time has elapsed, so it keeps pace (100).
            _ = try await success.createSuccessPlan(
                planRequest(
                    "plan-1", goals: [goalMessage("g1", due: Fixed.now + 30 * Fixed.day)]))
            let feedback = (80 + 75 + 75) / 3.0
            let expected = (feedback * 0.25 + 100 * 0.20) / 0.45

            let dry = try await success.computeHealthScore(compute(Customers.ada, dryRun: true))
            #expect(isClose(dry.score.score, expected))
            let notStored = await #expect(throws: RPCError.self) {
                _ = try await success.getHealthScore(.with { $0.customerID = Customers.ada })
            }
            #expect(notStored?.code == .notFound)

            let response = try await success.computeHealthScore(compute(Customers.ada))
            let score = response.score
            #expect(score.customerID == Customers.ada && score.band == .green)
            #expect(isClose(score.score, expected))
            #expect(score.components.map(\.kind) == [.feedback, .goals])
            #expect(isClose(score.components.first?.value, feedback))
            #expect(isClose(score.components.first?.effectiveWeight, 0.25 / 0.45))
            #expect(isClose(score.components.last?.value, 100))
            #expect(isClose(score.components.last?.effectiveWeight, 0.20 / 0.45))
            #expect(score.missingComponents.map(\.kind) == [.engagement, .support, .commercial])
            #expect(score.missingComponents.allSatisfy { $0.reason == "interaction-service unavailable" })
            #expect(!score.hasPreviousScore && !score.hasChange30D)
            #expect(score.configVersion == "w30-25-20-15-10/g70-r40/d15in30" && score.batchID.isEmpty)
            #expect(score.computedAt.date == Fixed.now)
            #expect(response.alertsRaised.isEmpty)

            #expect(try await success.getHealthScore(.with { $0.customerID = Customers.ada }) == score)
        }
    }

    @Test("ComputeHealthScore with every peer down and no goals is UNAVAILABLE with the reasons; nothing is stored")
    func nothingKnown() async throws {
        try await withSuccessClient { success, _ in
            let error = await #expect(throws: RPCError.self) {
                _ = try await success.computeHealthScore(compute(Customers.sara))
            }
            #expect(error?.code == .unavailable)
            let message = error?.message ?? ""
            #expect(message.contains("interaction-service unavailable"), "\(message)")
            #expect(message.contains("feedback-service unavailable"), "\(message)")
            #expect(message.contains("no goals"), "\(message)")
            let history = try await success.listHealthHistory(.with { $0.customerID = Customers.sara })
            #expect(history.scores.isEmpty)

            let unknown = await #expect(throws: RPCError.self) {
                _ = try await success.computeHealthScore(compute(Customers.unknown))
            }
            #expect(unknown?.code == .failedPrecondition)
        }
    }

    @Test("a red score raises a CHURN_RISK alert whose task belongs to the plan's CSM; staying red raises no other")
    func churnRisk() async throws {
        let peers = FakePeers { $0.feedback[Customers.nora] = .known(FeedbackFacts(latestNps: 0, latestCsat: 1)) }
        try await withSuccessClient(peers: peers) { success, _ in
            _ = try await success.createSuccessPlan(planRequest("plan-nora", customer: Customers.nora, csm: "csm-nora"))
            let response = try await success.computeHealthScore(compute(Customers.nora))
            #expect(response.score.band == .red && isClose(response.score.score, 0))
            try #require(response.alertsRaised.count == 1)
            let alert = response.alertsRaised[0]
            #expect(alert.kind == .churnRisk && alert.state == .open && alert.customerID == Customers.nora)
            #expect(alert.healthScoreID == response.score.healthScoreID && !alert.taskID.isEmpty)
            #expect(alert.details["previous_band"] == "none" && alert.raisedAt.date == Fixed.now)

            let tasks = try await success.listTasks(.with { $0.customerID = Customers.nora })
            try #require(tasks.tasks.count == 1)
            let task = tasks.tasks[0]
            #expect(task.taskID == alert.taskID && task.alertID == alert.alertID)
            #expect(task.ownerID == "csm-nora" && task.playbook == "churn-risk/call" && task.status == .open)
            #expect(task.dueAt.date == Fixed.now + 2 * Fixed.day)

            let again = try await success.computeHealthScore(compute(Customers.nora))
            #expect(again.alertsRaised.isEmpty && again.score.hasPreviousScore && again.score.previousScore == 0)
            let alerts = try await success.listAlerts(.with { $0.customerID = Customers.nora })
            #expect(alerts.alerts.map(\.alertID) == [alert.alertID])
        }
    }

    @Test(
        "GetCustomerSuccess: active plans, no health before a score, then the red score and its open alert; resolved alerts leave"
    )
    func customerSuccess() async throws {
        let peers = FakePeers { $0.feedback[Customers.nora] = .known(FeedbackFacts(latestNps: 0, latestCsat: 1)) }
        try await withSuccessClient(peers: peers) { success, _ in
            _ = try await success.createSuccessPlan(planRequest("plan-nora", customer: Customers.nora, csm: "csm-nora"))
            _ = try await success.createSuccessPlan(planRequest("plan-sara", customer: Customers.sara))

            let before = try await success.getCustomerSuccess(.with { $0.customerID = Customers.nora })
            #expect(before.customerID == Customers.nora)
            #expect(before.activePlans.map(\.planID) == ["plan-nora"])
            #expect(!before.hasHealth && before.openAlerts.isEmpty)

            let computed = try await success.computeHealthScore(compute(Customers.nora))
            let after = try await success.getCustomerSuccess(.with { $0.customerID = Customers.nora })
            #expect(after.hasHealth && after.health.healthScoreID == computed.score.healthScoreID)
            #expect(after.health.band == .red)
            #expect(after.openAlerts.map(\.alertID) == computed.alertsRaised.map(\.alertID))
            #expect(after.openAlerts.count == 1)

            _ = try await success.resolveAlert(
                .with {
                    $0.customerID = Customers.nora
                    $0.alertID = computed.alertsRaised[0].alertID
                    $0.resolvedBy = "csm-nora"
                })
            let resolved = try await success.getCustomerSuccess(.with { $0.customerID = Customers.nora })
            #expect(resolved.openAlerts.isEmpty && resolved.hasHealth)

            let error = await #expect(throws: RPCError.self) {
                _ = try await success.getCustomerSuccess(.with { $0.customerID = "" })
            }
            #expect(error?.code == .invalidArgument)
        }
    }

    @Test("WatchAlerts delivers a RAISED event published while it watches", .timeLimit(.minutes(1)))
    func watchLive() async throws {
        let peers = FakePeers { $0.feedback[Customers.ada] = nps(1) }
        try await withSuccessClient(peers: peers) { success, harness in
            let watching = Task {
                try await collectEvents(success, .with { $0.customerID = Customers.ada }, count: 1)
            }
            while harness.feed.watcherCount < 1 { try await Task.sleep(for: .milliseconds(5)) }

            let computed = try await success.computeHealthScore(compute(Customers.ada))
            let alert = try #require(computed.alertsRaised.first)
            let events = try await watching.value
            try #require(events.count == 1)
            #expect(events[0].eventType == .raised && events[0].occurredAt.date == Fixed.now)
            #expect(events[0].alert == alert)
        }
    }

    @Test("WatchAlerts replays stored events since an instant, and after a given event id", .timeLimit(.minutes(1)))
    func watchReplay() async throws {
        let peers = FakePeers { $0.feedback[Customers.ada] = nps(1) }
        try await withSuccessClient(peers: peers) { success, _ in
            let computed = try await success.computeHealthScore(compute(Customers.ada))
            let alert = try #require(computed.alertsRaised.first)
            _ = try await success.acknowledgeAlert(
                .with {
                    $0.customerID = Customers.ada
                    $0.alertID = alert.alertID
                    $0.acknowledgedBy = "csm-ada"
                })
            let resolved = try await success.resolveAlert(
                .with {
                    $0.customerID = Customers.ada
                    $0.alertID = alert.alertID
                    $0.resolvedBy = "csm-ada"
                    $0.note = "customer is back on track"
                })
            #expect(resolved.state == .resolved)

            let replayed = try await collectEvents(
                success, .with { $0.since = Google_Protobuf_Timestamp(date: Fixed.now - Fixed.hour) }, count: 3)
            #expect(replayed.map(\.eventType) == [.raised, .acknowledged, .resolved])
            #expect(replayed.allSatisfy { $0.alert.alertID == alert.alertID })
            #expect(replayed.last?.alert == resolved)

            let first = try #require(replayed.first)
            let resumed = try await collectEvents(success, .with { $0.afterEventID = first.eventID }, count: 2)
            #expect(resumed.map(\.eventID) == replayed.dropFirst().map(\.eventID))
            #expect(resumed.map(\.eventType) == [.acknowledged, .resolved])
        }
    }

    @Test("ListAtRisk answers the lowest latest score first, paged; GetHealthSummary counts them")
    func atRisk() async throws {
        let peers = FakePeers {
            $0.feedback[Customers.ada] = nps(3)
            $0.feedback[Customers.sara] = nps(1)
            $0.feedback[Customers.nora] = nps(2)
        }
        try await withSuccessClient(peers: peers) { success, _ in
            for customer in [Customers.ada, Customers.sara, Customers.nora] {
                _ = try await success.computeHealthScore(compute(customer))
            }
            let first = try await success.listAtRisk(.with { $0.page.pageSize = 2 })
            #expect(first.customers.map(\.customerID) == [Customers.sara, Customers.nora])
            #expect(first.customers.allSatisfy { $0.openAlerts == 1 && $0.latest.band == .red && $0.hasLatest })
            #expect(isClose(first.customers.first?.latest.score, 10) && isClose(first.customers.last?.latest.score, 20))
            #expect(!first.page.nextPageToken.isEmpty)

            let second = try await success.listAtRisk(
                .with {
                    $0.page.pageSize = 2
                    $0.page.pageToken = first.page.nextPageToken
                })
            #expect(second.customers.map(\.customerID) == [Customers.ada])
            #expect(second.page.nextPageToken.isEmpty)

            let capped = try await success.listAtRisk(.with { $0.maxScore = 15 })
            #expect(capped.customers.map(\.customerID) == [Customers.sara])
            let yellow = try await success.listAtRisk(.with { $0.bands = [.yellow] })
            #expect(yellow.customers.isEmpty)

            let summary = try await success.getHealthSummary(Customer360_V1_GetHealthSummaryRequest())
            #expect(summary.customersScored == 3 && summary.red == 3 && summary.green == 0 && summary.yellow == 0)
            #expect(summary.openAlerts.map(\.kind) == [.churnRisk] && summary.openAlerts.map(\.count) == [3])
        }
    }
}

@Suite("SuccessService RPCs: batch recompute")
struct SuccessBatchHandlerTests {
    /// Two pages of two customers each.
    private static let pages = [Array(Customers.batch[0..<2]), Array(Customers.batch[2..<4])]

    @Test("a batch over two pages completes with every customer processed once", .timeLimit(.minutes(1)))
    func completes() async throws {
        let peers = FakePeers {
            $0.pages = Self.pages
            $0.defaultFeedback = nps(9)
        }
        try await withSuccessClient(peers: peers) { success, harness in
            let started = try await success.startBatchRecompute(.with { $0.batchID = "batch-1" })
            #expect(started.batchID == "batch-1" && started.state == .running && started.processed == 0)
            await harness.batches.waitForCurrentBatch()

            let status = try await success.getBatchStatus(.with { $0.batchID = "batch-1" })
            #expect(status.state == .completed && status.processed == Int64(Customers.batch.count))
            // Interaction facts and goals are missing for everyone: every score is partial.
            #expect(status.partial == 4 && status.scored == 0 && status.failed == 0)
            #expect(status.cursorCustomerID == Customers.batch[3] && status.hasFinishedAt && status.resumes == 0)
            #expect(harness.peers.asked == Dictionary(uniqueKeysWithValues: Customers.batch.map { ($0, 1) }))

            let scored = try await success.getHealthScore(.with { $0.customerID = Customers.batch[2] })
            #expect(scored.batchID == "batch-1" && isClose(scored.score, 90))

            // Starting a completed batch again answers it unchanged and scores nobody.
            let again = try await success.startBatchRecompute(.with { $0.batchID = "batch-1" })
            #expect(again == status)
            await harness.batches.waitForCurrentBatch()
            #expect(harness.peers.asked.values.allSatisfy { $0 == 1 })

            let unknown = await #expect(throws: RPCError.self) {
                _ = try await success.getBatchStatus(.with { $0.batchID = "batch-none" })
            }
            #expect(unknown?.code == .notFound)
        }
    }

    @Test(
        "a pager failing on page 2 interrupts the batch; resuming it finishes without re-scoring page 1",
        .timeLimit(.minutes(1)))
    func resumes() async throws {
        let peers = FakePeers {
            $0.pages = Self.pages
            $0.failingPage = 1
            $0.defaultFeedback = nps(9)
        }
        try await withSuccessClient(peers: peers) { success, harness in
            _ = try await success.startBatchRecompute(.with { $0.batchID = "batch-2" })
            await harness.batches.waitForCurrentBatch()
            let interrupted = try await success.getBatchStatus(.with { $0.batchID = "batch-2" })
            #expect(interrupted.state == .interrupted && interrupted.processed == 2)
            #expect(interrupted.cursorCustomerID == Customers.batch[1] && !interrupted.hasFinishedAt)
            #expect(interrupted.lastError.contains("interaction-service unavailable"), "\(interrupted.lastError)")

            harness.peers.repairPager()
            let resumed = try await success.startBatchRecompute(.with { $0.batchID = "batch-2" })
            #expect(resumed.state == .running && resumed.resumes == 1 && resumed.processed == 2)
            await harness.batches.waitForCurrentBatch()

            let completed = try await success.getBatchStatus(.with { $0.batchID = "batch-2" })
            #expect(completed.state == .completed && completed.resumes == 1)
            #expect(completed.processed == Int64(Customers.batch.count))
            #expect(completed.scored + completed.partial + completed.failed == completed.processed)
            #expect(completed.cursorCustomerID == Customers.batch[3])
            // Every customer scored exactly once, and the first page was read only by the first run.
            #expect(harness.peers.asked == Dictionary(uniqueKeysWithValues: Customers.batch.map { ($0, 1) }))
            #expect(harness.peers.pageTokens.filter(\.isEmpty).count == 1)
            for customer in Customers.batch {
                let history = try await success.listHealthHistory(.with { $0.customerID = customer })
                #expect(history.scores.map(\.batchID) == ["batch-2"], "\(customer)")
            }
        }
    }

    @Test(
        "a customer with no computable component because peers are down interrupts the batch before that customer",
        .timeLimit(.minutes(1)))
    func outageInterrupts() async throws {
        let unreachable = Customers.batch[2]
        let peers = FakePeers {
            $0.pages = Self.pages
            $0.defaultFeedback = nps(9)
            $0.feedback[unreachable] = .unreachable("feedback-service unavailable")
        }
        try await withSuccessClient(peers: peers) { success, harness in
            _ = try await success.startBatchRecompute(.with { $0.batchID = "batch-3" })
            await harness.batches.waitForCurrentBatch()
            let interrupted = try await success.getBatchStatus(.with { $0.batchID = "batch-3" })
            #expect(interrupted.state == .interrupted && interrupted.processed == 2 && interrupted.failed == 0)
            #expect(interrupted.cursorCustomerID == Customers.batch[1])
            #expect(interrupted.lastError.hasPrefix(unreachable), "\(interrupted.lastError)")

            harness.peers.setFeedback(nps(9), for: unreachable)
            _ = try await success.startBatchRecompute(.with { $0.batchID = "batch-3" })
            await harness.batches.waitForCurrentBatch()
            let completed = try await success.getBatchStatus(.with { $0.batchID = "batch-3" })
            #expect(completed.state == .completed && completed.processed == 4 && completed.failed == 0)
            #expect(completed.resumes == 1)
            // Asked once when it could not be scored and once more on the resume; everyone else once.
            #expect(harness.peers.asked[unreachable] == 2)
            #expect(Customers.batch.filter { $0 != unreachable }.allSatisfy { harness.peers.asked[$0] == 1 })
            let scored = try await success.getHealthScore(.with { $0.customerID = unreachable })
            #expect(scored.batchID == "batch-3" && isClose(scored.score, 90))
        }
    }

    @Test(
        "only one batch runs at a time: starting another meanwhile is FAILED_PRECONDITION naming the running one",
        .timeLimit(.minutes(1)))
    func oneAtATime() async throws {
        let peers = FakePeers {
            $0.pages = Self.pages
            $0.heldPage = 1
            $0.defaultFeedback = nps(9)
        }
        try await withSuccessClient(peers: peers) { success, harness in
            // Never leave the batch held, whatever happens below.
            defer { harness.peers.releasePage() }
            _ = try await success.startBatchRecompute(.with { $0.batchID = "batch-a" })
            let refused = await #expect(throws: RPCError.self) {
                _ = try await success.startBatchRecompute(.with { $0.batchID = "batch-b" })
            }
            #expect(refused?.code == .failedPrecondition)
            #expect(refused?.message.contains("batch-a") == true, "\(refused?.message ?? "")")

            harness.peers.releasePage()
            await harness.batches.waitForCurrentBatch()
            let done = try await success.getBatchStatus(.with { $0.batchID = "batch-a" })
            #expect(done.state == .completed && done.processed == 4)
            let never = await #expect(throws: RPCError.self) {
                _ = try await success.getBatchStatus(.with { $0.batchID = "batch-b" })
            }
            #expect(never?.code == .notFound)
        }
    }
}

@Suite("CreateTask: a playbook task a person or a journey asks for")
struct SuccessTaskHandlerTests {
    private func request(_ id: String, title: String = "Call to welcome") -> Customer360_V1_CreateTaskRequest {
        .with {
            $0.customerID = Customers.ada
            $0.taskID = id
            $0.playbook = "journey/welcome"
            $0.title = title
            $0.dueIn = .init(seconds: 86_400)
        }
    }

    @Test("a task is created once per task_id; other content under the same id is ALREADY_EXISTS")
    func idempotent() async throws {
        try await withSuccessClient { success, _ in
            let first = try await success.createTask(request("journey:r1:4"))
            #expect(first.title == "Call to welcome" && first.status == .open && first.alertID.isEmpty)
            #expect(first.ownerID.isEmpty == false)
            let again = try await success.createTask(request("journey:r1:4"))
            #expect(again == first)
            let error = await #expect(throws: RPCError.self) {
                _ = try await success.createTask(request("journey:r1:4", title: "Other"))
            }
            #expect(error?.code == .alreadyExists)
            let tasks = try await success.listTasks(.with { $0.customerID = Customers.ada }).tasks
            #expect(tasks.map(\.taskID) == ["journey:r1:4"])
        }
    }

    @Test(
        "a malformed task is INVALID_ARGUMENT naming the field, and nothing is stored",
        arguments: [
            "task_id", "title", "due_in",
        ])
    func invalid(field: String) async throws {
        try await withSuccessClient { success, _ in
            var bad = request("t-1")
            switch field {
            case "task_id": bad.taskID = "has space"
            case "title": bad.title = " "
            default: bad.dueIn = .init(seconds: 5)
            }
            let error = await #expect(throws: RPCError.self) { _ = try await success.createTask(bad) }
            #expect(
                error?.code == .invalidArgument && error?.message.hasPrefix("\(field):") == true,
                "\(error?.message ?? "")")
            let stored = try await success.listTasks(.with { $0.customerID = Customers.ada }).tasks
            #expect(stored.isEmpty)
        }
    }
}

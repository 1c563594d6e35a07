import C360Clients
import C360Contracts
import C360TestSupport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import SwiftProtobuf
import Testing

private typealias ProfileClient = Customer360_V1_ProfileService.Client<HTTP2ClientTransport.Posix>
private typealias InteractionClient = Customer360_V1_InteractionService.Client<HTTP2ClientTransport.Posix>
private typealias FeedbackClient = Customer360_V1_FeedbackService.Client<HTTP2ClientTransport.Posix>
private typealias SuccessClient = Customer360_V1_SuccessService.Client<HTTP2ClientTransport.Posix>

/// The four executables of one test, each on a port of its own (port 0) with its own data directory, and a client
/// connected to each.
private struct Services {
    var profileProcess: ServiceProcess
    var interactionProcess: ServiceProcess
    var feedbackProcess: ServiceProcess
    var successProcess: ServiceProcess
    var profiles: ProfileClient
    var interactions: InteractionClient
    var feedback: FeedbackClient
    var success: SuccessClient
}

/// Starts profile-service, then interaction- and feedback-service pointed at it, then success-service pointed at all
/// three (plus `successArguments`), waits until each serves, and runs `body`. Afterwards every service the body left
/// running is stopped with SIGTERM and must exit 0, success-service first and profile-service last.
///
/// Automatic re-scoring is pushed out of reach by default (`manualScoring`), so a test that computes scores itself
/// sees exactly the scores and alerts it computed; the tests of automatic upkeep pass their own delay.
private func withServices(successArguments: [String] = manualScoring, _ body: (Services) async throws -> Void)
    async throws
{
    try await withService("profile-service") { profileProcess, profileClient in
        let profilePeer = ["--profile-addr", "\(profileProcess.address)"]
        try await withService("interaction-service", arguments: profilePeer) { interactionProcess, interactionClient in
            try await withService("feedback-service", arguments: profilePeer) { feedbackProcess, feedbackClient in
                let peers =
                    profilePeer + [
                        "--interaction-addr", "\(interactionProcess.address)",
                        "--feedback-addr", "\(feedbackProcess.address)",
                    ]
                let arguments = peers + successArguments
                try await withService("success-service", arguments: arguments) { successProcess, successClient in
                    try await body(
                        Services(
                            profileProcess: profileProcess, interactionProcess: interactionProcess,
                            feedbackProcess: feedbackProcess, successProcess: successProcess,
                            profiles: ProfileClient(wrapping: profileClient),
                            interactions: InteractionClient(wrapping: interactionClient),
                            feedback: FeedbackClient(wrapping: feedbackClient),
                            success: SuccessClient(wrapping: successClient)))
                }
            }
        }
    }
}

/// success-service arguments that leave scoring to the test: no re-score within the test's lifetime.
private let manualScoring = ["--rescore-delay-ms", "600000"]

/// A sign-in the customer made in the app.
private func login(
    _ eventID: String, customer: String, at occurredAt: Date
) -> Customer360_V1_RecordTouchpointsRequest {
    .with {
        $0.customerID = customer
        $0.touchpoint = .with {
            $0.eventID = eventID
            $0.occurredAt = Google_Protobuf_Timestamp(date: occurredAt)
            $0.channel = .app
            $0.kind = .login
            $0.direction = .inbound
        }
    }
}

/// `transform` applied to every element, at most `width` calls at a time; the results in the elements' order.
private func concurrentMap<Element: Sendable, Output: Sendable>(
    _ elements: [Element], width: Int = 8, _ transform: @escaping @Sendable (Element) async throws -> Output
) async throws -> [Output] {
    try await withThrowingTaskGroup(of: (Int, Output).self) { group in
        var outputs = [Output?](repeating: nil, count: elements.count)
        for (index, element) in elements.enumerated() {
            if index >= width, let finished = try await group.next() {
                outputs[finished.0] = finished.1
            }
            group.addTask {
                let output = try await transform(element)
                return (index, output)
            }
        }
        for try await (index, output) in group {
            outputs[index] = output
        }
        return outputs.compactMap { $0 }
    }
}

/// A wait in these tests that ran out of time, saying what it waited for.
private struct WaitTimedOut: Error, CustomStringConvertible {
    var description: String
}

/// Asks GetBatchStatus every 50 ms until `isDone` holds for the answer, giving up after `timeout`.
@discardableResult
private func pollBatch(
    _ success: SuccessClient, id: String, timeout: Duration = .seconds(60),
    until isDone: (Customer360_V1_HealthBatch) -> Bool
) async throws -> Customer360_V1_HealthBatch {
    let deadline = ContinuousClock.now + timeout
    while true {
        let batch = try await success.getBatchStatus(.with { $0.batchID = id }, options: .deadline(.seconds(5)))
        if isDone(batch) { return batch }
        guard ContinuousClock.now < deadline else {
            throw WaitTimedOut(
                description: """
                    batch \(id) is still \(batch.state) after \(timeout) (processed \(batch.processed), \
                    resumes \(batch.resumes), last error '\(batch.lastError)')
                    """)
        }
        try await Task.sleep(for: .milliseconds(50))
    }
}

/// Asks success-service for a dry-run score of `customer` every 100 ms until its engagement component is back, that
/// is until success-service reaches interaction-service again (its connection retries with a growing backoff, a
/// second or more, after an outage).
private func waitUntilEngagementIsBack(
    _ success: SuccessClient, customer: String, timeout: Duration = .seconds(30)
) async throws {
    let deadline = ContinuousClock.now + timeout
    while true {
        let probe = try await success.computeHealthScore(
            .with {
                $0.customerID = customer
                $0.dryRun = true
            }, options: .deadline(.seconds(5)))
        guard let missing = probe.score.missingComponents.first(where: { $0.kind == .engagement }) else { return }
        guard ContinuousClock.now < deadline else {
            throw WaitTimedOut(
                description: """
                    success-service still scores \(customer) without engagement after \(timeout): \(missing.reason)
                    """)
        }
        try await Task.sleep(for: .milliseconds(100))
    }
}

private func expectEffectiveWeightsSumToOne(
    _ score: Customer360_V1_HealthScore, sourceLocation: SourceLocation = #_sourceLocation
) {
    let total = score.components.reduce(0) { $0 + $1.effectiveWeight }
    #expect(
        abs(total - 1) < 1e-9, "effective weights of \(score.customerID) sum to \(total)",
        sourceLocation: sourceLocation)
}

/// The score GetHealthScore answers is the one ComputeHealthScore stored (instants kept to the millisecond).
private func expectSameScore(
    _ stored: Customer360_V1_HealthScore, _ computed: Customer360_V1_HealthScore,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(stored.healthScoreID == computed.healthScoreID, sourceLocation: sourceLocation)
    #expect(stored.customerID == computed.customerID, sourceLocation: sourceLocation)
    #expect(abs(stored.score - computed.score) < 1e-9, sourceLocation: sourceLocation)
    #expect(stored.band == computed.band, sourceLocation: sourceLocation)
    #expect(stored.components.map(\.kind) == computed.components.map(\.kind), sourceLocation: sourceLocation)
    for (kept, fresh) in zip(stored.components, computed.components) {
        #expect(
            abs(kept.value - fresh.value) < 1e-9 && abs(kept.effectiveWeight - fresh.effectiveWeight) < 1e-9,
            "\(kept.kind)", sourceLocation: sourceLocation)
        #expect(
            kept.inputs == fresh.inputs && kept.explanation == fresh.explanation, "\(kept.kind)",
            sourceLocation: sourceLocation)
    }
    #expect(stored.missingComponents == computed.missingComponents, sourceLocation: sourceLocation)
    #expect(stored.configVersion == computed.configVersion, sourceLocation: sourceLocation)
    #expect(
        abs(stored.computedAt.date.timeIntervalSince(computed.computedAt.date)) < 0.002,
        sourceLocation: sourceLocation)
}

@Suite("success-service with the real profile-, interaction- and feedback-service executables over TCP")
struct SuccessServiceProcessTests {
    @Test(
        "health comes from the real peers, a red score alerts the plan's CSM, and a stopped feedback-service leaves the score partial"
    )
    func healthAcrossServices() async throws {
        try await withServices { services in
            let success = services.success
            let healthy = try await services.profiles.createCustomer(
                .with {
                    $0.givenName = "Ada"
                    $0.familyName = "Engaged"
                }
            ).customerID
            let unhappy = try await services.profiles.createCustomer(
                .with {
                    $0.givenName = "Babak"
                    $0.familyName = "Quiet"
                }
            ).customerID
            let now = Date()
            let day: TimeInterval = 86_400

            // Engagement: Ada signed in on each of the last ten days, Babak once, four months ago.
            var events = (0..<10).map { index in
                login(
                    "it-healthy-\(index)", customer: healthy,
                    at: now.addingTimeInterval(-(Double(index) * day + 3_600)))
            }
            events.append(login("it-unhappy-0", customer: unhappy, at: now.addingTimeInterval(-120 * day)))
            let touchpoints = events
            let recorded = try await services.interactions.recordTouchpoints { writer in
                for event in touchpoints { try await writer.write(event) }
            }
            #expect(recorded.stored == 11 && recorded.rejected == 0, "\(recorded.rejections)")

            // Feedback: a promoter and a detractor with a negative comment.
            _ = try await services.feedback.createSurvey(
                .with {
                    $0.surveyID = "it-nps"
                    $0.surveyType = .nps
                    $0.name = "integration NPS"
                    $0.question = "How likely are you to recommend us to a friend or colleague?"
                    $0.language = "en"
                    $0.channel = .email
                })
            _ = try await services.feedback.recordResponse(
                .with {
                    $0.responseID = "it-nps-healthy"
                    $0.customerID = healthy
                    $0.surveyID = "it-nps"
                    $0.score = 10
                    $0.answeredAt = Google_Protobuf_Timestamp(date: now.addingTimeInterval(-3_600))
                })
            let complaint = try await services.feedback.recordResponse(
                .with {
                    $0.responseID = "it-nps-unhappy"
                    $0.customerID = unhappy
                    $0.surveyID = "it-nps"
                    $0.score = 2
                    $0.comment = "The delivery was very late and support never answered."
                    $0.answeredAt = Google_Protobuf_Timestamp(date: now.addingTimeInterval(-3_600))
                })
            #expect(complaint.response.sentiment.label == .negative)

            // Goals: Ada's is half-way there already; Babak's (imported) was due ten days ago and never moved.
            let healthyPlan = try await success.createSuccessPlan(
                .with {
                    $0.customerID = healthy
                    $0.title = "Adoption plan"
                    $0.csmOwnerID = "csm-neda"
                    $0.goals = [
                        .with {
                            $0.goalID = "it-goal-seats"
                            $0.title = "Grow adoption across the team"
                            $0.metric = "weekly active seats"
                            $0.unit = "seats"
                            $0.baselineValue = 10
                            $0.targetValue = 50
                            $0.dueAt = Google_Protobuf_Timestamp(date: now.addingTimeInterval(90 * day))
                        }
                    ]
                })
            #expect(healthyPlan.status == .active && healthyPlan.goals.map(\.goalID) == ["it-goal-seats"])
            let seats = try await success.recordGoalProgress(
                .with {
                    $0.customerID = healthy
                    $0.planID = healthyPlan.planID
                    $0.goalID = "it-goal-seats"
                    $0.progressID = "it-progress-seats-1"
                    $0.currentValue = 30
                    $0.recordedBy = "csm-neda"
                })
            #expect(abs(seats.progress - 0.5) < 1e-9 && seats.status == .onTrack, "\(seats)")
            let unhappyPlan = try await success.createSuccessPlan(
                .with {
                    $0.customerID = unhappy
                    $0.title = "Recovery plan"
                    $0.csmOwnerID = "csm-omid"
                    $0.goals = [
                        .with {
                            $0.goalID = "it-goal-tickets"
                            $0.title = "Cut the support load"
                            $0.metric = "tickets per week"
                            $0.unit = "tickets"
                            $0.baselineValue = 20
                            $0.targetValue = 5
                            $0.dueAt = Google_Protobuf_Timestamp(date: now.addingTimeInterval(-10 * day))
                        }
                    ]
                })
            #expect(unhappyPlan.status == .active && unhappyPlan.goals.first?.status == .missed, "\(unhappyPlan)")

            let good = try await success.computeHealthScore(.with { $0.customerID = healthy })
            let bad = try await success.computeHealthScore(.with { $0.customerID = unhappy })
            let computedKinds: [Customer360_V1_HealthComponentKind] = [.engagement, .feedback, .goals]
            // Neither has a ticket or a purchase: those components are missing, and named.
            let missingKinds: Set<Customer360_V1_HealthComponentKind> = [.support, .commercial]
            for result in [good, bad] {
                let kinds = result.score.components.map(\.kind)
                #expect(kinds == computedKinds, "\(result.score.customerID): \(kinds)")
                let missing = Set(result.score.missingComponents.map(\.kind))
                #expect(missing == missingKinds, "\(result.score.missingComponents)")
                expectEffectiveWeightsSumToOne(result.score)
            }
            #expect(good.score.score > bad.score.score, "\(good.score.score) vs \(bad.score.score)")
            #expect(good.score.band == .green, "\(good.score)")
            #expect(good.alertsRaised.isEmpty, "\(good.alertsRaised)")
            let goodFeedback = good.score.components.first(where: { $0.kind == .feedback })
            #expect(goodFeedback?.inputs["latest_nps"] == "10", "\(String(describing: goodFeedback))")
            #expect(bad.score.band == .red, "\(bad.score)")
            let badFeedback = bad.score.components.first(where: { $0.kind == .feedback })
            #expect(badFeedback?.inputs["latest_nps"] == "2", "\(String(describing: badFeedback))")

            // Entering red raises a churn-risk alert (beside the overdue goal's) whose playbook task goes to the CSM
            // of the customer's plan.
            let churnAlert = bad.alertsRaised.first(where: { $0.kind == .churnRisk })
            let churn = try #require(churnAlert, "\(bad.alertsRaised)")
            #expect(churn.customerID == unhappy && churn.state == .open)
            #expect(churn.healthScoreID == bad.score.healthScoreID && !churn.taskID.isEmpty)
            let tasks = try await success.listTasks(.with { $0.customerID = unhappy })
            let churnTask = tasks.tasks.first(where: { $0.taskID == churn.taskID })
            let task = try #require(churnTask, "\(tasks.tasks)")
            #expect(task.ownerID == "csm-omid" && task.alertID == churn.alertID, "\(task)")
            #expect(task.status == .open && task.playbook == "churn-risk/call", "\(task)")

            // What was computed is what is stored.
            let storedGood = try await success.getHealthScore(.with { $0.customerID = healthy })
            expectSameScore(storedGood, good.score)
            let storedBad = try await success.getHealthScore(.with { $0.customerID = unhappy })
            expectSameScore(storedBad, bad.score)

            // At risk (red by default): only Babak. Over every band, lowest first: Babak, then Ada.
            let red = try await success.listAtRisk(.init())
            #expect(red.customers.map(\.customerID) == [unhappy])
            let atRisk = try #require(red.customers.first)
            #expect(atRisk.openAlerts >= 1 && atRisk.csmOwnerID == "csm-omid", "\(atRisk)")
            #expect(atRisk.latest.healthScoreID == bad.score.healthScoreID)
            let everyone = try await success.listAtRisk(.with { $0.bands = [.red, .yellow, .green] })
            #expect(everyone.customers.map(\.customerID) == [unhappy, healthy])

            // Without feedback-service the score is still computed, from what is left, saying what is missing.
            #expect(try await services.feedbackProcess.terminate() == .exited(0))
            let partial = try await success.computeHealthScore(.with { $0.customerID = healthy })
            let missingFeedback = partial.score.missingComponents.first(where: { $0.kind == .feedback })
            #expect(missingFeedback?.reason.contains("feedback-service") == true, "\(partial.score.missingComponents)")
            let leftKinds: [Customer360_V1_HealthComponentKind] = [.engagement, .goals]
            #expect(partial.score.components.map(\.kind) == leftKinds, "\(partial.score.components.map(\.kind))")
            expectEffectiveWeightsSumToOne(partial.score)
            #expect(partial.score.hasPreviousScore && abs(partial.score.previousScore - good.score.score) < 1e-9)
        }
    }

    @Test(
        "a detractor's response re-scores the customer on its own and the churn-risk alert reaches WatchAlerts, with nobody calling success-service"
    )
    func healthKeepsItselfCurrent() async throws {
        try await withServices(successArguments: ["--rescore-delay-ms", "100"]) { services in
            let customer = try await services.profiles.createCustomer(.with { $0.givenName = "Parisa" }).customerID
            // Replaying from a minute ago, then live: the alert is seen whenever it is raised.
            let watch = Customer360_V1_WatchAlertsRequest.with {
                $0.customerID = customer
                $0.since = Google_Protobuf_Timestamp(date: Date().addingTimeInterval(-60))
            }
            try await services.success.watchAlerts(watch) { stream in
                var events = stream.messages.makeAsyncIterator()
                _ = try await services.feedback.createSurvey(
                    .with {
                        $0.surveyID = "auto-nps"
                        $0.surveyType = .nps
                        $0.name = "auto NPS"
                        $0.question = "How likely are you to recommend us?"
                        $0.language = "en"
                        $0.channel = .email
                    })
                _ = try await services.feedback.recordResponse(
                    .with {
                        $0.responseID = "auto-nps-1"
                        $0.customerID = customer
                        $0.surveyID = "auto-nps"
                        $0.score = 0
                        $0.comment = "Terrible, everything broke and nobody helped."
                        $0.answeredAt = Google_Protobuf_Timestamp(date: Date().addingTimeInterval(-60))
                    })
                while let event = try await events.next() {
                    guard event.alert.customerID == customer else { continue }
                    #expect(event.alert.kind == .churnRisk, "\(event)")
                    #expect(event.eventType == .raised, "\(event)")
                    break
                }
            }
            // The score that raised it is stored, and on the feed.
            let score = try await services.success.getHealthScore(.with { $0.customerID = customer })
            #expect(score.band == .red, "\(score)")
            let feedbackComponent = score.components.first { $0.kind == .feedback }
            #expect(feedbackComponent?.inputs["latest_nps"] == "0", "\(score.components)")
            _ = try await ChangeFeedWait.first(ChangeFeedWait.request(.healthScored, customer: customer)) {
                try await services.success.watchChanges($0, options: $1, onResponse: $2)
            }
        }
    }

    @Test(
        "a batch recompute stopped by interaction-service dying mid-batch resumes from its cursor once the peer is back"
    )
    func batchSurvivesPeerStoppedMidBatch() async throws {
        let batchID = "it-batch"
        let count = 250 // two and a half pages of 100
        // A short peer deadline: the outage is noticed quickly and the batch stops within a second or so.
        try await withServices(successArguments: ["--peer-deadline-ms", "200"]) { services in
            let success = services.success
            let profiles = services.profiles
            let now = Date()

            let customers = try await concurrentMap(Array(0..<count)) { index in
                try await profiles.createCustomer(
                    .with {
                        $0.givenName = "Batch"
                        $0.familyName = "Customer \(index)"
                    }
                ).customerID
            }
            let touchpoints = customers.enumerated().map {
                login("it-batch-\($0.offset)", customer: $0.element, at: now.addingTimeInterval(-3_600))
            }
            let recorded = try await services.interactions.recordTouchpoints { writer in
                for event in touchpoints { try await writer.write(event) }
            }
            #expect(recorded.stored == Int64(count) && recorded.rejected == 0, "\(recorded.rejections)")
            // A goal each, so every customer can be scored (goals alone) even while interaction-service is down:
            // otherwise the customers visited during the outage would count as failed and keep no score.
            let dueAt = Google_Protobuf_Timestamp(date: now.addingTimeInterval(90 * 86_400))
            let plans = try await concurrentMap(customers) { customer in
                try await success.createSuccessPlan(
                    .with {
                        $0.customerID = customer
                        $0.title = "Adoption plan"
                        $0.csmOwnerID = "csm-sam"
                        $0.goals = [
                            .with {
                                $0.title = "Grow adoption across the team"
                                $0.metric = "weekly active seats"
                                $0.unit = "seats"
                                $0.baselineValue = 5
                                $0.targetValue = 20
                                $0.dueAt = dueAt
                            }
                        ]
                    }
                ).planID
            }
            #expect(Set(plans).count == count)

            let started = try await success.startBatchRecompute(.with { $0.batchID = batchID })
            #expect(started.state == .running && started.processed == 0 && started.resumes == 0, "\(started)")

            // The first page is saved (processed 100); take interaction-service away while the next one runs.
            try await pollBatch(success, id: batchID) { $0.processed >= 1 || $0.state != .running }
            #expect(try await services.interactionProcess.kill() == .signaled(SIGKILL))
            let stopped = try await pollBatch(success, id: batchID) { $0.state != .running }
            guard stopped.state == .interrupted else {
                // The batch outran the kill and finished: nothing to resume. Very unlikely: 150 customers are left to
                // score in the ~50 ms between seeing the first page saved and the kill.
                #expect(stopped.state == .completed && stopped.processed == Int64(count), "\(stopped)")
                return
            }
            #expect(stopped.processed < Int64(count), "\(stopped)")
            #expect(stopped.lastError.contains("interaction-service"), "\(stopped.lastError)")
            #expect(!stopped.hasFinishedAt)

            // interaction-service again, on its data directory and its port: success-service's address still holds.
            let restarted = try await ServiceProcess.start(
                "interaction-service",
                arguments: [
                    "--profile-addr", "\(services.profileProcess.address)",
                    "--port", "\(services.interactionProcess.port)",
                ],
                dataDirectory: services.interactionProcess.dataDirectory)
            do {
                #expect(restarted.port == services.interactionProcess.port)
                try await withConnectedClient(to: restarted.address) { client in
                    try await waitUntilServing(client, process: restarted)
                }
                try await waitUntilEngagementIsBack(success, customer: customers[0])

                let resumed = try await success.startBatchRecompute(.with { $0.batchID = batchID })
                #expect(resumed.state == .running && resumed.resumes == stopped.resumes + 1, "\(resumed)")
                #expect(resumed.processed == stopped.processed && resumed.cursorCustomerID == stopped.cursorCustomerID)
                var finished = try await pollBatch(success, id: batchID) { $0.state != .running }
                // Should a listing still fail three times in a row (a slow reconnect), the batch stops again at once;
                // resuming again is what an operator would do.
                for _ in 0..<3 where finished.state == .interrupted {
                    // The runner stores INTERRUPTED a moment before it is free to take the batch again.
                    try await Task.sleep(for: .milliseconds(200))
                    _ = try await success.startBatchRecompute(.with { $0.batchID = batchID })
                    finished = try await pollBatch(success, id: batchID) { $0.state != .running }
                }
                #expect(finished.state == .completed, "\(finished)")
                #expect(finished.processed == Int64(count), "\(finished)")
                #expect(finished.resumes >= 1)
                #expect(finished.scored + finished.partial + finished.failed == finished.processed, "\(finished)")
                #expect(finished.failed == 0, "\(finished.lastError)")
                let lastCustomer = customers.max() ?? ""
                #expect(finished.cursorCustomerID == lastCustomer)
                #expect(finished.hasFinishedAt)

                // Every customer has a score, from this batch.
                let summary = try await success.getHealthSummary(.init())
                #expect(summary.customersScored == Int64(count), "\(summary)")
                let sorted = customers.sorted()
                for customer in [sorted[0], sorted[count / 2], sorted[count - 1]] {
                    let score = try await success.getHealthScore(.with { $0.customerID = customer })
                    #expect(score.customerID == customer && score.batchID == batchID, "\(score)")
                    expectEffectiveWeightsSumToOne(score)
                }
            } catch {
                await restarted.cleanup()
                throw error
            }
            #expect(try await restarted.terminate() == .exited(0))
            await restarted.cleanup()
        }
    }
}

import C360ChangeFeed
public import C360Clients
import C360Contracts
import C360ServerKit
import C360StoreKit
public import Foundation
import GRDB
public import GRPCCore
import GRPCNIOTransportHTTP2
public import Logging
import Metrics
public import ServiceLifecycle

/// Walks customers through journeys: each due run does its current step and moves on in one transaction with the
/// step's local effect (a queued message, a branch taken), so a kill -9 resumes every customer exactly where they
/// were. Steps that call another service (a tag, points, a playbook task) are idempotent there (tags are a set; points
/// and tasks carry the id `journey:<run>:<step>`), so a step repeated after a crash between the call and the advance
/// is applied once.
public struct JourneyRunner: Service {
    public typealias Transport = PeerTransport

    let store: OutreachStore
    let profile: Customer360_V1_ProfileService.Client<Transport>
    let success: Customer360_V1_SuccessService.Client<Transport>
    let feedback: Customer360_V1_FeedbackService.Client<Transport>?
    let logger: Logger
    let deadline: Duration
    let now: @Sendable () -> Date

    /// The longest idle wait between looks at the runs.
    static var idleWait: Duration { .milliseconds(200) }
    /// Steps one run does in a row before yielding to the others (waits end a turn anyway).
    static var stepsPerTurn: Int { 20 }

    /// - Parameter feedback: Where the title of a shipped feature request is read for `{{feature_title}}`.
    public init(
        store: OutreachStore, profile: GRPCClient<Transport>, success: GRPCClient<Transport>,
        feedback: GRPCClient<Transport>? = nil, logger: Logger, deadline: Duration,
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.store = store
        self.profile = .init(wrapping: profile)
        self.success = .init(wrapping: success)
        self.feedback = feedback.map { .init(wrapping: $0) }
        self.logger = logger
        self.deadline = deadline
        self.now = now
    }

    public func run() async {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let (due, next) = try await store.dueRuns(at: now(), limit: 200)
                    if due.isEmpty {
                        let untilNext = next.map { Duration.milliseconds(max(0, $0.unixMillis - now().unixMillis)) }
                        try? await Task.sleep(for: min(untilNext ?? Self.idleWait, Self.idleWait))
                        continue
                    }
                    for run in due { await walk(run) }
                } catch {
                    if Task.isCancelled { return }
                    logger.warning("journey runs unreadable", metadata: ["error": "\(error)"])
                    try? await Task.sleep(for: .seconds(1))
                }
            }
        }
    }

    /// Does the due steps of one run until it waits, ends, or has had its turn.
    func walk(_ run: JourneyRunRecord) async {
        var run = run
        for _ in 0..<Self.stepsPerTurn {
            do {
                guard let next = try await step(run) else { return }
                run = next
                guard run.state == .waiting, run.dueAt <= now().unixMillis else { return }
            } catch {
                guard !Task.isCancelled else { return }
                logger.info(
                    "journey step postponed",
                    metadata: ["run_id": "\(run.runId)", "step": "\(run.step)", "error": "\(error)"])
                try? await store.postpone(run, until: now().adding(.seconds(5)))
                return
            }
        }
    }

    /// The placeholder values a run's trigger gives its messages, as the JSON `MessageRecord.context` holds: for a
    /// shipped feature request, its title (read from feedback-service among the requests the customer voted for).
    func placeholders(for run: JourneyRunRecord, journey: JourneyRecord) async throws -> String {
        guard journey.triggerEvent == Customer360_V1_ChangeKind.featureRequestShipped.rawValue,
            !run.triggerSubject.isEmpty, let feedback
        else { return "{}" }
        var token = ""
        repeat {
            let page = try await feedback.listFeatureRequests(
                .with {
                    $0.customerID = run.customerId
                    $0.page.pageSize = 100
                    $0.page.pageToken = token
                }, options: .deadline(deadline))
            if let tally = page.featureRequests.first(where: {
                $0.featureRequest.featureRequestID == run.triggerSubject
            }) {
                let data = try JSONEncoder().encode(["feature_title": tally.featureRequest.title])
                return String(decoding: data, as: UTF8.self)
            }
            token = page.page.nextPageToken
        } while !token.isEmpty
        return "{}"
    }

    /// Does the run's current step; answers the run as stored afterwards (nil when it moved elsewhere meanwhile).
    func step(_ run: JourneyRunRecord) async throws -> JourneyRunRecord? {
        let (journey, _, _) = try await store.journey(id: run.journeyId)
        let steps = journey.proto.steps
        let now = now()
        let index = run.step
        guard index >= 0, index < steps.count else {
            try await store.advance(run, now: now) { _ in (index, nil, .completed, "") }
            Counter(label: "c360_outreach_journey_runs_total", dimensions: [("outcome", "completed")]).increment()
            return nil
        }
        let following = index + 1
        switch steps[index].step {
        case .wait(let wait):
            let due = now.addingTimeInterval(TimeInterval(wait.seconds) + TimeInterval(wait.nanos) / 1e9)
            try await store.advance(run, now: now) { _ in (following, due, .waiting, "") }
        case .send(let send):
            let key = "journey:\(run.journeyId):\(run.runId):\(index)"
            let context = try await placeholders(for: run, journey: journey)
            try await store.advance(run, now: now) { db in
                guard let template = try TemplateRecord.fetchOne(db, key: send.templateID) else {
                    return (index, nil, .exited, "step \(index): template \(send.templateID) no longer exists")
                }
                _ = try OutreachStore.enqueue(
                    db,
                    MessageRecord(
                        messageId: EntityID.generate(), customerId: run.customerId, templateId: template.templateId,
                        campaignId: "", idempotencyKey: key, purpose: template.purpose,
                        forcedChannel: Channel(proto: send.channel)?.rawValue ?? "", channel: "", status: .queued,
                        statusReason: "", createdAt: now.unixMillis, scheduledFor: now.unixMillis, sentAt: nil,
                        attempts: 0,
                        language: "", context: context))
                return (following, nil, .waiting, "")
            }
        case .branch(let branch):
            let query = try SegmentQuery(branch.rule, field: "steps[\(index)].branch.rule", now: now)
            try await store.advance(run, now: now) { db in
                let target = Int(
                    try OutreachStore.matches(db, customerID: run.customerId, query) ? branch.thenStep : branch.elseStep
                )
                return target < 0 ? (target, nil, .completed, "") : (target, nil, .waiting, "")
            }
        case .addTag(let tag):
            do {
                _ = try await profile.addTags(
                    .with {
                        $0.customerID = run.customerId
                        $0.tags = [tag]
                    },
                    options: .deadline(deadline))
                try await store.advance(run, now: now) { _ in (following, nil, .waiting, "") }
            } catch let error as RPCError where error.code == .notFound || error.code == .failedPrecondition {
                try await store.advance(run, now: now) { _ in (index, nil, .exited, "step \(index): \(error.message)") }
            }
        case .earnPoints(let points):
            do {
                _ = try await profile.earnPoints(
                    .with {
                        $0.customerID = run.customerId
                        $0.points = points.points
                        $0.reason = points.reason
                        $0.transactionID = "journey:\(run.runId):\(index)"
                    }, options: .deadline(deadline))
                try await store.advance(run, now: now) { _ in (following, nil, .waiting, "") }
            } catch let error as RPCError where error.code == .notFound || error.code == .failedPrecondition {
                try await store.advance(run, now: now) { _ in (index, nil, .exited, "step \(index): \(error.message)") }
            }
        case .createTask(let task):
            do {
                _ = try await success.createTask(
                    .with {
                        $0.customerID = run.customerId
                        $0.taskID = "journey:\(run.runId):\(index)"
                        $0.playbook = "journey/\(run.journeyId)"
                        $0.title = task.title
                        $0.instructions = task.instructions
                        $0.ownerID = task.ownerID
                        if task.hasDueIn { $0.dueIn = task.dueIn }
                    }, options: .deadline(deadline))
                try await store.advance(run, now: now) { _ in (following, nil, .waiting, "") }
            } catch let error as RPCError where error.code == .notFound || error.code == .failedPrecondition {
                try await store.advance(run, now: now) { _ in (index, nil, .exited, "step \(index): \(error.message)") }
            }
        case nil:
            try await store.advance(run, now: now) { _ in (following, nil, .waiting, "") }
        }
        return try await store.writer.read { db in try JourneyRunRecord.fetchOne(db, key: run.runId) }
    }
}

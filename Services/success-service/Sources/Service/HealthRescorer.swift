public import C360ServerKit
import C360StoreKit
public import Foundation
public import Logging
import Metrics
public import ServiceLifecycle

/// Keeps health scores current without anyone calling success-service: scores the customers the change feeds queued
/// (`SuccessStore.enqueueRescores`, fed by interaction- and feedback-service's feeds) once their coalescing delay has
/// passed, so the alerts those scores raise fire on their own and `WatchAlerts` shows them live.
///
/// Each queued customer is scored at least once after its last change: an entry is removed only when no change
/// arrived while it was being scored. A customer a peer cannot be asked about now stays queued and is retried.
public struct HealthRescorer: Service {
    let store: SuccessStore
    let scorer: HealthScorer
    let logger: Logger
    /// Customers scored at once; each score asks two peers.
    let concurrency: Int
    /// On a shard, the customers it scores: one copied here by a move that has not flipped the map yet waits.
    let ownership: CustomerOwnership
    /// How long an entry waits after a failed attempt.
    static let retryAfterFailure = Duration.seconds(5)
    /// The longest idle wait between looks at the queue.
    static let idleWait = Duration.milliseconds(250)

    public init(
        store: SuccessStore, scorer: HealthScorer, logger: Logger, concurrency: Int = 8,
        ownership: CustomerOwnership = .everyone
    ) {
        self.store = store
        self.scorer = scorer
        self.logger = logger
        self.concurrency = concurrency
        self.ownership = ownership
    }

    public func run() async {
        await cancelWhenGracefulShutdown {
            let depth = Gauge(label: "c360_health_rescore_queue_depth")
            while !Task.isCancelled {
                let now = scorer.now()
                let due: [RescoreRequest]
                let next: Date?
                do {
                    (due, next) = try await store.dueRescores(at: now, limit: concurrency * 8)
                    depth.record(try await store.rescoreQueueDepth())
                } catch {
                    if !Task.isCancelled {
                        logger.warning("re-score queue unreadable", metadata: ["error": "\(error)"])
                    }
                    try? await Task.sleep(for: Self.retryAfterFailure)
                    continue
                }
                if due.isEmpty {
                    let untilNext = next.map { Duration.milliseconds(max(0, $0.unixMillis - now.unixMillis)) }
                    try? await Task.sleep(for: min(untilNext ?? Self.idleWait, Self.idleWait))
                    continue
                }
                await withTaskGroup(of: Void.self) { group in
                    for (index, request) in due.enumerated() {
                        if index >= concurrency { await group.next() }
                        group.addTask { await rescore(request) }
                    }
                }
            }
        }
    }

    /// Scores one queued customer and settles its entry.
    func rescore(_ request: RescoreRequest) async {
        guard ownership.owns(request.customerId) else {
            // Scored here, it would raise alerts the move then overwrites, and their feed events would stay.
            try? await store.postponeRescore(request, until: scorer.now().adding(Self.retryAfterFailure))
            return
        }
        do {
            let outcome = try await scorer.score(customerID: request.customerId)
            Counter(label: "c360_health_rescores_total", dimensions: [("outcome", "scored")]).increment()
            if !outcome.raised.isEmpty {
                logger.notice(
                    "re-score raised alerts",
                    metadata: [
                        "customer_id": "\(request.customerId)", "alerts": "\(outcome.raised.map(\.kind.rawValue))",
                    ])
            }
            try await store.finishRescore(request, retry: .seconds(1), now: scorer.now())
        } catch SuccessError.noHealthFacts {
            // Nothing to score the customer on (no data in any service): nothing to retry either.
            Counter(label: "c360_health_rescores_total", dimensions: [("outcome", "no_facts")]).increment()
            try? await store.finishRescore(request, retry: .seconds(1), now: scorer.now())
        } catch {
            guard !Task.isCancelled else { return }
            Counter(label: "c360_health_rescores_total", dimensions: [("outcome", "retried")]).increment()
            logger.info("re-score postponed", metadata: ["customer_id": "\(request.customerId)", "error": "\(error)"])
            try? await store.postponeRescore(
                request, until: scorer.now().adding(Self.retryAfterFailure))
        }
    }
}

/// Starts a batch recompute of every customer once per interval, so scores decay with inactivity even for customers
/// nothing happens to. One batch per day (`sweep-YYYY-MM-DD`): a restart resumes that day's sweep rather than
/// starting another, and the batch's progress is in `GetBatchStatus`, the logs and the batch metrics.
public struct HealthSweep: Service {
    let batches: BatchRunner
    let interval: Duration
    let logger: Logger
    let now: @Sendable () -> Date

    public init(
        batches: BatchRunner, interval: Duration, logger: Logger, now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.batches = batches
        self.interval = interval
        self.logger = logger
        self.now = now
    }

    public func run() async {
        await Periodic.run(every: interval, waitFirst: true, logger: logger, failure: "health sweep failed") {
            await sweep()
        }
    }

    /// Starts (or resumes) today's sweep; a batch already running is left alone.
    public func sweep() async {
        let day = now().formatted(.iso8601.year().month().day())
        do {
            let batch = try await batches.start(id: "sweep-\(day)", activeSince: nil)
            logger.notice("health sweep", metadata: ["batch_id": "\(batch.id)", "state": "\(batch.state)"])
        } catch {
            logger.info("health sweep not started", metadata: ["error": "\(error)"])
        }
    }
}

public import C360ServerKit
import C360StoreKit
public import Foundation
public import Logging
public import ServiceLifecycle

/// Runs batch recomputes of health scores, one at a time, in the background: pages through the customers a peer
/// knows, scores each, and saves counters and cursor after every page so a stopped batch resumes where it stopped.
public actor BatchRunner: Service {
    private let store: SuccessStore
    private let scorer: HealthScorer
    private let customers: any CustomerPager
    private let pageSize: Int
    /// On a shard, the customers its batches score; the peer's pages list every customer.
    private let ownership: CustomerOwnership
    private let logger: Logger
    private var running: (id: String, task: Task<Void, Never>)?
    /// Set while the running batch saves its final state: a start then waits for it instead of refusing.
    private var finishing = false
    /// Set while a start reads and writes the batch row, so two starts cannot both begin one.
    private var starting = false

    /// Consecutive page failures (peer down) after which the batch stops as interrupted.
    static let maxPageAttempts = 3

    public init(
        store: SuccessStore, scorer: HealthScorer, customers: any CustomerPager, pageSize: Int = 100,
        ownership: CustomerOwnership = .everyone, logger: Logger = Logger(label: "success-service.batch")
    ) {
        self.store = store
        self.scorer = scorer
        self.customers = customers
        self.pageSize = pageSize
        self.ownership = ownership
        self.logger = logger
    }

    /// Starts a new batch, resumes an unfinished one, or answers a finished one unchanged.
    ///
    /// - Throws: `SuccessError.batchRunning` when another batch runs.
    public func start(id requested: String, activeSince: Date?) async throws -> HealthBatch {
        let id = requested.isEmpty ? EntityID.generate() : requested
        if let running {
            guard finishing else { throw SuccessError.batchRunning(running.id) }
            await running.task.value
        }
        guard !starting, running == nil else { throw SuccessError.batchRunning(running?.id ?? id) }
        starting = true
        defer { starting = false }
        if let existing = try await store.batch(id: id), existing.state == .completed { return existing }
        let now = scorer.now()
        let existing = try await store.batch(id: id)
        let batch = try await store.startBatch(
            HealthBatch(id: id, activeSince: existing?.activeSince ?? activeSince, startedAt: now),
            resume: existing != nil)
        logger.notice(
            "batch recompute started",
            metadata: [
                "batch_id": "\(id)", "resumed": "\(existing != nil)", "cursor": "\(batch.cursorCustomerID)",
            ])
        running = (id, Task { await self.run(batch) })
        return batch
    }

    /// Waits for the running batch, if any (tests and tools).
    public func waitForCurrentBatch() async {
        await running?.task.value
    }

    public func run() async throws {
        try await gracefulShutdown()
        running?.task.cancel()
        await running?.task.value
    }

    private func run(_ start: HealthBatch) async {
        var batch = start
        var failures = 0
        defer {
            running = nil
            finishing = false
        }
        while !Task.isCancelled {
            let page: (ids: [String], next: String)
            do {
                page = try await customers.customers(
                    pageToken: batch.pageToken, activeSince: batch.activeSince,
                    pageSize: pageSize)
                failures = 0
            } catch {
                failures += 1
                batch.lastError =
                    "listing customers failed: \(PeerHealthFacts.failure(error, peer: .interaction).reason)"
                if failures < Self.maxPageAttempts {
                    try? await Task.sleep(for: .milliseconds(200 * failures))
                    continue
                }
                batch.state = .interrupted
                finishing = true
                await save(batch)
                logger.warning(
                    "batch recompute interrupted", metadata: ["batch_id": "\(batch.id)", "error": "\(batch.lastError)"])
                return
            }
            var peerDown = false
            // A page re-read after a stop holds the cursor: what comes after it is left to do. A page without it is
            // new, all of it.
            let resumeAt = page.ids.firstIndex(of: batch.cursorCustomerID).map { $0 + 1 } ?? 0
            for customerID in page.ids[resumeAt...] where ownership.owns(customerID) {
                guard !Task.isCancelled else { break }
                do {
                    let outcome = try await scorer.score(customerID: customerID, batchID: batch.id)
                    if outcome.score.missing.isEmpty { batch.scored += 1 } else { batch.partial += 1 }
                    batch.alertsRaised += outcome.raised.count
                } catch SuccessError.noHealthFacts(_, let reasons, peersUnreachable: true) {
                    // Nothing could be computed because peers are down: stop before this customer, so resuming
                    // scores it instead of skipping it.
                    batch.lastError = "\(customerID): no component could be computed (\(reasons))"
                    peerDown = true
                    break
                } catch {
                    batch.failed += 1
                    batch.lastError = "\(customerID): \(error)"
                }
                batch.processed += 1
                batch.cursorCustomerID = customerID
            }
            if peerDown {
                batch.state = .interrupted
                finishing = true
                await save(batch)
                logger.warning(
                    "batch recompute interrupted", metadata: ["batch_id": "\(batch.id)", "error": "\(batch.lastError)"])
                return
            }
            guard !Task.isCancelled else { break }
            if page.next.isEmpty {
                finishing = true
                batch.state = .completed
                batch.finishedAt = scorer.now()
                await save(batch)
                logger.notice(
                    "batch recompute completed",
                    metadata: [
                        "batch_id": "\(batch.id)", "processed": "\(batch.processed)", "partial": "\(batch.partial)",
                        "failed": "\(batch.failed)", "alerts": "\(batch.alertsRaised)",
                    ])
                return
            }
            batch.pageToken = page.next
            await save(batch)
            logger.info(
                "batch recompute progress",
                metadata: [
                    "batch_id": "\(batch.id)", "processed": "\(batch.processed)", "cursor": "\(batch.cursorCustomerID)",
                ])
        }
        batch.state = .interrupted
        batch.lastError = "the service stopped while the batch ran"
        finishing = true
        await save(batch)
    }

    private func save(_ batch: HealthBatch) async {
        var batch = batch
        batch.updatedAt = scorer.now()
        do {
            try await store.saveBatch(batch)
        } catch {
            logger.error("saving batch progress failed", metadata: ["batch_id": "\(batch.id)", "error": "\(error)"])
        }
    }
}

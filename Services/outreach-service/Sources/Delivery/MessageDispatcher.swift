public import C360Clients
import C360Contracts
import C360ServerKit
import C360StoreKit
public import Foundation
public import GRPCCore
import GRPCNIOTransportHTTP2
public import Logging
import Metrics
public import ServiceLifecycle

/// Sends queued messages as they fall due, `concurrency` at a time: plans each (`SendPlanner`), hands it to the
/// channel's adapter, and settles it; retries transient failures with exponential backoff up to `retryLimit`
/// attempts; queues campaign members in chunks; and stores every sent message in interaction-service as an outbound
/// touchpoint (event id `outreach:<message_id>`, so a repeat is a duplicate there, never a second touchpoint).
public struct MessageDispatcher: Service {
    public typealias Transport = PeerTransport

    let store: OutreachStore
    let planner: SendPlanner
    let interaction: Customer360_V1_InteractionService.Client<Transport>
    let logger: Logger
    let concurrency: Int
    let retryLimit: Int
    let deadline: Duration
    let now: @Sendable () -> Date

    /// The longest idle wait between looks at the queue.
    static var idleWait: Duration { .milliseconds(200) }
    /// Members a campaign queues per transaction.
    static var campaignChunk: Int { 1_000 }

    public init(
        store: OutreachStore, planner: SendPlanner, interaction: GRPCClient<Transport>, logger: Logger,
        concurrency: Int, retryLimit: Int, deadline: Duration, now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.store = store
        self.planner = planner
        self.interaction = .init(wrapping: interaction)
        self.logger = logger
        self.concurrency = concurrency
        self.retryLimit = retryLimit
        self.deadline = deadline
        self.now = now
    }

    public func run() async {
        do {
            let resendable = Set(planner.adapters.values.filter(\.dropsRepeats).flatMap(\.channels).map(\.rawValue))
            let recovered = try await store.recoverInterruptedSends(resendable: resendable, now: now())
            if recovered.requeued + recovered.failed > 0 {
                logger.warning(
                    "messages interrupted mid-delivery by the previous process",
                    metadata: [
                        "requeued": "\(recovered.requeued)", "failed_not_resent": "\(recovered.failed)",
                    ])
            }
        } catch {
            logger.error("interrupted sends could not be recovered; sending anyway", metadata: ["error": "\(error)"])
        }
        await cancelWhenGracefulShutdown {
            // Recording outbound touchpoints runs beside sending, so a slow interaction-service never holds sends up.
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await sendLoop() }
                group.addTask { await touchpointLoop() }
            }
        }
    }

    /// Queues campaign members and sends due messages, a batch at a time, until cancelled.
    func sendLoop() async {
        while !Task.isCancelled {
            do {
                let queued = try await queueCampaigns()
                let (due, next) = try await store.dueMessages(at: now(), limit: Self.batchSize)
                if !due.isEmpty {
                    await send(due)
                } else if !queued {
                    let untilNext = next.map { Duration.milliseconds(max(0, $0.unixMillis - now().unixMillis)) }
                    try? await Task.sleep(for: min(untilNext ?? Self.idleWait, Self.idleWait))
                }
            } catch {
                if Task.isCancelled { return }
                logger.warning("dispatch failed; retrying", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// Stores sent messages as outbound touchpoints until cancelled.
    func touchpointLoop() async {
        while !Task.isCancelled {
            let recorded: Bool
            do {
                recorded = try await recordTouchpoints()
            } catch {
                if Task.isCancelled { return }
                logger.info("outbound touchpoints postponed", metadata: ["error": "\(error)"])
                recorded = false
            }
            if !recorded { try? await Task.sleep(for: Self.idleWait) }
        }
    }

    /// Messages planned, begun and settled per batch: each step is one transaction or one peer call per batch.
    static var batchSize: Int { 500 }

    /// Queues the next chunk of every campaign still queueing; true when any member was queued.
    func queueCampaigns() async throws -> Bool {
        var queued = 0
        for campaign in try await store.queueingCampaigns() {
            let count = try await store.queueNextMembers(
                campaignID: campaign.campaignId, chunk: Self.campaignChunk, now: now())
            queued += count
            if count < Self.campaignChunk {
                logger.notice("campaign queued", metadata: ["campaign_id": "\(campaign.campaignId)"])
            }
        }
        return queued > 0
    }

    /// Plans a batch of due messages (one call to profile-service per 1,000), settles what is not sent now,
    /// marks the rest `sending` in one transaction, delivers them `concurrency` at a time and settles the results in
    /// one transaction.
    func send(_ batch: [MessageRecord]) async {
        var begun: Set<String> = []
        do {
            let templates = try await store.templates(ids: Set(batch.map(\.templateId)))
            var settled: [(messageID: String, outcome: SendOutcome)] = []
            var planned: [(message: MessageRecord, template: TemplateRecord)] = []
            for message in batch {
                if let template = templates[message.templateId] {
                    planned.append((message, template))
                } else {
                    settled.append(
                        (message.messageId, .failed(reason: "template \(message.templateId) no longer exists")))
                }
            }
            let plans = try await planner.plan(planned, now: now())
            var deliveries: [(message: MessageRecord, envelope: Envelope, adapter: any MessageAdapter)] = []
            for ((message, _), plan) in zip(planned, plans) {
                switch plan {
                case .suppress(let reason):
                    settled.append((message.messageId, .suppressed(reason: reason)))
                case .postpone(let until, let reason, _, _):
                    settled.append((message.messageId, .deferred(until: until, reason: reason)))
                case .send(let envelope, _):
                    if let adapter = planner.adapters[envelope.channel] {
                        deliveries.append((message, envelope, adapter))
                    }
                }
            }
            try await store.settleAll(settled, at: now())
            count(settled.map(\.outcome), deferredAs: "deferred")
            try await store.beginAttempts(deliveries.map { ($0.message.messageId, $0.envelope.channel.rawValue) })
            begun = Set(deliveries.map(\.message.messageId))
            let results = await deliver(deliveries.map { ($0.envelope, $0.adapter) })
            let outcomes = zip(deliveries, results).map { delivery, result in
                (delivery.message.messageId, outcome(delivery.message, envelope: delivery.envelope, result))
            }
            try await store.settleAll(outcomes, at: now())
            count(outcomes.map(\.1), deferredAs: "retried")
        } catch {
            guard !Task.isCancelled else { return }
            // profile-service unreachable, or the store: the batch stays queued and is tried again shortly. Messages
            // already marked `sending` stay so, and are settled by `recoverInterruptedSends` at the next start.
            logger.info("messages postponed", metadata: ["messages": "\(batch.count)", "error": "\(error)"])
            let retry = now().adding(.seconds(2))
            try? await store.settleAll(
                batch.filter { !begun.contains($0.messageId) }.map {
                    ($0.messageId, .deferred(until: retry, reason: "\(error)"))
                }, at: now())
        }
    }

    /// Hands each envelope to its adapter, `concurrency` at a time; results in order.
    func deliver(_ envelopes: [(Envelope, any MessageAdapter)]) async -> [Result<Void, DeliveryError>] {
        var results = [Result<Void, DeliveryError>](repeating: .success(()), count: envelopes.count)
        await withTaskGroup(of: (Int, Result<Void, DeliveryError>).self) { group in
            for (index, (envelope, adapter)) in envelopes.enumerated() {
                if index >= concurrency, let (done, result) = await group.next() { results[done] = result }
                group.addTask {
                    do throws(DeliveryError) {
                        try await adapter.deliver(envelope)
                        return (index, .success(()))
                    } catch {
                        return (index, .failure(error))
                    }
                }
            }
            for await (done, result) in group { results[done] = result }
        }
        return results
    }

    /// An attempt's result as a settlement: sent, failed for good, or deferred for a retry with exponential backoff.
    func outcome(_ message: MessageRecord, envelope: Envelope, _ delivery: Result<Void, DeliveryError>) -> SendOutcome {
        switch delivery {
        case .success:
            return .sent(
                customerID: envelope.customerID, channel: envelope.channel.rawValue, recipient: envelope.recipient,
                subject: envelope.subject, body: envelope.body, language: envelope.language)
        case .failure(.permanent(let reason)):
            return .failed(reason: reason)
        case .failure(.transient(let reason)):
            let attempts = message.attempts + 1
            if attempts >= retryLimit { return .failed(reason: "\(attempts) attempts failed; last: \(reason)") }
            let backoff = Duration.milliseconds(min(300_000, 500 << min(attempts, 10)))
            return .deferred(until: now().adding(backoff), reason: "retry \(attempts + 1) of \(retryLimit): \(reason)")
        }
    }

    /// Counts settlements by outcome (`c360_outreach_messages_total{outcome}`); a deferral counts as `deferredAs`:
    /// "deferred" when planned (quiet hours), "retried" after a delivery attempt.
    func count(_ outcomes: [SendOutcome], deferredAs deferral: String) {
        for outcome in outcomes {
            let label =
                switch outcome {
                case .sent: "sent"
                case .suppressed: "suppressed"
                case .failed: "failed"
                case .deferred: deferral
                }
            Counter(label: "c360_outreach_messages_total", dimensions: [("outcome", label)]).increment()
        }
    }

    /// Stores sent messages as outbound touchpoints, up to 1,000 in one client stream; true when any was stored.
    /// interaction-service drops a repeated event id, so a batch retried after a lost answer records nothing twice.
    func recordTouchpoints() async throws -> Bool {
        let pending = try await store.unrecordedTouchpoints(limit: 1_000)
        guard !pending.isEmpty else { return false }
        let response = try await interaction.recordTouchpoints(options: CallOptions.deadline(deadline)) { writer in
            for message in pending {
                let channel = Channel(rawValue: message.channel) ?? .email
                try await writer.write(
                    .with {
                        $0.customerID = message.customerId
                        $0.touchpoint = .with {
                            $0.eventID = OutreachStore.ownTouchpointPrefix + message.messageId
                            $0.customerID = message.customerId
                            $0.occurredAt = .init(date: Date(unixMillis: message.sentAt ?? message.createdAt))
                            $0.channel = channel.proto
                            $0.kind = message.campaignId.isEmpty ? .message : .campaignSent
                            $0.direction = .outbound
                            $0.campaignID = message.campaignId
                            $0.attributes = [
                                "template_id": message.templateId, "message_id": message.messageId,
                                "delivery_status": message.status.rawValue,
                            ]
                        }
                    })
            }
        }
        // Rejected for good (the customer is gone: erased, unknown) is as done as stored; anything else is retried.
        var retry = Set<Int>()
        for rejection in response.rejections
        where !["FAILED_PRECONDITION", "INVALID_ARGUMENT", "NOT_FOUND"].contains(rejection.code) {
            retry.insert(Int(rejection.index))
        }
        for rejection in response.rejections where !retry.contains(Int(rejection.index)) {
            logger.info(
                "outbound touchpoint dropped",
                metadata: ["event_id": "\(rejection.eventID)", "reason": "\(rejection.reason)"])
        }
        let done = pending.enumerated().filter { !retry.contains($0.offset) }.map(\.element.messageId)
        try await store.markTouchpointsRecorded(done)
        return done.count == pending.count
    }
}

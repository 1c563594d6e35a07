import C360Clients
import C360Contracts
import C360ServerKit
import C360StoreKit
public import Foundation
public import GRPCCore
public import GRPCNIOTransportHTTP2
public import Logging
import Metrics
public import ServiceLifecycle

/// Sends queued messages as they fall due, `concurrency` at a time: plans each (`SendPlanner`), hands it to the
/// channel's adapter, and settles it; retries transient failures with exponential backoff up to `retryLimit`
/// attempts; queues campaign members in chunks; and stores every sent message in interaction-service as an outbound
/// touchpoint (event id `outreach:<message_id>`, so a repeat is a duplicate there, never a second touchpoint).
public struct MessageDispatcher: Service {
    public typealias Transport = HTTP2ClientTransport.Posix

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

    public init(store: OutreachStore, planner: SendPlanner, interaction: GRPCClient<Transport>, logger: Logger,
                concurrency: Int, retryLimit: Int, deadline: Duration, now: @escaping @Sendable () -> Date = Date.init) {
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
                logger.warning("messages interrupted mid-delivery by the previous process", metadata: [
                    "requeued": "\(recovered.requeued)", "failed_not_resent": "\(recovered.failed)"])
            }
        } catch {
            logger.error("interrupted sends could not be recovered; sending anyway", metadata: ["error": "\(error)"])
        }
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                var worked = false
                do {
                    worked = try await queueCampaigns() || worked
                    let (due, next) = try await store.dueMessages(at: now(), limit: concurrency * 16)
                    if !due.isEmpty {
                        worked = true
                        await withTaskGroup(of: Void.self) { group in
                            for (index, message) in due.enumerated() {
                                if index >= concurrency { await group.next() }
                                group.addTask { await send(message) }
                            }
                        }
                    }
                    worked = try await recordTouchpoints() || worked
                    if !worked {
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
    }

    /// Queues the next chunk of every campaign still queueing; true when any member was queued.
    func queueCampaigns() async throws -> Bool {
        var queued = 0
        for campaign in try await store.queueingCampaigns() {
            let count = try await store.queueNextMembers(campaignID: campaign.campaignId, chunk: Self.campaignChunk, now: now())
            queued += count
            if count < Self.campaignChunk {
                logger.notice("campaign queued", metadata: ["campaign_id": "\(campaign.campaignId)"])
            }
        }
        return queued > 0
    }

    /// Plans, sends and settles one message.
    func send(_ message: MessageRecord) async {
        do {
            let template = try await store.template(id: message.templateId)
            let plan = try await planner.plan(message, template: template, now: now())
            switch plan {
            case .suppress(let reason):
                try await store.settle(message.messageId, .suppressed(reason: reason), at: now())
                Counter(label: "c360_outreach_messages_total", dimensions: [("outcome", "suppressed")]).increment()
            case .postpone(let until, let reason, _, _):
                try await store.settle(message.messageId, .deferred(until: until, reason: reason), at: now())
                Counter(label: "c360_outreach_messages_total", dimensions: [("outcome", "deferred")]).increment()
            case .send(let envelope, _):
                guard let adapter = planner.adapters[envelope.channel] else { return }
                try await store.beginAttempt(message.messageId, channel: envelope.channel.rawValue)
                let delivery: Result<Void, DeliveryError>
                do {
                    try await adapter.deliver(envelope)
                    delivery = .success(())
                } catch {
                    delivery = .failure(error)
                }
                try await settle(message, envelope: envelope, delivery)
            }
        } catch {
            guard !Task.isCancelled else { return }
            // profile-service unreachable, or the store: the message stays queued and is tried again shortly.
            logger.info("message postponed", metadata: ["message_id": "\(message.messageId)", "error": "\(error)"])
            _ = try? await store.settle(message.messageId, .deferred(until: now().adding(.seconds(2)), reason: "\(error)"), at: now())
        }
    }

    /// Records an attempt's result: sent, failed for good, or deferred for a retry with exponential backoff.
    func settle(_ message: MessageRecord, envelope: Envelope, _ delivery: Result<Void, DeliveryError>) async throws {
        let outcome: SendOutcome
        let label: String
        switch delivery {
        case .success:
            outcome = .sent(channel: envelope.channel.rawValue, recipient: envelope.recipient, subject: envelope.subject,
                            body: envelope.body, language: envelope.language)
            label = "sent"
        case .failure(.permanent(let reason)):
            outcome = .failed(reason: reason)
            label = "failed"
        case .failure(.transient(let reason)):
            let attempts = message.attempts + 1
            if attempts >= retryLimit {
                outcome = .failed(reason: "\(attempts) attempts failed; last: \(reason)")
                label = "failed"
            } else {
                let backoff = Duration.milliseconds(min(300_000, 500 << min(attempts, 10)))
                outcome = .deferred(until: now().adding(backoff), reason: "retry \(attempts + 1) of \(retryLimit): \(reason)")
                label = "retried"
            }
        }
        try await store.settle(message.messageId, outcome, at: now())
        Counter(label: "c360_outreach_messages_total", dimensions: [("outcome", label)]).increment()
    }

    /// Stores sent messages as outbound touchpoints; true when any was stored.
    func recordTouchpoints() async throws -> Bool {
        let pending = try await store.unrecordedTouchpoints(limit: 200)
        var recorded = 0
        for message in pending {
            let channel = Channel(rawValue: message.channel) ?? .email
            let request = Customer360_V1_RecordTouchpointRequest.with {
                $0.customerID = message.customerId
                $0.touchpoint = .with {
                    $0.eventID = "outreach:\(message.messageId)"
                    $0.customerID = message.customerId
                    $0.occurredAt = .init(date: Date(unixMillis: message.sentAt ?? message.createdAt))
                    $0.channel = channel.proto
                    $0.kind = message.campaignId.isEmpty ? .message : .campaignSent
                    $0.direction = .outbound
                    $0.campaignID = message.campaignId
                    $0.attributes = ["template_id": message.templateId, "message_id": message.messageId,
                                     "delivery_status": message.status.rawValue]
                }
            }
            do {
                _ = try await interaction.recordTouchpoint(request, options: CallOptions.deadline(deadline))
            } catch let error as RPCError where error.code == .failedPrecondition || error.code == .invalidArgument {
                // The customer is gone (erased, unknown): there is nothing to record it under.
                logger.info("outbound touchpoint dropped", metadata: ["message_id": "\(message.messageId)", "error": "\(error)"])
            } catch {
                logger.info("outbound touchpoint postponed", metadata: ["error": "\(error)"])
                break
            }
            try await store.markTouchpointRecorded(message.messageId)
            recorded += 1
        }
        return recorded > 0
    }
}

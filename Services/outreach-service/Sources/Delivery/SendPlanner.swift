public import C360Clients
import C360Contracts
import C360ServerKit
import C360StoreKit
public import Foundation
public import GRPCCore
import GRPCNIOTransportHTTP2

/// Decides, at send time, whether and how a message goes: the customer's current consents and preferences are asked
/// of profile-service (never taken from the read model, which may lag), quiet hours are honoured in the customer's
/// time zone (the message is deferred, not dropped), marketing messages are capped per customer, and the channel is
/// the first of the forced one — or the preferred channel, the measured best channel, then email, SMS, push — that the
/// template has a text for, an adapter delivers, the customer consented to for the purpose and has an address on.
///
/// Consent rule: marketing needs a grant for the channel (opt-in); service messages go unless withdrawn.
public struct SendPlanner: Sendable {
    public typealias Transport = PeerTransport

    /// What the planner decided.
    public enum Plan: Sendable, Equatable {
        case send(Envelope, missing: [String])
        case postpone(until: Date, reason: String, Envelope, missing: [String])
        case suppress(reason: String)
    }

    let store: OutreachStore
    let profile: Customer360_V1_ProfileService.Client<Transport>
    let adapters: [Channel: any MessageAdapter]
    let cap: FrequencyCap
    let deadline: Duration

    /// The channels outreach sends on.
    static let messagingChannels: [Channel] = [.email, .sms, .push]

    public init(
        store: OutreachStore, profile: GRPCClient<Transport>, adapters: [any MessageAdapter], cap: FrequencyCap,
        deadline: Duration
    ) {
        self.store = store
        self.profile = .init(wrapping: profile)
        var byChannel: [Channel: any MessageAdapter] = [:]
        for adapter in adapters { for channel in adapter.channels { byChannel[channel] = adapter } }
        self.adapters = byChannel
        self.cap = cap
        self.deadline = deadline
    }

    /// The plan for `message` at `now`.
    ///
    /// - Throws: An `RPCError` when profile-service cannot be asked (the message is retried later).
    public func plan(_ message: MessageRecord, template: TemplateRecord, now: Date) async throws -> Plan {
        try await plan([(message, template)], now: now)[0]
    }

    /// The customers of a batch as profile-service answers now: each requested id to its customer and consents, or
    /// nil when it no longer exists.
    typealias Current = [String: (customer: Customer360_V1_Customer, consents: Customer360_V1_GetConsentsResponse)?]

    /// The most ids one `BatchGetCustomers` call may name.
    static let batchLimit = 1_000

    /// The plans for a batch of messages at `now`, in order: the customers and their consents are asked of
    /// profile-service in one call per 1,000, the read model and the frequency cap's counts read once.
    ///
    /// - Throws: An `RPCError` when profile-service cannot be asked (the batch is retried later).
    public func plan(_ batch: [(message: MessageRecord, template: TemplateRecord)], now: Date) async throws -> [Plan] {
        let requested = Array(Set(batch.map(\.message.customerId)))
        var current: Current = [:]
        for start in stride(from: 0, to: requested.count, by: Self.batchLimit) {
            let ids = Array(requested[start..<min(start + Self.batchLimit, requested.count)])
            let answer = try await profile.batchGetCustomers(
                .with { $0.customerIds = ids }, options: .deadline(deadline))
            for result in answer.results {
                current[result.requestedID] =
                    result.hasCustomer
                    ? (
                        result.customer,
                        .with {
                            $0.customerID = result.customer.customerID
                            $0.consents = result.consents
                        }
                    ) : nil
            }
        }
        let survivors = current.values.compactMap { $0?.customer.customerID }
        let facts = try await store.facts(customerIDs: survivors)
        var sent: [String: Int] = [:]
        if cap.limit != nil, batch.contains(where: { $0.message.purpose == .marketing }) {
            sent = try await store.marketingSent(customerIDs: survivors, since: now.adding(.zero - cap.window))
        }
        return batch.map { message, template in
            guard let found = current[message.customerId] ?? nil else {
                return .suppress(reason: "customer \(message.customerId) no longer exists")
            }
            let id = found.customer.customerID
            let plan = decide(
                message, template: template, customer: found.customer, consents: found.consents,
                facts: facts[id], sentToCustomer: sent[id] ?? 0, now: now)
            // Two marketing messages to one customer in the same batch count against the cap together.
            if message.purpose == .marketing, case .send = plan { sent[id, default: 0] += 1 }
            return plan
        }
    }

    /// The plan for one message from what is known now (pure, so it is unit-tested without peers).
    func decide(
        _ message: MessageRecord, template: TemplateRecord, customer: Customer360_V1_Customer,
        consents: Customer360_V1_GetConsentsResponse, facts stored: CustomerFacts?, sentToCustomer sent: Int, now: Date
    ) -> Plan {
        var facts = stored ?? CustomerFacts(customerId: customer.customerID, refreshedAt: now.unixMillis)
        // Who the customer is and how to reach them, as profile-service says now.
        let answer = FactReader.snapshot(
            customer: customer, consents: consents, stats: .init(), scores: .init(),
            success: .init(), now: now)
        let fresh = answer.facts
        let contact = answer.contact
        facts.language = fresh.language
        facts.preferredChannel = fresh.preferredChannel
        facts.quietStartMinute = fresh.quietStartMinute
        facts.quietEndMinute = fresh.quietEndMinute
        if !fresh.timeZone.isEmpty { facts.timeZone = fresh.timeZone }
        facts.loyaltyTier = fresh.loyaltyTier
        facts.loyaltyPoints = fresh.loyaltyPoints
        facts.countryCode = fresh.countryCode
        // `recommendation` and the commerce facts stay the read model's: they are not profile-service's to answer.

        if message.purpose == .marketing, let limit = cap.limit, sent >= limit {
            return .suppress(reason: "frequency cap \(cap) reached (\(sent) marketing messages sent)")
        }

        var refusals: [String] = []
        var chosen: (Channel, TemplateVariant, String)?
        for channel in candidates(message, facts: facts) {
            guard let variant = template.variant(for: channel, language: facts.language) else {
                refusals.append("\(channel.rawValue): the template has no text for it")
                continue
            }
            guard adapters[channel] != nil else {
                refusals.append("\(channel.rawValue): no adapter is configured")
                continue
            }
            guard Self.consented(consents, purpose: message.purpose, channel: channel) else {
                refusals.append("\(channel.rawValue): no \(message.purpose.consentPurpose) consent")
                continue
            }
            let address = contact.address(on: channel)
            guard !address.isEmpty else {
                refusals.append("\(channel.rawValue): no address")
                continue
            }
            chosen = (channel, variant, address)
            break
        }
        guard let (channel, variant, address) = chosen else {
            return .suppress(reason: "no channel can carry it: " + refusals.joined(separator: "; "))
        }
        let values = facts.placeholderValues(contact).merging(message.contextValues.filter { !$0.value.isEmpty }) {
            _, carried in carried
        }
        let subject = (try? TemplateText(variant.subject, field: "subject"))?.render(values)
        let body = (try? TemplateText(variant.body, field: "body"))?.render(values)
        let envelope = Envelope(
            messageID: message.messageId, customerID: customer.customerID, channel: channel, recipient: address,
            subject: subject?.text ?? variant.subject, body: body?.text ?? variant.body, language: variant.language)
        let missing = Array(Set((subject?.missing ?? []) + (body?.missing ?? []))).sorted()
        if let quiet = QuietHours(
            startMinute: facts.quietStartMinute, endMinute: facts.quietEndMinute,
            timeZone: facts.timeZone),
            let until = quiet.deferral(at: now)
        {
            return .postpone(
                until: until, reason: "quiet hours in \(quiet.timeZone.identifier)", envelope, missing: missing)
        }
        return .send(envelope, missing: missing)
    }

    /// Channels to try, in order, without repeats.
    func candidates(_ message: MessageRecord, facts: CustomerFacts) -> [Channel] {
        if let forced = Channel(rawValue: message.forcedChannel) { return [forced] }
        var ordered: [Channel] = []
        for name in [facts.preferredChannel, facts.bestChannel] {
            if let channel = Channel(rawValue: name), Self.messagingChannels.contains(channel),
                !ordered.contains(channel)
            {
                ordered.append(channel)
            }
        }
        return ordered + Self.messagingChannels.filter { !ordered.contains($0) }
    }

    /// Whether the customer's consents allow a message of `purpose` on `channel`.
    static func consented(_ consents: Customer360_V1_GetConsentsResponse, purpose: MessagePurpose, channel: Channel)
        -> Bool
    {
        let wanted: Customer360_V1_ConsentPurpose = purpose == .marketing ? .marketing : .serviceMessages
        let decision = consents.consents.first { $0.purpose == wanted && $0.channel == channel.proto }?.status
        return purpose == .marketing ? decision == .granted : decision != .withdrawn
    }
}

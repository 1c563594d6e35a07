public import C360Clients
import C360Contracts
import C360ServerKit
import C360StoreKit
public import Foundation
public import GRPCCore
import GRPCNIOTransportHTTP2

/// Reads one customer's facts from the services that own them — profile (who they are, consents, preferences),
/// interaction (engagement, commerce, best channel), feedback (NPS, CSAT, sentiment), success (health, alerts) — in
/// parallel, each call under the deadline. This runs per changed customer (coalesced), never per segment evaluation.
public struct FactReader: Sendable {
    public typealias Transport = PeerTransport

    /// What profile-service answered for a customer id.
    public enum Answer: Sendable, Equatable {
        case facts(CustomerSnapshot)
        /// The id was merged into `survivor`: read the survivor instead.
        case merged(survivor: String)
        /// profile-service does not know the id (deleted, erased, never created).
        case gone
    }

    let profile: Customer360_V1_ProfileService.Client<Transport>
    let interaction: Customer360_V1_InteractionService.Client<Transport>
    let feedback: Customer360_V1_FeedbackService.Client<Transport>
    let success: Customer360_V1_SuccessService.Client<Transport>
    let deadline: Duration

    public init(
        profile: GRPCClient<Transport>, interaction: GRPCClient<Transport>, feedback: GRPCClient<Transport>,
        success: GRPCClient<Transport>, deadline: Duration
    ) {
        self.profile = .init(wrapping: profile)
        self.interaction = .init(wrapping: interaction)
        self.feedback = .init(wrapping: feedback)
        self.success = .init(wrapping: success)
        self.deadline = deadline
    }

    /// The customer's facts as of `now`.
    ///
    /// - Throws: The `RPCError` of a peer that could not answer (the refresh is retried later).
    public func read(_ customerID: String, now: Date) async throws -> Answer {
        let options = CallOptions.deadline(deadline)
        let customer: Customer360_V1_Customer
        do {
            customer = try await profile.getCustomer(.with { $0.customerID = customerID }, options: options)
        } catch let error as RPCError where error.code == .notFound || error.code == .failedPrecondition {
            return .gone
        }
        if customer.customerID != customerID { return .merged(survivor: customer.customerID) }
        async let consents = profile.getConsents(.with { $0.customerID = customerID }, options: options)
        async let stats = interaction.getCustomerStats(.with { $0.customerID = customerID }, options: options)
        async let scores = feedback.getCustomerScores(.with { $0.customerID = customerID }, options: options)
        async let health = success.getCustomerSuccess(.with { $0.customerID = customerID }, options: options)
        async let recommended = interaction.recommendProducts(
            .with {
                $0.customerID = customerID
                $0.limit = 1
            }, options: options)
        return .facts(
            Self.snapshot(
                customer: customer, consents: try await consents, stats: try await stats, scores: try await scores,
                success: try await health, recommendations: try await recommended, now: now))
    }

    /// The read model's rows from the owners' answers (pure, so it is unit-tested without peers).
    static func snapshot(
        customer: Customer360_V1_Customer, consents: Customer360_V1_GetConsentsResponse,
        stats: Customer360_V1_GetCustomerStatsResponse, scores: Customer360_V1_CustomerScores,
        success: Customer360_V1_CustomerSuccess, recommendations: Customer360_V1_RecommendProductsResponse = .init(),
        now: Date
    ) -> CustomerSnapshot {
        let id = customer.customerID
        var facts = CustomerFacts(customerId: id, refreshedAt: now.unixMillis)
        facts.language =
            customer.preferences.preferredLanguage.isEmpty
            ? customer.demographics.language : customer.preferences.preferredLanguage
        facts.countryCode = customer.demographics.countryCode
        let quiet = customer.preferences.quietHours
        facts.timeZone = quiet.timeZone.isEmpty ? stats.bestContact.timeZone : quiet.timeZone
        if customer.preferences.hasQuietHours, quiet.startMinute != quiet.endMinute {
            facts.quietStartMinute = Int(quiet.startMinute)
            facts.quietEndMinute = Int(quiet.endMinute)
        }
        facts.preferredChannel = Channel(proto: customer.preferences.preferredChannel)?.rawValue ?? ""
        facts.bestChannel = Channel(proto: stats.bestContact.bestChannel)?.rawValue ?? ""
        facts.lifecycleStage = ProtoName.of(customer.lifecycleStage)
        facts.loyaltyTier = ProtoName.of(customer.loyaltyTier)
        facts.loyaltyPoints = customer.loyaltyPoints
        facts.createdAt = customer.hasCreatedAt ? customer.createdAt.date.unixMillis : nil
        facts.attributes = Self.json(customer.attributes)
        if let top = recommendations.recommendations.first {
            facts.recommendation = top.name.isEmpty ? top.sku : top.name
        }

        let commerce = stats.commerce
        facts.orders = commerce.orders
        facts.clvMinor = commerce.historicClv.amountMinor
        facts.discountDriven = commerce.discountDriven
        facts.rfmSegment = ProtoName.of(commerce.rfm.segment)
        facts.lastPurchaseAt = commerce.hasLastPurchaseAt ? commerce.lastPurchaseAt.date.unixMillis : nil
        let engagement = stats.engagement
        facts.totalTouchpoints = engagement.totalTouchpoints
        facts.lastSeenAt = engagement.hasLastSeenAt ? engagement.lastSeenAt.date.unixMillis : nil
        var channelCounts: [ChannelCount] = []
        for window in engagement.windows {
            switch window.days {
            case 7: facts.touchpoints7d = window.touchpoints
            case 30: facts.touchpoints30d = window.touchpoints
            case 90: facts.touchpoints90d = window.touchpoints
            default: continue
            }
            for count in window.byChannel {
                guard let channel = Channel(proto: count.channel) else { continue }
                channelCounts.append(
                    ChannelCount(
                        customerId: id, windowDays: Int(window.days), channel: channel.rawValue,
                        touchpoints: count.touchpoints))
            }
        }

        facts.npsCategory = ProtoName.of(scores.latestNpsCategory)
        facts.latestCsat = scores.hasCsat ? Int(scores.csat.latestScore) : nil
        if scores.hasSentiment, scores.sentiment.hasMeanScore {
            let mean = scores.sentiment.meanScore
            facts.sentiment = mean > 0.05 ? "positive" : mean < -0.05 ? "negative" : "neutral"
        }

        if success.hasHealth {
            facts.healthBand = ProtoName.of(success.health.band)
            facts.healthScore = success.health.score
        }
        let open = success.openAlerts.filter { $0.state == .open || $0.state == .acknowledged }
        facts.openAlerts = Int64(open.count)
        facts.churnRisk = open.contains { $0.kind == .churnRisk }

        let consentRows = consents.consents.compactMap { state -> CustomerConsent? in
            guard let channel = Channel(proto: state.channel), state.purpose != .unspecified else { return nil }
            return CustomerConsent(
                customerId: id, purpose: ProtoName.of(state.purpose), channel: channel.rawValue,
                granted: state.status == .granted)
        }
        return CustomerSnapshot(
            facts: facts, contact: contact(of: customer), tags: customer.tags, consents: consentRows,
            channelCounts: channelCounts)
    }

    /// Who the customer is and how to reach them, as profile-service answered.
    static func contact(of customer: Customer360_V1_Customer) -> CustomerContact {
        CustomerContact(
            givenName: customer.givenName, familyName: customer.familyName,
            email: customer.identifiers.first { $0.kind == .email }?.value ?? "",
            phone: customer.identifiers.first { $0.kind == .phone }?.value ?? "",
            pushToken: customer.attributes["push_token"] ?? "", city: customer.demographics.city)
    }

    private static func json(_ attributes: [String: String]) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: attributes, options: [.sortedKeys]) else {
            return "{}"
        }
        return String(decoding: data, as: UTF8.self)
    }
}

/// The lower-case name of a proto enum value without its prefix (`LOYALTY_TIER_GOLD` → `gold`), as segment rules
/// and the read model spell them; "" for UNSPECIFIED.
enum ProtoName {
    static func of<Value>(_ value: Value) -> String {
        let name = String(describing: value)
        guard name != "unspecified", !name.hasPrefix("UNRECOGNIZED") else { return "" }
        var snake = ""
        for character in name {
            if character.isUppercase {
                snake += "_" + character.lowercased()
            } else {
                snake.append(character)
            }
        }
        return snake
    }
}

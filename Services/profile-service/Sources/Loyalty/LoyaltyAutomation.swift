public import C360ChangeFeed
public import C360Clients
import C360Contracts
public import C360ServerKit
import C360StoreKit
public import Foundation
import GRDB
public import GRPCCore
import GRPCNIOTransportHTTP2
public import Logging
import Metrics
public import ServiceLifecycle

/// The loyalty program running by itself: interaction-service's purchases and refunds queue their customer (in the
/// transaction that stores the feed position), a worker reads the customer's purchases within the tier window and
/// applies them (each touchpoint once, by its id), and a clock expires points and re-evaluates tiers as purchases
/// leave the window.
public enum LoyaltyAutomation {
    public typealias Transport = PeerTransport

    /// Follows interaction-service's feed (each shard's, when `shards` names any), for the customers `ownership`
    /// gives this process.
    public static func follower(
        interaction: GRPCClient<Transport>, shards: @escaping @Sendable () -> [String] = { [] }, store: ProfileStore,
        ownership: CustomerOwnership = .everyone, delay: Duration, logger: Logger
    ) -> ChangeFeedConsumer<Transport> {
        ChangeFeedConsumer(
            source: .interaction, service: "customer360.v1.InteractionService", client: interaction,
            writer: store.writer, kinds: ProfileStore.loyaltyChanges, logger: logger,
            apply: { db, events in
                // A customer fenced while moving is evaluated again when they arrive on the target; one being merged
                // into another shard's customer, there.
                let fenced = try ProfileStore.busyCustomers(db)
                try ProfileStore.queueLoyalty(
                    db, for: events, delay: delay, now: Date(),
                    owns: { ownership.owns($0) && !(fenced?($0) ?? false) })
            },
            resync: {
                // Purchases were pruned before this service saw them: every active customer is evaluated again
                // (applying is idempotent per touchpoint, so nothing is credited twice).
                let queued = try await store.queueLoyaltyForEveryone(now: Date())
                logger.notice("loyalty resync queued customers", metadata: ["customers": "\(queued)"])
            }, shards: shards)
    }

    /// Works the loyalty queue: reads each customer's purchases and applies them under `program`.
    ///
    /// On a shard, only customers it owns are evaluated: a copy a move brought here waits until the map gives the
    /// customer to this shard, and a customer fenced while moving away is left out of the queue's reads.
    public static func worker(
        store: ProfileStore, purchases: PurchaseReader, program: LoyaltyProgram,
        ownership: CustomerOwnership = .everyone, logger: Logger
    ) -> CustomerQueueWorker {
        let fenced: @Sendable (Database) throws -> ((String) -> Bool)? = { db in try ProfileStore.busyCustomers(db) }
        return CustomerQueueWorker(
            queue: ProfileStore.loyaltyQueue, writer: store.writer, logger: logger,
            metric: "c360_profile_loyalty_evaluation", excluding: fenced
        ) { customerID in
            guard ownership.owns(customerID) else { throw CustomerQueueWorker.NotYet() }
            let history = try await purchases.read(customerID, since: program.windowStart(endingAt: Date()))
            do {
                let result = try await store.applyPurchases(history, customer: customerID, program: program)
                if result.applied > 0 {
                    Counter(label: "c360_profile_loyalty_purchases_applied_total").increment(by: result.applied)
                }
            } catch let error as ProfileError {
                // Deleted, erased or unknown customers earn nothing; their entry is done.
                logger.debug(
                    "loyalty evaluation skipped", metadata: ["customer_id": "\(customerID)", "reason": "\(error)"])
            }
        }
    }
}

/// Reads a customer's purchases and refunds from interaction-service, every page, under the deadline.
public struct PurchaseReader: Sendable {
    let interaction: Customer360_V1_InteractionService.Client<LoyaltyAutomation.Transport>
    let deadline: Duration

    public init(interaction: GRPCClient<LoyaltyAutomation.Transport>, deadline: Duration) {
        self.interaction = .init(wrapping: interaction)
        self.deadline = deadline
    }

    /// Purchases and refunds that occurred at or after `since`.
    public func read(_ customerID: String, since: Date) async throws -> [PurchaseFact] {
        var facts: [PurchaseFact] = []
        var token = ""
        repeat {
            let page = try await interaction.listTimeline(
                .with {
                    $0.customerID = customerID
                    $0.kinds = [.purchase, .refund]
                    $0.timeRange.start = .init(date: since)
                    $0.page.pageSize = 500
                    $0.page.pageToken = token
                }, options: .deadline(deadline))
            facts += page.touchpoints.compactMap(Self.fact)
            token = page.page.nextPageToken
        } while !token.isEmpty
        return facts
    }

    /// The loyalty side of a touchpoint; nil for anything but a purchase or refund with an amount.
    static func fact(_ touchpoint: Customer360_V1_Touchpoint) -> PurchaseFact? {
        let kind: PurchaseFact.Kind
        switch touchpoint.kind {
        case .purchase: kind = .purchase
        case .refund: kind = .refund
        default: return nil
        }
        guard touchpoint.hasPurchase, touchpoint.purchase.hasAmount else { return nil }
        let amount = touchpoint.purchase.amount
        return PurchaseFact(
            touchpointID: touchpoint.eventID, kind: kind, orderID: touchpoint.purchase.orderID,
            amountMinor: amount.amountMinor, currencyCode: amount.currencyCode,
            occurredAt: touchpoint.occurredAt.date)
    }
}

/// Expires points whose time has come and re-evaluates every tier once a day (at start-up, then every 24 h), since
/// a tier over a rolling window falls as old purchases leave it with nobody buying anything.
public struct LoyaltyClock: Service {
    let store: ProfileStore
    let interval: Duration
    let logger: Logger

    /// Lots expired per transaction.
    static var expiryBatch: Int { 500 }

    public init(store: ProfileStore, interval: Duration, logger: Logger) {
        self.store = store
        self.interval = interval
        self.logger = logger
    }

    public func run() async {
        await cancelWhenGracefulShutdown {
            var lastReview: Date?
            while !Task.isCancelled {
                let now = Date()
                do {
                    var expired = 0
                    while true {
                        let batch = try await store.expirePoints(now: now, limit: Self.expiryBatch)
                        expired += batch
                        if batch < Self.expiryBatch || Task.isCancelled { break }
                    }
                    if expired > 0 {
                        Counter(label: "c360_profile_loyalty_lots_expired_total").increment(by: expired)
                        logger.notice("loyalty points expired", metadata: ["lots": "\(expired)"])
                    }
                    if lastReview.map({ now.timeIntervalSince($0) >= 86_400 }) ?? true {
                        let queued = try await store.queueTierReview(now: now)
                        lastReview = now
                        logger.info("loyalty tiers queued for review", metadata: ["customers": "\(queued)"])
                    }
                } catch {
                    logger.warning("loyalty clock failed; retrying at the next tick", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: interval)
            }
        }
    }
}

public import C360ChangeFeed
public import C360Clients
import C360Contracts
public import C360ServerKit
import C360StoreKit
import Foundation
import GRDB
public import GRPCCore
import GRPCNIOTransportHTTP2
public import Logging
import Metrics
public import ServiceLifecycle

/// Keeps the read model current: follows the four data services' feeds (each event queues its customer for a
/// refresh, in the transaction that stores the feed position), refreshes queued customers from their owners once the
/// coalescing delay has passed, and re-evaluates every segment periodically, because rules over time windows ("no
/// purchase within 90 days") change membership with nobody changing anything.
public enum ReadModelUpkeep {
    public typealias Transport = PeerTransport

    /// The feed consumers: one per data service (following each of its shards when it runs as several).
    ///
    /// - Parameters:
    ///   - ownership: The customers this process keeps a read model of: on a shard of outreach-service, its own; the
    ///     feeds name everyone's.
    ///   - forget: Drops what the service's directory remembers of ids a merge or an unmerge resolves anew
    ///     (`CachedCustomerDirectory.forget`): a read by an unmerged id must not be answered with the survivor's
    ///     messages and runs for the rest of the cache's lifetime.
    public static func followers(
        peers: [(ServiceIdentity, PeerConnection, String)], store: OutreachStore,
        profile: GRPCClient<Transport>, delay: Duration, ownership: CustomerOwnership = .everyone,
        forget: @escaping @Sendable ([String]) -> Void = { _ in }, logger: Logger
    ) -> [ChangeFeedConsumer<Transport>] {
        peers.map { identity, connection, service in
            ChangeFeedConsumer(
                source: identity, service: service, client: connection.client, writer: store.writer,
                kinds: OutreachStore.followedChanges, logger: logger,
                apply: { db, events in
                    try OutreachStore.apply(db, events: events, delay: delay, now: Date(), owns: ownership.owns)
                    let resolvedAnew = Self.resolvedAnew(by: events)
                    if !resolvedAnew.isEmpty { forget(resolvedAnew) }
                },
                resync: {
                    // Events were pruned before this service saw them: every customer is read again.
                    let ids =
                        identity.name == ServiceIdentity.profile.name
                        ? try await allCustomers(profile, logger: logger).filter(ownership.owns)
                        : try await store.customerIDs()
                    try await store.queueRefresh(ids, now: Date())
                    logger.notice(
                        "read model resync queued customers",
                        metadata: ["source": "\(identity.name)", "customers": "\(ids.count)"])
                }, shards: connection.shardNames)
        }
    }

    /// The ids whose survivor `events` change: both sides of each merge and unmerge.
    static func resolvedAnew(by events: [Customer360_V1_ChangeEvent]) -> [String] {
        events.filter { [.customerMerged, .customerUnmerged].contains($0.kind) }.flatMap {
            [$0.customerID, $0.relatedCustomerID]
        }
    }

    /// Every customer id profile-service holds, paged.
    static func allCustomers(_ client: GRPCClient<Transport>, logger: Logger) async throws -> [String] {
        let profile = Customer360_V1_ProfileService.Client(wrapping: client)
        var ids: [String] = []
        var token = ""
        repeat {
            let page = try await profile.listCustomers(
                .with {
                    $0.page.pageSize = 500
                    $0.page.pageToken = token
                }, options: CallOptions.deadline(.seconds(10)))
            ids += page.customers.map(\.customerID)
            token = page.page.nextPageToken
            if ids.count % 10_000 < 500 {
                logger.info("read model resync: listing customers", metadata: ["listed": "\(ids.count)"])
            }
        } while !token.isEmpty
        return ids
    }

    /// Refreshes queued customers from their owners.
    ///
    /// On a shard, only customers it may act on are read (`OutreachStore.workable`): a merge's survivor owned by
    /// another shard is that shard's to read (it hears of the merge on its own feeds), and only customers this shard
    /// holds are ever queued. A move's copy waits until the map gives the customer here; one fenced while moving away
    /// is left out of the queue's reads (its entry cannot even be postponed) until it leaves with the customer.
    public static func refresher(store: OutreachStore, reader: FactReader, logger: Logger) -> CustomerQueueWorker {
        let fenced: @Sendable (Database) throws -> ((String) -> Bool)? = { db in try SlotFence.fencedCustomers(db) }
        return CustomerQueueWorker(
            queue: OutreachStore.refreshQueue, writer: store.writer, logger: logger,
            metric: "c360_outreach_fact_refresh", excluding: fenced
        ) { customerID in
            let now = Date()
            // Fenced customers are left out of the queue's reads already: what is left to know is ownership.
            guard store.ownership.owns(customerID) else { throw CustomerQueueWorker.NotYet() }
            switch try await reader.read(customerID, now: now) {
            case .facts(let snapshot):
                try await store.store(snapshot, now: now)
            case .merged(let survivor):
                try await store.forget(customerID: customerID, now: now)
                if try await store.standing(of: survivor) != .elsewhere {
                    try await store.queueRefresh([survivor], now: now)
                }
            case .gone:
                try await store.forget(customerID: customerID, now: now)
            }
        }
    }
}

extension ReadModelUpkeep {
    /// Shreds the data keys of customers whose erasure a feed event applied (`OutreachStore.shredQueue`). The erasure
    /// runs inside the feed consumer's transaction, and a key may only go once that has committed — shredding first
    /// and rolling back would leave rows nobody can read, still held — so the queue carries it past the commit, and a
    /// crash in between leaves the customer queued rather than their key alive.
    public static func shredder(store: OutreachStore, logger: Logger) -> CustomerQueueWorker {
        CustomerQueueWorker(
            queue: OutreachStore.shredQueue, writer: store.writer, logger: logger, metric: "c360_outreach_key_shred",
            concurrency: 1
        ) { customerID in
            try await store.shredKeys(of: [customerID])
            logger.notice("erased customer's data key shredded", metadata: ["customer_id": "\(customerID)"])
        }
    }
}

/// Re-evaluates every segment over the whole read model every `interval`, so time-window rules stay true.
public struct SegmentClock: Service {
    let store: OutreachStore
    let interval: Duration
    let logger: Logger

    public init(store: OutreachStore, interval: Duration, logger: Logger) {
        self.store = store
        self.interval = interval
        self.logger = logger
    }

    public func run() async {
        let (store, logger) = (store, logger)
        await Periodic.run(every: interval, waitFirst: true, logger: logger, failure: "segment re-evaluation failed") {
            let changed = try await store.recomputeSegments(now: Date())
            Counter(label: "c360_outreach_segment_recomputes_total").increment()
            if changed > 0 {
                logger.notice("segments re-evaluated", metadata: ["membership_changes": "\(changed)"])
            }
        }
    }
}

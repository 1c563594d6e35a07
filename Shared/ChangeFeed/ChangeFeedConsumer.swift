import C360Clients
public import C360Contracts
public import C360ServerKit
public import GRDB
public import GRPCCore
import GRPCProtobuf
public import Logging
import Metrics
public import ServiceLifecycle

/// Follows another service's change feed and applies each batch to this service's database, storing the position
/// in the same transaction as the effect: a crash, a `kill -9` or a peer restart neither loses an event nor applies
/// one twice. Effects that need a peer (a re-score) are queued as rows by `apply` and done later from the queue.
///
/// Runs as a lifecycle `Service` among a process's background members, after the peer connection it uses (so it
/// stops first). When the peer is unreachable it retries with backoff from its stored position. When its position
/// is older than the peer's retention (OUT_OF_RANGE) it asks the peer for the head, runs `resync` — which must bring
/// this database up to date from the peer's current state — and continues from that head.
///
/// When the peer runs as shards, each shard has a feed of its own, with its own sequence: the consumer follows every
/// shard the shard map names (pinned by `c360-shard` metadata), each from a position stored under the shard's name,
/// and starts following a shard the map gains while it runs.
public struct ChangeFeedConsumer<Transport: ClientTransport>: Service {
    /// The peer whose feed this is, e.g. `ServiceIdentity.profile`; its name keys the stored position.
    public let source: ServiceIdentity
    private let client: GRPCClient<Transport>
    private let writer: any DatabaseWriter
    private let kinds: [Customer360_V1_ChangeKind]
    private let logger: Logger
    private let apply: @Sendable (Database, [Customer360_V1_ChangeEvent]) throws -> Void
    private let resync: @Sendable () async throws -> Void
    private let descriptor: MethodDescriptor
    private let shards: @Sendable () -> [String]

    /// The longest wait between attempts to reach the peer.
    static var maxBackoff: Duration { .seconds(5) }

    /// - Parameters:
    ///   - source: The peer, reached through `client` (which carries the service token).
    ///   - service: The fully qualified gRPC service serving the feed, e.g. `customer360.v1.ProfileService`.
    ///   - kinds: The kinds of change `apply` wants; empty for all.
    ///   - apply: Applies events (in sequence order, each at most once) inside the transaction that also stores the
    ///     position. Throwing rolls both back; the batch is retried after a backoff.
    ///   - resync: Brings this database up to date after events were pruned before this consumer saw them.
    ///   - shards: The peer's shards in the map in force (`PeerConnection.shardNames`); empty when it is not sharded.
    public init(
        source: ServiceIdentity, service: String, client: GRPCClient<Transport>, writer: any DatabaseWriter,
        kinds: [Customer360_V1_ChangeKind], logger: Logger,
        apply: @escaping @Sendable (Database, [Customer360_V1_ChangeEvent]) throws -> Void,
        resync: @escaping @Sendable () async throws -> Void,
        shards: @escaping @Sendable () -> [String] = { [] }
    ) {
        self.shards = shards
        self.source = source
        self.client = client
        self.writer = writer
        self.kinds = kinds
        self.logger = logger
        self.apply = apply
        self.resync = resync
        self.descriptor = MethodDescriptor(fullyQualifiedService: service, method: "WatchChanges")
    }

    /// How often the shard map is looked at for shards to start following.
    static var shardCheckInterval: Duration { .seconds(5) }

    /// Follows the feed (every shard's, when the peer is sharded) until graceful shutdown or cancellation; neither
    /// is an error.
    public func run() async {
        await cancelWhenGracefulShutdown {
            guard !shards().isEmpty else {
                await keepFollowing(Feed(source: source.name, shard: nil))
                return
            }
            await withDiscardingTaskGroup { group in
                var following: Set<String> = []
                while !Task.isCancelled {
                    for shard in shards() where following.insert(shard).inserted {
                        logger.info(
                            "following a shard's change feed",
                            metadata: ["source": "\(source.name)", "shard": "\(shard)"])
                        group.addTask { await keepFollowing(Feed(source: source.name, shard: shard)) }
                    }
                    try? await Task.sleep(for: Self.shardCheckInterval)
                }
            }
        }
    }

    /// One feed followed: a service's, or one shard's of it, and where its position is stored.
    struct Feed: Sendable {
        var source: String
        var shard: String?

        /// The key of its stored position: the service's name, with the shard's after a `#`.
        var positionKey: String { shard.map { "\(source)#\($0)" } ?? source }

        /// Metadata pinning the watch to the shard.
        var metadata: Metadata { shard.map { [WrongShard.pinKey: .string($0)] } ?? [:] }
    }

    /// Follows one feed, retrying with backoff, until cancelled.
    private func keepFollowing(_ feed: Feed) async {
        var backoff = Duration.milliseconds(100)
        while !Task.isCancelled {
            do {
                // A stream that delivered something before it broke starts the backoff over.
                if try await followOnce(feed) { backoff = .milliseconds(100) }
            } catch let error as RPCError where error.code == .outOfRange {
                logger.warning(
                    "change feed position is out of range; resynchronising",
                    metadata: [
                        "source": "\(feed.positionKey)", "reason": "\(error.message)",
                    ])
                do {
                    try await resynchronise(feed)
                    continue
                } catch {
                    logger.error(
                        "change feed resync failed", metadata: ["source": "\(feed.positionKey)", "error": "\(error)"])
                }
            } catch  where Task.isCancelled {
                return
            } catch {
                logger.info(
                    "change feed interrupted; resuming from the stored position",
                    metadata: [
                        "source": "\(feed.positionKey)", "error": "\(error)", "retry_in": "\(backoff)",
                    ])
            }
            // Cancelled while waiting: the loop ends; shutting down is not an error.
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, Self.maxBackoff)
        }
    }

    /// Watches from the stored position and applies every batch, until the stream ends or fails.
    ///
    /// - Returns: Whether any batch arrived (when the stream ended without an error).
    private func followOnce(_ feed: Feed) async throws -> Bool {
        let key = feed.positionKey
        let position = try await writer.read { db in try ChangeLog.position(db, source: key) }
        let request = Customer360_V1_WatchChangesRequest.with {
            $0.afterSequence = UInt64(max(position, 0))
            $0.kinds = kinds
        }
        let applied = Counter(label: "c360_change_feed_events_applied_total", dimensions: [("source", key)])
        let stored = Gauge(label: "c360_change_feed_position", dimensions: [("source", key)])
        return try await watch(request, metadata: feed.metadata) { [writer, apply] response in
            var progressed = false
            for try await batch in response.messages {
                let count = try await writer.write { db in
                    let position = try ChangeLog.position(db, source: key)
                    // A batch replayed after a reconnect applies only what this database has not seen.
                    let fresh = batch.events.filter { Int64(clamping: $0.sequence) > position }
                    if !fresh.isEmpty { try apply(db, fresh) }
                    let through = max(position, Int64(clamping: batch.throughSequence))
                    if through != position { try ChangeLog.setPosition(db, source: key, to: through) }
                    return fresh.count
                }
                applied.increment(by: count)
                stored.record(Int64(clamping: batch.throughSequence))
                progressed = true
            }
            return progressed
        }
    }

    /// Calls the peer's `WatchChanges` and hands its answers to `handle`.
    private func watch<Result: Sendable>(
        _ request: Customer360_V1_WatchChangesRequest, metadata: Metadata,
        _ handle:
            @Sendable @escaping (StreamingClientResponse<Customer360_V1_WatchChangesResponse>) async throws -> Result
    ) async throws -> Result {
        try await client.serverStreaming(
            request: ClientRequest(message: request, metadata: metadata), descriptor: descriptor,
            serializer: ProtobufSerializer<Customer360_V1_WatchChangesRequest>(),
            deserializer: ProtobufDeserializer<Customer360_V1_WatchChangesResponse>(), options: .defaults,
            onResponse: handle)
    }

    /// Learns the peer's head, runs `resync`, and stores the head as the position: events committed while `resync`
    /// ran come again and are applied again (effects are idempotent).
    private func resynchronise(_ feed: Feed) async throws {
        let request = Customer360_V1_WatchChangesRequest.with {
            $0.startAtHead = true
            $0.untilCaughtUp = true
        }
        let head = try await watch(request, metadata: feed.metadata) { response in
            var head: UInt64 = 0
            for try await batch in response.messages { head = max(head, batch.throughSequence) }
            return head
        }
        try await resync()
        try await writer.write { db in
            try ChangeLog.setPosition(db, source: feed.positionKey, to: Int64(clamping: head))
        }
        logger.notice("change feed resynchronised", metadata: ["source": "\(feed.positionKey)", "position": "\(head)"])
    }
}

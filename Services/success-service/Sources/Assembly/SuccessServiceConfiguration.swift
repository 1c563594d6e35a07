public import C360ChangeFeed
public import C360Clients
public import C360ServerKit
import Foundation
public import ServiceLifecycle

/// Everything success-service needs to run, read once at start-up by `success-service` from its flags and
/// `C360_SUCCESS_*` variables, or built by a test that runs the service in-process.
///
/// | key | flag | environment | default |
/// |---|---|---|---|
/// | `server` | `--host`, `--port`, `--data-dir`, `--tls-*` … (`ServerConfiguration`) | `C360_SUCCESS_HOST` … | port 50054 |
/// | `keyring` | `--kek-file`, `--retired-kek-file`, `--keyring` | `C360_SUCCESS_KEK_FILE` … | a development KEK in the data directory |
/// | `changeFeed` | `--change-retention-hours` | `C360_SUCCESS_CHANGE_RETENTION_HOURS` | a week |
/// | `profileAddress`, `interactionAddress`, `feedbackAddress` | `--profile-addr`, `--interaction-addr`, `--feedback-addr` | `C360_SUCCESS_PROFILE_ADDR` … | their default ports on 127.0.0.1 |
/// | `peerDeadline` | `--peer-deadline-ms` | `C360_SUCCESS_PEER_DEADLINE_MS` | 2 s |
/// | `health` | `--health-weights`, `--green-at`, `--red-below`, `--drop-points` | `C360_SUCCESS_HEALTH_WEIGHTS` … | `HealthConfiguration.default` |
/// | `defaultOwner` | `--default-owner` | `C360_SUCCESS_DEFAULT_OWNER` | `cs-team` |
/// | `rescoreDelay` | `--rescore-delay-ms` | `C360_SUCCESS_RESCORE_DELAY_MS` | 1 s |
/// | `sweepInterval` | `--sweep-interval-hours` | `C360_SUCCESS_SWEEP_INTERVAL_HOURS` | 24 h; `nil` (0) turns the sweep off |
public struct SuccessServiceConfiguration: Sendable {
    public var server: ServerConfiguration
    public var keyring: KeyringConfiguration
    public var changeFeed: ChangeFeedConfiguration
    public var profileAddress: PeerAddress
    /// interaction-service and feedback-service: read for health facts and followed for changes that move health.
    public var interactionAddress: PeerAddress
    public var feedbackAddress: PeerAddress
    public var peerDeadline: Duration
    /// Weights and thresholds of the health score, validated.
    public var health: HealthConfiguration
    /// Owner of playbook tasks for customers without an active plan.
    public var defaultOwner: String
    /// A customer is re-scored this long after the first change that moves their health (a burst is scored once).
    public var rescoreDelay: Duration
    /// Every customer is re-scored this often so scores decay with inactivity; `nil`: no sweep.
    public var sweepInterval: Duration?

    public init(
        server: ServerConfiguration, keyring: KeyringConfiguration = .init(),
        changeFeed: ChangeFeedConfiguration = .init(),
        profileAddress: PeerAddress, interactionAddress: PeerAddress, feedbackAddress: PeerAddress,
        peerDeadline: Duration = .seconds(2), health: HealthConfiguration = .default, defaultOwner: String = "cs-team",
        rescoreDelay: Duration = .seconds(1), sweepInterval: Duration? = .seconds(24 * 3_600)
    ) {
        self.server = server
        self.keyring = keyring
        self.changeFeed = changeFeed
        self.profileAddress = profileAddress
        self.interactionAddress = interactionAddress
        self.feedbackAddress = feedbackAddress
        self.peerDeadline = peerDeadline
        self.health = health
        self.defaultOwner = defaultOwner
        self.rescoreDelay = rescoreDelay
        self.sweepInterval = sweepInterval
    }
}

/// success-service assembled from `configuration`: its store, its three peers, the scorer, batches, the health
/// upkeep (change followers, rescorer, sweep), the merge follower and the feed, served until SIGTERM/SIGINT (or the
/// group's graceful shutdown) by one `ServiceGroup`.
public func makeSuccessServiceGroup(_ configuration: SuccessServiceConfiguration) async throws -> ServiceGroup {
    let host = ServiceHost(identity: .success, configuration: configuration.server)
    let database = try host.openDatabase()
    let keyring = try configuration.keyring.open(host: host)
    let store = try SuccessStore(writer: database, keyring: keyring, owned: host.ownership.slots)
    let interrupted = try await store.interruptOrphanedBatches(at: Date())
    if !interrupted.isEmpty {
        host.logger.warning(
            "batches left running by the previous process are interrupted; StartBatchRecompute with their id resumes them",
            metadata: ["batch_ids": "\(interrupted.joined(separator: ","))"])
    }
    let profile = try host.connect(to: .profile, at: configuration.profileAddress)
    let interaction = try host.connect(to: .interaction, at: configuration.interactionAddress)
    let feedback = try host.connect(to: .feedback, at: configuration.feedbackAddress)
    host.logger.notice(
        "peers",
        metadata: [
            "profile": "\(profile.address)", "interaction": "\(interaction.address)", "feedback": "\(feedback.address)",
            "deadline_ms": "\(configuration.peerDeadline.wholeMilliseconds)",
            "health_config": "\(configuration.health.version)",
        ])
    let peers = PeerHealthFacts(
        interaction: interaction.client, feedback: feedback.client,
        deadline: configuration.peerDeadline)
    let feed = AlertFeed()
    let scorer = HealthScorer(
        store: store, facts: peers, configuration: configuration.health,
        defaultOwner: configuration.defaultOwner, feed: feed)
    // On a shard, background scoring is for the shard's own customers; the calls it answers are checked on arrival.
    let ownership = host.ownership
    let batches = BatchRunner(
        store: store, scorer: scorer, customers: peers, ownership: ownership, logger: host.logger)
    let changes = configuration.changeFeed.feed(writer: database, logger: host.logger)
    let directory = ProfileCustomerDirectory(client: profile.client)
    let service = SuccessService(
        store: store,
        customers: OwnedSurvivorsDirectory(
            upstream: MergeAwareCustomerDirectory(upstream: directory, reader: database), owns: host.ownership.owns),
        scorer: scorer, batches: batches, feed: feed, changes: changes)
    let moves = SlotMoves(store: store, service: host.identity.name, shards: host.configuration.shards)
    // Carries profile-service's merges into this database: plans, scores, alerts and tasks move to the survivor, and
    // on a shard, to the survivor's shard when another owns it.
    let merges = MergeFollower.consumer(
        profile: profile.client, writer: database, directory: directory,
        logger: host.logger,
        rekey: { try store.rekey($0, merged: $1, survivor: $2) },
        unrekey: { try store.unrekey($0, merged: $1, survivor: $2) },
        customerIDs: SuccessStore.customerIDs, shards: profile.shardNames,
        handOver: SlotHandoff.queueing(for: host))
    // Health that keeps itself current: what interaction- and feedback-service change queues a re-score; a sweep
    // catches decay (and whatever a feed consumer had to skip after falling out of a peer's retention).
    let sweep = HealthSweep(
        batches: batches, interval: configuration.sweepInterval ?? .seconds(3_600), logger: host.logger)
    let delay = configuration.rescoreDelay
    let followers = [
        (ServiceIdentity.interaction, interaction, "customer360.v1.InteractionService"),
        (ServiceIdentity.feedback, feedback, "customer360.v1.FeedbackService"),
    ].map { peer, connection, name in
        ChangeFeedConsumer(
            source: peer, service: name, client: connection.client, writer: database,
            kinds: SuccessStore.rescoringChanges, logger: host.logger,
            apply: { db, events in
                try SuccessStore.enqueueRescores(db, for: events, delay: delay, now: Date(), ownership: ownership)
            },
            resync: { await sweep.sweep() }, shards: connection.shardNames)
    }
    let rescorer = HealthRescorer(store: store, scorer: scorer, logger: host.logger, ownership: ownership)
    host.logger.notice(
        "health upkeep",
        metadata: [
            "rescore_delay_ms": "\(configuration.rescoreDelay.wholeMilliseconds)",
            "sweep_interval_hours":
                "\(configuration.sweepInterval.map { "\($0.components.seconds / 3_600)" } ?? "off")",
        ])
    return try host.serviceGroup(
        serving: [service], database: database,
        background: [
            profile, interaction, feedback, feed, changes, batches, rescorer, merges,
            KeyRotation(keyring: keyring, logger: host.logger),
        ] + followers
            + (configuration.sweepInterval == nil ? [] : [sweep])
            + (try SlotHandoff.services(host: host, moves: moves)),
        slotMoves: moves, takesFamilyCalls: true)
}

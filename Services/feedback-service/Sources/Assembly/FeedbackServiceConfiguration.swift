public import C360ChangeFeed
public import C360Clients
public import C360ServerKit
public import ServiceLifecycle

/// Everything feedback-service needs to run, read once at start-up by `feedback-service` from its flags and
/// `C360_FEEDBACK_*` variables, or built by a test that runs the service in-process.
///
/// | key | flag | environment | default |
/// |---|---|---|---|
/// | `server` | `--host`, `--port`, `--data-dir`, `--tls-*` … (`ServerConfiguration`) | `C360_FEEDBACK_HOST` … | port 50053 |
/// | `keyring` | `--kek-file`, `--retired-kek-file`, `--keyring` | `C360_FEEDBACK_KEK_FILE` … | a development KEK in the data directory |
/// | `changeFeed` | `--change-retention-hours` | `C360_FEEDBACK_CHANGE_RETENTION_HOURS` | a week |
/// | `profileAddress` | `--profile-addr` | `C360_FEEDBACK_PROFILE_ADDR` | `127.0.0.1:50051` |
/// | `sentimentThreshold` | `--sentiment-threshold` | `C360_FEEDBACK_SENTIMENT_THRESHOLD` | `0.05` |
public struct FeedbackServiceConfiguration: Sendable {
    public var server: ServerConfiguration
    public var keyring: KeyringConfiguration
    public var changeFeed: ChangeFeedConfiguration
    /// profile-service, asked whether customers exist and followed for merges.
    public var profileAddress: PeerAddress
    /// Comments scoring above this are positive, below its negative negative (0..<1).
    public var sentimentThreshold: Double

    public init(
        server: ServerConfiguration, keyring: KeyringConfiguration = .init(),
        changeFeed: ChangeFeedConfiguration = .init(),
        profileAddress: PeerAddress, sentimentThreshold: Double = 0.05
    ) {
        self.server = server
        self.keyring = keyring
        self.changeFeed = changeFeed
        self.profileAddress = profileAddress
        self.sentimentThreshold = sentimentThreshold
    }
}

/// feedback-service assembled from `configuration`: its store, its peer, its feed and merge follower, served until
/// SIGTERM/SIGINT (or the group's graceful shutdown) by one `ServiceGroup`.
public func makeFeedbackServiceGroup(_ configuration: FeedbackServiceConfiguration) throws -> ServiceGroup {
    let host = ServiceHost(identity: .feedback, configuration: configuration.server)
    let database = try host.openDatabase()
    let keyring = try configuration.keyring.open(host: host)
    let store = try FeedbackStore(
        writer: database, keyring: keyring, owned: host.ownership.slots, handOver: SlotHandoff.queueing(for: host))
    let profile = try host.connect(to: .profile, at: configuration.profileAddress)
    host.logger.notice(
        "peer",
        metadata: [
            "profile": "\(configuration.profileAddress)", "sentiment_threshold": "\(configuration.sentimentThreshold)",
        ])
    let changes = configuration.changeFeed.feed(writer: database, logger: host.logger)
    let directory = ProfileCustomerDirectory(client: profile.client)
    let service = FeedbackService(
        store: store,
        customers: OwnedSurvivorsDirectory(
            upstream: MergeAwareCustomerDirectory(upstream: directory, reader: database), owns: host.ownership.owns),
        sentiment: SentimentAnalyzer(threshold: configuration.sentimentThreshold), changes: changes)
    let moves = SlotMoves(store: store, service: host.identity.name, shards: host.configuration.shards)
    // Carries profile-service's merges into this database: responses, votes and churn reasons move to the survivor,
    // and on a shard, to the survivor's shard when another owns it.
    let merges = MergeFollower.consumer(
        profile: profile.client, writer: database, directory: directory,
        logger: host.logger,
        rekey: FeedbackStore.rekey, unrekey: FeedbackStore.unrekey,
        customerIDs: FeedbackStore.customerIDs, shards: profile.shardNames,
        handOver: SlotHandoff.queueing(for: host))
    return try host.serviceGroup(
        serving: [service], database: database,
        background: [profile, changes, merges, KeyRotation(keyring: keyring, logger: host.logger)]
            + (try SlotHandoff.services(host: host, moves: moves)),
        slotMoves: moves, takesFamilyCalls: true)
}

public import C360ChangeFeed
public import C360Clients
public import C360ServerKit
public import ServiceLifecycle

/// Everything interaction-service needs to run, read once at start-up by `interaction-service` from its flags and
/// `C360_INTERACTION_*` variables, or built by a test that runs the service in-process.
///
/// | key | flag | environment | default |
/// |---|---|---|---|
/// | `server` | `--host`, `--port`, `--data-dir`, `--tls-*` … (`ServerConfiguration`) | `C360_INTERACTION_HOST` … | port 50052 |
/// | `keyring` | `--kek-file`, `--retired-kek-file`, `--keyring` | `C360_INTERACTION_KEK_FILE` … | a development KEK in the data directory |
/// | `changeFeed` | `--change-retention-hours` | `C360_INTERACTION_CHANGE_RETENTION_HOURS` | a week |
/// | `profileAddress` | `--profile-addr` | `C360_INTERACTION_PROFILE_ADDR` | `127.0.0.1:50051` |
/// | `currency` | `--currency` | `C360_INTERACTION_CURRENCY` | `USD` |
public struct InteractionServiceConfiguration: Sendable {
    public var server: ServerConfiguration
    public var keyring: KeyringConfiguration
    public var changeFeed: ChangeFeedConfiguration
    /// profile-service, asked whether customers exist and followed for merges.
    public var profileAddress: PeerAddress
    /// The ISO-4217 currency revenue is summed in; purchases in others are counted, not summed.
    public var currency: String

    public init(
        server: ServerConfiguration, keyring: KeyringConfiguration = .init(),
        changeFeed: ChangeFeedConfiguration = .init(),
        profileAddress: PeerAddress, currency: String = "USD"
    ) {
        self.server = server
        self.keyring = keyring
        self.changeFeed = changeFeed
        self.profileAddress = profileAddress
        self.currency = currency
    }
}

/// interaction-service assembled from `configuration`: its store, its peer, its feed and merge follower, served until
/// SIGTERM/SIGINT (or the group's graceful shutdown) by one `ServiceGroup`.
public func makeInteractionServiceGroup(_ configuration: InteractionServiceConfiguration) throws -> ServiceGroup {
    let host = ServiceHost(identity: .interaction, configuration: configuration.server)
    let database = try host.openDatabase()
    let keyring = try configuration.keyring.open(host: host)
    let store = try InteractionStore(
        writer: database, keyring: keyring, currency: configuration.currency, owned: host.ownership.slots,
        handOver: SlotHandoff.queueing(for: host))
    let profile = try host.connect(to: .profile, at: configuration.profileAddress)
    host.logger.notice(
        "peer", metadata: ["profile": "\(configuration.profileAddress)", "currency": "\(configuration.currency)"])
    let changes = configuration.changeFeed.feed(writer: database, logger: host.logger)
    let directory = ProfileCustomerDirectory(client: profile.client)
    let service = InteractionService(
        store: store,
        customers: OwnedSurvivorsDirectory(
            upstream: MergeAwareCustomerDirectory(upstream: directory, reader: database), owns: host.ownership.owns),
        settings: CommerceSettings(currency: configuration.currency), changes: changes)
    let moves = SlotMoves(store: store, service: host.identity.name, shards: host.configuration.shards)
    // Carries profile-service's merges into this database: the merged-away customer's touchpoints and tickets move to
    // the survivor, and on a shard, to the survivor's shard when another owns it.
    let merges = MergeFollower.consumer(
        profile: profile.client, writer: database, directory: directory,
        logger: host.logger,
        rekey: { try store.rekey($0, merged: $1, survivor: $2) },
        unrekey: { try store.unrekey($0, merged: $1, survivor: $2) }, customerIDs: InteractionStore.customerIDs,
        shards: profile.shardNames,
        handOver: SlotHandoff.queueing(for: host))
    let background: [any Service] =
        [profile, changes, merges, KeyRotation(keyring: keyring, logger: host.logger)]
        + (try SlotHandoff.services(host: host, moves: moves))
    return try host.serviceGroup(
        serving: [service], database: database, background: background, slotMoves: moves, takesFamilyCalls: true)
}

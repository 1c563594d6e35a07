import ArgumentParser
public import C360ChangeFeed
public import C360Clients
public import C360ServerKit
public import ServiceLifecycle

/// Everything profile-service needs to run, read once at start-up by `profile-service` from its flags and
/// `C360_PROFILE_*` variables, or built by a test that runs the service in-process.
///
/// | key | flag | environment | default |
/// |---|---|---|---|
/// | `server` | `--host`, `--port`, `--data-dir`, `--tls-*` … (`ServerConfiguration`) | `C360_PROFILE_HOST` … | port 50051 |
/// | `keyring` | `--kek-file`, `--retired-kek-file`, `--keyring` | `C360_PROFILE_KEK_FILE` … | a development KEK in the data directory |
/// | `changeFeed` | `--change-retention-hours` | `C360_PROFILE_CHANGE_RETENTION_HOURS` | a week |
/// | `loyaltyProgram` | `--loyalty-program` (a JSON file) | `C360_PROFILE_LOYALTY_PROGRAM` | none: points move only through EarnPoints/RedeemPoints |
/// | `interactionAddress` | `--interaction-addr` | `C360_PROFILE_INTERACTION_ADDR` | `127.0.0.1:50052`, called only with a loyalty program |
/// | `loyaltyDelay` | `--loyalty-delay-ms` | `C360_PROFILE_LOYALTY_DELAY_MS` | 500 ms |
/// | `loyaltyClockInterval` | `--loyalty-clock-minutes` | `C360_PROFILE_LOYALTY_CLOCK_MINUTES` | an hour |
public struct ProfileServiceConfiguration: Sendable {
    public var server: ServerConfiguration
    public var keyring: KeyringConfiguration
    public var changeFeed: ChangeFeedConfiguration
    /// The loyalty program to run, loaded and checked; `nil` runs none.
    public var loyaltyProgram: LoyaltyProgram?
    /// interaction-service, whose purchases the loyalty program reads.
    public var interactionAddress: PeerAddress
    /// A customer's loyalty is evaluated this long after the first purchase of a burst.
    public var loyaltyDelay: Duration
    /// How often points are expired (tiers are reviewed daily).
    public var loyaltyClockInterval: Duration

    public init(
        server: ServerConfiguration, keyring: KeyringConfiguration = .init(),
        changeFeed: ChangeFeedConfiguration = .init(),
        loyaltyProgram: LoyaltyProgram? = nil, interactionAddress: PeerAddress,
        loyaltyDelay: Duration = .milliseconds(500), loyaltyClockInterval: Duration = .seconds(3_600)
    ) {
        self.server = server
        self.keyring = keyring
        self.changeFeed = changeFeed
        self.loyaltyProgram = loyaltyProgram
        self.interactionAddress = interactionAddress
        self.loyaltyDelay = loyaltyDelay
        self.loyaltyClockInterval = loyaltyClockInterval
    }
}

/// profile-service assembled from `configuration`: its store, its feed, key rotation and, with a loyalty program,
/// the purchase follower, worker and clock, served until SIGTERM/SIGINT (or the group's graceful shutdown) by one
/// `ServiceGroup`.
public func makeProfileServiceGroup(_ configuration: ProfileServiceConfiguration) throws -> ServiceGroup {
    let host = ServiceHost(identity: .profile, configuration: configuration.server)
    try checkShardKeys(host: host, keyring: configuration.keyring)
    let database = try host.openDatabase()
    let keyring = try configuration.keyring.open(host: host)
    let store = try ProfileStore(writer: database, keyring: keyring, owned: host.ownership.slots)
    let changes = configuration.changeFeed.feed(writer: database, logger: host.logger)
    var background: [any Service] = [
        changes, KeyRotation(keyring: keyring, logger: host.logger),
        SlotTouchPruner(writer: database, logger: host.logger),
    ]
    let moves = SlotMoves(store: store, service: host.identity.name, shards: host.configuration.shards)
    let index = try identifierIndex(host: host, store: store, keyring: configuration.keyring)
    var transfers: FamilyTransfers?
    if let index, let shard = host.configuration.shards?.shard {
        let handing = FamilyTransfers(
            shard: shard, store: store, moves: moves, index: index.index, logger: host.logger)
        transfers = handing
        background.insert(index.connection, at: 0)
        background += [
            IdentifierIndexRepair(index: index.index, logger: host.logger), TransferCompleter(transfers: handing),
        ]
    }
    if let program = configuration.loyaltyProgram {
        let interaction = try host.connect(to: .interaction, at: configuration.interactionAddress)
        background += [
            interaction,
            LoyaltyAutomation.follower(
                interaction: interaction.client, shards: interaction.shardNames, store: store,
                ownership: host.ownership, delay: configuration.loyaltyDelay,
                logger: host.logger),
            LoyaltyAutomation.worker(
                store: store, purchases: PurchaseReader(interaction: interaction.client, deadline: .seconds(5)),
                program: program, ownership: host.ownership, logger: host.logger),
            LoyaltyClock(store: store, interval: configuration.loyaltyClockInterval, logger: host.logger),
        ]
        host.logger.notice(
            "loyalty program running",
            metadata: [
                "program": "\(program.version)", "currency": "\(program.currencyCode)",
                "tier_window_days": "\(program.tierWindowDays)",
                "points_expire_after_days": "\(program.pointsExpireAfterDays)",
                "interaction": "\(configuration.interactionAddress)",
            ])
    } else {
        host.logger.notice(
            "loyalty program off: points move only through EarnPoints and RedeemPoints (--loyalty-program FILE runs one)"
        )
    }
    return try host.serviceGroup(
        serving: [
            ProfileService(
                store: store, changes: changes, loyaltyProgram: configuration.loyaltyProgram, index: index?.index,
                transfers: transfers),
            ProfileShardService(store: store, index: index?.index, transfers: transfers),
        ],
        database: database, background: background, slotMoves: moves, takesFamilyCalls: true)
}

/// Refuses to start a shard (`--shard`) without the deployment's blind-index key, before anything is written: every
/// shard must compute an email's blind index alike to find its slot and its claim in the identifier index.
func checkShardKeys(host: ServiceHost, keyring: KeyringConfiguration) throws {
    guard let shard = host.configuration.shards?.shard, keyring.blindIndexKeyFile == nil else { return }
    throw ValidationError(
        """
        profile-service as a shard (--shard \(shard)) needs --blind-index-key-file (C360_PROFILE_BLIND_INDEX_KEY_FILE): \
        every shard must share one blind-index key, or an email's index entry is not found from another shard
        """)
}

/// On a shard (`--shard`), the identifier index across the service's shards and its connection to the other shards;
/// `nil` in one process.
func identifierIndex(
    host: ServiceHost, store: ProfileStore, keyring: KeyringConfiguration
) throws -> (index: IdentifierIndex, connection: PeerConnection)? {
    guard let shards = host.configuration.shards, let shard = shards.shard else { return nil }
    guard keyring.blindIndexKeyFile != nil else {
        throw ValidationError(
            """
            profile-service as a shard (--shard \(shard)) needs --blind-index-key-file (C360_PROFILE_BLIND_INDEX_KEY_FILE): \
            every shard must share one blind-index key, or an email's index entry is not found from another shard
            """)
    }
    // The map names every shard, so the address is never dialled.
    let peers = try host.connect(to: .profile, at: PeerAddress(host: "127.0.0.1", port: host.configuration.port))
    return (
        IdentifierIndex(
            shard: shard, source: shards.source, store: store, peers: peers.client, logger: host.logger), peers
    )
}

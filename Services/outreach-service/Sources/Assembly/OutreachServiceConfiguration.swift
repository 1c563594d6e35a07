import ArgumentParser
public import C360ChangeFeed
public import C360Clients
public import C360ServerKit
public import ServiceLifecycle

/// Everything outreach-service needs to run, read once at start-up by `outreach-service` from its flags and
/// `C360_OUTREACH_*` variables, or built by a test that runs the service in-process.
///
/// | key | flag | environment | default |
/// |---|---|---|---|
/// | `server` | `--host`, `--port`, `--data-dir`, `--tls-*` … (`ServerConfiguration`) | `C360_OUTREACH_HOST` … | port 50055 |
/// | `keyring` | `--kek-file`, `--retired-kek-file`, `--keyring` | `C360_OUTREACH_KEK_FILE` … | a development KEK in the data directory |
/// | `changeFeed` | `--change-retention-hours` | `C360_OUTREACH_CHANGE_RETENTION_HOURS` | a week |
/// | `profileAddress` … `successAddress` | `--profile-addr`, `--interaction-addr`, `--feedback-addr`, `--success-addr` | `C360_OUTREACH_PROFILE_ADDR` … | their default ports on 127.0.0.1 |
/// | `peerDeadline` | `--peer-deadline-ms` | `C360_OUTREACH_PEER_DEADLINE_MS` | 2 s |
/// | `refreshDelay` | `--refresh-delay-ms` | `C360_OUTREACH_REFRESH_DELAY_MS` | 500 ms |
/// | `smtp` | `--smtp-url`, `--smtp-from` | `C360_OUTREACH_SMTP_URL`, `_SMTP_FROM` | none: email is not sent |
/// | `webhook` | `--webhook-url`, `--webhook-secret` | `C360_OUTREACH_WEBHOOK_URL`, `_WEBHOOK_SECRET` | none: SMS and push are not sent |
/// | `frequencyCap` | `--frequency-cap` | `C360_OUTREACH_FREQUENCY_CAP` | 3 per 7 days |
/// | `sendConcurrency` | `--send-concurrency` | `C360_OUTREACH_SEND_CONCURRENCY` | 16 |
/// | `retryLimit` | `--retry-limit` | `C360_OUTREACH_RETRY_LIMIT` | 5 |
/// | `segmentInterval` | `--segment-interval-s` | `C360_OUTREACH_SEGMENT_INTERVAL_S` | 10 minutes |
public struct OutreachServiceConfiguration: Sendable {
    /// An SMTP relay email is sent through.
    public struct SMTPRelay: Sendable {
        /// `smtp://host:port`.
        public var url: String
        /// The sender, `Name <address>`.
        public var from: String

        public init(url: String, from: String = "Customer 360 <noreply@localhost>") {
            self.url = url
            self.from = from
        }
    }

    /// The webhook SMS and push messages are POSTed to, signed with HMAC-SHA256 under `secret`.
    public struct Webhook: Sendable {
        public var url: String
        public var secret: String

        public init(url: String, secret: String) {
            self.url = url
            self.secret = secret
        }
    }

    public var server: ServerConfiguration
    public var keyring: KeyringConfiguration
    public var changeFeed: ChangeFeedConfiguration
    public var profileAddress: PeerAddress
    public var interactionAddress: PeerAddress
    public var feedbackAddress: PeerAddress
    public var successAddress: PeerAddress
    public var peerDeadline: Duration
    /// A customer's facts are re-read this long after the first change (a burst is read once).
    public var refreshDelay: Duration
    public var smtp: SMTPRelay?
    public var webhook: Webhook?
    public var frequencyCap: FrequencyCap
    /// Messages sent at once (and SMTP connections kept).
    public var sendConcurrency: Int
    /// Attempts before a message whose adapter keeps failing is marked failed.
    public var retryLimit: Int
    /// Every segment is re-evaluated this often, for its time-window rules.
    public var segmentInterval: Duration

    public init(
        server: ServerConfiguration, keyring: KeyringConfiguration = .init(),
        changeFeed: ChangeFeedConfiguration = .init(),
        profileAddress: PeerAddress, interactionAddress: PeerAddress, feedbackAddress: PeerAddress,
        successAddress: PeerAddress, peerDeadline: Duration = .seconds(2), refreshDelay: Duration = .milliseconds(500),
        smtp: SMTPRelay? = nil, webhook: Webhook? = nil, frequencyCap: FrequencyCap = FrequencyCap(parsing: "3/7d")!,
        sendConcurrency: Int = 16, retryLimit: Int = 5, segmentInterval: Duration = .seconds(600)
    ) {
        self.server = server
        self.keyring = keyring
        self.changeFeed = changeFeed
        self.profileAddress = profileAddress
        self.interactionAddress = interactionAddress
        self.feedbackAddress = feedbackAddress
        self.successAddress = successAddress
        self.peerDeadline = peerDeadline
        self.refreshDelay = refreshDelay
        self.smtp = smtp
        self.webhook = webhook
        self.frequencyCap = frequencyCap
        self.sendConcurrency = sendConcurrency
        self.retryLimit = retryLimit
        self.segmentInterval = segmentInterval
    }

    /// The delivery adapters the relay and webhook settings describe.
    ///
    /// - Throws: `ValidationError` naming the flag whose value no adapter accepts.
    func adapters() throws -> [any MessageAdapter] {
        var adapters: [any MessageAdapter] = []
        if let smtp {
            guard let adapter = SMTPAdapter(url: smtp.url, from: smtp.from, maxConnections: sendConcurrency) else {
                throw ValidationError("--smtp-url must look like smtp://host:port, not '\(smtp.url)'")
            }
            adapters.append(adapter)
        }
        if let webhook {
            guard let adapter = WebhookAdapter(url: webhook.url, secret: webhook.secret) else {
                throw ValidationError(
                    "--webhook-url must be an http(s) URL and --webhook-secret (or C360_OUTREACH_WEBHOOK_SECRET) set")
            }
            adapters.append(adapter)
        }
        return adapters
    }
}

/// outreach-service assembled from `configuration`: its store and read model, four peers and their change
/// followers, the send planner and dispatcher, the segment clock and the journey runner, served until SIGTERM/SIGINT
/// (or the group's graceful shutdown) by one `ServiceGroup`.
public func makeOutreachServiceGroup(_ configuration: OutreachServiceConfiguration) throws -> ServiceGroup {
    let adapters = try configuration.adapters()
    let host = ServiceHost(identity: .outreach, configuration: configuration.server)
    let database = try host.openDatabase()
    let keyring = try configuration.keyring.open(host: host)
    let store = try OutreachStore(writer: database, keyring: keyring, ownership: host.ownership)
    let profile = try host.connect(to: .profile, at: configuration.profileAddress)
    let interaction = try host.connect(to: .interaction, at: configuration.interactionAddress)
    let feedback = try host.connect(to: .feedback, at: configuration.feedbackAddress)
    let success = try host.connect(to: .success, at: configuration.successAddress)
    let deadline = configuration.peerDeadline
    host.logger.notice(
        "peers",
        metadata: [
            "profile": "\(profile.address)", "interaction": "\(interaction.address)", "feedback": "\(feedback.address)",
            "success": "\(success.address)", "deadline_ms": "\(deadline.wholeMilliseconds)",
        ])
    host.logger.notice(
        "delivery",
        metadata: [
            "smtp": "\(configuration.smtp?.url ?? "off (email not sent)")",
            "webhook": "\(configuration.webhook?.url ?? "off (sms and push not sent)")",
            "frequency_cap": "\(configuration.frequencyCap)", "send_concurrency": "\(configuration.sendConcurrency)",
            "retry_limit": "\(configuration.retryLimit)",
        ])

    let changes = configuration.changeFeed.feed(writer: database, logger: host.logger)
    let planner = SendPlanner(
        store: store, profile: profile.client, adapters: adapters, cap: configuration.frequencyCap,
        deadline: deadline)
    let directory = CachedCustomerDirectory(upstream: ProfileCustomerDirectory(client: profile.client))
    let service = OutreachService(
        store: store, customers: OwnedSurvivorsDirectory(upstream: directory, owns: host.ownership.owns),
        planner: planner, changes: changes)
    let reader = FactReader(
        profile: profile.client, interaction: interaction.client, feedback: feedback.client,
        success: success.client, deadline: deadline)
    let followers = ReadModelUpkeep.followers(
        peers: [
            (.profile, profile, "customer360.v1.ProfileService"),
            (.interaction, interaction, "customer360.v1.InteractionService"),
            (.feedback, feedback, "customer360.v1.FeedbackService"),
            (.success, success, "customer360.v1.SuccessService"),
        ],
        store: store, profile: profile.client, delay: configuration.refreshDelay, ownership: host.ownership,
        forget: { [directory] in directory.forget($0) }, logger: host.logger)
    let refresher = ReadModelUpkeep.refresher(store: store, reader: reader, logger: host.logger)
    let moves = SlotMoves(store: store, service: host.identity.name, shards: host.configuration.shards)
    let shredder = ReadModelUpkeep.shredder(store: store, logger: host.logger)
    let clock = SegmentClock(store: store, interval: configuration.segmentInterval, logger: host.logger)
    let dispatcher = MessageDispatcher(
        store: store, planner: planner, interaction: interaction.client, logger: host.logger,
        concurrency: configuration.sendConcurrency, retryLimit: configuration.retryLimit, deadline: deadline)
    let journeys = JourneyRunner(
        store: store, profile: profile.client, success: success.client,
        feedback: feedback.client, logger: host.logger, deadline: deadline)
    return try host.serviceGroup(
        serving: [service], database: database,
        background: [
            profile, interaction, feedback, success, changes, refresher, shredder, clock, dispatcher, journeys,
            KeyRotation(keyring: keyring, logger: host.logger), SlotTouchPruner(writer: database, logger: host.logger),
        ] + followers, slotMoves: moves, takesFamilyCalls: true)
}

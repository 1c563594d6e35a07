import C360ChangeFeed
import ArgumentParser
import C360Clients
import C360ServerKit
import Foundation
import SuccessService

/// `success-service`: keeps customers successful. Parses its options and runs until SIGTERM/SIGINT.
@main
struct SuccessServiceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "success-service",
        abstract: "Customer 360 success-service: success plans and goals, health scores across services, churn-risk alerts and playbook tasks.",
        discussion: """
            Owns one SQLite database (success.sqlite in --data-dir) and serves customer360.v1.SuccessService and \
            grpc.health.v1.Health over gRPC. Health scores are computed by calling interaction-service and \
            feedback-service (each call under --peer-deadline); customers are checked with profile-service. Plan, \
            goal and milestone titles, summaries, notes, tasks and alerts are sealed under a key per customer \
            (AES-GCM) kept in a keyring database wrapped by the key-encryption key (--kek-file, \
            C360_SUCCESS_KEK_FILE; rotation with --retired-kek-file, C360_SUCCESS_RETIRED_KEK_FILES; the keyring's \
            path C360_SUCCESS_KEYRING); erasure destroys the keys. Every option also reads C360_SUCCESS_<OPTION> \
            from the environment (e.g. C360_SUCCESS_HEALTH_WEIGHTS).
            """,
        version: C360Version.current,
        subcommands: [
            BackupCommand<SuccessStore>.self, RestoreCommand<SuccessStore>.self, HealthCommand<SuccessStore>.self,
            KeyringBackupCommand<SuccessStore>.self,
        ]
    )

    @OptionGroup var server: ServerOptions
    @OptionGroup var changeFeed: ChangeFeedOptions
    @OptionGroup var keys: KeyringOptions

    @Option(help: "profile-service address. [env: C360_SUCCESS_PROFILE_ADDR] (default: 127.0.0.1:50051)")
    var profileAddr: String?

    @Option(help: "interaction-service address. [env: C360_SUCCESS_INTERACTION_ADDR] (default: 127.0.0.1:50052)")
    var interactionAddr: String?

    @Option(help: "feedback-service address. [env: C360_SUCCESS_FEEDBACK_ADDR] (default: 127.0.0.1:50053)")
    var feedbackAddr: String?

    @Option(help: "Health component weights. [env: C360_SUCCESS_HEALTH_WEIGHTS] (default: engagement=0.3,feedback=0.25,goals=0.2,support=0.15,commercial=0.1)")
    var healthWeights: String?

    @Option(help: "Scores at or above this are green. [env: C360_SUCCESS_GREEN_AT] (default: 70)")
    var greenAt: Double?

    @Option(help: "Scores below this are red (churn risk). [env: C360_SUCCESS_RED_BELOW] (default: 40)")
    var redBelow: Double?

    @Option(help: "A drop of this many points within 30 days raises a score-drop alert. [env: C360_SUCCESS_DROP_POINTS] (default: 15)")
    var dropPoints: Double?

    @Option(help: "Owner of playbook tasks for customers without an active plan. [env: C360_SUCCESS_DEFAULT_OWNER] (default: cs-team)")
    var defaultOwner: String?

    @Option(help: "Deadline of each call to a peer, in milliseconds. [env: C360_SUCCESS_PEER_DEADLINE_MS] (default: 2000)")
    var peerDeadlineMs: Int?

    @Option(help: "Re-score a customer this long after the first change that moves their health (a burst is scored once), in milliseconds. [env: C360_SUCCESS_RESCORE_DELAY_MS] (default: 1000)")
    var rescoreDelayMs: Int?

    @Option(help: "Re-score every customer this often, so scores decay with inactivity; 0 turns the sweep off. [env: C360_SUCCESS_SWEEP_INTERVAL_HOURS] (default: 24)")
    var sweepIntervalHours: Int?

    func run() async throws {
        let identity = ServiceIdentity.success
        let environment = EnvironmentReader(service: identity, environment: ProcessInfo.processInfo.environment)
        let profileAddress = try environment.peerAddress(profileAddr, key: "PROFILE_ADDR", default: "127.0.0.1:50051")
        let interactionAddress = try environment.peerAddress(interactionAddr, key: "INTERACTION_ADDR", default: "127.0.0.1:50052")
        let feedbackAddress = try environment.peerAddress(feedbackAddr, key: "FEEDBACK_ADDR", default: "127.0.0.1:50053")
        let health: HealthConfiguration
        do {
            var configuration = HealthConfiguration.default
            if let weights: String = try healthWeights ?? environment.value("HEALTH_WEIGHTS") {
                configuration.weights = try HealthConfiguration.weights(parsing: weights)
            }
            configuration.greenAt = try greenAt ?? environment.value("GREEN_AT") ?? configuration.greenAt
            configuration.redBelow = try redBelow ?? environment.value("RED_BELOW") ?? configuration.redBelow
            configuration.dropPoints = try dropPoints ?? environment.value("DROP_POINTS") ?? configuration.dropPoints
            health = try configuration.validated()
        } catch let error as HealthConfigurationError {
            throw ValidationError("health configuration: \(error)")
        }
        let owner: String = try defaultOwner ?? environment.value("DEFAULT_OWNER") ?? "cs-team"
        let deadlineMs: Int = try peerDeadlineMs ?? environment.value("PEER_DEADLINE_MS") ?? 2000
        guard (10...60_000).contains(deadlineMs) else { throw ValidationError("--peer-deadline-ms must be 10...60000") }
        let rescoreDelayMs: Int = try rescoreDelayMs ?? environment.value("RESCORE_DELAY_MS") ?? 1_000
        guard (0...600_000).contains(rescoreDelayMs) else {
            throw ValidationError("--rescore-delay-ms must be 0...600000, not \(rescoreDelayMs)")
        }
        let sweepHours: Int = try sweepIntervalHours ?? environment.value("SWEEP_INTERVAL_HOURS") ?? 24
        guard (0...8_760).contains(sweepHours) else {
            throw ValidationError("--sweep-interval-hours must be 0...8760, not \(sweepHours)")
        }

        let host = ServiceHost(identity: identity, configuration: try server.resolve(for: identity))
        let database = try host.openDatabase()
        let keyring = try keys.open(host: host, environment: environment)
        let store = try SuccessStore(writer: database, keyring: keyring)
        let interrupted = try await store.interruptOrphanedBatches(at: Date())
        if !interrupted.isEmpty {
            host.logger.warning("batches left running by the previous process are interrupted; StartBatchRecompute with their id resumes them",
                                metadata: ["batch_ids": "\(interrupted.joined(separator: ","))"])
        }
        let profile = try PeerConnection(address: profileAddress, credentials: host.configuration.peerCredentials)
        let interaction = try PeerConnection(address: interactionAddress, credentials: host.configuration.peerCredentials)
        let feedback = try PeerConnection(address: feedbackAddress, credentials: host.configuration.peerCredentials)
        host.logger.notice("peers", metadata: [
            "profile": "\(profileAddress)", "interaction": "\(interactionAddress)", "feedback": "\(feedbackAddress)",
            "deadline_ms": "\(deadlineMs)", "health_config": "\(health.version)",
        ])
        let peers = PeerHealthFacts(interaction: interaction.client, feedback: feedback.client,
                                    deadline: .milliseconds(deadlineMs))
        let feed = AlertFeed()
        let scorer = HealthScorer(store: store, facts: peers, configuration: health, defaultOwner: owner, feed: feed)
        let batches = BatchRunner(store: store, scorer: scorer, customers: peers, logger: host.logger)
        let changes = try changeFeed.feed(writer: database, identity: identity, environment: environment, logger: host.logger)
        let directory = ProfileCustomerDirectory(client: profile.client)
        let readCache = CachedCustomerDirectory(upstream: directory)
        let service = SuccessService(
            store: store, customers: MergeAwareCustomerDirectory(upstream: readCache, reader: database),
            scorer: scorer, batches: batches, feed: feed, changes: changes)
        // Carries profile-service's merges into this database: plans, scores, alerts and tasks move to the survivor.
        let merges = MergeFollower.consumer(
            profile: profile.client, writer: database, directory: directory, readCache: readCache,
            logger: host.logger,
            rekey: { try store.rekey($0, merged: $1, survivor: $2) },
            unrekey: { try store.unrekey($0, merged: $1, survivor: $2) },
            customerIDs: SuccessStore.customerIDs)
        // Health that keeps itself current: what interaction- and feedback-service change queues a re-score; a sweep
        // catches decay (and whatever a feed consumer had to skip after falling out of a peer's retention).
        let sweep = HealthSweep(batches: batches, interval: .seconds(max(sweepHours, 1) * 3_600), logger: host.logger)
        let delay = Duration.milliseconds(rescoreDelayMs)
        let followers = [(ServiceIdentity.interaction, interaction, "customer360.v1.InteractionService"),
                         (ServiceIdentity.feedback, feedback, "customer360.v1.FeedbackService")].map { peer, connection, name in
            ChangeFeedConsumer(
                source: peer, service: name, client: connection.client, writer: database,
                kinds: SuccessStore.rescoringChanges, logger: host.logger,
                apply: { db, events in try SuccessStore.enqueueRescores(db, for: events, delay: delay, now: Date()) },
                resync: { await sweep.sweep() })
        }
        let rescorer = HealthRescorer(store: store, scorer: scorer, logger: host.logger)
        host.logger.notice("health upkeep", metadata: [
            "rescore_delay_ms": "\(rescoreDelayMs)", "sweep_interval_hours": "\(sweepHours == 0 ? "off" : "\(sweepHours)")",
        ])
        try await host.serviceGroup(
            serving: [service], database: database,
            background: [profile, interaction, feedback, feed, changes, batches, rescorer, merges,
                         KeyRotation(keyring: keyring, logger: host.logger)] + followers
                + (sweepHours > 0 ? [sweep] : [])
        ).run()
    }
}

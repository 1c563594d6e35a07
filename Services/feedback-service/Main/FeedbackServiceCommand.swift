import C360ChangeFeed
import ArgumentParser
import C360Clients
import C360ServerKit
import FeedbackService
import Foundation

/// `feedback-service`: what customers tell us. Parses its options and runs until SIGTERM/SIGINT.
@main
struct FeedbackServiceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "feedback-service",
        abstract: "Customer 360 feedback-service: NPS, CSAT and CES surveys, comment sentiment and themes, feature requests, churn reasons.",
        discussion: """
            Owns one SQLite database (feedback.sqlite in --data-dir), serves customer360.v1.FeedbackService and \
            grpc.health.v1.Health over gRPC, and asks profile-service whether customers exist. Comments are read \
            in English and Persian. Comments and churn reasons are sealed under a key per customer (AES-GCM) kept \
            in a keyring database wrapped by the key-encryption key (--kek-file, C360_FEEDBACK_KEK_FILE; rotation \
            with --retired-kek-file, C360_FEEDBACK_RETIRED_KEK_FILES; the keyring's path C360_FEEDBACK_KEYRING); \
            erasure destroys the keys. Every option also reads C360_FEEDBACK_<OPTION> from the environment \
            (e.g. C360_FEEDBACK_PROFILE_ADDR).
            """,
        version: C360Version.current,
        subcommands: [
            BackupCommand<FeedbackStore>.self, RestoreCommand<FeedbackStore>.self, HealthCommand<FeedbackStore>.self,
            KeyringBackupCommand<FeedbackStore>.self,
        ]
    )

    @OptionGroup var server: ServerOptions
    @OptionGroup var changeFeed: ChangeFeedOptions
    @OptionGroup var keys: KeyringOptions

    @Option(help: "profile-service address. [env: C360_FEEDBACK_PROFILE_ADDR] (default: 127.0.0.1:50051)")
    var profileAddr: String?

    @Option(help: "Sentiment scores above this are positive, below its negative are negative. [env: C360_FEEDBACK_SENTIMENT_THRESHOLD] (default: 0.05)")
    var sentimentThreshold: Double?

    func run() async throws {
        let identity = ServiceIdentity.feedback
        let environment = EnvironmentReader(service: identity, environment: ProcessInfo.processInfo.environment)
        let profileAddress = try environment.peerAddress(profileAddr, key: "PROFILE_ADDR", default: "127.0.0.1:50051")
        let threshold: Double = try sentimentThreshold ?? environment.value("SENTIMENT_THRESHOLD") ?? 0.05
        guard (0..<1).contains(threshold) else {
            throw ValidationError("--sentiment-threshold must be in 0..<1, not \(threshold)")
        }

        let host = ServiceHost(identity: identity, configuration: try server.resolve(for: identity))
        let database = try host.openDatabase()
        let keyring = try keys.open(host: host, environment: environment)
        let store = try FeedbackStore(writer: database, keyring: keyring)
        let profile = try PeerConnection(address: profileAddress, credentials: host.configuration.peerCredentials)
        host.logger.notice("peer", metadata: ["profile": "\(profileAddress)", "sentiment_threshold": "\(threshold)"])
        let changes = try changeFeed.feed(writer: database, identity: identity, environment: environment, logger: host.logger)
        let directory = ProfileCustomerDirectory(client: profile.client)
        let readCache = CachedCustomerDirectory(upstream: directory)
        let service = FeedbackService(
            store: store, customers: MergeAwareCustomerDirectory(upstream: readCache, reader: database),
            sentiment: SentimentAnalyzer(threshold: threshold), changes: changes)
        // Carries profile-service's merges into this database: responses, votes and churn reasons move to the survivor.
        let merges = MergeFollower.consumer(
            profile: profile.client, writer: database, directory: directory, readCache: readCache,
            logger: host.logger,
            rekey: FeedbackStore.rekey, unrekey: FeedbackStore.unrekey,
            customerIDs: FeedbackStore.customerIDs)
        try await host.serviceGroup(
            serving: [service], database: database,
            background: [profile, changes, merges, KeyRotation(keyring: keyring, logger: host.logger)]
        ).run()
    }
}

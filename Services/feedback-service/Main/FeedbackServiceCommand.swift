import ArgumentParser
import C360ChangeFeed
import C360Clients
import C360Feedback
import C360ServerKit
import Foundation
import ServiceLifecycle

/// `feedback-service`: what customers tell us. Parses its options and runs until SIGTERM/SIGINT.
@main
struct FeedbackServiceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "feedback-service",
        abstract:
            "Customer 360 feedback-service: NPS, CSAT and CES surveys, comment sentiment and themes, feature requests, churn reasons.",
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
            KeyringBackupCommand<FeedbackStore>.self, ReshardCommand<FeedbackStore>.self,
        ]
    )

    @OptionGroup var server: ServerOptions
    @OptionGroup var changeFeed: ChangeFeedOptions
    @OptionGroup var keys: KeyringOptions
    @OptionGroup var profile: PeerAddressOption<ProfilePeer>

    @Option(
        help:
            "Sentiment scores above this are positive, below its negative are negative. [env: C360_FEEDBACK_SENTIMENT_THRESHOLD] (default: 0.05)"
    )
    var sentimentThreshold: Double?

    func run() async throws {
        try await makeFeedbackServiceGroup(try resolve()).run()
    }

    /// The flags, else `C360_FEEDBACK_*`, else the defaults (`FeedbackServiceConfiguration` lists them).
    func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> FeedbackServiceConfiguration
    {
        let identity = ServiceIdentity.feedback
        let env = EnvironmentReader(service: identity, environment: environment)
        let threshold: Double = try sentimentThreshold ?? env.value("SENTIMENT_THRESHOLD") ?? 0.05
        guard (0..<1).contains(threshold) else {
            throw ValidationError("--sentiment-threshold must be in 0..<1, not \(threshold)")
        }
        return FeedbackServiceConfiguration(
            server: try server.resolve(for: identity, environment: environment), keyring: try keys.resolve(env),
            changeFeed: try changeFeed.resolve(env), profileAddress: try profile.resolve(env),
            sentimentThreshold: threshold)
    }
}

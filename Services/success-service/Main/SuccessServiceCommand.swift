import ArgumentParser
import C360ChangeFeed
import C360Clients
import C360ServerKit
import C360Success
import Foundation
import ServiceLifecycle

/// `success-service`: keeps customers successful. Parses its options and runs until SIGTERM/SIGINT.
@main
struct SuccessServiceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "success-service",
        abstract:
            "Customer 360 success-service: success plans and goals, health scores across services, churn-risk alerts and playbook tasks.",
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
            KeyringBackupCommand<SuccessStore>.self, ReshardCommand<SuccessStore>.self,
        ]
    )

    @OptionGroup var server: ServerOptions
    @OptionGroup var changeFeed: ChangeFeedOptions
    @OptionGroup var keys: KeyringOptions
    @OptionGroup var profile: PeerAddressOption<ProfilePeer>
    @OptionGroup var interaction: PeerAddressOption<InteractionPeer>
    @OptionGroup var feedback: PeerAddressOption<FeedbackPeer>
    @OptionGroup var peerDeadline: PeerDeadlineOption

    @Option(
        help:
            "Health component weights. [env: C360_SUCCESS_HEALTH_WEIGHTS] (default: engagement=0.3,feedback=0.25,goals=0.2,support=0.15,commercial=0.1)"
    )
    var healthWeights: String?

    @Option(help: "Scores at or above this are green. [env: C360_SUCCESS_GREEN_AT] (default: 70)")
    var greenAt: Double?

    @Option(help: "Scores below this are red (churn risk). [env: C360_SUCCESS_RED_BELOW] (default: 40)")
    var redBelow: Double?

    @Option(
        help:
            "A drop of this many points within 30 days raises a score-drop alert. [env: C360_SUCCESS_DROP_POINTS] (default: 15)"
    )
    var dropPoints: Double?

    @Option(
        help:
            "Owner of playbook tasks for customers without an active plan. [env: C360_SUCCESS_DEFAULT_OWNER] (default: cs-team)"
    )
    var defaultOwner: String?

    @Option(
        help:
            "Re-score a customer this long after the first change that moves their health (a burst is scored once), in milliseconds. [env: C360_SUCCESS_RESCORE_DELAY_MS] (default: 1000)"
    )
    var rescoreDelayMs: Int?

    @Option(
        help:
            "Re-score every customer this often, so scores decay with inactivity; 0 turns the sweep off. [env: C360_SUCCESS_SWEEP_INTERVAL_HOURS] (default: 24)"
    )
    var sweepIntervalHours: Int?

    func run() async throws {
        try await makeSuccessServiceGroup(try resolve()).run()
    }

    /// The flags, else `C360_SUCCESS_*`, else the defaults (`SuccessServiceConfiguration` lists them).
    func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> SuccessServiceConfiguration
    {
        let identity = ServiceIdentity.success
        let env = EnvironmentReader(service: identity, environment: environment)
        let health: HealthConfiguration
        do {
            var configuration = HealthConfiguration.default
            if let weights: String = try healthWeights ?? env.value("HEALTH_WEIGHTS") {
                configuration.weights = try HealthConfiguration.weights(parsing: weights)
            }
            configuration.greenAt = try greenAt ?? env.value("GREEN_AT") ?? configuration.greenAt
            configuration.redBelow = try redBelow ?? env.value("RED_BELOW") ?? configuration.redBelow
            configuration.dropPoints = try dropPoints ?? env.value("DROP_POINTS") ?? configuration.dropPoints
            health = try configuration.validated()
        } catch let error as HealthConfigurationError {
            throw ValidationError("health configuration: \(error)")
        }
        let rescoreDelayMs: Int = try rescoreDelayMs ?? env.value("RESCORE_DELAY_MS") ?? 1_000
        guard (0...600_000).contains(rescoreDelayMs) else {
            throw ValidationError("--rescore-delay-ms must be 0...600000, not \(rescoreDelayMs)")
        }
        let sweepHours: Int = try sweepIntervalHours ?? env.value("SWEEP_INTERVAL_HOURS") ?? 24
        guard (0...8_760).contains(sweepHours) else {
            throw ValidationError("--sweep-interval-hours must be 0...8760, not \(sweepHours)")
        }
        return SuccessServiceConfiguration(
            server: try server.resolve(for: identity, environment: environment), keyring: try keys.resolve(env),
            changeFeed: try changeFeed.resolve(env), profileAddress: try profile.resolve(env),
            interactionAddress: try interaction.resolve(env), feedbackAddress: try feedback.resolve(env),
            peerDeadline: try peerDeadline.resolve(env), health: health,
            defaultOwner: try defaultOwner ?? env.value("DEFAULT_OWNER") ?? "cs-team",
            rescoreDelay: .milliseconds(rescoreDelayMs),
            sweepInterval: sweepHours == 0 ? nil : .seconds(sweepHours * 3_600))
    }
}

import ArgumentParser
import C360ChangeFeed
import C360Clients
import C360Profile
import C360ServerKit
import Foundation
import ServiceLifecycle

/// `profile-service`: who the customer is. Parses its options and runs until SIGTERM/SIGINT.
@main
struct ProfileServiceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile-service",
        abstract: "Customer 360 profile-service: identities, demographics, consents, tags, traits, loyalty.",
        discussion: """
            Owns one SQLite database (profile.sqlite in --data-dir) and serves customer360.v1.ProfileService and \
            grpc.health.v1.Health over gRPC. With --loyalty-program it also runs that loyalty program by itself: it \
            follows interaction-service's change feed (--interaction-addr), credits points and cashback for \
            purchases, sets tiers by net spend over the rolling window and expires points. Names, city, company, \
            identifiers, attributes and merge notes are sealed under a key per customer (AES-GCM), kept in a \
            keyring database wrapped by the key-encryption key (--kek-file, C360_PROFILE_KEK_FILE; rotation with \
            --retired-kek-file, C360_PROFILE_RETIRED_KEK_FILES; the keyring's path C360_PROFILE_KEYRING); erasure \
            destroys the customer's key. Every option also reads C360_PROFILE_<OPTION> from the environment (e.g. \
            C360_PROFILE_PORT).
            """,
        version: C360Version.current,
        subcommands: [
            BackupCommand<ProfileStore>.self, RestoreCommand<ProfileStore>.self, HealthCommand<ProfileStore>.self,
            KeyringBackupCommand<ProfileStore>.self, ReshardCommand<ProfileStore>.self,
        ]
    )

    @OptionGroup var server: ServerOptions
    @OptionGroup var changeFeed: ChangeFeedOptions
    @OptionGroup var keys: KeyringOptions

    @Option(
        help:
            "A loyalty program to run (JSON, see deploy/loyalty-program.json); without it points move only through EarnPoints/RedeemPoints. [env: C360_PROFILE_LOYALTY_PROGRAM]"
    )
    var loyaltyProgram: String?

    /// interaction-service, whose purchases the loyalty program reads.
    @OptionGroup var interaction: PeerAddressOption<InteractionPeer>

    @Option(
        help:
            "Evaluate a customer's loyalty this long after the first purchase of a burst, in milliseconds. [env: C360_PROFILE_LOYALTY_DELAY_MS] (default: 500)"
    )
    var loyaltyDelayMs: Int?

    @Option(
        help:
            "How often points are expired, in minutes (tiers are reviewed daily). [env: C360_PROFILE_LOYALTY_CLOCK_MINUTES] (default: 60)"
    )
    var loyaltyClockMinutes: Int?

    func run() async throws {
        try await makeProfileServiceGroup(try resolve()).run()
    }

    /// The flags, else `C360_PROFILE_*`, else the defaults (`ProfileServiceConfiguration` lists them).
    func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> ProfileServiceConfiguration
    {
        let env = EnvironmentReader(service: .profile, environment: environment)
        let program: LoyaltyProgram?
        if let path: String = try loyaltyProgram ?? env.value("LOYALTY_PROGRAM"), !path.isEmpty {
            do {
                program = try LoyaltyProgram.load(contentsOf: URL(fileURLWithPath: path))
            } catch let error as LoyaltyProgramError {
                throw ValidationError(error.description)
            }
        } else {
            program = nil
        }
        let delayMs: Int = try loyaltyDelayMs ?? env.value("LOYALTY_DELAY_MS") ?? 500
        guard (0...600_000).contains(delayMs) else {
            throw ValidationError("--loyalty-delay-ms must be 0...600000, not \(delayMs)")
        }
        let clockMinutes: Int = try loyaltyClockMinutes ?? env.value("LOYALTY_CLOCK_MINUTES") ?? 60
        guard (1...1_440).contains(clockMinutes) else {
            throw ValidationError("--loyalty-clock-minutes must be 1...1440, not \(clockMinutes)")
        }
        return ProfileServiceConfiguration(
            server: try server.resolve(for: .profile, environment: environment), keyring: try keys.resolve(env),
            changeFeed: try changeFeed.resolve(env), loyaltyProgram: program,
            interactionAddress: try interaction.resolve(env), loyaltyDelay: .milliseconds(delayMs),
            loyaltyClockInterval: .seconds(clockMinutes * 60))
    }
}

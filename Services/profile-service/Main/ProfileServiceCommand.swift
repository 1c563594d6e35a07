import ArgumentParser
import C360ChangeFeed
import C360Clients
import C360ServerKit
import Foundation
import ProfileService
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
            KeyringBackupCommand<ProfileStore>.self,
        ]
    )

    @OptionGroup var server: ServerOptions
    @OptionGroup var changeFeed: ChangeFeedOptions
    @OptionGroup var keys: KeyringOptions

    @Option(help: "A loyalty program to run (JSON, see deploy/loyalty-program.json); without it points move only through EarnPoints/RedeemPoints. [env: C360_PROFILE_LOYALTY_PROGRAM]")
    var loyaltyProgram: String?

    @Option(help: "interaction-service address, whose purchases the loyalty program reads. [env: C360_PROFILE_INTERACTION_ADDR] (default: 127.0.0.1:50052)")
    var interactionAddr: String?

    @Option(help: "Evaluate a customer's loyalty this long after the first purchase of a burst, in milliseconds. [env: C360_PROFILE_LOYALTY_DELAY_MS] (default: 500)")
    var loyaltyDelayMs: Int?

    @Option(help: "How often points are expired, in minutes (tiers are reviewed daily). [env: C360_PROFILE_LOYALTY_CLOCK_MINUTES] (default: 60)")
    var loyaltyClockMinutes: Int?

    func run() async throws {
        let environment = EnvironmentReader(service: .profile, environment: ProcessInfo.processInfo.environment)
        let program: LoyaltyProgram?
        if let path: String = try loyaltyProgram ?? environment.value("LOYALTY_PROGRAM"), !path.isEmpty {
            do {
                program = try LoyaltyProgram.load(contentsOf: URL(fileURLWithPath: path))
            } catch let error as LoyaltyProgramError {
                throw ValidationError(error.description)
            }
        } else {
            program = nil
        }
        let interactionAddress = try environment.peerAddress(interactionAddr, key: "INTERACTION_ADDR", default: "127.0.0.1:50052")
        let delayMs: Int = try loyaltyDelayMs ?? environment.value("LOYALTY_DELAY_MS") ?? 500
        guard (0...600_000).contains(delayMs) else { throw ValidationError("--loyalty-delay-ms must be 0...600000, not \(delayMs)") }
        let clockMinutes: Int = try loyaltyClockMinutes ?? environment.value("LOYALTY_CLOCK_MINUTES") ?? 60
        guard (1...1_440).contains(clockMinutes) else {
            throw ValidationError("--loyalty-clock-minutes must be 1...1440, not \(clockMinutes)")
        }

        let host = ServiceHost(identity: .profile, configuration: try server.resolve(for: .profile))
        let database = try host.openDatabase()
        let keyring = try keys.open(host: host, environment: environment)
        let store = try ProfileStore(writer: database, keyring: keyring)
        let changes = try changeFeed.feed(writer: database, identity: .profile, environment: environment, logger: host.logger)
        var background: [any Service] = [changes, KeyRotation(keyring: keyring, logger: host.logger)]
        if let program {
            let interaction = try PeerConnection(address: interactionAddress, credentials: host.configuration.peerCredentials)
            background += [
                interaction,
                LoyaltyAutomation.follower(interaction: interaction.client, store: store, delay: .milliseconds(delayMs),
                                           logger: host.logger),
                LoyaltyAutomation.worker(store: store, purchases: PurchaseReader(interaction: interaction.client, deadline: .seconds(5)),
                                         program: program, logger: host.logger),
                LoyaltyClock(store: store, interval: .seconds(clockMinutes * 60), logger: host.logger),
            ]
            host.logger.notice("loyalty program running", metadata: [
                "program": "\(program.version)", "currency": "\(program.currencyCode)",
                "tier_window_days": "\(program.tierWindowDays)", "points_expire_after_days": "\(program.pointsExpireAfterDays)",
                "interaction": "\(interactionAddress)",
            ])
        } else {
            host.logger.notice("loyalty program off: points move only through EarnPoints and RedeemPoints (--loyalty-program FILE runs one)")
        }
        try await host.serviceGroup(
            serving: [ProfileService(store: store, changes: changes, loyaltyProgram: program)], database: database,
            background: background
        ).run()
    }
}

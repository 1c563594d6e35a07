import ArgumentParser
import C360ChangeFeed
import C360Clients
import C360Interaction
import C360ServerKit
import Foundation
import ServiceLifecycle

/// `interaction-service`: what happened. Parses its options and runs until SIGTERM/SIGINT.
@main
struct InteractionServiceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "interaction-service",
        abstract: "Customer 360 interaction-service: touchpoints, purchases, support tickets and their statistics.",
        discussion: """
            Owns one SQLite database (interaction.sqlite in --data-dir), serves customer360.v1.InteractionService \
            and grpc.health.v1.Health over gRPC, and asks profile-service whether customers exist. Touchpoint \
            bodies and attributes and ticket subjects are sealed under a key per customer (AES-GCM) kept in a \
            keyring database wrapped by the key-encryption key (--kek-file, C360_INTERACTION_KEK_FILE; rotation \
            with --retired-kek-file, C360_INTERACTION_RETIRED_KEK_FILES; the keyring's path \
            C360_INTERACTION_KEYRING); erasure destroys the keys. Every option also reads \
            C360_INTERACTION_<OPTION> from the environment (e.g. C360_INTERACTION_PROFILE_ADDR).
            """,
        version: C360Version.current,
        subcommands: [
            BackupCommand<InteractionStore>.self, RestoreCommand<InteractionStore>.self,
            HealthCommand<InteractionStore>.self,
            KeyringBackupCommand<InteractionStore>.self, ReshardCommand<InteractionStore>.self,
        ]
    )

    @OptionGroup var server: ServerOptions
    @OptionGroup var changeFeed: ChangeFeedOptions
    @OptionGroup var keys: KeyringOptions
    @OptionGroup var profile: PeerAddressOption<ProfilePeer>

    @Option(
        help:
            "ISO-4217 currency revenue is summed in; purchases in others are counted, not summed. [env: C360_INTERACTION_CURRENCY] (default: USD)"
    )
    var currency: String?

    func run() async throws {
        try await makeInteractionServiceGroup(try resolve()).run()
    }

    /// The flags, else `C360_INTERACTION_*`, else the defaults (`InteractionServiceConfiguration` lists them).
    func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> InteractionServiceConfiguration
    {
        let identity = ServiceIdentity.interaction
        let env = EnvironmentReader(service: identity, environment: environment)
        let currencyCode: String = try currency ?? env.value("CURRENCY") ?? "USD"
        guard currencyCode.count == 3, currencyCode.allSatisfy({ $0.isUppercase && $0.isASCII }) else {
            throw ValidationError("--currency must be an ISO-4217 code such as USD or IRR, not '\(currencyCode)'")
        }
        return InteractionServiceConfiguration(
            server: try server.resolve(for: identity, environment: environment), keyring: try keys.resolve(env),
            changeFeed: try changeFeed.resolve(env), profileAddress: try profile.resolve(env), currency: currencyCode)
    }
}

import ArgumentParser
import C360ChangeFeed
import C360Clients
import C360ServerKit
import Foundation
import InteractionService

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
            BackupCommand<InteractionStore>.self, RestoreCommand<InteractionStore>.self, HealthCommand<InteractionStore>.self,
            KeyringBackupCommand<InteractionStore>.self,
        ]
    )

    @OptionGroup var server: ServerOptions
    @OptionGroup var changeFeed: ChangeFeedOptions
    @OptionGroup var keys: KeyringOptions

    @Option(help: "profile-service address. [env: C360_INTERACTION_PROFILE_ADDR] (default: 127.0.0.1:50051)")
    var profileAddr: String?

    @Option(help: "ISO-4217 currency revenue is summed in; purchases in others are counted, not summed. [env: C360_INTERACTION_CURRENCY] (default: USD)")
    var currency: String?

    func run() async throws {
        let identity = ServiceIdentity.interaction
        let environment = EnvironmentReader(service: identity, environment: ProcessInfo.processInfo.environment)
        let profileAddress = try environment.peerAddress(profileAddr, key: "PROFILE_ADDR", default: "127.0.0.1:50051")
        let currencyCode: String = try currency ?? environment.value("CURRENCY") ?? "USD"
        guard currencyCode.count == 3, currencyCode.allSatisfy({ $0.isUppercase && $0.isASCII }) else {
            throw ValidationError("--currency must be an ISO-4217 code such as USD or IRR, not '\(currencyCode)'")
        }

        let host = ServiceHost(identity: identity, configuration: try server.resolve(for: identity))
        let database = try host.openDatabase()
        let keyring = try keys.open(host: host, environment: environment)
        let store = try InteractionStore(writer: database, keyring: keyring, currency: currencyCode)
        let profile = try PeerConnection(address: profileAddress, credentials: host.configuration.peerCredentials)
        host.logger.notice("peer", metadata: ["profile": "\(profileAddress)", "currency": "\(currencyCode)"])
        let changes = try changeFeed.feed(writer: database, identity: identity, environment: environment, logger: host.logger)
        let directory = ProfileCustomerDirectory(client: profile.client)
        let readCache = CachedCustomerDirectory(upstream: directory)
        let service = InteractionService(
            store: store, customers: MergeAwareCustomerDirectory(upstream: readCache, reader: database),
            settings: CommerceSettings(currency: currencyCode), changes: changes)
        // Carries profile-service's merges into this database: the merged-away customer's touchpoints and tickets
        // move to the survivor.
        let merges = MergeFollower.consumer(
            profile: profile.client, writer: database, directory: directory, readCache: readCache,
            logger: host.logger,
            rekey: { try store.rekey($0, merged: $1, survivor: $2) },
            unrekey: { try store.unrekey($0, merged: $1, survivor: $2) }, customerIDs: InteractionStore.customerIDs)
        try await host.serviceGroup(
            serving: [service], database: database, background: [profile, changes, merges, KeyRotation(keyring: keyring, logger: host.logger)]
        ).run()
    }
}

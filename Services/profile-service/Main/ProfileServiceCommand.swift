import ArgumentParser
import C360ChangeFeed
import C360ServerKit
import Foundation
import ProfileService

/// `profile-service`: who the customer is. Parses its options and runs until SIGTERM/SIGINT.
@main
struct ProfileServiceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile-service",
        abstract: "Customer 360 profile-service: identities, demographics, consents, tags, traits, loyalty.",
        discussion: """
            Owns one SQLite database (profile.sqlite in --data-dir) and serves customer360.v1.ProfileService and \
            grpc.health.v1.Health over gRPC. Every option also reads C360_PROFILE_<OPTION> from the environment \
            (e.g. C360_PROFILE_PORT).
            """,
        version: C360Version.current,
        subcommands: [BackupCommand<ProfileStore>.self, RestoreCommand<ProfileStore>.self]
    )

    @OptionGroup var server: ServerOptions
    @OptionGroup var changeFeed: ChangeFeedOptions

    func run() async throws {
        let host = ServiceHost(identity: .profile, configuration: try server.resolve(for: .profile))
        let database = try host.openDatabase()
        let store = try ProfileStore(writer: database)
        let changes = try changeFeed.feed(
            writer: database, identity: .profile,
            environment: EnvironmentReader(service: .profile, environment: ProcessInfo.processInfo.environment),
            logger: host.logger)
        try await host.serviceGroup(
            serving: [ProfileService(store: store, changes: changes)], database: database, background: [changes]
        ).run()
    }
}

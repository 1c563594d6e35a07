public import ArgumentParser
import C360Clients
import C360Contracts
import C360StoreKit
import Foundation
public import GRDB
import GRPCCore
import GRPCNIOTransportHTTP2

/// A service's store as the shared `backup` and `restore` subcommands see it: whose it is and its schema.
public protocol ServiceStore {
    /// The service owning the database.
    static var identity: ServiceIdentity { get }
    /// Every migration of the database, in order.
    static var schema: DatabaseMigrator { get }
}

/// `<service> backup`: asks the running service for an online backup of its database (`AdminService`).
public struct BackupCommand<Store: ServiceStore>: AsyncParsableCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "backup",
            abstract: "Ask the running \(Store.identity.name) for an online backup of its database.",
            discussion: """
                The service copies its database with SQLite's backup API into <data-dir>/backups/<name>.sqlite on its \
                own host while it keeps serving; the copy holds every write acknowledged before the backup began. \
                Copy the file off the host, and bring it back with '\(Store.identity.name) restore'.
                """)
    }

    @Option(help: "Address of the running service. (default: 127.0.0.1:\(Store.identity.defaultPort))")
    var addr: String?

    @Option(help: "Backup file name without extension. (default: \(Store.identity.name)-<UTC time>)")
    var name = ""

    // Not --service-token-file: that is the server's own option, which the parent command would take.
    @Option(
        help:
            "File holding the service token. [env: \(Store.identity.environmentVariable("SERVICE_TOKEN_FILE")), or the token in \(Store.identity.environmentVariable("SERVICE_TOKEN"))]"
    )
    var tokenFile: String?

    @Option(help: "File holding an admin API key, for the gateway.")
    var apiKeyFile: String?

    /// With TLS the service wants a certificate on its allow-list: the ops tools' `operator` one.
    @OptionGroup var tls: TLSOptions

    @Option(help: "Seconds to wait for the backup to finish.")
    var timeout = 3_600

    public init() {}

    public func run() async throws {
        let identity = Store.identity
        let environment = EnvironmentReader(service: identity, environment: ProcessInfo.processInfo.environment)
        let text = addr ?? "127.0.0.1:\(identity.defaultPort)"
        guard let address = PeerAddress(text) else { throw ValidationError("--addr must be host:port, not '\(text)'") }
        let token = try ServerOptions.serviceToken(
            file: try tokenFile ?? environment.value("SERVICE_TOKEN_FILE"),
            value: try environment.value("SERVICE_TOKEN"))
        var metadata: Metadata = [:]
        if let apiKeyFile {
            guard let key = try? String(contentsOfFile: apiKeyFile, encoding: .utf8) else {
                throw ValidationError("--api-key-file \(apiKeyFile) cannot be read")
            }
            metadata.addString("Bearer \(key.trimmingCharacters(in: .whitespacesAndNewlines))", forKey: "authorization")
        }
        print("asking \(identity.name) at \(address) for a backup…")
        let credentials = PeerCredentials(tls: try tls.identity(environment: environment), serviceToken: token)
        let response = try await withGRPCClient(
            transport: .http2NIOPosix(target: address.target, transportSecurity: try credentials.transportSecurity()),
            interceptors: credentials.interceptors
        ) { client in
            try await Customer360_V1_AdminService.Client(wrapping: client).backupDatabase(
                .with { $0.name = name }, metadata: metadata, options: .deadline(.seconds(timeout)))
        }
        let seconds = Double(response.duration.seconds) + Double(response.duration.nanos) / 1e9
        print(
            "backup written: \(response.path) (\(response.sizeBytes) bytes, schema version \(response.schemaVersion), "
                + "\(String(format: "%.2f", seconds)) s)")
    }
}

/// `<service> restore`: installs a backup as the service's database while the service is stopped.
public struct RestoreCommand<Store: ServiceStore>: ParsableCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "restore",
            abstract: "Install a backup as \(Store.identity.name)'s database (stop the service first).",
            discussion: """
                Checks the backup (SQLite's integrity check, and a schema this binary knows), then copies it to \
                <into>/\(Store.identity.databaseFileName). An existing database is left alone unless --replace \
                is given; then it is moved aside to <file>.before-restore-<UTC time>, never deleted. Start the service \
                afterwards: it migrates the restored database if the backup is from an older version.
                """)
    }

    @Option(help: "The backup file to restore.")
    var from: String

    // Not --data-dir: that is the server's own option, which the parent command would take. Required, so a restore
    // never lands in a default directory by accident.
    @Option(help: "Data directory of the service to restore into (its --data-dir).")
    var into: String

    @Flag(help: "Move an existing database aside and restore over it.")
    var replace = false

    public init() {}

    public func run() throws {
        let identity = Store.identity
        let directory = into
        do {
            let report = try DatabaseBackup.restore(
                URL(fileURLWithPath: from), into: URL(fileURLWithPath: directory), fileName: identity.databaseFileName,
                schema: Store.schema, replace: replace)
            for aside in report.movedAside { print("moved aside: \(aside)") }
            print(
                "restored \(from) → \(report.path) (\(report.sizeBytes) bytes, schema version \(report.schemaVersion)); "
                    + "start \(identity.name) with --data-dir \(directory)")
        } catch let error as BackupError {
            throw ValidationError(error.description)
        } catch let error as SchemaTooNew {
            throw ValidationError(error.description)
        }
    }
}

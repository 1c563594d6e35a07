public import ArgumentParser
import C360StoreKit
import Foundation
import GRDB

/// `<service> keyring-backup`: copies the keyring — every customer's wrapped data key — on the service's own host,
/// and deletes keyring backups older than the retention.
///
/// The keyring is backed up apart from the database on purpose: its backups are what crypto-shredding has to outlive,
/// so they are kept briefly (days), while database backups can be kept for as long as the business needs — an erased
/// customer's rows in them are sealed under a key that no keyring backup older than the retention still holds.
public struct KeyringBackupCommand<Store: ServiceStore>: ParsableCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "keyring-backup",
            abstract: "Copy \(Store.identity.name)'s keyring (wrapped data keys) and prune old keyring backups.",
            discussion: """
                Runs beside the service (SQLite's online backup API; the service keeps serving). Database backups \
                ('backup') never contain the keyring; keep these copies apart from them and only for --retention-days: \
                a customer erased longer ago than that is unreadable in every backup.
                """)
    }

    // Not --data-dir: that is the server's own option, which the parent command would take.
    @Option(help: "The service's data directory (its --data-dir).")
    var from: String

    // Not --keyring, which the parent command takes.
    @Option(
        help:
            "The keyring file, when the service runs with --keyring. (default: <data-dir>/\(Store.identity.name)-keyring.sqlite)"
    )
    var keyringFile: String?

    @Option(help: "Directory for the copies. (default: <data-dir>/keyring-backups)")
    var to: String?

    @Option(help: "Delete keyring backups in that directory older than this many days.")
    var retentionDays = 7

    public init() {}

    public func validate() throws {
        guard (1...365).contains(retentionDays) else { throw ValidationError("--retention-days must be 1...365") }
    }

    public func run() throws {
        let name = Store.identity.name
        let source = keyringFile ?? (from as NSString).appendingPathComponent("\(name)-keyring.sqlite")
        guard FileManager.default.fileExists(atPath: source) else {
            throw ValidationError(
                "no keyring at \(source): is --from (or --keyring-file) the service's data directory?")
        }
        let directory = to ?? (from as NSString).appendingPathComponent("keyring-backups")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let stamp = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "")
        let destination = (directory as NSString).appendingPathComponent("\(name)-keyring-\(stamp).sqlite")
        let pool = try DatabasePool(path: source, configuration: ServiceDatabase.configuration(label: "keyring"))
        try pool.backup(to: try DatabaseQueue(path: destination))
        let size = (try? FileManager.default.attributesOfItem(atPath: destination)[.size] as? Int) ?? 0
        print("keyring backup written: \(destination) (\(size) bytes)")
        let cutoff = Date().addingTimeInterval(-Double(retentionDays) * 86_400)
        for file in try FileManager.default.contentsOfDirectory(atPath: directory)
        where file.hasPrefix("\(name)-keyring-") && file.hasSuffix(".sqlite") {
            let path = (directory as NSString).appendingPathComponent(file)
            guard let modified = try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date,
                modified < cutoff
            else { continue }
            try FileManager.default.removeItem(atPath: path)
            print("deleted keyring backup older than \(retentionDays) days: \(path)")
        }
    }
}

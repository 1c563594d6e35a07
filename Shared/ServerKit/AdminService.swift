public import C360Contracts
import C360StoreKit
public import Foundation
public import GRDB
public import GRPCCore
import SwiftProtobuf

/// `customer360.v1.AdminService`, which every executable serves: what this process runs, and online backups of its
/// database into `<data-dir>/backups`.
public struct AdminService: Customer360_V1_AdminService.SimpleServiceProtocol {
    let identity: ServiceIdentity
    let database: any DatabaseReader
    let backupDirectory: URL
    let startedAt: Date

    public init(
        identity: ServiceIdentity, database: any DatabaseReader, dataDirectory: String, startedAt: Date = Date()
    ) {
        self.identity = identity
        self.database = database
        self.backupDirectory = URL(fileURLWithPath: dataDirectory).appendingPathComponent("backups")
        self.startedAt = startedAt
    }

    public func getServerInfo(
        request: Customer360_V1_GetServerInfoRequest, context: ServerContext
    ) async throws -> Customer360_V1_ServerInfo {
        let version = try await database.read { try Int.fetchOne($0, sql: "PRAGMA user_version") } ?? 0
        return .with {
            $0.service = identity.name
            $0.version = C360Version.semantic
            $0.gitRevision = C360Version.gitRevision
            $0.schemaVersion = Int32(version)
            $0.databasePath = database.path
            $0.databaseSizeBytes = DatabaseBackup.sizeOnDisk(database.path)
            $0.startedAt = Google_Protobuf_Timestamp(date: startedAt)
        }
    }

    public func backupDatabase(
        request: Customer360_V1_BackupDatabaseRequest, context: ServerContext
    ) async throws -> Customer360_V1_BackupDatabaseResponse {
        let started = Date()
        let name = try Self.backupName(request.name, service: identity.name, at: started)
        let clock = ContinuousClock.now
        let report: DatabaseBackup.Report
        do {
            report = try await DatabaseBackup.backup(
                database, to: backupDirectory.appendingPathComponent(name + ".sqlite"))
        } catch BackupError.exists(let path) {
            throw RPCError(
                code: .alreadyExists, message: "a backup named '\(name)' already exists at \(path); choose another name"
            )
        }
        let elapsed = ContinuousClock.now - clock
        return .with {
            $0.path = report.path
            $0.sizeBytes = report.sizeBytes
            $0.schemaVersion = Int32(report.schemaVersion)
            $0.startedAt = Google_Protobuf_Timestamp(date: started)
            $0.duration = Google_Protobuf_Duration(rounding: elapsed)
        }
    }

    /// The backup's file name without extension: the one asked for, checked, or `<service>-<UTC time>`.
    static func backupName(_ requested: String, service: String, at instant: Date) throws(InvalidArgument) -> String {
        guard !requested.isEmpty else { return "\(service)-\(ISO8601DateFormatter.compactUTC.string(from: instant))" }
        let allowed = requested.unicodeScalars.allSatisfy {
            ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)))
                || "._-".unicodeScalars.contains($0)
        }
        guard requested.count <= 100, allowed, !requested.hasPrefix(".") else {
            throw InvalidArgument("name", "use at most 100 letters, digits, '.', '_' and '-', not starting with '.'")
        }
        return requested
    }
}

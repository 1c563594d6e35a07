public import C360Contracts
import C360StoreKit
public import Foundation
public import GRDB
public import GRPCCore
import SwiftProtobuf

/// `customer360.v1.AdminService`, which every executable serves: what this process runs, online backups of its
/// database into `<data-dir>/backups`, and a shard's side of moving customers to another shard.
public struct AdminService: Customer360_V1_AdminService.SimpleServiceProtocol {
    let identity: ServiceIdentity
    let database: any DatabaseReader
    let backupDirectory: URL
    let startedAt: Date
    let shards: ShardSettings?
    /// What moves this service's customers between shards; nil for a service whose store cannot yet.
    let slotMoves: (any SlotMoveService)?

    public init(
        identity: ServiceIdentity, database: any DatabaseReader, dataDirectory: String, startedAt: Date = Date(),
        shards: ShardSettings? = nil, slotMoves: (any SlotMoveService)? = nil
    ) {
        self.identity = identity
        self.database = database
        self.backupDirectory = URL(fileURLWithPath: dataDirectory).appendingPathComponent("backups")
        self.startedAt = startedAt
        self.shards = shards
        self.slotMoves = slotMoves
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
            $0.shard = shards?.shard ?? ""
            // Read again, so a mover waiting for a new map to take effect does not wait for the next poll.
            $0.shardMapEpoch = shards?.source.reload().epoch ?? 0
        }
    }

    public func fenceSlots(
        request: Customer360_V1_FenceSlotsRequest, context: ServerContext
    ) async throws -> Customer360_V1_FenceSlotsResponse {
        try await movable().fenceSlots(request)
    }

    public func exportSlots(
        request: Customer360_V1_ExportSlotsRequest, context: ServerContext
    ) async throws -> Customer360_V1_ExportSlotsResponse {
        try await movable().exportSlots(request)
    }

    public func importSlotCustomers(
        request: Customer360_V1_ImportSlotCustomersRequest, context: ServerContext
    ) async throws -> Customer360_V1_ImportSlotCustomersResponse {
        try await movable().importSlotCustomers(request)
    }

    public func dropSlots(
        request: Customer360_V1_DropSlotsRequest, context: ServerContext
    ) async throws -> Customer360_V1_DropSlotsResponse {
        try await movable().dropSlots(request)
    }

    private func movable() throws(RPCError) -> any SlotMoveService {
        guard let slotMoves else {
            throw RPCError(
                code: .unimplemented, message: "\(identity.name) does not move customers between shards (yet)")
        }
        return slotMoves
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

/// A shard's side of moving customers between shards (`SlotMoves` in C360ChangeFeed, which needs the change feed),
/// behind `AdminService`'s resharding RPCs.
public protocol SlotMoveService: Sendable {
    func fenceSlots(_ request: Customer360_V1_FenceSlotsRequest) async throws -> Customer360_V1_FenceSlotsResponse
    func exportSlots(_ request: Customer360_V1_ExportSlotsRequest) async throws -> Customer360_V1_ExportSlotsResponse
    func importSlotCustomers(
        _ request: Customer360_V1_ImportSlotCustomersRequest
    ) async throws -> Customer360_V1_ImportSlotCustomersResponse
    func dropSlots(_ request: Customer360_V1_DropSlotsRequest) async throws -> Customer360_V1_DropSlotsResponse
    /// Run once as the shard starts, before it serves: records the slots it holds rows of without owning them that no
    /// move recorded (`SlotCopies.unrecorded`), so its reads across customers leave them out; returns them.
    func recordHeldSlots() throws -> [Int]
}

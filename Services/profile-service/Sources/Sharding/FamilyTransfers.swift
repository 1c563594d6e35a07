public import C360ChangeFeed
import C360Clients
import C360Contracts
import C360ServerKit
import C360StoreKit
public import Foundation
import GRDB
import GRPCCore
public import Logging
public import ServiceLifecycle

/// A transfer this shard has begun as the merged customer's shard: the family is fenced here until it ends.
struct FamilyTransferOut: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "family_transfer_out"
    var transferId: String
    var familyId: String
    var slot: Int
    var survivorId: String
    var survivorShard: String
    var startedAt: Date
}

/// A transfer this shard has asked for as the survivor's shard, until the merged customer's shard has ended it.
struct FamilyTransferIn: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "family_transfer_in"
    var transferId: String
    var mergedId: String
    var fromShard: String
    var survivorId: String
    /// Whether the merge here committed (the transfer then ends by deleting the family on `fromShard`; before, by
    /// aborting it).
    var merged: Bool
    var startedAt: Date
}

/// Merges across profile shards: the merged customer's family is handed to the survivor's shard and merged there,
/// leaving the merged id an alias on its own shard, as a move that split a family would.
///
/// 1. The survivor's shard records the transfer (`family_transfer_in`), then asks the merged customer's shard for the
///    family (`TransferFamily`), which fences the customer's slot (writes to its customers answer UNAVAILABLE for the
///    moment the merge takes), records the transfer (`family_transfer_out`) and answers the family's rows and keys.
/// 2. The survivor's shard imports them (sealed again under its keys, as a move does) and merges, marking the
///    transfer merged in the merge's transaction.
/// 3. It ends the transfer (`EndTransfer`): the merged customer's shard deletes the family, keeps the merged id as an
///    alias of the survivor and lifts the fence, in one transaction; then the survivor's shard forgets the transfer.
///
/// Every step is repeatable, and a crash anywhere leaves a row that says what is left: `TransferCompleter` ends merged
/// transfers, and aborts those that never merged (the family stays where it was), every few seconds.
public struct FamilyTransfers: Sendable {
    let shard: String
    let store: ProfileStore
    let moves: SlotMoves
    let index: IdentifierIndex
    let logger: Logger

    public init(shard: String, store: ProfileStore, moves: SlotMoves, index: IdentifierIndex, logger: Logger) {
        self.shard = shard
        self.store = store
        self.moves = moves
        self.index = index
        self.logger = logger
    }

    // MARK: - As the survivor's shard

    /// Merges `merged`, a customer of `owner`, into `survivor` of this shard.
    func merge(
        survivor asked: String, merged: String, owner: String, request: MergeRequest
    ) async throws -> (profile: CustomerProfile, entry: MergeEntry?) {
        // The survivor must be one to merge into before anything is fenced elsewhere; merging again answers the
        // survivor, as in one process.
        let current = try await store.customer(asked)
        let survivor = current.id
        if try await index.resolve([merged]).first?.customerID == survivor { return (current, nil) }
        let transfer = FamilyTransferIn(
            transferId: EntityID.generate(), mergedId: merged, fromShard: owner, survivorId: survivor, merged: false,
            startedAt: Date())
        try await store.writer.write { db in try transfer.insert(db) }
        let result: (profile: CustomerProfile, entry: MergeEntry?)
        do {
            let family = try await index.indexes.transferFamily(
                .with {
                    $0.transferID = transfer.transferId
                    $0.customerID = merged
                    $0.survivorID = survivor
                    $0.survivorShard = shard
                }, metadata: index.pin(owner), options: .deadline(IdentifierIndex.callTimeout)
            ).family
            _ = try await moves.importSlotCustomers(.with { $0.customers = [family] })
            result = try await store.writer.write { db in
                let result = try store.merge(db, survivor: survivor, merged: merged, request: request)
                try Self.settleArrival(db, merged: merged, survivor: survivor)
                var done = transfer
                done.merged = true
                try done.update(db)
                return result
            }
        } catch {
            await abort(transfer)
            throw error
        }
        do {
            try await end(transfer, abort: false)
        } catch {
            // Merged here: the completer ends it on the other shard, which serves the family read-only meanwhile.
            logger.warning(
                "merge across shards committed; ending the transfer on the merged customer's shard is left to retry",
                metadata: ["transfer": "\(transfer.transferId)", "shard": "\(owner)", "error": "\(error)"])
        }
        return result
    }

    /// In the merge's transaction: the merged customer's own queued loyalty evaluation becomes the survivor's, and
    /// its alias (written by the merge, in a slot another shard owns) is left to that shard, which keeps it.
    static func settleArrival(_ db: Database, merged: String, survivor: String) throws {
        try db.execute(
            sql: "DELETE FROM \(ProfileStore.loyaltyQueue.table) WHERE customerId = ?", arguments: [merged])
        try ProfileStore.loyaltyQueue.enqueue(db, customerID: survivor, due: Date())
        try db.execute(sql: "DELETE FROM \(ProfileStore.aliasTable) WHERE id = ?", arguments: [merged])
    }

    /// Ends `transfer` on the merged customer's shard, then forgets it here.
    func end(_ transfer: FamilyTransferIn, abort: Bool) async throws {
        _ = try await index.indexes.endTransfer(
            .with {
                $0.transferID = transfer.transferId
                $0.abort = abort
            }, metadata: index.pin(transfer.fromShard), options: .deadline(IdentifierIndex.callTimeout))
        _ = try await store.writer.write { db in try transfer.delete(db) }
    }

    /// Gives up a transfer that did not merge: the family stays on its shard, and the copy imported here (if any) goes.
    func abort(_ transfer: FamilyTransferIn) async {
        do {
            try await store.writer.write { db in
                guard let held = try store.customerRow(db, transfer.mergedId), held.state == .active,
                    held.mergedInto == nil
                else { return }
                try moves.remove(db, handedOver: transfer.mergedId)
            }
            try await end(transfer, abort: true)
        } catch {
            logger.warning(
                "merge across shards failed; aborting its transfer is left to retry",
                metadata: ["transfer": "\(transfer.transferId)", "error": "\(error)"])
        }
    }

    /// Ends every transfer left open here: merged ones completed, others older than `staleAfter` aborted.
    func settleOpenTransfers(staleAfter: TimeInterval) async throws -> Int {
        let open = try await store.writer.read { db in try FamilyTransferIn.fetchAll(db) }
        var settled = 0
        for transfer in open {
            if transfer.merged {
                try await end(transfer, abort: false)
            } else if Date().timeIntervalSince(transfer.startedAt) > staleAfter {
                await abort(transfer)
            } else {
                continue
            }
            settled += 1
        }
        return settled
    }

    // MARK: - As the merged customer's shard

    /// `TransferFamily`: fences the customer's slot, records the transfer and answers the family, in one transaction.
    func transferOut(_ request: Customer360_V1_TransferFamilyRequest) async throws -> Customer360_V1_SlotCustomer {
        let transferID = try Validate.id(request.transferID, field: "transfer_id")
        let customer = try Validate.id(request.customerID, field: "customer_id")
        let survivor = try Validate.id(request.survivorID, field: "survivor_id")
        let map = index.source.current
        guard map.shard(named: request.survivorShard, in: IdentifierIndex.service) != nil,
            request.survivorShard != shard
        else {
            throw InvalidArgument("survivor_shard", "'\(request.survivorShard)' is not another shard of the map")
        }
        guard index.owns(customer) else {
            throw RPCError(
                code: .failedPrecondition,
                message: "customer \(customer) is not \(shard)'s in shard map epoch \(map.epoch)")
        }
        return try await store.writer.write { db in
            if let open = try FamilyTransferOut.fetchOne(db, key: transferID) {
                return try moves.export(db, customer: open.familyId)
            }
            guard let row = try store.customerRow(db, customer), row.state == .active, row.mergedInto == nil else {
                throw RPCError(
                    code: .failedPrecondition,
                    message: "customer \(customer) is not an active customer of \(shard): it cannot be merged away")
            }
            let slot = CustomerSlot.of(customer)
            try SlotFence.fence(
                db, [slot...slot], epoch: map.epoch, target: request.survivorShard, tables: ProfileStore.customerTables)
            try FamilyTransferOut(
                transferId: transferID, familyId: customer, slot: slot, survivorId: survivor,
                survivorShard: request.survivorShard, startedAt: Date()
            ).insert(db)
            return try moves.export(db, customer: customer)
        }
    }

    /// `EndTransfer`: the family goes (leaving the alias) unless aborted, and the fence is lifted.
    func endTransfer(_ request: Customer360_V1_EndTransferRequest) async throws -> Bool {
        let transferID = try Validate.id(request.transferID, field: "transfer_id")
        let ended: FamilyTransferOut? = try await store.writer.write { db in
            guard let open = try FamilyTransferOut.fetchOne(db, key: transferID) else { return nil }
            if !request.abort {
                try moves.remove(db, handedOver: open.familyId)
                try SlotFence.bypassing(db) {
                    try db.execute(
                        sql: "INSERT OR REPLACE INTO \(ProfileStore.aliasTable) (id, survivorId) VALUES (?, ?)",
                        arguments: [open.familyId, open.survivorId])
                }
            }
            try open.delete(db)
            let others = try FamilyTransferOut.filter(Column("slot") == open.slot).fetchCount(db)
            if others == 0 { try SlotFence.lift(db, [open.slot...open.slot], tables: ProfileStore.customerTables) }
            return open
        }
        // The family's rows are gone: its key with them (a crash before this leaves a key that opens nothing here).
        if let ended, !request.abort { try store.keyring.shred([ended.familyId]) }
        return ended != nil
    }
}

/// Settles merges across shards left open by a crash or a lost answer, every few seconds (`FamilyTransfers`).
public struct TransferCompleter: Service {
    let transfers: FamilyTransfers
    let interval: Duration
    /// A transfer that has not merged after this long is aborted.
    let staleAfter: TimeInterval

    public init(transfers: FamilyTransfers, interval: Duration = .seconds(5), staleAfter: TimeInterval = 60) {
        self.transfers = transfers
        self.interval = interval
        self.staleAfter = staleAfter
    }

    public func run() async {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let settled = try await transfers.settleOpenTransfers(staleAfter: staleAfter)
                    if settled > 0 {
                        transfers.logger.notice("merges across shards settled", metadata: ["transfers": "\(settled)"])
                    }
                } catch {
                    transfers.logger.warning(
                        "settling merges across shards failed; retrying", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: interval)
            }
        }
    }
}

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
import Synchronization

/// A transfer this shard has begun as the merged customer's shard, or as the shard that undid a merge across shards
/// and hands the restored family back (`survivorId == familyId`: it joins nobody): writes to the family are refused
/// here until it ends (`FamilyFence`).
struct FamilyTransferOut: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "family_transfer_out"
    /// Every transfer that ended here and how, so a late `TransferFamily` of an ended transfer cannot begin it again.
    static let endedTable = "family_transfer_ended"
    var transferId: String
    var familyId: String
    var survivorId: String
    var survivorShard: String
    var startedAt: Date

    /// A restored family handed back to its own slot's shard after an unmerge, not a family merged away.
    var isHandBack: Bool { survivorId == familyId }

    /// The open transfer of `family` out of this shard, if any (one at a time).
    static func open(_ db: Database, family: String) throws -> FamilyTransferOut? {
        try filter(Column("familyId") == family).fetchOne(db)
    }

    static func isOpen(_ db: Database, family: String) throws -> Bool { try open(db, family: family) != nil }
}

/// A transfer this shard has asked for as the survivor's shard, until the merged customer's shard has ended it.
struct FamilyTransferIn: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "family_transfer_in"
    enum State: String, Codable {
        /// Asked for; the merge here has not committed. Becomes `merged` in the merge's transaction, or `aborting`
        /// first when it is given up, so the two cannot both happen.
        case open
        case merged
        case aborting
    }
    var transferId: String
    var mergedId: String
    var fromShard: String
    var survivorId: String
    var state: State
    var startedAt: Date
}

/// Writes refused to a family being handed to another shard (`FamilyTransfers`): triggers on every customer table,
/// present while a transfer is open, that abort a write touching a family in `family_transfer_out` with the fence's
/// refusal (UNAVAILABLE, "being moved; retry"). Only that family waits; its slot's other customers do not.
enum FamilyFence {
    static func createTriggers(_ db: Database) throws {
        try SlotFence.createRefusingTriggers(db, named: "family_fence", tables: ProfileStore.customerTables) {
            families in
            """
            EXISTS (SELECT 1 FROM \(FamilyTransferOut.databaseTableName) \
            WHERE familyId IN (\(families.joined(separator: ", "))))
            """
        }
    }

    /// Recreates the triggers at start-up while a transfer is open, so a process upgraded mid-transfer fences with
    /// its own definitions (every customer table it has).
    static func renew(_ db: Database) throws {
        guard try FamilyTransferOut.fetchCount(db) > 0 else { return }
        try dropTriggers(db)
        try createTriggers(db)
    }

    static func dropTriggers(_ db: Database) throws {
        try SlotFence.dropRefusingTriggers(db, named: "family_fence", tables: ProfileStore.customerTables)
    }
}

/// Merges across profile shards: the merged customer's family is handed to the survivor's shard and merged there,
/// leaving the merged id an alias on its own shard, as a move that split a family would.
///
/// 1. The survivor's shard records the transfer (`family_transfer_in`, open), then asks the merged customer's shard
///    for the family (`TransferFamily`), which records the transfer (`family_transfer_out`; writes to the family are
///    refused from then on, `FamilyFence`) and answers the family's rows and keys, in one transaction.
/// 2. The survivor's shard seals them under its keys, then stores them and merges in one transaction, which also marks
///    the transfer merged, only while it is still open: a transfer given up meanwhile (marked aborting first) is not
///    merged, and a merged one is never given up.
/// 3. It ends the transfer (`EndTransfer`): the merged customer's shard deletes the family (its keys shredded first),
///    keeps the merged id as an alias of the survivor and records the transfer ended, in one transaction; then the
///    survivor's shard forgets it. An aborted transfer only ends the fence.
///
/// Every step can be asked again, and a crash anywhere leaves a row that says what is left: `TransferCompleter` ends
/// merged transfers, aborts those that did not merge within a minute, and sends hand-backs (below) again.
///
/// Undoing such a merge hands the restored customer's family back the other way, driven by the shard that undid it
/// (the survivor's): the unmerge records the hand-back in its transaction (`family_transfer_out`, the family fenced),
/// the shard sends the family to the restored customer's shard (`AdoptFamily`, routed by its id), which stores it,
/// drops its alias and claims the customer's identifiers, and then deletes the family here, leaving aliases of the
/// ids merged into it before. A hand-back is never given up: the unmerge has committed, so the completer sends it
/// again until it is taken.
public struct FamilyTransfers: Sendable {
    let shard: String
    let store: ProfileStore
    let moves: SlotMoves
    let index: IdentifierIndex
    let logger: Logger
    /// Transfers a merge of this process is still working on (by transfer id), and families a hand-back of this
    /// process is sending (by family id): the completer leaves them to it, however long a large family takes to seal.
    let working = WorkingTransfers()

    public init(shard: String, store: ProfileStore, moves: SlotMoves, index: IdentifierIndex, logger: Logger) {
        self.shard = shard
        self.store = store
        self.moves = moves
        self.index = index
        self.logger = logger
    }

    // MARK: - As the survivor's shard

    /// Merges `merged`, a customer of `owner`, into `asked` (or the survivor it resolves to) of this shard.
    func merge(
        survivor asked: String, merged: String, owner: String, request: MergeRequest
    ) async throws -> (profile: CustomerProfile, entry: MergeEntry?) {
        // The survivor must be one to merge into before anything is fenced elsewhere.
        let current = try await store.customer(asked)
        let survivor = current.id
        // Merging again answers the survivor, as in one process: merged here already (the family is here), or so the
        // merged customer's shard says (its alias).
        let (mergedHere, handingBack) = try await store.writer.read { db in
            (
                try store.customerRow(db, merged)?.mergedInto == survivor,
                try FamilyTransferOut.isOpen(db, family: merged)
            )
        }
        if mergedHere { return (current, nil) }
        // Split off by an unmerge here and not handed back yet: its shard's alias still names this survivor.
        if handingBack { throw ProfileError.handingBack(merged) }
        if (try? await index.resolve([merged]).first?.customerID) == survivor { return (current, nil) }
        let transfer = FamilyTransferIn(
            transferId: EntityID.generate(), mergedId: merged, fromShard: owner, survivorId: survivor, state: .open,
            startedAt: Date())
        working.insert(transfer.transferId)
        defer { working.remove(transfer.transferId) }
        try await store.writer.write { db in try transfer.insert(db) }
        let result: (profile: CustomerProfile, entry: MergeEntry?)
        do {
            let family = try await handOut(transfer)
            let prepared = try await moves.prepare(handedOver: family)
            result = try await store.writer.write { db in
                guard var open = try FamilyTransferIn.fetchOne(db, key: transfer.transferId), open.state == .open else {
                    throw RPCError(
                        code: .unavailable, message: "the merge of customer \(merged) was given up meanwhile; retry")
                }
                guard !index.owns(merged), try store.customerRow(db, merged) == nil else {
                    throw RPCError(
                        code: .unavailable,
                        message: """
                            customer \(merged) is moving to this shard (its slot, or a copy of it, is here): retry the \
                            merge once the move is done
                            """)
                }
                try moves.insert(db, handedOver: prepared)
                let result = try store.merge(db, survivor: survivor, merged: merged, request: request)
                try Self.settleArrival(db, merged: merged, survivor: survivor)
                open.state = .merged
                try open.update(db)
                return result
            }
        } catch {
            // Not in this task, which may be the cancelled one (a client that gave up): its writes would be refused.
            let transferID = transfer.transferId
            await Task { await settle(transferID) }.value
            throw error
        }
        do {
            try await end(transfer, abort: false)
        } catch {
            // Merged here: the completer ends it on the other shard, which refuses writes to the family meanwhile.
            logger.warning(
                "merge across shards committed; ending the transfer on the merged customer's shard is left to retry",
                metadata: ["transfer": "\(transfer.transferId)", "shard": "\(owner)", "error": "\(error)"])
        }
        return result
    }

    /// Asks the merged customer's shard for the family. Its refusal is answered as this call's own: NOT_FOUND and
    /// FAILED_PRECONDITION as they are, anything else as UNAVAILABLE to retry, without that shard's trailers (its
    /// map epoch is not this caller's).
    private func handOut(_ transfer: FamilyTransferIn) async throws -> Customer360_V1_SlotCustomer {
        do {
            return try await index.indexes.transferFamily(
                .with {
                    $0.transferID = transfer.transferId
                    $0.customerID = transfer.mergedId
                    $0.survivorID = transfer.survivorId
                    $0.survivorShard = shard
                }, metadata: index.pin(transfer.fromShard), options: .deadline(IdentifierIndex.callTimeout)
            ).family
        } catch let error as RPCError {
            let code: RPCError.Code = [.notFound, .failedPrecondition].contains(error.code) ? error.code : .unavailable
            throw RPCError(
                code: code,
                message:
                    "\(transfer.fromShard), which holds customer \(transfer.mergedId), refused it: \(error.message)")
        }
    }

    /// In the merge's transaction: the merged customer's own queued loyalty evaluation becomes the survivor's, and
    /// its alias (written by the merge, in a slot another shard owns) is left to that shard, which keeps it.
    static func settleArrival(_ db: Database, merged: String, survivor: String) throws {
        try db.execute(
            sql: "DELETE FROM \(ProfileStore.loyaltyQueue.table) WHERE customerId = ?", arguments: [merged])
        try ProfileStore.loyaltyQueue.enqueue(db, customerID: survivor, due: Date())
        try db.execute(sql: "DELETE FROM \(ProfileStore.aliasTable) WHERE id = ?", arguments: [merged])
        // Its suggestions name a customer merged away, in a slot this shard does not own (no move would take them).
        try db.execute(sql: "DELETE FROM match_suggestion WHERE customerId = ?", arguments: [merged])
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

    /// Ends a transfer as it stands: one that has not merged is given up (marked aborting first, so its merge can no
    /// longer commit) and the other shard keeps the family; one that merged is ended as merged.
    func settle(_ transferID: String) async {
        do {
            let transfer: FamilyTransferIn? = try await store.writer.write { db in
                guard var open = try FamilyTransferIn.fetchOne(db, key: transferID) else { return nil }
                if open.state == .open {
                    open.state = .aborting
                    try open.update(db)
                }
                return open
            }
            guard let transfer else { return }
            try await end(transfer, abort: transfer.state != .merged)
        } catch {
            logger.warning(
                "ending a merge across shards is left to retry",
                metadata: ["transfer": "\(transferID)", "error": "\(error)"])
        }
    }

    /// Shreds the keys ended hand-backs named, unless this shard needs them again (`PendingShreds`).
    func shredPendingKeys() throws {
        try PendingShreds.shred(store.writer, keyring: store.keyring, keeping: store.keepsPendingKey)
    }

    /// Ends every transfer left open here: merged and aborting ones as they stand, open ones older than `staleAfter`
    /// aborted. Answers how many ended; one that cannot be ended now is left for the next round.
    func settleOpenTransfers(staleAfter: TimeInterval) async throws -> Int {
        // Ended transfers are remembered to refuse a late `TransferFamily`, which cannot come a week later.
        try await store.writer.write { db in
            try db.execute(
                sql: "DELETE FROM \(FamilyTransferOut.endedTable) WHERE endedAt < ?",
                arguments: [Date().addingTimeInterval(-7 * 86_400)])
        }
        var settled = 0
        let open = try await store.writer.read { db in try FamilyTransferIn.fetchAll(db) }
        for transfer in open {
            switch transfer.state {
            case .open
            where Date().timeIntervalSince(transfer.startedAt) <= staleAfter || working.contains(transfer.transferId):
                continue
            case .open, .aborting, .merged:
                await settle(transfer.transferId)
            }
            if try await store.writer.read({ db in try !transfer.exists(db) }) { settled += 1 }
        }
        // Hand-backs after the merges: an unmerge is only recorded once its merge's transfer has ended.
        let handingBack = try await store.writer.read { db in
            try FamilyTransferOut.fetchAll(db).filter(\.isHandBack)
        }
        for transfer in handingBack where !working.contains(transfer.familyId) {
            if await handBack(transfer.familyId) { settled += 1 }
        }
        // Keys a hand-back's end named but could not shred then.
        try shredPendingKeys()
        return settled
    }

    // MARK: - Handing a family back after an unmerge

    /// In the unmerge's transaction: `restored`, whose slot another shard owns, is to be handed back there with its
    /// family, whose writes are refused here from now on.
    func recordHandBack(_ db: Database, restored: String) throws {
        // The merge's own transfer not ended yet: the other shard still holds its fenced copy of the family, which
        // ending the transfer would delete after the hand-back. Ended within seconds by the merge or the completer.
        if try FamilyTransferIn.filter(Column("mergedId") == restored).fetchCount(db) > 0 {
            throw RPCError(
                code: .unavailable,
                message: """
                    the merge of customer \(restored) is still being completed on its own shard; retry the unmerge in \
                    a few seconds
                    """)
        }
        // A move that gave its slot away and has not dropped it yet would delete the family under the hand-back.
        if let fenced = try SlotFence.fencedCustomers(db), fenced(restored) {
            throw RPCError(
                code: .unavailable,
                message: "customer \(restored)'s slot is being moved between shards; retry the unmerge once it is done")
        }
        guard let owner = index.customerShard(of: restored) else {
            throw RPCError(
                code: .unavailable,
                message: "no shard owns customer \(restored)'s slot in the shard map here; retry the unmerge")
        }
        try FamilyTransferOut(
            transferId: EntityID.generate(), familyId: restored, survivorId: restored, survivorShard: owner,
            startedAt: Date()
        ).insert(db)
        try FamilyFence.createTriggers(db)
        // The restored customer is active here again until the hand-back ends, and then on its own shard too: reads
        // across customers keep to this shard's slots (kept on until a move of that slot here forgets it, which only
        // costs the slot hash in those reads).
        try SlotCopies.record(db, slots: [CustomerSlot.of(restored)])
    }

    /// Hands the family of an unmerge back to its customer's shard, then deletes it here; whether it did. Left to the
    /// completer when that shard does not take it now.
    @discardableResult
    func handBack(_ restored: String) async -> Bool {
        // Marked before it is read, so a concurrent round of the completer leaves it to this call.
        working.insert(restored)
        defer { working.remove(restored) }
        do {
            guard
                let transfer = try await store.writer.read({ db in try FamilyTransferOut.open(db, family: restored) })
            else { return false }
            try await handBack(transfer)
            return true
        } catch {
            logger.warning(
                "handing an unmerged family back to its shard is left to retry",
                metadata: ["customer_id": "\(restored)", "error": "\(error)"])
            return false
        }
    }

    func handBack(_ transfer: FamilyTransferOut) async throws {
        let restored = transfer.familyId
        // Read once: the map may change meanwhile, and the family is either sent or kept, not both.
        let elsewhere = !index.owns(restored)
        if elsewhere {
            // Fenced since the unmerge, so one read is the family as it stays.
            let family = try await store.writer.read { db in try moves.export(db, customer: restored) }
            _ = try await index.indexes.adoptFamily(
                .with {
                    $0.transferID = transfer.transferId
                    $0.customerID = restored
                    $0.fromShard = shard
                    $0.family = family
                }, options: .deadline(IdentifierIndex.callTimeout))
        }
        // Taken (or the customer's slot has come to this shard since, and the family stays).
        _ = try await end(transfer.transferId, handedOver: elsewhere)
        logger.notice(
            "unmerged family handed back to its shard",
            metadata: ["customer_id": "\(restored)", "transfer": "\(transfer.transferId)"])
    }

    /// `AdoptFamily`, on the restored customer's shard: stores the family unless an earlier call did, drops the
    /// alias that named its survivor, and claims the customer's identifiers for it.
    func adopt(_ request: Customer360_V1_AdoptFamilyRequest) async throws -> Bool {
        _ = try Validate.id(request.transferID, field: "transfer_id")
        let restored = try Validate.id(request.customerID, field: "customer_id")
        guard request.family.customerID == restored else {
            throw InvalidArgument("family", "is customer \(request.family.customerID)'s, not \(restored)'s")
        }
        guard index.owns(restored) else {
            throw RPCError(
                code: .unavailable,
                message:
                    "customer \(restored) is not \(shard)'s in shard map epoch \(index.source.current.epoch): retry")
        }
        // The merge's transfer out of this shard not ended yet: the rows here are its fenced copy, which ending it
        // deletes. The survivor's shard refuses such an unmerge; this guards a late hand-back all the same.
        if try await store.writer.read({ db in try FamilyTransferOut.isOpen(db, family: restored) }) {
            throw RPCError(
                code: .unavailable,
                message: "customer \(restored)'s family is still being handed over for its merge here; retry later")
        }
        // Once stored, the family is this shard's and may have been written to: a repeated call stores nothing.
        var adopted = try await store.writer.read { db in try store.customerRow(db, restored) == nil }
        if adopted {
            let prepared = try await moves.prepare(handedOver: request.family)
            adopted = try await store.writer.write { db in
                guard try store.customerRow(db, restored) == nil else { return false }
                try moves.insert(db, handedOver: prepared)
                try ProfileStore.familyReturned(db, restored: restored)
                return true
            }
        }
        try await index.claimHeld(by: restored)
        if adopted {
            logger.notice(
                "unmerged family taken back from the survivor's shard",
                metadata: ["customer_id": "\(restored)", "from_shard": "\(request.fromShard)"])
        }
        return adopted
    }

    // MARK: - As the merged customer's shard

    /// `TransferFamily`: records the transfer (fencing the family) and answers the family, in one transaction.
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
            // The asking shard's map is behind this one's (a move): it retries.
            throw RPCError(
                code: .unavailable,
                message: "customer \(customer) is not \(shard)'s in shard map epoch \(map.epoch): retry")
        }
        return try await store.writer.write { db in
            if try Bool.fetchOne(
                db, sql: "SELECT committed FROM \(FamilyTransferOut.endedTable) WHERE transferId = ?",
                arguments: [transferID]) != nil
            {
                // Given up by the asking shard meanwhile: a new merge asks again under a new id.
                throw RPCError(code: .unavailable, message: "transfer \(transferID) has ended; retry the merge")
            }
            if let open = try FamilyTransferOut.fetchOne(db, key: transferID) {
                guard open.familyId == customer, open.survivorId == survivor else {
                    throw InvalidArgument(
                        "transfer_id", "names a transfer of customer \(open.familyId) into \(open.survivorId)")
                }
                return try moves.export(db, customer: customer)
            }
            if let other = try FamilyTransferOut.open(db, family: customer) {
                throw RPCError(
                    code: .unavailable,
                    message: "customer \(customer) is being merged into \(other.survivorId) already; retry later")
            }
            if let fenced = try SlotFence.fencedCustomers(db), fenced(customer) {
                throw RPCError(
                    code: .unavailable,
                    message: "customer \(customer)'s slot is moving to another shard; retry the merge once it is done")
            }
            // Unknown, an alias only, or merged into a survivor here: answered as such, naming the survivor.
            let row = try store.resolvedRow(db, customer)
            guard row.id == customer else { throw ProfileError.mergedElsewhere(customer, survivor: row.id) }
            guard row.state == .active else {
                throw ProfileError.customerNotActive(customer, state: row.state.rawValue)
            }
            try FamilyTransferOut(
                transferId: transferID, familyId: customer, survivorId: survivor,
                survivorShard: request.survivorShard, startedAt: Date()
            ).insert(db)
            try FamilyFence.createTriggers(db)
            return try moves.export(db, customer: customer)
        }
    }

    /// `EndTransfer`: the family goes (leaving the alias) unless aborted, and its fence ends; the transfer is recorded
    /// as ended either way, also one never begun here (aborted before its `TransferFamily` arrived).
    func endTransfer(_ request: Customer360_V1_EndTransferRequest) async throws -> Bool {
        let transferID = try Validate.id(request.transferID, field: "transfer_id")
        let handingBack = try await store.writer.read { db in
            try FamilyTransferOut.fetchOne(db, key: transferID)?.isHandBack == true
        }
        // This shard drives a hand-back itself, and it is never given up: the unmerge has committed.
        guard !handingBack else {
            throw RPCError(
                code: .failedPrecondition,
                message: "transfer \(transferID) hands an unmerged family back; the shard that undid the merge ends it")
        }
        return try await end(transferID, handedOver: !request.abort)
    }

    /// Ends a transfer out of this shard: the family goes unless it stays (an aborted merge), and its fence ends.
    /// A merged family leaves its id as an alias of the survivor; a family handed back leaves each id merged into it
    /// before as an alias of the restored customer, so a call that followed an old alias here is sent on.
    /// The keys that go are the family's and those of other customers its rows are sealed under (merged into it once
    /// and split off since), unless this shard keeps such a customer (`ProfileStore.keepsDataKey`).
    private func end(_ transferID: String, handedOver: Bool) async throws -> Bool {
        let (members, keys, handBack) = try await store.writer.read { db in
            let open = try FamilyTransferOut.fetchOne(db, key: transferID)
            let family = open?.familyId ?? ""
            let members = try String.fetchAll(
                db, sql: "SELECT id FROM customer WHERE familyId = ?", arguments: [family])
            // The family's own key goes; its members' and others' unless still needed here (a member's suggestions stay
            // with its own slot, sealed under its key).
            let others = open == nil || !handedOver ? [] : try moves.keysLeaving(db, with: family, leaving: [family])
            let kept = try members.filter { member in
                guard member != family else { return false }
                return try store.keepsDataKey(db, of: member, leaving: [family])
            }
            return (members, Array(Set(members + others).subtracting(kept)).sorted(), open?.isHandBack == true)
        }
        if handedOver, !handBack {
            // Keys first (the survivor's shard holds the family, sealed under its own keys): a crash before the rows
            // are deleted leaves rows nobody can open, deleted by the next call.
            try store.keyring.shred(keys)
        }
        let ended = try await store.writer.write { db in
            try db.execute(
                sql:
                    "INSERT OR IGNORE INTO \(FamilyTransferOut.endedTable) (transferId, committed, endedAt) VALUES (?, ?, ?)",
                arguments: [transferID, handedOver, Date()])
            guard let open = try FamilyTransferOut.fetchOne(db, key: transferID) else { return false }
            try open.delete(db)
            if try FamilyTransferOut.fetchCount(db) == 0 { try FamilyFence.dropTriggers(db) }
            guard handedOver else { return true }
            try moves.remove(db, handedOver: open.familyId)
            // A hand-back's keys go once its rows are gone (below): named here, so a crash in between shreds them at
            // the next start.
            if open.isHandBack { try PendingShreds.record(db, keys) }
            let aliases = open.isHandBack ? members.filter { $0 != open.familyId } : [open.familyId]
            try SlotFence.bypassing(db) {
                for alias in aliases {
                    try db.execute(
                        sql: "INSERT OR REPLACE INTO \(ProfileStore.aliasTable) (id, survivorId) VALUES (?, ?)",
                        arguments: [alias, open.survivorId])
                }
            }
            return true
        }
        if ended, handedOver, handBack {
            // After the rows are gone, since a hand-back sent again exports them: what stays here under these keys is
            // the undone merge's snapshot in the survivor's ledger, never read again, and it must not outlive an
            // erasure on the customer's own shard. A failure leaves them named, for the completer's next round: the
            // transfer itself has ended.
            do {
                try shredPendingKeys()
            } catch {
                logger.warning(
                    "a hand-back's keys were not shredded yet; retrying", metadata: ["error": "\(error)"])
            }
        }
        return ended
    }
}

/// Settles merges across shards left open by a crash or a lost answer, and sends hand-backs of unmerged families again,
/// every few seconds (`FamilyTransfers`).
public struct TransferCompleter: Service {
    let transfers: FamilyTransfers
    let interval: Duration
    /// A transfer that has not merged after this long is aborted (a hand-back never is).
    let staleAfter: TimeInterval

    public init(transfers: FamilyTransfers, interval: Duration = .seconds(5), staleAfter: TimeInterval = 60) {
        self.transfers = transfers
        self.interval = interval
        self.staleAfter = staleAfter
    }

    public func run() async {
        let (transfers, staleAfter) = (transfers, staleAfter)
        await Periodic.run(
            every: interval, logger: transfers.logger, failure: "settling merges across shards failed; retrying"
        ) {
            let settled = try await transfers.settleOpenTransfers(staleAfter: staleAfter)
            if settled > 0 {
                transfers.logger.notice("merges across shards settled", metadata: ["transfers": "\(settled)"])
            }
        }
    }
}

/// The transfer ids a process's merges, and the family ids its hand-backs, are working on (`FamilyTransfers.working`).
final class WorkingTransfers: Sendable {
    private let ids = Mutex<Set<String>>([])

    func insert(_ id: String) { ids.withLock { _ = $0.insert(id) } }
    func remove(_ id: String) { ids.withLock { _ = $0.remove(id) } }
    func contains(_ id: String) -> Bool { ids.withLock { $0.contains(id) } }
}

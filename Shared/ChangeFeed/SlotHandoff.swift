public import C360Clients
import C360Contracts
public import C360ServerKit
import C360StoreKit
import Foundation
public import GRDB
import GRPCCore
public import Logging
public import ServiceLifecycle

/// Hands a customer's rows to the shard that owns them when a merge left them on this one: merging a customer of this
/// shard into a survivor another shard owns re-keys the rows here (the merge follower), where no read of the survivor
/// will look. The follower queues the survivor in the transaction that re-keys (`queueIfForeign`, a row in
/// `slot_handoff`); this loop sends the rows to the owner (`ImportSlotCustomers` with `append`: kept where the owner
/// has them already, counters rebuilt) and then deletes them here with the queue row, and shreds the keys they were
/// sealed under here. A crash between sending and deleting sends them again, which the owner's append makes harmless.
/// An unmerge does the same the other way.
public struct SlotHandoff: Service {
    let moves: SlotMoves
    let peer: PeerConnection
    let shards: ShardSettings
    let service: String
    let logger: Logger

    public init(moves: SlotMoves, peer: PeerConnection, shards: ShardSettings, service: String, logger: Logger) {
        self.moves = moves
        self.peer = peer
        self.shards = shards
        self.service = service
        self.logger = logger
    }

    /// What a shard of `host`'s service runs to hand rows over: a connection to its sibling shards (reached through the
    /// map, each call naming its shard) and the handoff loop. Nothing for a process that is not a shard.
    public static func services(host: ServiceHost, moves: SlotMoves) throws -> [any Service] {
        guard let shards = host.configuration.shards, let shard = shards.shard,
            let ownAddress = shards.source.current.shard(named: shard, in: host.identity.name).flatMap({
                PeerAddress($0.address)
            })
        else { return [] }
        let siblings = try host.connect(to: host.identity, at: ownAddress)
        return [
            siblings,
            SlotHandoff(moves: moves, peer: siblings, shards: shards, service: host.identity.name, logger: host.logger),
        ]
    }

    /// The queue's table. A store that follows merges while sharded registers it once.
    public static func register(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("slot handoff: customers whose rows a merge left on a shard that does not own them")
        {
            db in
            try db.create(table: "slot_handoff") { t in
                t.primaryKey("customerId", .text)
                t.column("queuedAt", .integer).notNull()
            }
        }
    }

    /// The merge follower's `handOver` for a process of `host`'s service: `queueIfForeign` with its shard settings.
    public static func queueing(for host: ServiceHost)
        -> @Sendable (_ db: Database, _ customerID: String) throws -> Void
    {
        let shards = host.configuration.shards
        let service = host.identity.name
        return { db, customerID in try queueIfForeign(db, customerID, shards: shards, service: service) }
    }

    /// Queues `customerID` when the map gives it to another shard of `service`, in the caller's transaction.
    public static func queueIfForeign(_ db: Database, _ customerID: String, shards: ShardSettings?, service: String)
        throws
    {
        guard let shards, let shard = shards.shard,
            let owner = shards.source.current.owner(of: customerID, in: service), owner.shard != shard
        else { return }
        try db.execute(
            sql: "INSERT OR IGNORE INTO slot_handoff (customerId, queuedAt) VALUES (?, ?)",
            arguments: [customerID, Date().unixMillis])
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let handed = await handOverQueued()
                if handed == 0 { try? await Task.sleep(for: .milliseconds(500)) }
            }
        }
    }

    /// Hands over what is queued, oldest first; returns how many customers were handed over.
    func handOverQueued() async -> Int {
        let store = moves.store
        let queued: [String]
        do {
            queued = try await store.database.read { db in
                try String.fetchAll(db, sql: "SELECT customerId FROM slot_handoff ORDER BY queuedAt LIMIT 20")
            }
        } catch {
            logger.error("cannot read the handoff queue", metadata: ["error": "\(error)"])
            return 0
        }
        var handed = 0
        for customerID in queued {
            do {
                if try await handOver(customerID) { handed += 1 }
            } catch {
                // Kept queued: the owner may be down or restarting; the next round tries again.
                logger.warning(
                    "cannot hand a merged customer's rows to its shard yet",
                    metadata: ["customer_id": "\(customerID)", "error": "\(error)"])
                return handed
            }
        }
        return handed
    }

    /// Hands one customer's rows over; `false` when they changed while being sent, to be handed over again.
    private func handOver(_ customerID: String) async throws -> Bool {
        let store = moves.store
        let map = shards.source.current
        guard let owner = map.owner(of: customerID, in: service), owner.shard != shards.shard else {
            // The map changed since (the customer's slot moved here): nothing to hand over.
            try await store.database.write { db in try Self.dequeue(db, customerID) }
            return true
        }
        let customer = try await store.database.read { db in
            try moves.export(db, customerID, columns: moves.copiedColumns(db), keyring: store.dataKeys)
        }
        if !customer.tables.isEmpty {
            _ = try await Customer360_V1_AdminService.Client(wrapping: peer.client).importSlotCustomers(
                .with {
                    $0.customers = [customer]
                    $0.append = true
                }, metadata: [WrongShard.pinKey: .string(owner.shard)], options: .deadline(.seconds(30)))
        }
        let removed = try await store.database.write { db in
            // Another merge may have re-keyed more rows into the customer while these were sent: deleting them now
            // would lose them. Only rows exactly as sent are deleted; otherwise they all go again next round.
            guard
                try moves.export(db, customerID, columns: moves.copiedColumns(db), keyring: store.dataKeys) == customer
            else { return false }
            try moves.remove(db, customerID)
            try Self.dequeue(db, customerID)
            return true
        }
        guard removed else {
            logger.info(
                "a merged customer's rows changed while being handed over; sending them again",
                metadata: ["customer_id": "\(customerID)"])
            return false
        }
        // Every value sealed under these keys here went with the rows (a customer is merged once, so a merged-away
        // customer's values sit in its survivor's rows alone): shredding them leaves this shard's backups nothing an
        // erasure on the survivor's shard would miss.
        try store.dataKeys.shred([customerID] + customer.otherDataKeys.keys.sorted())
        logger.notice(
            "handed a merged customer's rows to the shard that owns them",
            metadata: [
                "customer_id": "\(customerID)", "shard": "\(owner.shard)",
                "rows": "\(customer.tables.reduce(0) { $0 + $1.rows.count })",
            ])
        return true
    }

    private static func dequeue(_ db: Database, _ customerID: String) throws {
        try db.execute(sql: "DELETE FROM slot_handoff WHERE customerId = ?", arguments: [customerID])
    }
}

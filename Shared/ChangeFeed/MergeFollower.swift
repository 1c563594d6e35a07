public import C360Clients
import C360Contracts
import C360ServerKit
import C360StoreKit
public import GRDB
public import GRPCCore
public import Logging

/// Carries profile-service's merges into a service that stores data about customers it does not own: each
/// `CUSTOMER_MERGED` event on profile-service's feed moves the merged-away customer's rows to the survivor (`rekey`,
/// which each service writes for its own tables, counters combined rather than double-counted), records the alias, and
/// appends `CUSTOMER_REKEYED` to this service's own feed — all in the transaction that stores the feed position, so a
/// merge is applied exactly once however the process stops.
public enum MergeFollower {
    /// The consumer of profile-service's feed.
    ///
    /// - Parameters:
    ///   - rekey: Moves every row of `merged` to `survivor` inside the transaction it is given; must be a no-op when
    ///     `merged` holds nothing.
    ///   - customerIDs: Every customer id the service holds rows for, for a resync after the position fell out of
    ///     profile-service's retention: each is asked of profile-service again, and the merged ones are re-keyed.
    ///   - handOver: Called in the same transaction with the customer the rows now belong to (the survivor of a
    ///     merge, the customer split off by an unmerge): on a shard, queues them for the shard that owns them
    ///     (`SlotHandoff.queueIfForeign`).
    public static func consumer<Transport: ClientTransport>(
        profile client: GRPCClient<Transport>, writer: any DatabaseWriter, directory: any CustomerDirectory,
        logger: Logger,
        rekey: @escaping @Sendable (_ db: Database, _ merged: String, _ survivor: String) throws -> Void,
        unrekey: @escaping @Sendable (_ db: Database, _ merged: String, _ survivor: String) throws -> Void,
        customerIDs: @escaping @Sendable (Database) throws -> [String],
        shards: @escaping @Sendable () -> [String] = { [] },
        handOver: @escaping @Sendable (_ db: Database, _ customerID: String) throws -> Void = { _, _ in }
    ) -> ChangeFeedConsumer<Transport> {
        ChangeFeedConsumer(
            source: .profile, service: "customer360.v1.ProfileService", client: client, writer: writer,
            kinds: [.customerMerged, .customerUnmerged], logger: logger,
            apply: { db, events in
                for event in events {
                    switch event.kind {
                    case .customerMerged:
                        try apply(db, merged: event.customerID, survivor: event.relatedCustomerID, rekey: rekey)
                        try handOver(db, event.relatedCustomerID)
                    case .customerUnmerged:
                        try undo(db, merged: event.customerID, survivor: event.relatedCustomerID, unrekey: unrekey)
                        try handOver(db, event.customerID)
                    default:
                        break
                    }
                }
            },
            resync: {
                let ids = try await writer.read(customerIDs)
                var moved = 0
                for start in stride(from: 0, to: ids.count, by: 1_000) {
                    let chunk = Array(ids[start..<min(start + 1_000, ids.count)])
                    let answers = try await directory.resolveForWrite(chunk)
                    let merges = chunk.compactMap { id -> (String, String)? in
                        guard case .success(let survivor)? = answers[id], survivor != id else { return nil }
                        return (id, survivor)
                    }
                    guard !merges.isEmpty else { continue }
                    try await writer.write { db in
                        for (merged, survivor) in merges {
                            try apply(db, merged: merged, survivor: survivor, rekey: rekey)
                            try handOver(db, survivor)
                        }
                    }
                    moved += merges.count
                }
                logger.notice(
                    "merge resync re-keyed customers", metadata: ["checked": "\(ids.count)", "rekeyed": "\(moved)"])
            }, shards: shards)
    }

    /// Moves back what `apply` moved for the merge of `merged` into `survivor` (`unrekey`, from the journal its
    /// `rekey` kept with `MergeJournal.record`), points the aliases back, and tells this service's feed.
    static func undo(
        _ db: Database, merged: String, survivor: String,
        unrekey: (_ db: Database, _ merged: String, _ survivor: String) throws -> Void
    ) throws {
        guard !merged.isEmpty, !survivor.isEmpty, merged != survivor else { return }
        try unrekey(db, merged, survivor)
        try CustomerAlias.undo(db, merged: merged, survivor: survivor)
        try MergeJournal.forget(db, merged: merged)
        try ChangeLog.append(db, .customerUnmerged, customer: merged, related: survivor)
    }

    /// Re-keys, records the alias and tells this service's feed, in the caller's transaction.
    static func apply(
        _ db: Database, merged: String, survivor: String,
        rekey: (_ db: Database, _ merged: String, _ survivor: String) throws -> Void
    ) throws {
        guard !merged.isEmpty, !survivor.isEmpty, merged != survivor else { return }
        try rekey(db, merged, survivor)
        try CustomerAlias.record(db, merged: merged, survivor: survivor)
        try ChangeLog.append(db, .customerRekeyed, customer: merged, related: survivor)
    }
}

/// Resolves ids for reads in a service that follows profile-service's merges from its own `customer_alias` table
/// alone, and ids for writes by asking profile-service.
///
/// A read names where this database holds the customer's data at that moment: the alias is recorded in the transaction
/// that moves the merged-away customer's rows, so a read by that id finds the survivor's combined history from then
/// on, and before it the customer's own rows, still where they were. Asking profile-service instead could name a
/// survivor whose rows have not arrived yet, and cost a round trip on every read of a customer not in a cache: on the
/// 360° view, three of the five backend calls each waited for one.
public struct MergeAwareCustomerDirectory: CustomerDirectory {
    private let upstream: any CustomerDirectory
    private let reader: any DatabaseReader

    /// - Parameters:
    ///   - upstream: Asked for writes (profile-service).
    ///   - reader: The service's database, holding `customer_alias`.
    public init(upstream: any CustomerDirectory, reader: any DatabaseReader) {
        self.upstream = upstream
        self.reader = reader
    }

    public func resolve(_ customerID: String) async throws(CustomerLookupError) -> String {
        do {
            return try await reader.read { try CustomerAlias.survivor($0, of: customerID) }
        } catch {
            throw .unavailable("the local merge aliases could not be read: \(error)")
        }
    }

    public func resolveForWrite(_ customerIDs: [String]) async throws(CustomerLookupError)
        -> [String: Result<String, CustomerLookupError>]
    {
        try await upstream.resolveForWrite(customerIDs)
    }
}

/// The merges this service has applied: merged-away id → survivor. A write that resolved a customer just before a
/// merge was applied looks here inside its own transaction, so it never lands on an id whose rows already moved.
public enum CustomerAlias {
    /// The id to store `customerID`'s data under in this database: its survivor once a merge was applied here.
    public static func survivor(_ db: Database, of customerID: String) throws -> String {
        try String.fetchOne(
            db.cachedStatement(sql: "SELECT survivorId FROM customer_alias WHERE mergedId = ?"), arguments: [customerID]
        ) ?? customerID
    }

    /// `survivor(_:of:)` for a write in the caller's transaction: when a merge applied here since the write was
    /// resolved re-keys it, `handOver` sees the survivor there too. On a shard that does not own the survivor, that
    /// queues it (`SlotHandoff.queueIfForeign`), so the row goes to the survivor's shard with the merge's own rows
    /// instead of staying where no read of the survivor looks.
    public static func survivor(
        _ db: Database, ofWrite customerID: String, handOver: (Database, String) throws -> Void
    ) throws -> String {
        let survivor = try survivor(db, of: customerID)
        if survivor != customerID { try handOver(db, survivor) }
        return survivor
    }

    /// Records a merge; ids merged into `merged` earlier now point at `survivor` too, so every alias is one hop (the
    /// journal remembers which, for an unmerge).
    static func record(_ db: Database, merged: String, survivor: String) throws {
        try db.execute(
            sql: """
                INSERT INTO merge_journal (mergedId, survivorId, tableName, rowKey)
                SELECT ?, ?, 'customer_alias', mergedId FROM customer_alias WHERE survivorId = ?
                """, arguments: [merged, survivor, merged])
        try db.execute(
            sql: "UPDATE customer_alias SET survivorId = ? WHERE survivorId = ?", arguments: [survivor, merged])
        try db.execute(
            sql: "INSERT INTO customer_alias (mergedId, survivorId) VALUES (?, ?) "
                + "ON CONFLICT (mergedId) DO UPDATE SET survivorId = excluded.survivorId",
            arguments: [merged, survivor])
    }

    /// Undoes `record`: `merged` is itself again, and the ids that pointed at it before point at it again.
    static func undo(_ db: Database, merged: String, survivor: String) throws {
        try db.execute(sql: "DELETE FROM customer_alias WHERE mergedId = ?", arguments: [merged])
        try db.execute(
            sql: """
                UPDATE customer_alias SET survivorId = ?1 WHERE survivorId = ?2 AND mergedId IN (
                    SELECT rowKey FROM merge_journal WHERE mergedId = ?1 AND tableName = 'customer_alias')
                """, arguments: [merged, survivor])
    }

    /// Forgets the aliases of an erased customer, and the journals of merges it took part in.
    public static func forget(_ db: Database, customer customerID: String) throws {
        try db.execute(
            sql: "DELETE FROM customer_alias WHERE mergedId = ? OR survivorId = ?",
            arguments: [customerID, customerID])
        try db.execute(
            sql: "DELETE FROM merge_journal WHERE mergedId = ? OR survivorId = ?",
            arguments: [customerID, customerID])
    }
}

/// What a service's `rekey` moved for each merge it applied, so `unrekey` moves exactly those rows back: row keys per
/// table, and the rows a merge dropped (a vote both customers had cast) as JSON to put back.
public enum MergeJournal {
    /// Journals the keys `select` returns (one column) as moved from `merged` to `survivor` in `table`. Call it before
    /// the UPDATE that moves them.
    public static func record(
        _ db: Database, merged: String, survivor: String, table: String, keys select: String,
        arguments: StatementArguments
    ) throws {
        try db.execute(
            sql:
                "INSERT INTO merge_journal (mergedId, survivorId, tableName, rowKey) SELECT ?, ?, ?, k FROM (\(select))",
            arguments: [merged, survivor, table] + arguments)
    }

    /// Journals one row the merge removed, with what is needed to put it back.
    public static func recordDropped(
        _ db: Database, merged: String, survivor: String, table: String, key: String, payload: String
    ) throws {
        try db.execute(
            sql: "INSERT INTO merge_journal (mergedId, survivorId, tableName, rowKey, payload) VALUES (?, ?, ?, ?, ?)",
            arguments: [merged, survivor, table, key, payload])
    }

    /// A subquery for `WHERE key IN (…)`: the keys journaled for `table` in the merge of `?`.
    public static let keysSubquery = "SELECT rowKey FROM merge_journal WHERE mergedId = ? AND tableName = ?"

    /// Whose data keys sealed what `customerID` holds, for an erasure to shred: their own, the owner named in each
    /// sealed value `sealedValues` select (one column each, `?` the customer), and every customer merged into them —
    /// a merge moves rows as they are, so a survivor's rows can hold values sealed under a merged customer's key.
    public static func keyOwners(_ db: Database, of customerID: String, sealedValues: [String]) throws -> [String] {
        var owners: Set<String> = [customerID]
        for sql in sealedValues {
            for sealed in try SealedText.fetchAll(db, sql: sql, arguments: [customerID]) {
                if let owner = sealed.owner { owners.insert(owner) }
            }
        }
        owners.formUnion(
            try String.fetchAll(
                db, sql: "SELECT DISTINCT mergedId FROM merge_journal WHERE survivorId = ?",
                arguments: [customerID]))
        return owners.sorted()
    }

    /// Drops the journal of the merge of `merged`, after an unmerge; the journals of merges into `merged` stay, for
    /// their own unmerges.
    static func forget(_ db: Database, merged: String) throws {
        try db.execute(sql: "DELETE FROM merge_journal WHERE mergedId = ?", arguments: [merged])
    }
}

extension DatabaseMigrator {
    /// Registers the merge journal (`MergeJournal`); services that follow merges call it after `registerChangeFeed()`.
    public mutating func registerMergeJournal() {
        registerMigration("merge journal: rows each applied merge moved") { db in
            try db.create(table: "merge_journal") { t in
                t.column("mergedId", .text).notNull()
                t.column("survivorId", .text).notNull()
                t.column("tableName", .text).notNull()
                t.column("rowKey", .text).notNull()
                t.column("payload", .text)
            }
            try db.create(index: "merge_journal_by_merge", on: "merge_journal", columns: ["mergedId", "tableName"])
            try db.create(index: "merge_journal_by_survivor", on: "merge_journal", columns: ["survivorId"])
        }
    }
}

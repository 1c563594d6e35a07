public import C360Clients
import C360Contracts
import C360ServerKit
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
    public static func consumer<Transport: ClientTransport>(
        profile client: GRPCClient<Transport>, writer: any DatabaseWriter, directory: any CustomerDirectory,
        logger: Logger,
        rekey: @escaping @Sendable (_ db: Database, _ merged: String, _ survivor: String) throws -> Void,
        customerIDs: @escaping @Sendable (Database) throws -> [String]
    ) -> ChangeFeedConsumer<Transport> {
        ChangeFeedConsumer(
            source: .profile, service: "customer360.v1.ProfileService", client: client, writer: writer,
            kinds: [.customerMerged], logger: logger,
            apply: { db, events in
                for event in events where event.kind == .customerMerged {
                    try apply(db, merged: event.customerID, survivor: event.relatedCustomerID, rekey: rekey)
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
                        }
                    }
                    moved += merges.count
                }
                logger.notice("merge resync re-keyed customers", metadata: ["checked": "\(ids.count)", "rekeyed": "\(moved)"])
            })
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

/// The merges this service has applied: merged-away id → survivor. A write that resolved a customer just before a
/// merge was applied looks here inside its own transaction, so it never lands on an id whose rows already moved.
public enum CustomerAlias {
    /// The id to store `customerID`'s data under in this database: its survivor once a merge was applied here.
    public static func survivor(_ db: Database, of customerID: String) throws -> String {
        try String.fetchOne(
            db.cachedStatement(sql: "SELECT survivorId FROM customer_alias WHERE mergedId = ?"), arguments: [customerID]
        ) ?? customerID
    }

    /// Records a merge; ids merged into `merged` earlier now point at `survivor` too, so every alias is one hop.
    static func record(_ db: Database, merged: String, survivor: String) throws {
        try db.execute(sql: "UPDATE customer_alias SET survivorId = ? WHERE survivorId = ?", arguments: [survivor, merged])
        try db.execute(
            sql: "INSERT INTO customer_alias (mergedId, survivorId) VALUES (?, ?) "
                + "ON CONFLICT (mergedId) DO UPDATE SET survivorId = excluded.survivorId",
            arguments: [merged, survivor])
    }

    /// Forgets the aliases of an erased customer.
    public static func forget(_ db: Database, customer customerID: String) throws {
        try db.execute(sql: "DELETE FROM customer_alias WHERE mergedId = ? OR survivorId = ?",
                       arguments: [customerID, customerID])
    }
}

import C360ChangeFeed
import C360ServerKit
public import C360StoreKit
import Foundation
public import GRDB

/// What moves when customers move to another shard (`profile-service reshard`).
///
/// A merge joins two customers of one shard, and what it made — the survivor holding both profiles' identifiers,
/// consents and points, the merged-away row pointing at it, the ledger entry that can take it apart again, values
/// sealed under the merged customer's key — must stay together for the merge to be undone. So profile-service moves
/// *families*: a survivor with every profile merged into it, by the survivor's slot (`customer.familyId`, generated
/// from `mergedInto`), and the merge ledger with them (`merge_ledger.familyId`, kept by merges and unmerges).
///
/// A merged-away id is still routed by its own slot, which may now be another shard's than its family's. Every merge
/// therefore also records an alias (`merged_alias`: merged id → survivor), a row of the merged id's own slot that moves
/// with that slot: a call for a merged-away id reaching a shard that holds only the alias is answered with the
/// survivor to call instead (`ProfileError.mergedElsewhere`). The identifier index's claims move by their
/// identifier's slot (`identifier_claim.valueIndex`).
///
/// Much of this changes without a feed event (claims, aliases, loyalty lots), so a move catches up from the touch log.
extension ProfileStore: SlotMovable {
    public var database: any DatabaseWriter { writer }
    public var dataKeys: Keyring { keyring }

    /// Parents first (a customer's rows name it); within a family the survivor's row is inserted with the others and
    /// foreign keys are checked at commit.
    public static let customerTables = [
        CustomerTable(
            name: CustomerRecord.databaseTableName, customerColumn: "familyId", listsCustomers: true,
            customerExpression: "COALESCE({row}.mergedInto, {row}.id)"),
        CustomerTable(name: IdentifierRecord.databaseTableName, customerColumn: "customerId"),
        CustomerTable(name: TagRecord.databaseTableName, customerColumn: "customerId"),
        CustomerTable(name: AttributeRecord.databaseTableName, customerColumn: "customerId"),
        CustomerTable(name: TraitRecord.databaseTableName, customerColumn: "customerId"),
        CustomerTable(name: ConsentRecord.databaseTableName, customerColumn: "customerId"),
        CustomerTable(name: LoyaltyRecord.databaseTableName, customerColumn: "customerId"),
        CustomerTable(name: LoyaltyPurchaseRecord.databaseTableName, customerColumn: "customerId"),
        CustomerTable(name: SearchTokenRecord.databaseTableName, customerColumn: "customerId"),
        // Suggestions and queued evaluations may name a merged-away customer, whose own slot they move with.
        CustomerTable(name: SuggestionRecord.databaseTableName, customerColumn: "customerId", listsCustomers: true),
        CustomerTable(name: loyaltyQueue.table, customerColumn: "customerId", listsCustomers: true),
        CustomerTable(
            name: MergeLedgerRecord.databaseTableName, customerColumn: "familyId", assignedKey: "seq",
            listsCustomers: true, sealedJSONColumns: ["matchedOn", "undo"]),
        // An alias may be kept on the shard a hand-back after an unmerge left it on, off its id's own slot.
        CustomerTable(name: aliasTable, customerColumn: "id", listsCustomers: true, keptOffOwner: true),
        CustomerTable(
            name: IdentifierClaimRecord.databaseTableName, customerColumn: "valueIndex", listsCustomers: true),
    ]

    public static var catchUp: SlotCatchUp { .touchLog }

    /// Merged-away ids and their survivors, one row in the merged id's slot.
    static let aliasTable = "merged_alias"

    /// The migration that lets customers move: families, aliases, the touch log and the fence.
    static func registerSlotMoves(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v7: customers move between shards (families, aliases, touch log)") { db in
            try db.execute(
                sql: """
                    ALTER TABLE customer ADD COLUMN familyId TEXT GENERATED ALWAYS AS (COALESCE(mergedInto, id)) VIRTUAL
                    """)
            try db.create(index: "customer_by_family", on: "customer", columns: ["familyId"])
            try db.alter(table: "merge_ledger") { t in t.add(column: "familyId", .text).notNull().defaults(to: "") }
            try db.execute(
                sql: """
                    UPDATE merge_ledger SET familyId = \
                    COALESCE((SELECT familyId FROM customer WHERE id = merge_ledger.survivorId), survivorId)
                    """)
            try db.create(index: "merge_ledger_by_family", on: "merge_ledger", columns: ["familyId"])
            try db.create(table: aliasTable) { t in
                t.primaryKey("id", .text)
                t.column("survivorId", .text).notNull().indexed()
            }
            try db.execute(
                sql: """
                    INSERT INTO \(aliasTable) (id, survivorId) SELECT id, mergedInto FROM customer \
                    WHERE mergedInto IS NOT NULL
                    """)
            try SlotTouchLog.create(db)
        }
        SlotFence.register(&migrator)
        migrator.registerMigration("v8: merges across shards (family transfers)") { db in
            try db.create(table: FamilyTransferOut.databaseTableName) { t in
                t.primaryKey("transferId", .text)
                // One transfer of a family at a time: a second would hand it to two survivors.
                t.column("familyId", .text).notNull().unique()
                t.column("survivorId", .text).notNull()
                t.column("survivorShard", .text).notNull()
                t.column("startedAt", .datetime).notNull()
            }
            try db.create(table: FamilyTransferOut.endedTable) { t in
                t.primaryKey("transferId", .text)
                t.column("committed", .boolean).notNull()
                t.column("endedAt", .datetime).notNull()
            }
            try db.create(table: FamilyTransferIn.databaseTableName) { t in
                t.primaryKey("transferId", .text)
                t.column("mergedId", .text).notNull()
                t.column("fromShard", .text).notNull()
                t.column("survivorId", .text).notNull()
                t.column("state", .text).notNull()
                t.column("startedAt", .datetime).notNull()
            }
        }
    }

    /// A move waits for the merges across shards handing a customer of its ranges over (`FamilyTransfers`): fenced
    /// mid-transfer, the family would be deleted here behind the move's copy of it.
    public func fenceBlocker(_ db: Database, _ ranges: [ClosedRange<Int>]) throws -> String? {
        let handing = try String.fetchAll(db, sql: "SELECT familyId FROM \(FamilyTransferOut.databaseTableName)")
        guard let busy = handing.first(where: { id in ranges.contains { $0.contains(CustomerSlot.of(id)) } }) else {
            return nil
        }
        return "customer \(busy) is being handed to another shard for a merge"
    }

    /// An arriving customer's loyalty is evaluated again once this shard owns them: purchases whose feed events the
    /// source skipped while the customer was fenced reach the target's evaluation this way.
    public func customerArrived(_ db: Database, _ customerID: String) throws {
        guard try holdsDataKey(db, customerID) else { return }
        try Self.loyaltyQueue.enqueue(db, customerID: customerID, due: now())
    }

    public func customerLeaving(_ db: Database, _ customerID: String) throws {}

    /// profile-service takes no handovers: a merge joins customers of one shard.
    public func customerGrew(_ db: Database, _ customerID: String) throws {}

    /// Only a family's survivor (or a customer never merged) has rows sealed under their key here; a merged-away id
    /// listed for its alias, or an identifier listed for its claim, names no key to move or shred on its own. A
    /// merged-away customer's key travels and is shredded with its family's rows (`othersKeysLeaving`).
    public func holdsDataKey(_ db: Database, _ customerID: String) throws -> Bool {
        try Bool.fetchOne(
            db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM customer WHERE id = ? AND familyId = id)"),
            arguments: [customerID]) == true
    }

    /// The keys a leaving family's rows are sealed under besides its survivor's (a member merged into it, or a
    /// customer once merged and split off since, named in its ledger's snapshots) go with it unless still needed here
    /// (`keepsDataKey`). Others leaving at once are asked about too: a merged-away id listed for its alias holds no key
    /// of its own to shred on its turn.
    public func othersKeysLeaving(
        _ db: Database, with customerID: String, leaving: Set<String>, sealedOwners: () throws -> Set<String>
    ) throws -> [String] {
        try sealedOwners().subtracting([customerID]).sorted().filter { try !keepsDataKey(db, of: $0, leaving: leaving) }
    }

    /// Whether `owner`'s key is still needed here once `leaving` are gone: only by a customer this shard keeps. One
    /// merged into another family here still seals that family's rows; its match suggestions, which stay with its own
    /// slot, have their explanations sealed under its key. A customer that is not here any more (or leaves with the
    /// family) needs none, and its key must not outlive an erasure on its new shard.
    func keepsDataKey(_ db: Database, of owner: String, leaving: Set<String>) throws -> Bool {
        if try SuggestionRecord.filter(SuggestionRecord.Columns.customerId == owner).fetchCount(db) > 0 { return true }
        guard let row = try customerRow(db, owner) else { return false }
        return !leaving.contains(row.mergedInto ?? row.id)
    }

    /// Whether a key a hand-back named for shredding (`PendingShreds`) is needed again: the customer's rows are back
    /// here (a merge or a move brought the family, sealed under the same key), or its suggestions stay.
    var keepsPendingKey: (Database, String) throws -> Bool {
        { [self] db, owner in try keepsDataKey(db, of: owner, leaving: []) }
    }

    /// The customers whose writes are refused here now, read once for the caller's transaction: those of slots a
    /// move has fenced, and every profile of a family being handed to another shard for a merge (`FamilyFence`).
    /// Work no caller waits for (a queued evaluation, a feed event, a sweep) leaves them alone rather than fail its
    /// whole batch on the refusal; `nil` when there are none.
    static func busyCustomers(_ db: Database) throws -> (@Sendable (String) -> Bool)? {
        let moving = try SlotFence.fencedCustomers(db)
        let handing = Set(
            try String.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT id FROM customer WHERE familyId IN \
                        (SELECT familyId FROM \(FamilyTransferOut.databaseTableName))
                        """)))
        if handing.isEmpty { return moving }
        return { id in handing.contains(id) || (moving?(id) ?? false) }
    }

    // MARK: - Families

    /// After `merged` joined `survivor`'s family: the merged id answers as the survivor wherever its slot goes, ids
    /// that pointed at it point at the survivor (on this shard; an alias another shard holds keeps its one extra hop),
    /// and the merged family's ledger entries travel with the survivor's.
    static func joinFamily(_ db: Database, merged: String, survivor: String) throws {
        try db.execute(
            sql: "INSERT OR REPLACE INTO \(aliasTable) (id, survivorId) VALUES (?, ?)", arguments: [merged, survivor])
        try db.execute(
            sql: "UPDATE \(aliasTable) SET survivorId = ? WHERE survivorId = ?", arguments: [survivor, merged])
        try db.execute(
            sql: "UPDATE merge_ledger SET familyId = ? WHERE familyId = ?", arguments: [survivor, merged])
    }

    /// After an unmerge restored `restored` (with the ids that had been merged into it, `repointed`): it is its own
    /// family again, with the ledger entries of the merges it and those ids survived.
    static func leaveFamily(_ db: Database, restored: String, survivor: String, repointed: [String]) throws {
        try db.execute(sql: "DELETE FROM \(aliasTable) WHERE id = ?", arguments: [restored])
        if !repointed.isEmpty {
            try db.execute(
                sql: """
                    UPDATE \(aliasTable) SET survivorId = ? WHERE survivorId = ? \
                    AND id IN (\(databaseQuestionMarks(count: repointed.count)))
                    """,
                arguments: StatementArguments([restored, survivor] + repointed))
        }
        let members = [restored] + repointed
        try db.execute(
            sql: """
                UPDATE merge_ledger SET familyId = ? WHERE familyId = ? \
                AND survivorId IN (\(databaseQuestionMarks(count: members.count)))
                """,
            arguments: StatementArguments([restored, survivor] + members))
    }

    /// After a family handed back by an unmerge on another shard was stored here: the restored customer is no alias
    /// any more, and the ids merged into it before answer as it.
    static func familyReturned(_ db: Database, restored: String) throws {
        try db.execute(sql: "DELETE FROM \(aliasTable) WHERE id = ?", arguments: [restored])
        try db.execute(
            sql: """
                UPDATE \(aliasTable) SET survivorId = ?1 \
                WHERE id IN (SELECT id FROM customer WHERE familyId = ?1)
                """, arguments: [restored])
    }

    /// The survivor `id` answers as when this shard holds it only as an alias (its family lives on another shard).
    func survivor(ofAlias id: String) async throws -> String? {
        try await writer.read { db in try customerRow(db, id) == nil ? try alias(db, id) : nil }
    }

    /// The survivor a merged-away id this shard holds only as an alias answers as (its family lives on another shard).
    func alias(_ db: Database, _ id: String) throws -> String? {
        try String.fetchOne(
            db.cachedStatement(sql: "SELECT survivorId FROM \(Self.aliasTable) WHERE id = ?"), arguments: [id])
    }
}

import C360ChangeFeed
public import C360StoreKit
public import Foundation
public import GRDB

/// Why two profiles were joined, as the caller states it.
public struct MergeRequest: Sendable, Equatable {
    public var reason: MergeReason = .manual
    /// The match rule, for `.matchRule`.
    public var rule = ""
    /// What the rule matched on (identifiers, or name + birth year + city).
    public var matchedOn: [String] = []
    public var note = ""
    public var requestedBy = ""

    public init(
        reason: MergeReason = .manual, rule: String = "", matchedOn: [String] = [], note: String = "",
        requestedBy: String = ""
    ) {
        self.reason = reason
        self.rule = rule
        self.matchedOn = matchedOn
        self.note = note
        self.requestedBy = requestedBy
    }
}

/// Why a merge was made.
public enum MergeReason: String, Codable, Sendable {
    case manual
    case matchRule = "match_rule"
}

/// One entry of the merge ledger.
public struct MergeEntry: Sendable, Equatable {
    public var id: String
    public var survivorID: String
    public var mergedID: String
    public var request: MergeRequest
    public var mergedAt: Date
    public var unmergedAt: Date?
    public var unmergedBy: String
}

extension ProfileStore {
    /// Merges `mergedID` into `survivorID` in one transaction and records it in the ledger.
    ///
    /// The survivor keeps the union of identifiers, tags and attributes (its own attribute wins a conflict), the
    /// newest value of each trait, every consent decision (so the newest decision wins), the merged loyalty points,
    /// and any demographics it lacked. The merged-away row keeps only its id and a pointer to the survivor, and ids
    /// merged into it earlier are re-pointed, so every old id resolves in one hop. What the merged profile was — and
    /// what the survivor was before — is kept in the ledger entry, so `unmergeCustomers` can take it apart again.
    /// Merging again is a no-op.
    public func mergeCustomers(
        survivor survivorID: String, merged mergedID: String, request: MergeRequest = MergeRequest()
    ) async throws -> CustomerProfile {
        try await merge(survivor: survivorID, merged: mergedID, request: request).profile
    }

    /// `mergeCustomers`, also answering the ledger entry (nil when the two were already one).
    func merge(
        survivor survivorID: String, merged mergedID: String, request: MergeRequest
    ) async throws -> (profile: CustomerProfile, entry: MergeEntry?) {
        try await writer.write { db in try merge(db, survivor: survivorID, merged: mergedID, request: request) }
    }

    /// The merge, inside the caller's transaction (an accepted suggestion is marked in the same one).
    func merge(
        _ db: Database, survivor survivorID: String, merged mergedID: String, request: MergeRequest
    ) throws -> (profile: CustomerProfile, entry: MergeEntry?) {
        let (survivorRow, resolvedFrom) = try activeRow(db, resolving: survivorID)
        var survivor = survivorRow
        let merged = try resolvedRow(db, mergedID)
        if merged.id == survivor.id {
            return (try profile(db, row: survivor, resolvedFrom: resolvedFrom), nil)
        }
        guard merged.state == .active else {
            throw ProfileError.customerNotActive(merged.id, state: merged.state.rawValue)
        }
        let undo = try MergeUndo.capture(db, survivor: survivor, merged: merged)
        let ids: StatementArguments = [survivor.id, merged.id]
        try db.execute(sql: "UPDATE customer_identifier SET customerId = ? WHERE customerId = ?", arguments: ids)
        try db.execute(sql: "UPDATE consent_decision SET customerId = ? WHERE customerId = ?", arguments: ids)
        try db.execute(sql: "UPDATE loyalty_transaction SET customerId = ? WHERE customerId = ?", arguments: ids)
        try db.execute(sql: "UPDATE loyalty_purchase SET customerId = ? WHERE customerId = ?", arguments: ids)
        try db.execute(
            sql: """
                INSERT OR IGNORE INTO customer_tag (customerId, tag)
                SELECT ?, tag FROM customer_tag WHERE customerId = ?
                """, arguments: ids)
        try db.execute(
            sql: """
                INSERT OR IGNORE INTO customer_attribute (customerId, key, value)
                SELECT ?, key, value FROM customer_attribute WHERE customerId = ?
                """, arguments: ids)
        try db.execute(
            sql: """
                INSERT INTO customer_trait (customerId, key, value, updatedAt)
                SELECT ?, key, value, updatedAt FROM customer_trait WHERE customerId = ? AND true
                ON CONFLICT (customerId, key) DO UPDATE SET value = excluded.value, updatedAt = excluded.updatedAt
                WHERE excluded.updatedAt > customer_trait.updatedAt
                """, arguments: ids)
        for table in ["customer_tag", "customer_attribute", "customer_trait"] {
            try db.execute(sql: "DELETE FROM \(table) WHERE customerId = ?", arguments: [merged.id])
        }
        try db.execute(sql: "UPDATE customer SET mergedInto = ? WHERE mergedInto = ?", arguments: ids)

        survivor.fillBlanks(from: merged)
        try refreshMatchKey(&survivor)
        survivor.loyaltyBalance += merged.loyaltyBalance
        survivor.loyaltyLifetime += merged.loyaltyLifetime
        if let reward = merged.rewardBalanceMinor {
            survivor.rewardBalanceMinor = (survivor.rewardBalanceMinor ?? 0) + reward
        }
        let timestamp = now()
        survivor.updatedAt = timestamp
        try survivor.update(db)

        var mergedAway = merged
        mergedAway.state = .merged
        mergedAway.mergedInto = survivor.id
        mergedAway.updatedAt = timestamp
        mergedAway.clearPersonalData()
        try mergedAway.update(db)

        try reindexSearch(db, survivor.id)
        try reindexSearch(db, merged.id)

        // What the caller says of the match names the person: sealed under the survivor's key.
        var ledger = MergeLedgerRecord(
            seq: nil, mergeId: EntityID.generate(), survivorId: survivor.id, mergedId: merged.id,
            reason: request.reason, rule: request.rule,
            matchedOn: try request.matchedOn.map { try keyring.seal($0, for: survivor.id) },
            note: try keyring.seal(request.note, for: survivor.id),
            requestedBy: request.requestedBy, mergedAt: timestamp, unmergedAt: nil, unmergedBy: "", undo: undo,
            familyId: survivor.id)
        try ledger.insert(db)
        try Self.joinFamily(db, merged: merged.id, survivor: survivor.id)
        try ChangeLog.append(
            db, .customerMerged, customer: merged.id, related: survivor.id,
            subject: ledger.mergeId, at: timestamp)
        return (try profile(db, row: survivor, resolvedFrom: resolvedFrom), try entry(ledger))
    }

    /// Undoes one merge: the merged-away profile is restored whole (personal data, identifiers it brought and the
    /// survivor still holds, consents, loyalty transactions, tags, attributes, traits, ids that had been merged into
    /// it), the survivor loses what the merge gave it (fields it lacked, tags, attributes and traits it did not have,
    /// the points), and `CUSTOMER_UNMERGED` tells the other services to move their rows back. What the survivor
    /// gained after the merge stays with it. Undoing an undone merge answers the current state.
    ///
    /// - Throws: `ProfileError.mergeNotFound`; `.mergeBuiltUpon` naming a later merge of the same customer to undo
    ///   first; `.customerNotActive` when the survivor was deleted or erased since; `.mergeUndoPointsSpent` when the
    ///   survivor has spent points the merge brought.
    ///   `.unmergeAcrossShards` when the merged-away customer's slot is another shard's and no `handBack` is given, or
    ///   when it stays here while an id merged into it earlier has its slot on another shard (`owns`).
    ///
    /// - Parameters:
    ///   - owns: Whether this shard owns a customer's slot (one process owns every one).
    ///   - handBack: On a shard, records in the unmerge's transaction that the restored customer, whose slot another
    ///     shard owns, is to be handed back there with its family (`FamilyTransfers`); without it, such an unmerge is
    ///     refused.
    public func unmergeCustomers(
        mergeID: String, requestedBy: String, owns: @Sendable (String) -> Bool = { _ in true },
        handBack: (@Sendable (Database, _ restored: String) throws -> Void)? = nil
    ) async throws
        -> (survivor: CustomerProfile, restored: CustomerProfile, entry: MergeEntry)
    {
        try await writer.write { db in
            // A move's copy on the target is not found there until the map gives the family to it, so a call asking
            // each shard in turn reaches the shard that owns it.
            guard var ledger = try MergeLedgerRecord.filter(MergeLedgerRecord.Columns.mergeId == mergeID).fetchOne(db),
                owns(ledger.familyId)
            else {
                throw ProfileError.mergeNotFound(mergeID)
            }
            if ledger.unmergedAt != nil {
                return (
                    try profile(db, resolving: ledger.survivorId), try profile(db, resolving: ledger.mergedId),
                    try entry(ledger)
                )
            }
            // A later merge that involves the survivor (or the merged profile) builds on this one.
            if let later =
                try MergeLedgerRecord
                .filter(MergeLedgerRecord.Columns.seq > (ledger.seq ?? 0))
                .filter(MergeLedgerRecord.Columns.unmergedAt == nil)
                .filter(
                    [ledger.survivorId, ledger.mergedId].contains(MergeLedgerRecord.Columns.survivorId)
                        || [ledger.survivorId, ledger.mergedId].contains(MergeLedgerRecord.Columns.mergedId)
                )
                .order(MergeLedgerRecord.Columns.seq.desc).fetchOne(db)
            {
                throw ProfileError.mergeBuiltUpon(merge: mergeID, later: later.mergeId)
            }
            var survivor = try resolvedRow(db, ledger.survivorId)
            guard survivor.state == .active, survivor.id == ledger.survivorId else {
                throw ProfileError.customerNotActive(ledger.survivorId, state: survivor.state.rawValue)
            }
            let undo = ledger.undo
            let timestamp = now()
            let survivorID = survivor.id
            let mergedID = ledger.mergedId
            // A restored profile whose slot is another shard's is handed back there with its family, the ids merged
            // into it earlier included. One that stays here takes those ids back here, where an id whose slot moved
            // keeps an alias on its own shard naming the survivor, which this unmerge cannot re-point.
            let handingBack = !owns(mergedID) && handBack != nil
            if !handingBack, let stranded = ([mergedID] + undo.repointed).first(where: { !owns($0) }) {
                throw ProfileError.unmergeAcrossShards(merge: mergeID, customer: stranded)
            }

            // The merged profile as it was, active again.
            var restored = undo.merged
            restored.state = .active
            restored.mergedInto = nil
            restored.updatedAt = timestamp
            try restored.update(db)
            try db.execute(
                sql:
                    "UPDATE customer SET mergedInto = ? WHERE mergedInto = ? AND id IN (\(undo.repointed.questionMarks))",
                arguments: StatementArguments([mergedID, survivorID] + undo.repointed))
            for identifier in undo.identifiers {
                try db.execute(
                    sql:
                        "UPDATE customer_identifier SET customerId = ? WHERE kind = ? AND valueIndex = ? AND customerId = ?",
                    arguments: [mergedID, identifier.kind, identifier.valueIndex, survivorID])
            }
            try db.execute(
                sql:
                    "UPDATE consent_decision SET customerId = ? WHERE customerId = ? AND id IN (\(undo.consentIDs.questionMarks))",
                arguments: StatementArguments([mergedID, survivorID] + undo.consentIDs))
            try db.execute(
                sql:
                    "UPDATE loyalty_transaction SET customerId = ? WHERE customerId = ? AND id IN (\(undo.loyaltyIDs.questionMarks))",
                arguments: StatementArguments([mergedID, survivorID] + undo.loyaltyIDs))
            for tag in undo.tags { try TagRecord(customerId: mergedID, tag: tag).insert(db, onConflict: .ignore) }
            for var attribute in undo.attributes {
                attribute.customerId = mergedID
                try attribute.upsert(db)
            }
            for var trait in undo.traits {
                trait.customerId = mergedID
                try trait.upsert(db)
            }
            try undo.takeBack(db, from: survivorID)

            // The points the merge brought leave with their transactions.
            let broughtBalance = undo.merged.loyaltyBalance
            let broughtLifetime = undo.merged.loyaltyLifetime
            guard survivor.loyaltyBalance >= broughtBalance else {
                throw ProfileError.mergeUndoPointsSpent(
                    merge: mergeID, survivor: survivorID,
                    short: broughtBalance - survivor.loyaltyBalance)
            }
            survivor.loyaltyBalance -= broughtBalance
            survivor.loyaltyLifetime = max(0, survivor.loyaltyLifetime - broughtLifetime)
            if let reward = undo.merged.rewardBalanceMinor, let held = survivor.rewardBalanceMinor {
                survivor.rewardBalanceMinor = max(0, held - reward)
            }
            survivor.unfillBlanks(before: undo.survivorBefore, merged: undo.merged)
            try refreshMatchKey(&survivor)
            survivor.updatedAt = timestamp
            try survivor.update(db)
            try reindexSearch(db, survivorID)
            try reindexSearch(db, mergedID)

            ledger.unmergedAt = timestamp
            ledger.unmergedBy = requestedBy
            try ledger.update(db)
            try Self.leaveFamily(db, restored: mergedID, survivor: survivorID, repointed: undo.repointed)
            try ChangeLog.append(
                db, .customerUnmerged, customer: mergedID, related: survivorID, subject: mergeID,
                at: timestamp)
            // Last: from here on the restored family's writes are refused until it has been handed back.
            if handingBack, let handBack { try handBack(db, mergedID) }
            return (
                try profile(db, row: survivor, resolvedFrom: nil), try profile(db, row: restored, resolvedFrom: nil),
                try entry(ledger)
            )
        }
    }

    /// An undone merge's survivor and ledger entry, for an unmerge asked again; `nil` when the merge is not in this
    /// shard's ledger or not undone.
    public func undoneMerge(_ mergeID: String) async throws -> (survivor: CustomerProfile, entry: MergeEntry)? {
        try await writer.read { db in
            guard let ledger = try MergeLedgerRecord.filter(MergeLedgerRecord.Columns.mergeId == mergeID).fetchOne(db),
                ledger.unmergedAt != nil
            else { return nil }
            return (try profile(db, resolving: ledger.survivorId), try entry(ledger))
        }
    }

    /// The merges `customerID` took part in, as survivor or merged-away, newest first, one page after `afterSeq`.
    public func merges(customer customerID: String, after afterSeq: Int64?, limit: Int) async throws
        -> Page<(entry: MergeEntry, seq: Int64)>
    {
        try await writer.read { db in
            _ = try resolvedRow(db, customerID)
            var request = MergeLedgerRecord.filter(
                MergeLedgerRecord.Columns.survivorId == customerID || MergeLedgerRecord.Columns.mergedId == customerID)
            if let afterSeq { request = request.filter(MergeLedgerRecord.Columns.seq < afterSeq) }
            let rows = try request.order(MergeLedgerRecord.Columns.seq.desc).limit(limit + 1).fetchAll(db)
            return try Page(fetched: rows, limit: limit).map { (try entry($0), $0.seq ?? 0) }
        }
    }
}

extension Array where Element == String {
    /// `?,?,…` for an `IN (…)` over this array; `NULL` for none, which matches nothing.
    fileprivate var questionMarks: String { isEmpty ? "NULL" : databaseQuestionMarks(count: count) }
}

/// A row of `merge_ledger`.
struct MergeLedgerRecord: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "merge_ledger"
    var seq: Int64?
    var mergeId: String
    var survivorId: String
    var mergedId: String
    var reason: MergeReason
    var rule: String
    /// Sealed under the survivor's key, like `note`.
    var matchedOn: [SealedText]
    var note: SealedText
    var requestedBy: String
    var mergedAt: Date
    var unmergedAt: Date?
    var unmergedBy: String
    /// Everything needed to take the merge apart again (JSON); it holds personal data, so erasure deletes it.
    var undo: MergeUndo
    /// The survivor whose family the entry moves with between shards: its own survivor's, as merges and unmerges
    /// regroup them (`joinFamily`, `leaveFamily`).
    var familyId: String

    enum Columns {
        static let seq = Column(CodingKeys.seq)
        static let mergeId = Column(CodingKeys.mergeId)
        static let survivorId = Column(CodingKeys.survivorId)
        static let mergedId = Column(CodingKeys.mergedId)
        static let unmergedAt = Column(CodingKeys.unmergedAt)
    }

    mutating func didInsert(_ inserted: InsertionSuccess) {
        seq = inserted.rowID
    }

}

/// The two profiles as they were just before a merge: what `unmergeCustomers` restores and takes back.
struct MergeUndo: Codable {
    var merged: CustomerRecord
    var survivorBefore: CustomerRecord
    var identifiers: [IdentifierRecord]
    var consentIDs: [String]
    var loyaltyIDs: [String]
    var tags: [String]
    var attributes: [AttributeRecord]
    var traits: [TraitRecord]
    var survivorTags: [String]
    var survivorAttributes: [AttributeRecord]
    var survivorTraits: [TraitRecord]
    /// Ids merged into the merged profile earlier, re-pointed to the survivor by the merge.
    var repointed: [String]

    static func capture(_ db: Database, survivor: CustomerRecord, merged: CustomerRecord) throws -> MergeUndo {
        func tags(_ id: String) throws -> [String] {
            try String.fetchAll(db, TagRecord.select(TagRecord.Columns.tag).filter(TagRecord.Columns.customerId == id))
        }
        return MergeUndo(
            merged: merged, survivorBefore: survivor,
            identifiers: try IdentifierRecord.filter(IdentifierRecord.Columns.customerId == merged.id).fetchAll(db),
            consentIDs: try String.fetchAll(
                db,
                ConsentRecord.select(ConsentRecord.Columns.id)
                    .filter(ConsentRecord.Columns.customerId == merged.id)),
            loyaltyIDs: try String.fetchAll(
                db, sql: "SELECT id FROM loyalty_transaction WHERE customerId = ?",
                arguments: [merged.id]),
            tags: try tags(merged.id),
            attributes: try AttributeRecord.filter(AttributeRecord.Columns.customerId == merged.id).fetchAll(db),
            traits: try TraitRecord.filter(TraitRecord.Columns.customerId == merged.id).fetchAll(db),
            survivorTags: try tags(survivor.id),
            survivorAttributes: try AttributeRecord.filter(AttributeRecord.Columns.customerId == survivor.id).fetchAll(
                db),
            survivorTraits: try TraitRecord.filter(TraitRecord.Columns.customerId == survivor.id).fetchAll(db),
            repointed: try String.fetchAll(
                db,
                CustomerRecord.select(CustomerRecord.Columns.id)
                    .filter(CustomerRecord.Columns.mergedInto == merged.id)))
    }

    /// Removes from the survivor the tags, attributes and traits the merge gave it and that nobody changed since.
    func takeBack(_ db: Database, from survivorID: String) throws {
        let ownTags = Set(survivorTags)
        let given = tags.filter { !ownTags.contains($0) }
        try TagRecord.filter(TagRecord.Columns.customerId == survivorID).filter(given.contains(TagRecord.Columns.tag))
            .deleteAll(db)
        let ownKeys = Set(survivorAttributes.map(\.key))
        for attribute in attributes where !ownKeys.contains(attribute.key) {
            try db.execute(
                sql: "DELETE FROM customer_attribute WHERE customerId = ? AND key = ? AND value = ?",
                arguments: [survivorID, attribute.key, attribute.value])
        }
        let ownTraits = Dictionary(survivorTraits.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        for trait in traits {
            // Only where the survivor still holds the merged profile's value, stamped as it was.
            guard let current = try TraitRecord.fetchOne(db, key: ["customerId": survivorID, "key": trait.key]),
                current.updatedAt == trait.updatedAt, current.value == trait.value
            else { continue }
            if var own = ownTraits[trait.key] {
                own.customerId = survivorID
                try own.upsert(db)
            } else {
                try current.delete(db)
            }
        }
    }
}

extension CustomerRecord {
    /// Takes each demographic and preference the survivor lacks from the merged profile.
    mutating func fillBlanks(from other: CustomerRecord) {
        // Sealed values move as they are: each names the key it is under (the merged customer's, erased with the
        // survivor).
        if givenName.isEmpty { givenName = other.givenName }
        if familyName.isEmpty { familyName = other.familyName }
        if birthYear == nil { birthYear = other.birthYear }
        if city.isEmpty { city = other.city }
        if countryCode.isEmpty { countryCode = other.countryCode }
        if language.isEmpty { language = other.language }
        if company.isEmpty { company = other.company }
        if preferredChannel == nil { preferredChannel = other.preferredChannel }
        if preferredLanguage.isEmpty { preferredLanguage = other.preferredLanguage }
        if quietHours == nil { quietHours = other.quietHours }
        if lifecycleStage == nil { lifecycleStage = other.lifecycleStage }
    }

    /// Undoes `fillBlanks`: a field the survivor lacked before the merge and still holds the merged profile's value
    /// in is blank again; one changed since keeps its new value.
    mutating func unfillBlanks(before: CustomerRecord, merged: CustomerRecord) {
        if before.givenName.isEmpty && givenName == merged.givenName { givenName = .empty }
        if before.familyName.isEmpty && familyName == merged.familyName { familyName = .empty }
        if before.birthYear == nil && birthYear == merged.birthYear { birthYear = nil }
        if before.city.isEmpty && city == merged.city { city = .empty }
        if before.countryCode.isEmpty && countryCode == merged.countryCode { countryCode = "" }
        if before.language.isEmpty && language == merged.language { language = "" }
        if before.company.isEmpty && company == merged.company { company = .empty }
        if before.preferredChannel == nil && preferredChannel == merged.preferredChannel { preferredChannel = nil }
        if before.preferredLanguage.isEmpty && preferredLanguage == merged.preferredLanguage { preferredLanguage = "" }
        if before.quietHours == nil && quietHours == merged.quietHours { quietHours = nil }
        if before.lifecycleStage == nil && lifecycleStage == merged.lifecycleStage { lifecycleStage = nil }
    }
}

extension ProfileStore {
    /// The ledger row as the API shows it, its note and match explanations opened.
    func entry(_ ledger: MergeLedgerRecord) throws -> MergeEntry {
        try opening(ledger.survivorId) {
            MergeEntry(
                id: ledger.mergeId, survivorID: ledger.survivorId, mergedID: ledger.mergedId,
                request: MergeRequest(
                    reason: ledger.reason, rule: ledger.rule,
                    matchedOn: try ledger.matchedOn.map(keyring.open),
                    note: try keyring.open(ledger.note), requestedBy: ledger.requestedBy),
                mergedAt: ledger.mergedAt, unmergedAt: ledger.unmergedAt, unmergedBy: ledger.unmergedBy)
        }
    }
}

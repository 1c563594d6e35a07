import C360StoreKit
public import Foundation
import GRDB

/// An identifier as the index across shards keeps it: its kind and blind index, never its value.
public struct IndexedIdentifier: Hashable, Sendable {
    public var kind: IdentifierKind
    /// The blind index of the normalised value under the deployment's blind-index key (`BlindIndex.identifier`).
    public var valueIndex: String

    public init(kind: IdentifierKind, valueIndex: String) {
        self.kind = kind
        self.valueIndex = valueIndex
    }
}

/// Another customer's claim on an identifier, and when it was made: a young claim may be a create still under way on
/// its shard, so only an older one is worth asking the holder's shard about.
public struct IdentifierClaimConflict: Sendable, Equatable {
    public var identifier: IndexedIdentifier
    public var holder: String
    public var claimedAt: Date
}

/// What a claim did: every identifier claimed (`claimed` lists those newly the claimant's), or nothing, for the
/// `conflicts`.
public struct IdentifierClaimOutcome: Sendable, Equatable {
    public var conflicts: [IdentifierClaimConflict] = []
    /// Claimed by this call, not the claimant's before: the claims its own failed write gives up.
    public var claimed: [IndexedIdentifier] = []
    /// When the claims were made or renewed (Unix milliseconds): a release naming it gives up these very claims only.
    public var claimedAtMillis: Int64 = 0
}

/// A row of `identifier_claim`: which customer holds an identifier whose slot this shard owns in the identifier index
/// (profile-service as several shards). The customer's own shard keeps the identifier itself (`customer_identifier`);
/// this row only says where to look, and which customer a new claim conflicts with.
struct IdentifierClaimRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "identifier_claim"
    var kind: IdentifierKind
    var valueIndex: String
    var customerId: String
    var claimedAt: Date

    enum Columns {
        static let customerId = Column(CodingKeys.customerId)
    }
}

extension ProfileStore {
    /// `identifier` (normalised) as the index keeps it.
    public func indexed(_ identifier: Identifier) -> IndexedIdentifier {
        IndexedIdentifier(kind: identifier.kind, valueIndex: valueIndex(identifier))
    }

    /// Claims every one of `identifiers` for `claimant`, or none: the other customers' claims that stand in the way
    /// are answered instead. A claim of the claimant's own is renewed; a claim in `stale` (found not to be held by
    /// its customer) is taken over only if it is still that very claim, same holder and same time: a holder that
    /// claimed it again since is not overtaken.
    public func claim(
        _ identifiers: [IndexedIdentifier], for claimant: String,
        replacing stale: [IndexedIdentifier: IdentifierClaimConflict] = [:]
    ) async throws -> IdentifierClaimOutcome {
        try await writer.write { db in
            var outcome = IdentifierClaimOutcome()
            for identifier in identifiers {
                guard let held = try claimRow(db, identifier) else {
                    outcome.claimed.append(identifier)
                    continue
                }
                if held.customerId == claimant { continue }
                let conflict = IdentifierClaimConflict(
                    identifier: identifier, holder: held.customerId, claimedAt: held.claimedAt)
                if stale[identifier] == conflict {
                    outcome.claimed.append(identifier)
                } else {
                    outcome.conflicts.append(conflict)
                }
            }
            guard outcome.conflicts.isEmpty else { return IdentifierClaimOutcome(conflicts: outcome.conflicts) }
            let timestamp = now()
            outcome.claimedAtMillis = timestamp.unixMillis
            for identifier in identifiers {
                try IdentifierClaimRecord(
                    kind: identifier.kind, valueIndex: identifier.valueIndex, customerId: claimant,
                    claimedAt: timestamp
                ).upsert(db)
            }
            return outcome
        }
    }

    /// The customer each of `identifiers` is claimed by, for those claimed, in order.
    public func claimHolders(of identifiers: [IndexedIdentifier]) async throws -> [(IndexedIdentifier, String)] {
        try await writer.read { db in
            try identifiers.compactMap { identifier in
                try claimRow(db, identifier).map { (identifier, $0.customerId) }
            }
        }
    }

    /// Claims each of `holders` the index lacks for its holder; an entry naming the same holder stays, one naming
    /// another customer is answered as a conflict and left alone. Answers the entries restored and when.
    public func repairClaims(_ holders: [(IndexedIdentifier, String)]) async throws -> (
        restored: [IndexedIdentifier], at: Int64, conflicts: [IdentifierClaimConflict]
    ) {
        try await writer.write { db in
            var restored: [IndexedIdentifier] = []
            var conflicts: [IdentifierClaimConflict] = []
            let timestamp = now()
            for (identifier, holder) in holders {
                if let held = try claimRow(db, identifier) {
                    if held.customerId != holder {
                        conflicts.append(
                            IdentifierClaimConflict(
                                identifier: identifier, holder: held.customerId, claimedAt: held.claimedAt))
                    }
                    continue
                }
                try IdentifierClaimRecord(
                    kind: identifier.kind, valueIndex: identifier.valueIndex, customerId: holder, claimedAt: timestamp
                ).insert(db)
                restored.append(identifier)
            }
            return (restored, timestamp.unixMillis, conflicts)
        }
    }

    /// One page of the identifiers this database's customers hold, in key order after `after`, with their holders:
    /// what a repair of the index sends.
    public func heldIdentifiers(
        after: IndexedIdentifier?, limit: Int
    ) async throws -> [(IndexedIdentifier, String)] {
        try await writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT kind, valueIndex, customerId FROM customer_identifier
                    WHERE (kind, valueIndex) > (?, ?) ORDER BY kind, valueIndex LIMIT ?
                    """, arguments: [after?.kind.rawValue ?? "", after?.valueIndex ?? "", limit]
            ).compactMap { row in
                IdentifierKind(rawValue: row[0]).map { (IndexedIdentifier(kind: $0, valueIndex: row[1]), row[2]) }
            }
        }
    }

    /// Drops every claim of `claimant` (an erasure: its identifiers are gone and cannot be named). Answers the
    /// identifiers released.
    public func releaseEveryClaim(of claimant: String) async throws -> [IndexedIdentifier] {
        try await writer.write { db in
            let claims = try IdentifierClaimRecord.filter(IdentifierClaimRecord.Columns.customerId == claimant)
                .fetchAll(db)
            for claim in claims { try claim.delete(db) }
            return claims.map { IndexedIdentifier(kind: $0.kind, valueIndex: $0.valueIndex) }
        }
    }

    /// Drops `claimant`'s claims on `identifiers`, only those made or renewed at `claimedAtMillis` when given (a
    /// concurrent call's renewal stays); another customer's claim stays. Answers how many were dropped.
    public func releaseClaims(
        _ identifiers: [IndexedIdentifier], of claimant: String, claimedAtMillis: Int64? = nil
    ) async throws -> Int {
        try await writer.write { db in
            var released = 0
            for identifier in identifiers {
                guard let held = try claimRow(db, identifier), held.customerId == claimant,
                    claimedAtMillis.map({ $0 == held.claimedAt.unixMillis }) ?? true
                else { continue }
                try held.delete(db)
                released += 1
            }
            return released
        }
    }

    /// The identifiers `customer` holds, as the index knows them.
    func identifiers(heldBy customer: String) async throws -> [IndexedIdentifier] {
        try await writer.read { db in
            try IdentifierRecord.filter(IdentifierRecord.Columns.customerId == customer).fetchAll(db).map {
                IndexedIdentifier(kind: $0.kind, valueIndex: $0.valueIndex)
            }
        }
    }

    /// The customer of this database holding each of `identifiers`, for those held, in order: what a claim in the
    /// index is checked against. A deleted customer still holds its identifiers, a merged one's belong to its
    /// survivor, an erased one's are gone.
    public func identifierHolders(of identifiers: [IndexedIdentifier]) async throws -> [(IndexedIdentifier, String)] {
        try await writer.read { db in
            try identifiers.compactMap { identifier in
                try String.fetchOne(
                    db.cachedStatement(
                        sql: "SELECT customerId FROM customer_identifier WHERE kind = ? AND valueIndex = ?"),
                    arguments: [identifier.kind.rawValue, identifier.valueIndex]
                ).map { (identifier, $0) }
            }
        }
    }

    /// `id` and the customers merged into it: the ids whose claims erasing it releases (a claim names the customer
    /// that claimed an identifier, which may have been merged since).
    public func erasedOwners(of id: String) async throws -> [String] {
        try await writer.read { db in
            guard let row = try customerRow(db, id) else { return [] }
            let survivor = row.mergedInto ?? row.id
            return [survivor]
                + (try String.fetchAll(db, sql: "SELECT id FROM customer WHERE mergedInto = ?", arguments: [survivor]))
        }
    }

    private func claimRow(_ db: Database, _ identifier: IndexedIdentifier) throws -> IdentifierClaimRecord? {
        try IdentifierClaimRecord.fetchOne(
            db, key: ["kind": identifier.kind.rawValue, "valueIndex": identifier.valueIndex])
    }
}

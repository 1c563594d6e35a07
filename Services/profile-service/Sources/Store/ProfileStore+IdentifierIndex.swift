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
    /// are answered instead. A claim of the claimant's own is renewed; a claim in `stale` (identifier → the holder its
    /// shard says no longer holds it) is taken over, if it still names that holder.
    public func claim(
        _ identifiers: [IndexedIdentifier], for claimant: String,
        replacing stale: [IndexedIdentifier: String] = [:]
    ) async throws -> [IdentifierClaimConflict] {
        try await writer.write { db in
            var conflicts: [IdentifierClaimConflict] = []
            for identifier in identifiers {
                guard let held = try claimRow(db, identifier), held.customerId != claimant,
                    stale[identifier] != held.customerId
                else { continue }
                conflicts.append(
                    IdentifierClaimConflict(identifier: identifier, holder: held.customerId, claimedAt: held.claimedAt))
            }
            guard conflicts.isEmpty else { return conflicts }
            let timestamp = now()
            for identifier in identifiers {
                try IdentifierClaimRecord(
                    kind: identifier.kind, valueIndex: identifier.valueIndex, customerId: claimant,
                    claimedAt: timestamp
                ).upsert(db)
            }
            return []
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

    /// Drops `claimant`'s claims on `identifiers`; another customer's claim stays. Answers how many were dropped.
    public func releaseClaims(_ identifiers: [IndexedIdentifier], of claimant: String) async throws -> Int {
        try await writer.write { db in
            var released = 0
            for identifier in identifiers {
                released +=
                    try IdentifierClaimRecord
                    .filter(key: ["kind": identifier.kind.rawValue, "valueIndex": identifier.valueIndex])
                    .filter(IdentifierClaimRecord.Columns.customerId == claimant)
                    .deleteAll(db)
            }
            return released
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

    /// Every identifier `id` and the customers merged into it hold, as the index keeps them: what erasing it
    /// releases.
    public func indexedIdentifiers(ofErasing id: String) async throws -> [IndexedIdentifier] {
        try await writer.read { db in
            guard let row = try customerRow(db, id) else { return [] }
            let survivor = row.mergedInto ?? row.id
            return try IdentifierRecord.fetchAll(
                db,
                sql: """
                    SELECT * FROM customer_identifier
                    WHERE customerId = ? OR customerId IN (SELECT id FROM customer WHERE mergedInto = ?)
                    """, arguments: [survivor, survivor]
            ).map { IndexedIdentifier(kind: $0.kind, valueIndex: $0.valueIndex) }
        }
    }

    private func claimRow(_ db: Database, _ identifier: IndexedIdentifier) throws -> IdentifierClaimRecord? {
        try IdentifierClaimRecord.fetchOne(
            db, key: ["kind": identifier.kind.rawValue, "valueIndex": identifier.valueIndex])
    }
}

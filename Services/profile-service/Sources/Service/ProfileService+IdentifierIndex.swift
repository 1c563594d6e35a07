public import C360Contracts
import C360ServerKit
public import GRPCCore

/// The identifier index's calls among profile shards (`IdentifierIndex`): internal, never exposed by the gateway.
extension ProfileService {
    /// The most identifiers one index call may name: every identifier of one customer, with room to spare.
    static let maximumIndexedIdentifiers = 100

    public func claimIdentifiers(
        request: Customer360_V1_ClaimIdentifiersRequest, context: ServerContext
    ) async throws -> Customer360_V1_ClaimIdentifiersResponse {
        let index = try shardIndex()
        let claimant = try Validate.id(request.claimantID, field: "claimant_id")
        let identifiers = try Self.indexed(request.identifiers, field: "identifiers")
        let conflicts = try await index.claimHere(identifiers, for: claimant)
        return .with {
            $0.conflicts = conflicts.map { conflict in
                .with {
                    $0.identifier = conflict.identifier.proto
                    $0.holderID = conflict.holder
                }
            }
        }
    }

    public func findIdentifiers(
        request: Customer360_V1_FindIdentifiersRequest, context: ServerContext
    ) async throws -> Customer360_V1_FindIdentifiersResponse {
        let index = try shardIndex()
        let identifiers = try Self.indexed(request.identifiers, field: "identifiers")
        let holders: [(IndexedIdentifier, String)]
        if request.heldByCustomers {
            holders = try await store.identifierHolders(of: identifiers)
        } else {
            try index.checkOwned(identifiers)
            holders = try await store.claimHolders(of: identifiers)
        }
        return .with {
            $0.holders = holders.map { identifier, holder in
                .with {
                    $0.identifier = identifier.proto
                    $0.holderID = holder
                }
            }
        }
    }

    public func releaseIdentifiers(
        request: Customer360_V1_ReleaseIdentifiersRequest, context: ServerContext
    ) async throws -> Customer360_V1_ReleaseIdentifiersResponse {
        let index = try shardIndex()
        let claimant = try Validate.id(request.claimantID, field: "claimant_id")
        let identifiers = try Self.indexed(request.identifiers, field: "identifiers")
        try index.checkOwned(identifiers)
        let released = try await store.releaseClaims(identifiers, of: claimant)
        return .with { $0.released = Int32(released) }
    }

    /// The index, which only a shard keeps.
    private func shardIndex() throws(RPCError) -> IdentifierIndex {
        guard let index else {
            throw RPCError(
                code: .failedPrecondition,
                message:
                    "profile-service runs as one process here (no --shard): it keeps no identifier index across shards")
        }
        return index
    }

    /// The identifiers of an index call, checked: 1 to 100, each of a known kind with a blind index of 32 hex digits.
    static func indexed(
        _ identifiers: [Customer360_V1_IndexedIdentifier], field: String
    ) throws(InvalidArgument) -> [IndexedIdentifier] {
        guard (1...maximumIndexedIdentifiers).contains(identifiers.count) else {
            throw InvalidArgument(
                field, "must name 1 to \(maximumIndexedIdentifiers) identifiers, not \(identifiers.count)")
        }
        return try identifiers.enumerated().map { (position, identifier) throws(InvalidArgument) in
            guard let indexed = IndexedIdentifier(proto: identifier) else {
                throw InvalidArgument("\(field)[\(position)].kind", "must be EMAIL, PHONE or CRM_ID")
            }
            guard indexed.valueIndex.utf8.count == 32,
                indexed.valueIndex.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) })
            else {
                throw InvalidArgument("\(field)[\(position)].value_index", "must be 32 lower-case hex digits")
            }
            return indexed
        }
    }
}

public import C360Contracts
import C360ServerKit
public import GRPCCore

/// The `customer360.v1.ProfileShardService` RPCs: the identifier index's part this shard keeps, for the other profile
/// shards (`IdentifierIndex`). Internal, never exposed by the gateway; a process that is not a shard keeps no index
/// and answers FAILED_PRECONDITION.
public struct ProfileShardService: Customer360_V1_ProfileShardService.SimpleServiceProtocol {
    let store: ProfileStore
    let index: IdentifierIndex?
    let transfers: FamilyTransfers?

    public init(store: ProfileStore, index: IdentifierIndex?, transfers: FamilyTransfers? = nil) {
        self.store = store
        self.index = index
        self.transfers = transfers
    }
}

extension ProfileShardService {
    /// The most identifiers one index call may name: every identifier of one customer, with room to spare.
    static let maximumIndexedIdentifiers = 100

    public func claimIdentifiers(
        request: Customer360_V1_ClaimIdentifiersRequest, context: ServerContext
    ) async throws -> Customer360_V1_ClaimIdentifiersResponse {
        let index = try shardIndex()
        let claimant = try Validate.id(request.claimantID, field: "claimant_id")
        let identifiers = try Self.indexed(request.identifiers, field: "identifiers")
        let outcome = try await index.claimHere(identifiers, for: claimant)
        return .with {
            $0.conflicts = outcome.conflicts.map { conflict in
                .with {
                    $0.identifier = conflict.identifier.proto
                    $0.holderID = conflict.holder
                }
            }
            $0.claimed = outcome.claimed.map(\.proto)
            $0.claimedAtMillis = outcome.claimedAtMillis
        }
    }

    public func findIdentifiers(
        request: Customer360_V1_FindIdentifiersRequest, context: ServerContext
    ) async throws -> Customer360_V1_FindIdentifiersResponse {
        let index = try shardIndex()
        let identifiers = try Self.indexed(request.identifiers, field: "identifiers")
        let holders: [(IndexedIdentifier, String)]
        var pending: [IndexedIdentifier] = []
        if request.heldByCustomers {
            (holders, pending) = try await index.heldHere(identifiers)
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
            $0.pending = pending.map(\.proto)
        }
    }

    public func releaseIdentifiers(
        request: Customer360_V1_ReleaseIdentifiersRequest, context: ServerContext
    ) async throws -> Customer360_V1_ReleaseIdentifiersResponse {
        let index = try shardIndex()
        let claimant = try Validate.id(request.claimantID, field: "claimant_id")
        if request.everyClaim {
            guard request.identifiers.isEmpty else {
                throw InvalidArgument("identifiers", "must be empty with every_claim, which releases them all")
            }
            let released = try await store.releaseEveryClaim(of: claimant)
            return .with {
                $0.released = Int32(clamping: released.count)
                $0.releasedIdentifiers = released.map(\.proto)
            }
        }
        let identifiers = try Self.indexed(request.identifiers, field: "identifiers")
        try index.checkOwned(identifiers)
        let released = try await store.releaseClaims(
            identifiers, of: claimant, claimedAtMillis: request.claimedAtMillis == 0 ? nil : request.claimedAtMillis)
        return .with { $0.released = Int32(clamping: released) }
    }

    /// The most identifiers one repair call may carry.
    static let maximumRepairedIdentifiers = 500

    public func repairIdentifiers(
        request: Customer360_V1_RepairIdentifiersRequest, context: ServerContext
    ) async throws -> Customer360_V1_RepairIdentifiersResponse {
        let index = try shardIndex()
        let identifiers = try Self.indexed(
            request.holders.map(\.identifier), field: "holders", limit: Self.maximumRepairedIdentifiers)
        for (position, holder) in request.holders.enumerated() {
            try Validate.id(holder.holderID, field: "holders[\(position)].holder_id")
        }
        try index.checkOwned(identifiers)
        let repaired = try await store.repairClaims(Array(zip(identifiers, request.holders.map(\.holderID))))
        return .with {
            $0.claimed = Int32(clamping: repaired.restored.count)
            $0.restored = repaired.restored.map(\.proto)
            $0.restoredAtMillis = repaired.at
            $0.conflicts = repaired.conflicts.map { conflict in
                .with {
                    $0.identifier = conflict.identifier.proto
                    $0.holderID = conflict.holder
                }
            }
        }
    }

    public func transferFamily(
        request: Customer360_V1_TransferFamilyRequest, context: ServerContext
    ) async throws -> Customer360_V1_TransferFamilyResponse {
        let family = try await shardTransfers().transferOut(request)
        return .with { $0.family = family }
    }

    public func endTransfer(
        request: Customer360_V1_EndTransferRequest, context: ServerContext
    ) async throws -> Customer360_V1_EndTransferResponse {
        let ended = try await shardTransfers().endTransfer(request)
        return .with { $0.ended = ended }
    }

    public func adoptFamily(
        request: Customer360_V1_AdoptFamilyRequest, context: ServerContext
    ) async throws -> Customer360_V1_AdoptFamilyResponse {
        let adopted = try await shardTransfers().adopt(request)
        return .with { $0.adopted = adopted }
    }

    /// Merges across shards, which only a shard makes.
    private func shardTransfers() throws(RPCError) -> FamilyTransfers {
        _ = try shardIndex()
        guard let transfers else {
            throw RPCError(code: .failedPrecondition, message: "this profile shard takes no merges across shards")
        }
        return transfers
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
        _ identifiers: [Customer360_V1_IndexedIdentifier], field: String, limit: Int = maximumIndexedIdentifiers
    ) throws(InvalidArgument) -> [IndexedIdentifier] {
        guard (1...limit).contains(identifiers.count) else {
            throw InvalidArgument(field, "must name 1 to \(limit) identifiers, not \(identifiers.count)")
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

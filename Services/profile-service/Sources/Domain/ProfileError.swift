import C360Clients
public import GRPCCore

/// Everything that can go wrong in profile-service besides a malformed field (`InvalidArgument`), each answering
/// the precise gRPC status with a sentence a person can act on.
public enum ProfileError: Error, Equatable, RPCErrorConvertible {
    case customerNotFound(String)
    case customerDeleted(String)
    case customerErased(String)
    case identifierTaken(Identifier, holder: String)
    case identifierNotFound(Identifier)
    case identifierNotOnCustomer(Identifier, customer: String)
    case customerNotActive(String, state: String)
    case tooManyTags(customer: String, limit: Int)
    case tooManyAttributes(customer: String, limit: Int)
    case insufficientPoints(customer: String, balance: Int64, requested: Int64)
    case transactionReused(String)
    case mergeNotFound(String)
    case mergeBuiltUpon(merge: String, later: String)
    case mergeUndoPointsSpent(merge: String, survivor: String, short: Int64)
    case suggestionNotFound(String)
    case suggestionDecided(String, state: String)
    case survivorNotInSuggestion(String, suggestion: String)
    /// A merged-away id whose family (its survivor's profile) lives on another shard since their slots moved apart.
    case mergedElsewhere(String, survivor: String)
    /// An id merged into the customer an unmerge would restore here has its slot on another shard, whose alias would
    /// keep naming the survivor.
    case unmergeAcrossShards(merge: String, customer: String)
    /// Split off by an unmerge on this shard and being handed back to its own shard meanwhile.
    case handingBack(String)
    /// The write came later than its identifier claims allow (another claimant may take them over after a while).
    case claimsExpired

    public var rpcErrorCode: RPCError.Code {
        switch self {
        case .customerNotFound, .customerDeleted, .customerErased, .identifierNotFound, .identifierNotOnCustomer,
            .mergeNotFound, .suggestionNotFound:
            .notFound
        case .survivorNotInSuggestion:
            .invalidArgument
        case .claimsExpired, .handingBack:
            .unavailable
        case .identifierTaken, .transactionReused:
            .alreadyExists
        case .customerNotActive, .tooManyTags, .tooManyAttributes, .insufficientPoints, .mergeBuiltUpon,
            .mergeUndoPointsSpent, .suggestionDecided, .mergedElsewhere, .unmergeAcrossShards:
            .failedPrecondition
        }
    }

    /// The survivors whose shards hold the merged-away ids among `results` (`mergedElsewhere`), once each: what a batch
    /// asks those shards about.
    static func survivorsElsewhere<T>(in results: [Result<T, ProfileError>]) -> [String] {
        Array(
            Set(
                results.compactMap { result in
                    if case .failure(.mergedElsewhere(_, let survivor)) = result { survivor } else { nil }
                })
        ).sorted()
    }

    /// A merged-away id answered by another shard names its survivor for the caller's transport to follow
    /// (`WrongShard.familyKey`).
    public var rpcErrorMetadata: Metadata {
        guard case .mergedElsewhere(let id, let survivor) = self else { return [:] }
        return WrongShard.familyTrailers(survivor: survivor, member: id)
    }

    public var rpcErrorMessage: String {
        switch self {
        case .claimsExpired:
            "the write came too long after its identifiers were claimed; nothing was stored: retry"
        case .customerNotFound(let id):
            "customer \(id) does not exist"
        case .mergedElsewhere(let id, let survivor):
            "customer \(id) was merged into \(survivor), whose profile another shard holds: call \(survivor)'s shard "
                + "(the shard map's routing transport does so by itself)"
        case .unmergeAcrossShards(let merge, let customer):
            "customer \(customer), merged earlier into the customer merge \(merge) would restore here, belongs to "
                + "another shard's slots, whose alias would keep naming the survivor: undo the later merges first"
        case .handingBack(let id):
            "customer \(id) is being handed back to its own shard after an unmerge; retry in a moment"
        case .customerDeleted(let id):
            "customer \(id) was deleted"
        case .customerErased(let id):
            "customer \(id) was erased"
        case .identifierTaken(let identifier, let holder):
            "\(identifier) already belongs to customer \(holder)"
        case .identifierNotFound(let identifier):
            "no customer has \(identifier)"
        case .identifierNotOnCustomer(let identifier, let customer):
            "customer \(customer) has no \(identifier)"
        case .customerNotActive(let id, let state):
            "customer \(id) is \(state) and cannot take part in a merge"
        case .tooManyTags(let customer, let limit):
            "customer \(customer) would have more than \(limit) tags; remove some first"
        case .tooManyAttributes(let customer, let limit):
            "customer \(customer) would have more than \(limit) attributes; remove some first"
        case .insufficientPoints(let customer, let balance, let requested):
            "customer \(customer) has \(balance) points and cannot redeem \(requested)"
        case .transactionReused(let id):
            "transaction_id \(id) was already used for a different request"
        case .mergeNotFound(let id):
            "merge \(id) is not in the merge ledger"
        case .mergeBuiltUpon(let merge, let later):
            "merge \(later) was made after merge \(merge) on the same customer and builds on it; undo \(later) first"
        case .mergeUndoPointsSpent(let merge, let survivor, let short):
            "customer \(survivor) has spent \(short) of the points merge \(merge) brought; it cannot be undone until they "
                + "are earned back (or adjusted with EarnPoints)"
        case .suggestionNotFound(let id):
            "match suggestion \(id) does not exist"
        case .suggestionDecided(let id, let state):
            "match suggestion \(id) was already \(state)"
        case .survivorNotInSuggestion(let survivor, let suggestion):
            "survivor_id: \(survivor) is not one of the two customers of match suggestion \(suggestion)"
        }
    }
}

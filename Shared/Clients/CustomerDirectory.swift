import Foundation
public import GRPCCore
import Synchronization

/// Answers whether a customer exists and which id their data belongs under, for services that store data about
/// customers they do not own. A merged-away id resolves to the survivor.
public protocol CustomerDirectory: Sendable {
    /// The id to read data under: `customerID` itself, or the survivor it was merged into. May be answered from a
    /// cache, so right after a merge it can still name the merged-away id; never use it to choose where to write.
    ///
    /// - Throws: `CustomerLookupError`.
    func resolve(_ customerID: String) async throws(CustomerLookupError) -> String

    /// The ids to store data under, asked of profile-service when called and never answered from a cache: a merge
    /// that committed before this call is always seen, so no write lands on a merged-away id. One answer per
    /// distinct id; an id that cannot take data (unknown, deleted, erased) answers `.unknown`.
    ///
    /// - Throws: `CustomerLookupError.unavailable` when profile-service cannot be asked.
    func resolveForWrite(_ customerIDs: [String]) async throws(CustomerLookupError)
        -> [String: Result<String, CustomerLookupError>]
}

extension CustomerDirectory {
    /// The id a read finds `customerID`'s data under: its resolution, or the id itself when it cannot be resolved (the
    /// read then answers what is stored under it, if anything).
    ///
    /// - Throws: `CustomerLookupError.mergedElsewhere` for a merged-away id whose survivor's data another shard holds
    ///   (`OwnedSurvivorsDirectory`), which the caller's routing follows.
    public func readable(_ customerID: String) async throws(CustomerLookupError) -> String {
        do {
            return try await resolve(customerID)
        } catch .mergedElsewhere(let id, let survivor) {
            throw .mergedElsewhere(customerID: id, survivor: survivor)
        } catch {
            return customerID
        }
    }

    /// `resolveForWrite` for one id.
    ///
    /// - Throws: `CustomerLookupError`.
    public func resolveForWrite(_ customerID: String) async throws(CustomerLookupError) -> String {
        let answers = try await resolveForWrite([customerID])
        guard let answer = answers[customerID] else {
            throw .unavailable("profile-service did not answer for \(customerID)")
        }
        return try answer.get()
    }
}

/// Why a customer could not be resolved.
public enum CustomerLookupError: Error, Equatable, RPCErrorConvertible {
    /// profile-service does not know the customer (or it was deleted or erased).
    case unknown(customerID: String, reason: String)
    /// profile-service could not be asked in time.
    case unavailable(String)
    /// A write for a merged-away customer whose survivor another shard of the service owns: the survivor's rows are
    /// there, so the write must be too. Also a call sent on for a survivor's family whose customer was unmerged since
    /// (`survivor == customerID`): its own shard keeps it. Callers' routing transports follow either to that shard.
    case mergedElsewhere(customerID: String, survivor: String)

    public var rpcErrorCode: RPCError.Code {
        switch self {
        case .unknown, .mergedElsewhere: .failedPrecondition
        case .unavailable: .unavailable
        }
    }

    /// A merged-away id whose survivor another shard holds names that survivor for the caller's routing transport to
    /// follow (`WrongShard.familyKey`), as profile-service's own refusal does.
    public var rpcErrorMetadata: Metadata {
        guard case .mergedElsewhere(let id, let survivor) = self else { return [:] }
        return WrongShard.familyTrailers(survivor: survivor, member: id)
    }

    public var rpcErrorMessage: String {
        switch self {
        case .unknown(let id, let reason):
            "customer \(id) is not known to profile-service (\(reason)); create it there first"
        case .unavailable(let detail):
            "profile-service is unavailable, so the customer cannot be checked; retry later (\(detail))"
        case .mergedElsewhere(let id, let survivor) where id == survivor:
            """
            customer \(id) is no longer merged into the customer this call was sent for, and another shard of this \
            service keeps its data: nothing was read or stored here; send the call again
            """
        case .mergedElsewhere(let id, let survivor):
            """
            customer \(id) was merged into \(survivor), whose data another shard of this service keeps: nothing was \
            read or stored here; send the call for \(survivor)
            """
        }
    }
}

/// A shard's directory: a merged-away id whose survivor another shard of the service owns (a merge across shards) is
/// refused, naming the survivor (`CustomerLookupError.mergedElsewhere`). Stored here under the survivor, a write's
/// rows would sit where no read of the survivor looks; read here, the survivor's rows are not here once a handoff took
/// them. The callers' routing transport sends the call on to the survivor's shard, which takes it
/// (`ShardOwnershipInterceptor(takesFamilyCalls:)`) and finds the survivor its own.
///
/// A read is refused only when the call was routed here by that id (`WrongShard.routedBy`): a read pinned to every
/// shard answers from the rows each one holds.
public struct OwnedSurvivorsDirectory: CustomerDirectory {
    private let upstream: any CustomerDirectory
    private let owns: @Sendable (String) -> Bool

    /// - Parameter owns: Whether a customer is this process's (`CustomerOwnership.owns`).
    public init(upstream: any CustomerDirectory, owns: @escaping @Sendable (String) -> Bool) {
        self.upstream = upstream
        self.owns = owns
    }

    public func resolve(_ customerID: String) async throws(CustomerLookupError) -> String {
        let target = try await upstream.resolve(customerID)
        let family = WrongShard.family.flatMap { $0.customer == customerID ? $0 : nil }
        if let family, target == customerID, !owns(target) {
            return try await placeFamilyCall(family)
        }
        guard target != customerID, !owns(target), WrongShard.routedBy == customerID || family != nil else {
            return target
        }
        throw .mergedElsewhere(customerID: customerID, survivor: target)
    }

    /// A call sent here for a survivor's family whose customer this shard's aliases do not place: the merge is not
    /// applied here yet, or an unmerge is applied here and not yet on the shard that sent the call on. The two look
    /// alike here, and answering the survivor's rows after an unmerge would show one customer another's data, so
    /// profile-service is asked (a rare path, not cached).
    private func placeFamilyCall(_ family: WrongShard.FamilyCall) async throws(CustomerLookupError) -> String {
        let customer = family.customer
        guard let answer = try await upstream.resolveForWrite([customer])[customer] else {
            throw .unavailable("profile-service did not answer for \(customer)")
        }
        let survivor = try answer.get()
        guard owns(survivor) else { throw .mergedElsewhere(customerID: customer, survivor: survivor) }
        return survivor
    }

    public func resolveForWrite(_ customerIDs: [String]) async throws(CustomerLookupError)
        -> [String: Result<String, CustomerLookupError>]
    {
        var answers = try await upstream.resolveForWrite(customerIDs)
        // A call sent here for a survivor's family (`WrongShard.family`) was checked for that survivor, not for its
        // customer: one unmerged since the refusal that sent it resolves to itself, and is sent on to its own shard.
        let familyCall = WrongShard.family != nil
        for (id, answer) in answers {
            if case .success(let target) = answer, target != id || familyCall, !owns(target) {
                answers[id] = .failure(.mergedElsewhere(customerID: id, survivor: target))
            }
        }
        return answers
    }
}

/// A fixed directory for tests and tools: known ids, and merged-away ids with their survivors.
public struct StaticCustomerDirectory: CustomerDirectory {
    private let survivors: [String: String]

    /// `customers` exist as themselves; `merged` maps merged-away ids to their survivors.
    public init(customers: [String] = [], merged: [String: String] = [:]) {
        var survivors = Dictionary(uniqueKeysWithValues: customers.map { ($0, $0) })
        survivors.merge(merged) { _, new in new }
        self.survivors = survivors
    }

    public func resolve(_ customerID: String) async throws(CustomerLookupError) -> String {
        guard let survivor = survivors[customerID] else {
            throw .unknown(customerID: customerID, reason: "not in the directory")
        }
        return survivor
    }

    public func resolveForWrite(_ customerIDs: [String]) async throws(CustomerLookupError)
        -> [String: Result<String, CustomerLookupError>]
    {
        var answers: [String: Result<String, CustomerLookupError>] = [:]
        for id in customerIDs {
            answers[id] =
                survivors[id].map { .success($0) } ?? .failure(.unknown(customerID: id, reason: "not in the directory"))
        }
        return answers
    }
}

/// Remembers answers for reads for a while, so a stream of reads for the same customers asks profile-service once.
/// Writes always ask upstream (`resolveForWrite`), and their fresh answers replace what the cache held.
///
/// Known customers are kept for `positiveTTL`, unknown ones for the shorter `negativeTTL` (a customer created a
/// moment later is found soon). At `capacity` entries the cache starts over rather than grow without bound.
public final class CachedCustomerDirectory: CustomerDirectory {
    private struct Entry {
        var result: Result<String, CustomerLookupError>
        var expires: ContinuousClock.Instant
    }

    private let upstream: any CustomerDirectory
    private let positiveTTL: Duration
    private let negativeTTL: Duration
    private let capacity: Int
    private let entries = Mutex<[String: Entry]>([:])

    public init(
        upstream: any CustomerDirectory, positiveTTL: Duration = .seconds(300),
        negativeTTL: Duration = .seconds(5), capacity: Int = 100_000
    ) {
        self.upstream = upstream
        self.positiveTTL = positiveTTL
        self.negativeTTL = negativeTTL
        self.capacity = capacity
    }

    public func resolve(_ customerID: String) async throws(CustomerLookupError) -> String {
        let now = ContinuousClock.now
        if let entry = entries.withLock({ $0[customerID] }), entry.expires > now {
            return try entry.result.get()
        }
        let result: Result<String, CustomerLookupError>
        do {
            result = .success(try await upstream.resolve(customerID))
        } catch .unavailable(let detail) {
            throw .unavailable(detail) // never cached: the next call asks again
        } catch {
            result = .failure(error)
        }
        remember([customerID: result], at: now)
        return try result.get()
    }

    public func resolveForWrite(_ customerIDs: [String]) async throws(CustomerLookupError)
        -> [String: Result<String, CustomerLookupError>]
    {
        let answers = try await upstream.resolveForWrite(customerIDs)
        remember(answers, at: ContinuousClock.now)
        return answers
    }

    /// Drops what is remembered of `customerIDs`, so the next read asks upstream: for a merge or unmerge this
    /// process learned of before the entries expire.
    public func forget(_ customerIDs: [String]) {
        entries.withLock { entries in
            for id in customerIDs { entries[id] = nil }
        }
    }

    private func remember(_ answers: [String: Result<String, CustomerLookupError>], at now: ContinuousClock.Instant) {
        entries.withLock { entries in
            if entries.count + answers.count > capacity { entries.removeAll(keepingCapacity: true) }
            for (id, result) in answers {
                let ttl = (try? result.get()) == nil ? negativeTTL : positiveTTL
                entries[id] = Entry(result: result, expires: now + ttl)
            }
        }
    }
}

public import C360Clients
import C360Contracts
import C360ServerKit
import C360StoreKit
import Foundation
public import GRPCCore
public import Logging

/// profile-service's identifier index when it runs as several shards.
///
/// A customer lives on the shard of its id's slot, but a lookup by email, phone or CRM id does not know the id yet,
/// and an identifier must belong to one customer across every shard. So each identifier also has a slot, that of its
/// blind index (the same on every shard: the deployment shares one blind-index key), and the shard owning that slot
/// keeps who holds it (`identifier_claim`). A shard creating a customer or adding an identifier claims it there
/// before its own write; a lookup asks there, then reads the customer from its shard.
///
/// The index is a pointer, and the holder's own shard is the truth: a lookup checks that the customer it reaches
/// still holds the identifier, and a claim that meets another customer's asks that customer's shard before refusing.
/// So a claim left behind (a create that failed after claiming, a release lost with its shard) only costs one check,
/// and releasing is best effort. A claim younger than `claimGrace` is taken as a create still under way and refused
/// without asking; a shard's own write must follow its claims within `claimDeadline`, well inside that, so a claim
/// is never taken over while its create can still commit.
public struct IdentifierIndex: Sendable {
    /// This shard's name in the map.
    let shard: String
    let source: ShardMapSource
    let store: ProfileStore
    /// The service's shards, reached through the routing transport (by customer, or pinned to a shard).
    let peers: Customer360_V1_ProfileService.Client<PeerTransport>
    let logger: Logger

    static let service = ServiceIdentity.profile.name
    /// A claim this young may belong to a create still under way: refused without asking the holder's shard.
    static let claimGrace: Duration = .seconds(60)
    /// A shard's write must follow its claims within this, or it gives up (and releases them).
    static let claimDeadline: Duration = .seconds(20)
    static let callTimeout: Duration = .seconds(10)

    public init(
        shard: String, source: ShardMapSource, store: ProfileStore, peers: GRPCClient<PeerTransport>, logger: Logger
    ) {
        self.shard = shard
        self.source = source
        self.store = store
        self.peers = Customer360_V1_ProfileService.Client(wrapping: peers)
        self.logger = logger
    }

    // MARK: - Ids

    /// A new customer id whose slot this shard owns, so the customer is created where its calls will be routed.
    func mintCustomerID() throws(RPCError) -> String {
        let map = source.current
        guard map.slotCount(of: shard, in: Self.service) > 0 else {
            throw RPCError(
                code: .failedPrecondition,
                message:
                    "\(shard) owns no slot of \(Self.service) in shard map epoch \(map.epoch): create the customer on another shard"
            )
        }
        while true {
            let id = EntityID.generate()
            if map.owner(of: id, in: Self.service)?.shard == shard { return id }
        }
    }

    /// Refuses a merge whose merged-away customer lives on another shard: a merge joins two customers of one shard.
    func checkMergeable(_ merged: String, into survivor: String) throws(RPCError) {
        let map = source.current
        guard let owner = map.owner(of: merged, in: Self.service), owner.shard != shard else { return }
        throw RPCError(
            code: .failedPrecondition,
            message: """
                customer \(merged) lives on shard \(owner.shard) and \(survivor) on \(shard) (shard map epoch \
                \(map.epoch)): profile-service does not merge customers of different shards yet
                """)
    }

    // MARK: - As the customer's shard

    /// Claims `identifiers` for `customer` on their index shards, all or none.
    ///
    /// - Throws: `ProfileError.identifierTaken` naming the holder of one of them; an `RPCError` when an index shard
    ///   cannot be asked (nothing stays claimed that this call claimed).
    func claim(_ identifiers: [Identifier], for customer: String) async throws {
        var claimed: [Identifier] = []
        do {
            for (owner, group) in try byIndexShard(identifiers) {
                let conflicts = try await claim(group.map(store.indexed), for: customer, on: owner)
                if let conflict = conflicts.first,
                    let identifier = group.first(where: { store.indexed($0) == conflict.identifier })
                {
                    throw ProfileError.identifierTaken(identifier, holder: conflict.holder)
                }
                claimed += group
            }
        } catch {
            await release(claimed.map(store.indexed), of: customer)
            throw error
        }
    }

    /// Runs `write`, the customer's own write, once `identifiers` are claimed for `customer`; gives them up when it
    /// fails or comes later than `claimDeadline` after claiming (a claim that old may be taken over).
    func claiming<T: Sendable>(
        _ identifiers: [Identifier], for customer: String, _ write: () async throws -> T
    ) async throws -> T {
        guard !identifiers.isEmpty else { return try await write() }
        let started = ContinuousClock.now
        try await claim(identifiers, for: customer)
        do {
            guard ContinuousClock.now - started < Self.claimDeadline else {
                throw RPCError(
                    code: .unavailable,
                    message:
                        "claiming the identifiers took longer than \(Self.claimDeadline); nothing was stored: retry")
            }
            return try await write()
        } catch {
            await release(identifiers.map(store.indexed), of: customer)
            throw error
        }
    }

    /// Gives up `customer`'s claims on `identifiers`, best effort: a claim left behind is taken over by the next
    /// claimant once the customer's shard says the customer no longer holds it.
    func release(_ identifiers: [IndexedIdentifier], of customer: String) async {
        guard !identifiers.isEmpty else { return }
        do {
            var groups: [String: [IndexedIdentifier]] = [:]
            for identifier in identifiers { groups[try indexShard(of: identifier), default: []].append(identifier) }
            for (owner, indexed) in groups {
                if owner == shard {
                    _ = try await store.releaseClaims(indexed, of: customer)
                } else {
                    _ = try await peers.releaseIdentifiers(
                        .with {
                            $0.claimantID = customer
                            $0.identifiers = indexed.map(\.proto)
                        }, metadata: pin(owner), options: .deadline(Self.callTimeout))
                }
            }
        } catch {
            logger.warning(
                "identifier claims not released; the next claimant takes them over once this customer's shard confirms",
                metadata: ["customer_id": "\(customer)", "error": "\(error)"])
        }
    }

    /// The customer holding `identifier`, read from its own shard after the index named it, as one process would
    /// answer it (a deleted holder answers that it was deleted, a merged one its survivor).
    ///
    /// - Throws: `ProfileError.identifierNotFound` when no customer holds it.
    func lookup(_ identifier: Identifier) async throws -> Customer360_V1_Customer {
        let indexed = store.indexed(identifier)
        let owner = try indexShard(of: indexed)
        let holder: String?
        if owner == shard {
            holder = try await store.claimHolders(of: [indexed]).first?.1
        } else {
            holder = try await peers.findIdentifiers(
                .with { $0.identifiers = [indexed.proto] }, metadata: pin(owner), options: .deadline(Self.callTimeout)
            ).holders.first?.holderID
        }
        guard let holder else { throw ProfileError.identifierNotFound(identifier) }
        if customerShard(of: holder) == shard { return try await store.customer(with: identifier).proto }
        let customer: Customer360_V1_Customer
        do {
            customer = try await peers.getCustomer(
                .with { $0.customerID = holder }, options: .deadline(Self.callTimeout))
        } catch let error as RPCError where error.code == .notFound {
            // A deleted holder still holds it (and says it was deleted); an erased one's claim was left behind.
            guard try await heldOnShard(of: holder, indexed) != nil else {
                throw ProfileError.identifierNotFound(identifier)
            }
            throw error
        }
        // A claim left behind by a customer that no longer holds the identifier.
        let holds = customer.identifiers.contains { held in
            IdentifierKind(proto: held.kind).map { store.indexed(Identifier($0, held.value)) == indexed } ?? false
        }
        guard holds else { throw ProfileError.identifierNotFound(identifier) }
        return customer
    }

    // MARK: - As the index shard

    /// Claims `identifiers`, whose slots this shard owns, for `claimant`: a conflicting claim older than
    /// `claimGrace` whose holder's shard says none of its customers holds the identifier any more is taken over.
    func claimHere(_ identifiers: [IndexedIdentifier], for claimant: String) async throws -> [IdentifierClaimConflict] {
        try checkOwned(identifiers)
        let conflicts = try await store.claim(identifiers, for: claimant)
        guard !conflicts.isEmpty else { return [] }
        let settled = Date().addingTimeInterval(-Self.claimGrace.seconds)
        var stale: [IndexedIdentifier: String] = [:]
        for conflict in conflicts where conflict.claimedAt < settled {
            if try await heldOnShard(of: conflict.holder, conflict.identifier) == nil {
                stale[conflict.identifier] = conflict.holder
            }
        }
        guard !stale.isEmpty else { return conflicts }
        logger.info(
            "identifier claims taken over from customers that no longer hold them",
            metadata: ["claimant": "\(claimant)", "former_holders": "\(Set(stale.values).sorted())"])
        return try await store.claim(identifiers, for: claimant, replacing: stale)
    }

    /// Which customer of `customer`'s shard holds `identifier` there, if any.
    private func heldOnShard(of customer: String, _ identifier: IndexedIdentifier) async throws -> String? {
        guard let owner = customerShard(of: customer), owner != shard else {
            return try await store.identifierHolders(of: [identifier]).first?.1
        }
        return try await peers.findIdentifiers(
            .with {
                $0.identifiers = [identifier.proto]
                $0.heldByCustomers = true
            }, metadata: pin(owner), options: .deadline(Self.callTimeout)
        ).holders.first?.holderID
    }

    /// Refuses identifiers whose slots another shard owns: its index part is elsewhere.
    func checkOwned(_ identifiers: [IndexedIdentifier]) throws(RPCError) {
        let map = source.current
        for identifier in identifiers {
            guard let owner = map.owner(of: identifier.valueIndex, in: Self.service), owner.shard != shard else {
                continue
            }
            throw RPCError(
                code: .failedPrecondition,
                message: """
                    identifier \(identifier.valueIndex) (slot \(ShardMap.slot(of: identifier.valueIndex))) is indexed \
                    on \(owner.shard), not \(shard), in shard map epoch \(map.epoch): reload the shard map
                    """,
                metadata: [WrongShard.epochKey: "\(map.epoch)"])
        }
    }

    // MARK: - Helpers

    /// `identifiers` grouped by the shard whose index holds them, in a stable order.
    private func byIndexShard(_ identifiers: [Identifier]) throws(RPCError) -> [(String, [Identifier])] {
        var groups: [String: [Identifier]] = [:]
        for identifier in identifiers {
            groups[try indexShard(of: store.indexed(identifier)), default: []].append(identifier)
        }
        return groups.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    private func claim(_ identifiers: [IndexedIdentifier], for customer: String, on owner: String) async throws
        -> [IdentifierClaimConflict]
    {
        if owner == shard { return try await claimHere(identifiers, for: customer) }
        let answer = try await peers.claimIdentifiers(
            .with {
                $0.claimantID = customer
                $0.identifiers = identifiers.map(\.proto)
            }, metadata: pin(owner), options: .deadline(Self.callTimeout))
        return answer.conflicts.compactMap { conflict in
            IndexedIdentifier(proto: conflict.identifier).map {
                IdentifierClaimConflict(identifier: $0, holder: conflict.holderID, claimedAt: .distantPast)
            }
        }
    }

    private func customerShard(of customer: String) -> String? {
        source.current.owner(of: customer, in: Self.service)?.shard
    }

    private func indexShard(of identifier: IndexedIdentifier) throws(RPCError) -> String {
        let map = source.current
        guard let owner = map.owner(of: identifier.valueIndex, in: Self.service) else {
            throw RPCError(code: .unavailable, message: "\(Self.service) is not in shard map epoch \(map.epoch)")
        }
        return owner.shard
    }

    private func pin(_ shard: String) -> Metadata { [WrongShard.pinKey: .string(shard)] }
}

extension IndexedIdentifier {
    var proto: Customer360_V1_IndexedIdentifier {
        .with {
            $0.kind = kind.proto
            $0.valueIndex = valueIndex
        }
    }

    init?(proto: Customer360_V1_IndexedIdentifier) {
        guard let kind = IdentifierKind(proto: proto.kind) else { return nil }
        self.init(kind: kind, valueIndex: proto.valueIndex)
    }
}

extension Duration {
    fileprivate var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

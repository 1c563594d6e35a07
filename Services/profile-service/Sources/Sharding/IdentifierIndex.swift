public import C360Clients
import C360Contracts
import C360ServerKit
import C360StoreKit
import Foundation
public import GRPCCore
public import Logging
import Synchronization

/// profile-service's identifier index when it runs as several shards.
///
/// A customer lives on the shard of its id's slot, but a lookup by email, phone or CRM id does not know the id yet,
/// and an identifier must belong to one customer across every shard. So each identifier also has a slot, that of its
/// blind index (the same on every shard: the deployment shares one blind-index key), and the shard owning that slot
/// keeps who holds it (`identifier_claim`). A shard creating a customer or adding an identifier claims it there
/// before its own write; a lookup asks there, then reads the customer from its shard.
///
/// The index is a pointer, and the holder's own shard is the truth: a lookup reads the identifier's holder from the
/// shard of the customer the index names (merges stay within a shard, so an identifier a merge or unmerge moved is
/// still found there), and a claim that meets another customer's asks that customer's shard before refusing. That
/// shard answers who holds the identifier there, or that a write there has claimed it and not finished (`pending`):
/// a claim nobody holds and no write is finishing is taken over. So a claim left behind (a create that failed, a
/// removed identifier, a release lost with its shard) only costs one check, and only erasure must release. Each write
/// must also commit within `claimDeadline` of claiming (checked in its transaction), so a write whose shard restarted
/// and forgot it was pending can never commit late.
public struct IdentifierIndex: Sendable {
    /// This shard's name in the map.
    let shard: String
    let source: ShardMapSource
    let store: ProfileStore
    /// The service's shards, reached through the routing transport (by customer, or pinned to a shard).
    let peers: Customer360_V1_ProfileService.Client<PeerTransport>
    /// Their index parts, over the same connections.
    let indexes: Customer360_V1_ProfileShardService.Client<PeerTransport>
    let logger: Logger

    static let service = ServiceIdentity.profile.name
    /// The identifiers this shard's writes have claimed and not yet committed or given up.
    let pending = PendingClaims()
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
        self.indexes = Customer360_V1_ProfileShardService.Client(wrapping: peers)
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

    /// Whether `customer`'s slot is this shard's in the map in force.
    func owns(_ customer: String) -> Bool {
        source.current.owner(of: customer, in: Self.service).map { $0.shard == shard } ?? true
    }

    // MARK: - As the customer's shard

    /// Claims one call made on one index shard, for giving them back: only these very claims (`claimedAtMillis`), so
    /// a concurrent call's renewal of the same claim stays.
    struct MadeClaims: Sendable {
        var shard: String
        var identifiers: [IndexedIdentifier]
        var claimedAtMillis: Int64
    }

    /// Runs `write`, the customer's own write, once `identifiers` are claimed for `customer` (an active customer's
    /// own id, not a merged-away one), passing it the deadline it must commit by (checked inside its transaction:
    /// after it, another shard may take the claims over); gives up the claims this call made when the write fails.
    func claiming<T: Sendable>(
        _ identifiers: [Identifier], for customer: String,
        _ write: (_ notAfter: ContinuousClock.Instant) async throws -> T
    ) async throws -> T {
        let deadline = ContinuousClock.now + Self.claimDeadline
        guard !identifiers.isEmpty else { return try await write(deadline) }
        // Pending before the claims exist, until the write has committed or failed: a check of a claim meanwhile must
        // not find it unheld and take it over.
        let indexed = identifiers.map(store.indexed)
        pending.add(indexed)
        defer { pending.remove(indexed) }
        let made = try await claim(identifiers, for: customer)
        do {
            return try await write(deadline)
        } catch {
            await giveBack(made, of: customer)
            throw error
        }
    }

    /// Claims `identifiers` for `customer` on their index shards, all or none; answers the claims newly made (not the
    /// customer's already), which a failed write gives up.
    ///
    /// - Throws: `ProfileError.identifierTaken` naming the customer holding one of them; an `RPCError` when an index
    ///   shard cannot be asked or the holder is still being created (nothing stays claimed that this call claimed and
    ///   heard of: a claim whose answer was lost stays, young and unheld, until it is taken over).
    private func claim(_ identifiers: [Identifier], for customer: String) async throws -> [MadeClaims] {
        let plain = Dictionary(identifiers.map { (store.indexed($0), $0) }, uniquingKeysWith: { first, _ in first })
        var made: [MadeClaims] = []
        do {
            for (owner, group) in try byIndexShard(Array(plain.keys)) {
                let outcome = try await claim(group, for: customer, on: owner)
                if let conflict = outcome.conflicts.first, let identifier = plain[conflict.identifier] {
                    throw ProfileError.identifierTaken(identifier, holder: conflict.holder)
                }
                if !outcome.claimed.isEmpty {
                    made.append(
                        MadeClaims(shard: owner, identifiers: outcome.claimed, claimedAtMillis: outcome.claimedAtMillis)
                    )
                }
            }
        } catch {
            await giveBack(made, of: customer)
            throw error
        }
        return made
    }

    /// Gives up claims a failed write made, best effort: a claim left behind is taken over by the next claimant once
    /// the customer's shard says the customer does not hold it. An identifier another customer of this shard holds
    /// (its index entry was missing, so the claim went through) is claimed for that customer again.
    func giveBack(_ made: [MadeClaims], of customer: String) async {
        guard !made.isEmpty else { return }
        do {
            for claims in made {
                _ = try await release(
                    .claims(claims.identifiers, madeAt: claims.claimedAtMillis), of: customer, on: claims.shard)
            }
            _ = try await repair(try await store.identifierHolders(of: made.flatMap(\.identifiers)))
        } catch {
            logger.warning(
                "identifier claims not given back; the next claimant takes them over once this customer's shard confirms",
                metadata: ["customer_id": "\(customer)", "error": "\(error)"])
        }
    }

    /// Claims for `customer` every identifier it holds here, taking over entries that name the survivor it was merged
    /// into (an unmerge across shards handed it back to this shard): lookups read the entry first. An entry that
    /// names another customer holding the identifier is left, and logged.
    func claimHeld(by customer: String) async throws {
        for (owner, group) in try byIndexShard(try await store.identifiers(heldBy: customer)) {
            let outcome = try await claim(group, for: customer, on: owner)
            guard !outcome.conflicts.isEmpty else { continue }
            logger.warning(
                "identifiers of a customer handed back are indexed for other customers",
                metadata: [
                    "customer_id": "\(customer)", "holders": "\(Set(outcome.conflicts.map(\.holder)).sorted())",
                ])
        }
    }

    /// Releases every claim naming `customers` on every shard: after an erasure no index entry may tie an email or
    /// phone to the erased ids, including claims earlier releases left behind. An identifier released that another
    /// customer of this shard holds (moved to it by an unmerge) is claimed for that customer again.
    ///
    /// - Throws: UNAVAILABLE naming the shards that could not be asked: the erasure stands; erasing again finishes it.
    func releaseEveryClaim(of customers: [String]) async throws {
        let map = source.current
        let shards = map.services[Self.service]?.map(\.shard) ?? []
        var failed: [String] = []
        var released: [IndexedIdentifier] = []
        for other in shards {
            do {
                for customer in customers { released += try await release(.everyClaim, of: customer, on: other) }
            } catch {
                logger.warning(
                    "erased customer's identifier index entries not removed from a shard",
                    metadata: ["shard": "\(other)", "customers": "\(customers)", "error": "\(error)"])
                failed.append(other)
            }
        }
        if !released.isEmpty { _ = try await repair(try await store.identifierHolders(of: released)) }
        guard failed.isEmpty else {
            throw RPCError(
                code: .unavailable,
                message: """
                    the customer was erased, but its identifier index entries on \(failed.joined(separator: ", ")) \
                    could not be removed: erase it again to finish
                    """)
        }
    }

    /// The customer holding `identifier`, read from its own shard after the index named it, as one process would
    /// answer it (a deleted holder answers that it was deleted, a merged one its survivor).
    ///
    /// - Throws: `ProfileError.identifierNotFound` when no customer holds it.
    func lookup(_ identifier: Identifier) async throws -> Customer360_V1_Customer {
        let indexed = store.indexed(identifier)
        let owner = try indexShard(of: indexed)
        let claimant: String?
        if owner == shard {
            claimant = try await store.claimHolders(of: [indexed]).first?.1
        } else {
            claimant = try await indexes.findIdentifiers(
                .with { $0.identifiers = [indexed.proto] }, metadata: pin(owner), options: .deadline(Self.callTimeout)
            ).holders.first?.holderID
        }
        guard let claimant else { throw ProfileError.identifierNotFound(identifier) }
        if customerShard(of: claimant) == shard {
            do {
                return try await store.customer(with: identifier).proto
            } catch ProfileError.identifierNotFound(_) {
                // It may have moved with the claimant's family (merged away) to another shard.
            }
        }
        // The claimant's shard says which of its customers holds it now (a merge or an unmerge may have moved it
        // between two of them), or that none does (a claim left behind, an erased holder).
        guard case .held(let holder) = try await heldOnShard(of: claimant, indexed) else {
            throw ProfileError.identifierNotFound(identifier)
        }
        if customerShard(of: holder) == shard { return try await store.customer(with: identifier).proto }
        return try await peers.getCustomer(.with { $0.customerID = holder }, options: .deadline(Self.callTimeout))
    }

    /// The profiles and consents of `survivors`, read from their shards for a batch that named ids merged into them,
    /// by survivor.
    func profilesWithConsents(_ survivors: [String]) async throws -> [String: Customer360_V1_BatchGetCustomersResult] {
        let answer = try await peers.batchGetCustomers(
            .with { $0.customerIds = survivors }, options: .deadline(Self.callTimeout))
        return Dictionary(answer.results.map { ($0.requestedID, $0) }, uniquingKeysWith: { first, _ in first })
    }

    // MARK: - As the index shard

    /// Claims `identifiers`, whose slots this shard owns, for `claimant`. Each conflicting claim is checked on its
    /// customer's shard: held, the answer names the customer holding it there; claimed by a write there that has not
    /// finished, the call fails UNAVAILABLE for the claimant to retry; neither, it is taken over.
    func claimHere(_ identifiers: [IndexedIdentifier], for claimant: String) async throws -> IdentifierClaimOutcome {
        try checkOwned(identifiers)
        let first = try await store.claim(identifiers, for: claimant)
        guard !first.conflicts.isEmpty else { return first }
        var stale: [IndexedIdentifier: IdentifierClaimConflict] = [:]
        var held: [IdentifierClaimConflict] = []
        for conflict in first.conflicts {
            switch try await heldOnShard(of: conflict.holder, conflict.identifier) {
            case .held(claimant):
                // The claimant itself holds it there: a family handed back by an unmerge across shards, whose entry
                // still names the survivor it had been merged into.
                stale[conflict.identifier] = conflict
            case .held(let holder):
                held.append(
                    IdentifierClaimConflict(
                        identifier: conflict.identifier, holder: holder, claimedAt: conflict.claimedAt))
            case .pending:
                throw RPCError(
                    code: .unavailable,
                    message: """
                        an identifier is being written for customer \(conflict.holder) (a create or an added \
                        identifier not finished yet): retry in a moment
                        """)
            case .none:
                stale[conflict.identifier] = conflict
            }
        }
        guard held.isEmpty else { return IdentifierClaimOutcome(conflicts: held) }
        let taken = try await store.claim(identifiers, for: claimant, replacing: stale)
        guard taken.conflicts.isEmpty else {
            // Claimed or renewed by another call between the check and the takeover.
            throw RPCError(
                code: .unavailable, message: "an identifier was claimed concurrently by another call; retry")
        }
        logger.info(
            "identifier claims taken over from customers that no longer hold them",
            metadata: ["claimant": "\(claimant)", "former_holders": "\(Set(stale.values.map(\.holder)).sorted())"])
        return taken
    }

    /// Refuses identifiers whose slots another shard owns: its index part is elsewhere. UNAVAILABLE without the
    /// wrong-shard trailer: the caller is a profile shard whose map disagrees with this one's for a moment, and the
    /// client that called it must not take it for a refusal of its own call.
    func checkOwned(_ identifiers: [IndexedIdentifier]) throws(RPCError) {
        let map = source.current
        for identifier in identifiers {
            guard let owner = map.owner(of: identifier.valueIndex, in: Self.service), owner.shard != shard else {
                continue
            }
            throw RPCError(
                code: .unavailable,
                message: """
                    identifier \(identifier.valueIndex) (slot \(ShardMap.slot(of: identifier.valueIndex))) is indexed \
                    on \(owner.shard), not \(shard), in shard map epoch \(map.epoch): the shards' maps differ for a \
                    moment; retry
                    """)
        }
    }

    // MARK: - Helpers

    /// What `customer`'s shard says of `identifier`.
    enum Held: Equatable {
        /// This customer of that shard holds it.
        case held(String)
        /// A write there claimed it and has not finished.
        case pending
        /// Nobody there holds it, and no write is finishing.
        case none
    }

    /// Who holds `identifier` on `customer`'s shard, or whether a write there is finishing with it; when nobody there
    /// does and `customer` was merged away into a family another shard holds (their slots moved apart), who holds it
    /// on the survivor's shard, where the merge took the identifier, following the chain of merges to its end.
    private func heldOnShard(of customer: String, _ identifier: IndexedIdentifier) async throws -> Held {
        var current = customer
        var visited: Set<String> = [customer]
        while true {
            let held = try await heldOnOwnShard(of: current, identifier)
            // Pending there is another write's claim when that shard holds `current` only as an alias (possibly the
            // caller's own create, landed on that shard): the family's shard has the answer.
            guard !isHeld(held), visited.count < Self.maximumHops,
                let next = try await survivorElsewhere(of: current), visited.insert(next).inserted
            else { return held }
            current = next
        }
    }

    private func isHeld(_ held: Held) -> Bool {
        if case .held = held { true } else { false }
    }

    /// Merges followed at most, a bound against a corrupt chain.
    static let maximumHops = 8

    /// The active survivor `customer` resolves to, asked of its own shard, when that shard holds it only as an alias
    /// (a merged-away id whose family a move took elsewhere); nil for any other customer.
    private func survivorElsewhere(of customer: String) async throws -> String? {
        let survivor: String?
        if customerShard(of: customer) == shard {
            guard let alias = try await store.survivor(ofAlias: customer) else { return nil }
            survivor = try await resolve([alias]).first?.customerID
        } else {
            survivor = try await resolve([customer]).first?.customerID
        }
        guard let survivor, !survivor.isEmpty, survivor != customer else { return nil }
        return survivor
    }

    /// `ids` resolved by their own shards (each following merges, across shards too), in order.
    func resolve(_ ids: [String]) async throws -> [Customer360_V1_ResolvedCustomerID] {
        try await peers.resolveCustomers(.with { $0.customerIds = ids }, options: .deadline(Self.callTimeout))
            .customers
    }

    /// Who holds `identifier` on `customer`'s shard, or whether a write there is finishing with it.
    private func heldOnOwnShard(of customer: String, _ identifier: IndexedIdentifier) async throws -> Held {
        guard let owner = customerShard(of: customer), owner != shard else {
            let here = try await heldHere([identifier])
            if let holder = here.holders.first?.1 { return .held(holder) }
            return here.pending.isEmpty ? .none : .pending
        }
        let answer = try await indexes.findIdentifiers(
            .with {
                $0.identifiers = [identifier.proto]
                $0.heldByCustomers = true
            }, metadata: pin(owner), options: .deadline(Self.callTimeout))
        if let holder = answer.holders.first?.holderID { return .held(holder) }
        return answer.pending.isEmpty ? .none : .pending
    }

    /// Which customers of this shard hold `identifiers`, and which of the others a write here has claimed and not
    /// finished: what a claim elsewhere is checked against (`FindIdentifiers` with `held_by_customers`).
    func heldHere(_ identifiers: [IndexedIdentifier]) async throws -> (
        holders: [(IndexedIdentifier, String)], pending: [IndexedIdentifier]
    ) {
        let holders = try await store.identifierHolders(of: identifiers)
        let held = Set(holders.map(\.0))
        return (holders, pending.filter(identifiers.filter { !held.contains($0) }))
    }

    /// Which claims of a customer a release gives up.
    enum Releasing {
        /// Those on these identifiers, only if made or renewed at this time when given (a renewal since stays).
        case claims([IndexedIdentifier], madeAt: Int64?)
        /// Every one (an erasure).
        case everyClaim
    }

    /// Gives up `customer`'s claims on `owner`'s index part, here or on that shard; answers the identifiers released
    /// when releasing every claim (none otherwise).
    func release(_ releasing: Releasing, of customer: String, on owner: String) async throws -> [IndexedIdentifier] {
        switch (releasing, owner == shard) {
        case (.claims(let identifiers, let millis), true):
            _ = try await store.releaseClaims(identifiers, of: customer, claimedAtMillis: millis)
            return []
        case (.everyClaim, true):
            return try await store.releaseEveryClaim(of: customer)
        case (_, false):
            let answer = try await indexes.releaseIdentifiers(
                .with {
                    $0.claimantID = customer
                    switch releasing {
                    case .claims(let identifiers, let millis):
                        $0.identifiers = identifiers.map(\.proto)
                        $0.claimedAtMillis = millis ?? 0
                    case .everyClaim:
                        $0.everyClaim = true
                    }
                }, metadata: pin(owner), options: .deadline(Self.callTimeout))
            return answer.releasedIdentifiers.compactMap(IndexedIdentifier.init(proto:))
        }
    }

    /// `identifiers` grouped by the shard whose index holds them, in a stable order.
    private func byIndexShard(_ identifiers: [IndexedIdentifier]) throws(RPCError) -> [(
        String, [IndexedIdentifier]
    )] {
        var groups: [String: [IndexedIdentifier]] = [:]
        for identifier in identifiers {
            groups[try indexShard(of: identifier), default: []].append(identifier)
        }
        return groups.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    private func claim(_ identifiers: [IndexedIdentifier], for customer: String, on owner: String) async throws
        -> IdentifierClaimOutcome
    {
        if owner == shard { return try await claimHere(identifiers, for: customer) }
        let answer = try await indexes.claimIdentifiers(
            .with {
                $0.claimantID = customer
                $0.identifiers = identifiers.map(\.proto)
            }, metadata: pin(owner), options: .deadline(Self.callTimeout))
        return IdentifierClaimOutcome(
            conflicts: answer.conflicts.compactMap { conflict in
                IndexedIdentifier(proto: conflict.identifier).map {
                    IdentifierClaimConflict(identifier: $0, holder: conflict.holderID, claimedAt: .distantPast)
                }
            },
            claimed: answer.claimed.compactMap(IndexedIdentifier.init(proto:)), claimedAtMillis: answer.claimedAtMillis)
    }

    func customerShard(of customer: String) -> String? {
        source.current.owner(of: customer, in: Self.service)?.shard
    }

    private func indexShard(of identifier: IndexedIdentifier) throws(RPCError) -> String {
        let map = source.current
        guard let owner = map.owner(of: identifier.valueIndex, in: Self.service) else {
            throw RPCError(
                code: .failedPrecondition,
                message: "\(Self.service) is not in shard map epoch \(map.epoch), though this process runs as its shard"
            )
        }
        return owner.shard
    }

    func pin(_ shard: String) -> Metadata { [WrongShard.pinKey: .string(shard)] }
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

/// The identifiers a shard's writes have claimed and not yet committed or given up, counted (two writes may claim
/// the same one). Held in memory: after a restart no such write is running, and none can commit late
/// (`IdentifierIndex.claimDeadline`).
final class PendingClaims: Sendable {
    private let counts = Mutex<[IndexedIdentifier: Int]>([:])

    func add(_ identifiers: [IndexedIdentifier]) {
        counts.withLock { counts in for identifier in identifiers { counts[identifier, default: 0] += 1 } }
    }

    func remove(_ identifiers: [IndexedIdentifier]) {
        counts.withLock { counts in
            for identifier in identifiers {
                let left = (counts[identifier] ?? 1) - 1
                counts[identifier] = left > 0 ? left : nil
            }
        }
    }

    /// Those of `identifiers` pending.
    func filter(_ identifiers: [IndexedIdentifier]) -> [IndexedIdentifier] {
        counts.withLock { counts in identifiers.filter { counts[$0] != nil } }
    }
}

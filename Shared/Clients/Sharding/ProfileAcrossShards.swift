import C360Contracts
import C360StoreKit
import Foundation
import GRPCCore
import SwiftProtobuf

/// profile-service across shards. A customer lives on the shard of its id's slot; the shard creating one mints an id
/// of its own slots, so a create may go to any shard (a random one spreads new customers evenly). An identifier is
/// found through the identifier index the shards keep among themselves (profile-service's `IdentifierIndex`), so a
/// lookup may go to any shard too. Lists across customers are merged in their order; a batch read by ids asks every
/// shard and keeps, for each id, the answer of the shard that has the customer.
enum ProfileAcrossShards {
    typealias Service = Customer360_V1_ProfileService

    static let spread: [String: ShardSpreadCall] = [
        Service.Method.CreateCustomer.descriptor.fullyQualifiedMethod: createCustomer,
        Service.Method.LookupCustomer.descriptor.fullyQualifiedMethod: randomShard,
        Service.Method.GetLoyaltyProgram.descriptor.fullyQualifiedMethod: FeedbackAcrossShards.anyShard,
        // In creation order: ids are UUIDv7, so by id, on every shard alike.
        Service.Method.ListCustomers.descriptor.fullyQualifiedMethod: ShardMergedPages.merged(
            Customer360_V1_ListCustomersRequest.self, \.page, Customer360_V1_ListCustomersResponse.self, \.page,
            \.customers
        ) { $0.customerID.utf8.lexicographicallyPrecedes($1.customerID.utf8) },
        // Best first, ties by suggestion id.
        Service.Method.ListMatchSuggestions.descriptor.fullyQualifiedMethod: ShardMergedPages.merged(
            Customer360_V1_ListMatchSuggestionsRequest.self, \.page, Customer360_V1_ListMatchSuggestionsResponse.self,
            \.page, \.suggestions
        ) { first, second in
            guard first.score == second.score else { return first.score > second.score }
            return first.suggestionID.utf8.lexicographicallyPrecedes(second.suggestionID.utf8)
        },
        Service.Method.BatchGetCustomers.descriptor.fullyQualifiedMethod: batchGetCustomers,
        Service.Method.ResolveCustomers.descriptor.fullyQualifiedMethod: resolveCustomers,
        // A merge or suggestion lives on the shard of its customers, which only that shard knows by its id.
        Service.Method.UnmergeCustomers.descriptor.fullyQualifiedMethod: shardHaving,
        Service.Method.AcceptSuggestion.descriptor.fullyQualifiedMethod: shardHaving,
        Service.Method.RejectSuggestion.descriptor.fullyQualifiedMethod: shardHaving,
    ]

    /// One shard, chosen at random, the next ones in turn when it cannot be reached.
    static let randomShard: ShardSpreadCall = { request, shards, ask in
        let start = shards.isEmpty ? 0 : Int.random(in: 0..<shards.count)
        return try await FeedbackAcrossShards.anyShard(request, Array(shards[start...] + shards[..<start]), ask)
    }

    /// A create on one shard, chosen at random, and never sent again: a failure after the request left (a dropped
    /// connection looks like an unreachable shard) may have created the customer, so retrying is the caller's call,
    /// as with any create.
    static let createCustomer: ShardSpreadCall = { request, shards, ask in
        guard let shard = shards.randomElement() else {
            throw RPCError(code: .unavailable, message: "profile-service has no shard in the shard map")
        }
        return try await ask(request, [WrongShard.pinKey: .string(shard)])
    }

    /// The shard that knows the entity the request names by id (a merge, a suggestion), asked one after another so
    /// the write happens once: every other shard answers NOT_FOUND and stores nothing.
    static let shardHaving: ShardSpreadCall = { request, shards, ask in
        var notFound: RPCError?
        for shard in shards {
            do {
                return try await ask(request, [WrongShard.pinKey: .string(shard)])
            } catch let error as RPCError where error.code == .notFound {
                notFound = notFound ?? error
            }
        }
        throw notFound ?? RPCError(code: .unavailable, message: "no shard answered")
    }

    /// Each id asked of the shard owning it (`byOwner`); without the map, every shard is asked for every id, and each
    /// id's answer is the one with the customer, else the owner's reason (deleted or erased), else "does not exist".
    static let batchGetCustomers: ShardSpreadCall = { request, shards, ask in
        if let answer = try await byOwner(
            request, ask, ids: \Customer360_V1_BatchGetCustomersRequest.customerIds,
            results: \Customer360_V1_BatchGetCustomersResponse.results)
        {
            return answer
        }
        let answers = try await ShardFanOut.everyShard(shards, naming: nil) { pin in
            try Customer360_V1_BatchGetCustomersResponse(serializedBytes: try await ask(request, pin))
        }
        var merged = answers.first ?? Customer360_V1_BatchGetCustomersResponse()
        for answer in answers.dropFirst() {
            for (position, result) in answer.results.enumerated() where position < merged.results.count {
                if better(
                    result.hasCustomer, result.unresolvedReason, than: merged.results[position].hasCustomer,
                    merged.results[position].unresolvedReason)
                {
                    merged.results[position] = result
                }
            }
        }
        return try merged.serializedBytes()
    }

    static let resolveCustomers: ShardSpreadCall = { request, shards, ask in
        if let answer = try await byOwner(
            request, ask, ids: \Customer360_V1_ResolveCustomersRequest.customerIds,
            results: \Customer360_V1_ResolveCustomersResponse.customers)
        {
            return answer
        }
        let answers = try await ShardFanOut.everyShard(shards, naming: nil) { pin in
            try Customer360_V1_ResolveCustomersResponse(serializedBytes: try await ask(request, pin))
        }
        var merged = answers.first ?? Customer360_V1_ResolveCustomersResponse()
        for answer in answers.dropFirst() {
            for (position, result) in answer.customers.enumerated() where position < merged.customers.count {
                let current = merged.customers[position]
                if better(
                    !result.customerID.isEmpty, result.unresolvedReason, than: !current.customerID.isEmpty,
                    current.unresolvedReason)
                {
                    merged.customers[position] = result
                }
            }
        }
        return try merged.serializedBytes()
    }

    /// The most ids one batch read may name, as profile-service holds it to.
    static let maximumIDs = 1_000

    /// A read of customers by id whose caller knows the map: each owner asked for its own customers, concurrently,
    /// and their answers (one per id, in the order asked) put back in the request's order. So one shard that is down
    /// fails only reads naming its customers. `nil` when the caller does not know the map, or when the request is
    /// not one to split (no ids, too many, or a malformed one: the owners' refusal then names its true position).
    static func byOwner<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message, Item: Sendable>(
        _ request: [UInt8], _ ask: ShardAsk, ids idsPath: any WritableKeyPath<Request, [String]> & Sendable,
        results resultsPath: any WritableKeyPath<Response, [Item]> & Sendable
    ) async throws -> [UInt8]? {
        guard let owner = ask.owner else { return nil }
        let message = try Request(serializedBytes: request)
        let ids = message[keyPath: idsPath]
        guard (1...maximumIDs).contains(ids.count), ids.allSatisfy(EntityID.isWellFormed) else { return nil }
        var positions: [String: [Int]] = [:]
        for (position, id) in ids.enumerated() {
            guard let shard = owner(id) else { return nil }
            positions[shard, default: []].append(position)
        }
        let parts = try positions.map { shard, positions in
            var part = message
            part[keyPath: idsPath] = positions.map { ids[$0] }
            return (shard: shard, positions: positions, bytes: try part.serializedBytes() as [UInt8])
        }
        let answers = try await withThrowingTaskGroup(of: (String, [UInt8]).self) { group in
            for part in parts {
                group.addTask { (part.shard, try await ask(part.bytes, [WrongShard.pinKey: .string(part.shard)])) }
            }
            return try await group.reduce(into: [String: [UInt8]]()) { $0[$1.0] = $1.1 }
        }
        var items = [Item?](repeating: nil, count: ids.count)
        for part in parts {
            let answered = try Response(serializedBytes: answers[part.shard] ?? [])[keyPath: resultsPath]
            guard answered.count == part.positions.count else {
                throw RPCError(
                    code: .internalError,
                    message: "shard \(part.shard) answered \(answered.count) results for \(part.positions.count) ids")
            }
            for (item, position) in zip(answered, part.positions) { items[position] = item }
        }
        var merged = Response()
        merged[keyPath: resultsPath] = items.compactMap { $0 }
        return try merged.serializedBytes()
    }

    /// Whether a shard's answer for an id beats the one kept: a customer beats a reason, and the owner's reason
    /// (deleted, erased) beats every other shard's "does not exist".
    private static func better(_ found: Bool, _ reason: String, than keptFound: Bool, _ keptReason: String) -> Bool {
        if keptFound { return false }
        if found { return true }
        return keptReason.hasSuffix("does not exist") && !reason.hasSuffix("does not exist")
    }
}

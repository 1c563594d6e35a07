import C360Contracts
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
        Service.Method.CreateCustomer.descriptor.fullyQualifiedMethod: randomShard,
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

    /// Every shard is asked for every id; each id's answer is the one with the customer, else the owner's reason
    /// (deleted or erased), else "does not exist".
    static let batchGetCustomers: ShardSpreadCall = { request, shards, ask in
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

    /// Whether a shard's answer for an id beats the one kept: a customer beats a reason, and the owner's reason
    /// (deleted, erased) beats every other shard's "does not exist".
    private static func better(_ found: Bool, _ reason: String, than keptFound: Bool, _ keptReason: String) -> Bool {
        if keptFound { return false }
        if found { return true }
        return keptReason.hasSuffix("does not exist") && !reason.hasSuffix("does not exist")
    }
}

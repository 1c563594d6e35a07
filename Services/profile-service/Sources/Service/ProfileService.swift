public import C360ChangeFeed
import C360Clients
public import C360Contracts
import C360ServerKit
import C360StoreKit
public import Foundation
public import GRPCCore
import Logging
import SwiftProtobuf

/// The `customer360.v1.ProfileService` RPCs: validate the request, call the store, answer in protobuf.
///
/// Split by aspect: customers here, identifiers and merge in `+Identity`, consents in `+Consents`, tags,
/// attributes and traits in `+Attributes`, loyalty in `+Loyalty`.
public struct ProfileService: Customer360_V1_ProfileService.SimpleServiceProtocol {
    let store: ProfileStore
    /// This service's change feed, served by `WatchChanges`.
    let changes: ChangeFeed
    /// The loyalty program the service runs, if any: it sets when earned points expire and answers GetLoyaltyProgram.
    let loyaltyProgram: LoyaltyProgram?
    let now: @Sendable () -> Date
    /// The identifier index across shards, when the service runs as one of several shards; `nil` in one process,
    /// whose own identifiers table is the whole index.
    let index: IdentifierIndex?
    /// Merges across shards and the hand-backs that undo them, on a shard.
    let transfers: FamilyTransfers?

    /// Whether this process owns a customer's slot in the map in force: a shard acts on a merge or a suggestion only
    /// for its own customers, not a move's copy of them; one process owns everyone.
    var owns: @Sendable (String) -> Bool {
        guard let index else { return { _ in true } }
        return { index.owns($0) }
    }

    /// - Parameter changes: The feed over the store's database; a new one when `nil` (tests).
    public init(
        store: ProfileStore, changes: ChangeFeed? = nil, loyaltyProgram: LoyaltyProgram? = nil,
        index: IdentifierIndex? = nil, transfers: FamilyTransfers? = nil,
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.store = store
        self.index = index
        self.transfers = transfers
        self.changes = changes ?? ChangeFeed(writer: store.writer, logger: .init(label: "profile-service.changes"))
        self.loyaltyProgram = loyaltyProgram
        self.now = now
    }

    public func watchChanges(
        request: Customer360_V1_WatchChangesRequest, response: RPCWriter<Customer360_V1_WatchChangesResponse>,
        context: ServerContext
    ) async throws {
        try await changes.watch(request, response: response, context: context)
    }

    public func createCustomer(
        request: Customer360_V1_CreateCustomerRequest, context: ServerContext
    ) async throws -> Customer360_V1_Customer {
        let new = try ProfileRequests.newCustomer(request, now: now())
        guard let index else { return try await store.createCustomer(new).proto }
        let id = try index.mintCustomerID()
        return try await index.claiming(new.identifiers, for: id) { notAfter in
            try await store.createCustomer(new, id: id, notAfter: notAfter)
        }.proto
    }

    public func getCustomer(
        request: Customer360_V1_GetCustomerRequest, context: ServerContext
    ) async throws -> Customer360_V1_Customer {
        let id = try Validate.id(request.customerID, field: "customer_id")
        // A merged-away id whose family is another shard's is answered there: the error names the survivor, and the
        // caller's routing transport sends the call on (`WrongShard.familyKey`), as it does every call by that id.
        return try await store.customer(id).proto
    }

    /// The most ids one `ResolveCustomers` call may name: a writer's batch, small enough for one quick read.
    static let maximumResolvedIDs = 1_000

    public func resolveCustomers(
        request: Customer360_V1_ResolveCustomersRequest, context: ServerContext
    ) async throws -> Customer360_V1_ResolveCustomersResponse {
        let count = request.customerIds.count
        guard (1...Self.maximumResolvedIDs).contains(count) else {
            throw InvalidArgument("customer_ids", "must name 1 to \(Self.maximumResolvedIDs) ids, not \(count)")
        }
        for (index, id) in request.customerIds.enumerated() { try Validate.id(id, field: "customer_ids[\(index)]") }
        let results = try await store.resolve(request.customerIds)
        // Merged-away ids whose families a move took to other shards are resolved there, to the end of the chain.
        let survivors = ProfileError.survivorsElsewhere(in: results)
        var resolvedElsewhere: [String: Customer360_V1_ResolvedCustomerID] = [:]
        if let index, !survivors.isEmpty {
            for answer in try await index.resolve(survivors) {
                resolvedElsewhere[answer.requestedID] = answer
            }
        }
        return .with { message in
            message.customers = zip(request.customerIds, results).map { requested, result in
                .with {
                    $0.requestedID = requested
                    switch result {
                    case .success(let id):
                        $0.customerID = id
                    case .failure(.mergedElsewhere(_, let survivor)):
                        let answer = resolvedElsewhere[survivor]
                        $0.customerID = answer.map(\.customerID) ?? survivor
                        $0.unresolvedReason = answer?.unresolvedReason ?? ""
                    case .failure(let error):
                        $0.unresolvedReason = error.rpcErrorMessage
                    }
                }
            }
        }
    }

    public func updateCustomer(
        request: Customer360_V1_UpdateCustomerRequest, context: ServerContext
    ) async throws -> Customer360_V1_Customer {
        let id = try Validate.id(request.customerID, field: "customer_id")
        let patch = try ProfileRequests.patch(request, now: now())
        return try await store.updateCustomer(id, patch).proto
    }

    public func deleteCustomer(
        request: Customer360_V1_DeleteCustomerRequest, context: ServerContext
    ) async throws -> Customer360_V1_DeleteCustomerResponse {
        let id = try Validate.id(request.customerID, field: "customer_id")
        let deleted = try await store.deleteCustomer(id)
        return .with {
            $0.customerID = deleted.id
            $0.deletedAt = Google_Protobuf_Timestamp(date: deleted.deletedAt)
        }
    }

    public func eraseCustomer(
        request: Customer360_V1_EraseCustomerRequest, context: ServerContext
    ) async throws -> Customer360_V1_EraseCustomerResponse {
        let id = try Validate.id(request.customerID, field: "customer_id")
        let erased = try await store.eraseCustomer(id)
        // No index entry may tie the erased customer's email or phone to its id (or a merged one's) any more. A retry
        // finishes what a failure here left: the ids stay known (the rows are tombstones), the claims are found by id.
        if let index { try await index.releaseEveryClaim(of: try await store.erasedOwners(of: erased.id)) }
        RequestContext.logger(or: .init(label: ServiceIdentity.profile.name)).notice(
            "customer erased", metadata: ["customer_id": "\(erased.id)", "erased_now": "\(erased.erasedNow)"])
        return .with {
            $0.customerID = erased.id
            $0.erasedAt = Google_Protobuf_Timestamp(date: erased.erasedAt)
            $0.erasedNow = erased.erasedNow
        }
    }

    public func lookupCustomer(
        request: Customer360_V1_LookupCustomerRequest, context: ServerContext
    ) async throws -> Customer360_V1_Customer {
        guard request.hasIdentifier else { throw InvalidArgument("identifier", "is required") }
        let identifier = try ProfileRequests.identifier(request.identifier, field: "identifier")
        if let index { return try await index.lookup(identifier) }
        return try await store.customer(with: identifier).proto
    }

    public func listCustomers(
        request: Customer360_V1_ListCustomersRequest, context: ServerContext
    ) async throws -> Customer360_V1_ListCustomersResponse {
        let query = try ProfileRequests.query(request)
        let limit = try Validate.pageSize(request.page.pageSize)
        let token: PageToken<String>? = try Validate.pageToken(request.page.pageToken, filter: query.fingerprint)
        let page = try await store.customers(matching: query, after: token?.position, limit: limit)
        return .with {
            $0.customers = page.items.map(\.proto)
            $0.page.nextPageToken = page.nextToken(filter: query.fingerprint) { $0.id }
        }
    }
}

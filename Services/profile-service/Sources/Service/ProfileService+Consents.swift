public import C360Contracts
import C360ServerKit
import C360StoreKit
public import GRPCCore

extension ProfileService {
    public func setConsent(
        request: Customer360_V1_SetConsentRequest, context: ServerContext
    ) async throws -> Customer360_V1_ConsentState {
        let id = try Validate.id(request.customerID, field: "customer_id")
        guard let purpose = ConsentPurpose(proto: request.purpose) else {
            throw InvalidArgument(
                "purpose", "is required: MARKETING, ANALYTICS, PERSONALIZATION, SERVICE_MESSAGES or THIRD_PARTY_SHARING"
            )
        }
        let channel = try ProfileRequests.channel(request.channel, field: "channel")
        guard let status = ConsentStatus(proto: request.status) else {
            throw InvalidArgument("status", "is required: GRANTED or WITHDRAWN")
        }
        let source = try Validate.text(request.source, field: "source", maxLength: 100, required: true)
        let decidedAt = try Validate.pastInstant(
            request.hasDecidedAt ? request.decidedAt : nil, field: "decided_at", now: now())
        return try await store.recordConsent(
            customer: id, purpose: purpose, channel: channel, status: status, source: source, decidedAt: decidedAt
        ).proto
    }

    public func getConsents(
        request: Customer360_V1_GetConsentsRequest, context: ServerContext
    ) async throws -> Customer360_V1_GetConsentsResponse {
        let id = try Validate.id(request.customerID, field: "customer_id")
        let current = try await store.currentConsents(customer: id)
        return .with {
            $0.customerID = current.customerID
            $0.consents = current.consents.map(\.proto)
        }
    }

    /// The most ids one `BatchGetCustomers` call may name.
    static let maximumBatchIDs = 1_000

    public func batchGetCustomers(
        request: Customer360_V1_BatchGetCustomersRequest, context: ServerContext
    ) async throws -> Customer360_V1_BatchGetCustomersResponse {
        let count = request.customerIds.count
        guard (1...Self.maximumBatchIDs).contains(count) else {
            throw InvalidArgument("customer_ids", "must name 1 to \(Self.maximumBatchIDs) ids, not \(count)")
        }
        for (index, id) in request.customerIds.enumerated() { try Validate.id(id, field: "customer_ids[\(index)]") }
        let results = try await store.profilesWithConsents(request.customerIds)
        // Merged-away ids whose families are other shards' are read there, by their survivors.
        let survivors = ProfileError.survivorsElsewhere(in: results)
        var elsewhere: [String: Customer360_V1_BatchGetCustomersResult] = [:]
        if let index, !survivors.isEmpty {
            // A survivors' shard that cannot answer leaves those ids unresolved, naming the survivor, as one process's
            // batch leaves an unknown id: the batch's other customers are still answered.
            elsewhere = (try? await index.profilesWithConsents(survivors)) ?? [:]
        }
        return .with {
            $0.results = zip(request.customerIds, results).map { id, result in
                if case .failure(.mergedElsewhere(_, let survivor)) = result, var found = elsewhere[survivor] {
                    found.requestedID = id
                    if found.hasCustomer { found.customer.resolvedFrom = id }
                    return found
                }
                return .with {
                    $0.requestedID = id
                    switch result {
                    case .success(let found):
                        $0.customer = found.profile.proto
                        $0.consents = found.consents.map(\.proto)
                    case .failure(let error):
                        $0.unresolvedReason = error.rpcErrorMessage
                    }
                }
            }
        }
    }

    public func listConsentHistory(
        request: Customer360_V1_ListConsentHistoryRequest, context: ServerContext
    ) async throws -> Customer360_V1_ListConsentHistoryResponse {
        let id = try Validate.id(request.customerID, field: "customer_id")
        let limit = try Validate.pageSize(request.page.pageSize)
        let token: PageToken<ConsentPosition>? = try Validate.pageToken(request.page.pageToken, filter: id)
        let page = try await store.consentHistory(customer: id, after: token?.position, limit: limit)
        return .with {
            $0.decisions = page.items.map(\.proto)
            $0.page.nextPageToken = page.nextToken(filter: id) { ConsentPosition(key: $0.decidedAt, tie: $0.id) }
        }
    }
}

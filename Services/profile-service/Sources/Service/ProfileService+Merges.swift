import C360Clients
public import C360Contracts
import C360ServerKit
import C360StoreKit
import Foundation
public import GRPCCore
import SwiftProtobuf

/// The merge ledger, undoing merges, and identity resolution's suggestions.
extension ProfileService {
    /// How long a merge note or a requester name may be.
    static let maximumNoteLength = 500
    static let maximumRequesterLength = 128

    public func unmergeCustomers(
        request: Customer360_V1_UnmergeCustomersRequest, context: ServerContext
    ) async throws -> Customer360_V1_UnmergeCustomersResponse {
        let mergeID = try Validate.id(request.mergeID, field: "merge_id")
        let requestedBy = try Validate.text(
            request.requestedBy, field: "requested_by", maxLength: Self.maximumRequesterLength)
        let result: (survivor: CustomerProfile, restored: CustomerProfile, entry: MergeEntry)
        do {
            result = try await store.unmergeCustomers(
                mergeID: mergeID, requestedBy: requestedBy, owns: owns, handBack: transfers?.recordHandBack)
        } catch ProfileError.customerNotFound(let restored) where index != nil && !owns(restored) {
            // Asked again after the restored customer was handed back to its own shard: answered from both shards.
            guard let index, let undone = try await store.undoneMerge(mergeID), undone.entry.mergedID == restored else {
                throw ProfileError.customerNotFound(restored)
            }
            let profile = try await index.peers.getCustomer(
                .with { $0.customerID = restored }, options: .deadline(IdentifierIndex.callTimeout))
            return .with {
                $0.survivor = undone.survivor.proto
                $0.restored = profile
                $0.merge = undone.entry.proto
            }
        }
        RequestContext.logger(or: .init(label: ServiceIdentity.profile.name)).notice(
            "merge undone",
            metadata: [
                "merge_id": "\(mergeID)", "survivor": "\(result.survivor.id)", "restored": "\(result.restored.id)",
            ])
        // A restored customer of another shard's slot goes back there now; if that shard does not take it, the
        // completer hands it back later (its calls answer UNAVAILABLE meanwhile). Either way the unmerge has happened.
        if let transfers, !owns(result.restored.id) { await transfers.handBack(result.restored.id) }
        return .with {
            $0.survivor = result.survivor.proto
            $0.restored = result.restored.proto
            $0.merge = result.entry.proto
        }
    }

    public func listMerges(
        request: Customer360_V1_ListMergesRequest, context: ServerContext
    ) async throws -> Customer360_V1_ListMergesResponse {
        let id = try Validate.id(request.customerID, field: "customer_id")
        let limit = try Validate.pageSize(request.page.pageSize)
        let token: PageToken<Int64>? = try Validate.pageToken(request.page.pageToken, filter: id)
        let page = try await store.merges(customer: id, after: token?.position, limit: limit)
        return .with {
            $0.merges = page.items.map(\.entry.proto)
            $0.page.nextPageToken = page.nextToken(filter: id) { $0.seq }
        }
    }

    public func listMatchSuggestions(
        request: Customer360_V1_ListMatchSuggestionsRequest, context: ServerContext
    ) async throws -> Customer360_V1_ListMatchSuggestionsResponse {
        let customerID = request.customerID.isEmpty ? nil : try Validate.id(request.customerID, field: "customer_id")
        guard request.minScore.isFinite, (0...1).contains(request.minScore) else {
            throw InvalidArgument("min_score", "must be between 0 and 1, not \(request.minScore)")
        }
        let limit = try Validate.pageSize(request.page.pageSize)
        let filter = "\(customerID ?? "*")|\(request.minScore)"
        let token: PageToken<SuggestionPosition>? = try Validate.pageToken(request.page.pageToken, filter: filter)
        let page = try await store.matchSuggestions(
            customer: customerID, minScore: request.minScore, after: token?.position, limit: limit)
        return .with {
            $0.suggestions = page.items.map(\.suggestion.proto)
            $0.page.nextPageToken = page.nextToken(filter: filter) { $0.position }
        }
    }

    public func acceptSuggestion(
        request: Customer360_V1_AcceptSuggestionRequest, context: ServerContext
    ) async throws -> Customer360_V1_AcceptSuggestionResponse {
        let id = try Validate.id(request.suggestionID, field: "suggestion_id")
        let survivor = request.survivorID.isEmpty ? nil : try Validate.id(request.survivorID, field: "survivor_id")
        let requestedBy = try Validate.text(
            request.requestedBy, field: "requested_by", maxLength: Self.maximumRequesterLength)
        let result = try await store.acceptSuggestion(
            id, survivor: survivor, requestedBy: requestedBy, owns: owns)
        return .with {
            $0.survivor = result.profile.proto
            if let entry = result.entry { $0.merge = entry.proto }
        }
    }

    public func rejectSuggestion(
        request: Customer360_V1_RejectSuggestionRequest, context: ServerContext
    ) async throws -> Customer360_V1_RejectSuggestionResponse {
        let id = try Validate.id(request.suggestionID, field: "suggestion_id")
        let requestedBy = try Validate.text(
            request.requestedBy, field: "requested_by", maxLength: Self.maximumRequesterLength)
        try await store.rejectSuggestion(id, requestedBy: requestedBy, owns: owns)
        return .with { $0.suggestionID = id }
    }
}

extension MergeEntry {
    var proto: Customer360_V1_MergeRecord {
        .with {
            $0.mergeID = id
            $0.survivorID = survivorID
            $0.mergedID = mergedID
            $0.reason = request.reason == .manual ? .manual : .matchRule
            $0.rule = request.rule
            $0.matchedOn = request.matchedOn
            $0.note = request.note
            $0.requestedBy = request.requestedBy
            $0.mergedAt = Google_Protobuf_Timestamp(date: mergedAt)
            if let unmergedAt { $0.unmergedAt = Google_Protobuf_Timestamp(date: unmergedAt) }
            $0.unmergedBy = unmergedBy
        }
    }
}

extension MatchSuggestion {
    var proto: Customer360_V1_MatchSuggestion {
        .with {
            $0.suggestionID = id
            $0.customerID = customerID
            $0.candidateID = candidateID
            $0.rule = rule
            $0.score = score
            $0.explanation = explanation
            $0.suggestedAt = Google_Protobuf_Timestamp(date: suggestedAt)
        }
    }
}

public import C360Contracts
import C360ServerKit
import C360StoreKit
import Foundation
public import GRPCCore

extension FeedbackService {
    public func createFeatureRequest(
        request: Customer360_V1_CreateFeatureRequestRequest, context: ServerContext
    ) async throws -> Customer360_V1_FeatureRequest {
        let id =
            request.featureRequestID.isEmpty
            ? EntityID.generate() : try Validate.clientID(request.featureRequestID, field: "feature_request_id")
        let title = try Validate.text(request.title, field: "title", maxLength: 200, required: true)
        let details = try Validate.text(request.details, field: "details", maxLength: 5000)
        var vote: FeatureVote?
        if !request.customerID.isEmpty {
            vote = FeatureVote(
                featureRequestID: id, customerID: try await writableCustomer(request.customerID),
                comment: "", channel: nil, votedAt: now())
        }
        return try await store.createFeatureRequest(
            FeatureRequest(id: id, title: title, details: details, createdAt: now()), vote: vote
        ).proto
    }

    public func voteFeatureRequest(
        request: Customer360_V1_VoteFeatureRequestRequest, context: ServerContext
    ) async throws -> Customer360_V1_FeatureRequest {
        let id = try Validate.clientID(request.featureRequestID, field: "feature_request_id")
        let comment = try Validate.text(request.comment, field: "comment", maxLength: 2000)
        let channel = try FeedbackRequests.optionalChannel(request.channel, field: "channel")
        let votedAt = request.hasVotedAt ? try Validate.instant(request.votedAt, field: "voted_at", now: now()) : now()
        try Validate.id(request.customerID, field: "customer_id")
        let customerID = try await writableCustomer(request.customerID)
        return try await store.vote(
            FeatureVote(
                featureRequestID: id, customerID: customerID, comment: comment,
                channel: channel, votedAt: votedAt)
        ).proto
    }

    public func updateFeatureRequestStatus(
        request: Customer360_V1_UpdateFeatureRequestStatusRequest, context: ServerContext
    ) async throws -> Customer360_V1_FeatureRequest {
        let id = try Validate.clientID(request.featureRequestID, field: "feature_request_id")
        guard let status = FeatureRequestStatus(proto: request.status) else {
            throw InvalidArgument(
                "status", "is required (OPEN, UNDER_REVIEW, PLANNED, IN_PROGRESS, SHIPPED, DECLINED or DUPLICATE)")
        }
        let note = try Validate.text(request.note, field: "note", maxLength: 2000)
        var duplicateOf = ""
        if status == .duplicate {
            duplicateOf = try Validate.clientID(request.duplicateOfID, field: "duplicate_of_id")
            guard duplicateOf != id else {
                throw InvalidArgument("duplicate_of_id", "must name another feature request")
            }
        } else if !request.duplicateOfID.isEmpty {
            throw InvalidArgument("duplicate_of_id", "is only allowed with status DUPLICATE")
        }
        return try await store.updateStatus(
            featureRequest: id, to: status, note: note, duplicateOf: duplicateOf,
            at: now()
        ).proto
    }

    public func listFeatureRequests(
        request: Customer360_V1_ListFeatureRequestsRequest, context: ServerContext
    ) async throws -> Customer360_V1_ListFeatureRequestsResponse {
        var filter = FeatureRequestFilter()
        for (index, value) in request.statuses.enumerated() {
            guard let status = FeatureRequestStatus(proto: value) else {
                throw InvalidArgument("statuses[\(index)]", "is not a feature request status")
            }
            filter.statuses.insert(status)
        }
        (filter.from, filter.until) = try Validate.window(request.hasWindow ? request.window : nil)
        filter.order =
            switch request.orderBy {
            case .windowVotes: .windowVotes
            case .newest: .newest
            case .votes, .unspecified, .UNRECOGNIZED: .votes
            }
        if !request.customerID.isEmpty { filter.customerID = try await readableCustomer(request.customerID) }
        let limit = try Validate.pageSize(request.page.pageSize)
        let token: PageToken<SequencePosition>? = try Validate.pageToken(
            request.page.pageToken, filter: filter.fingerprint)
        let page = try await store.featureRequests(filter: filter, after: token?.position, limit: limit)
        return .with {
            $0.featureRequests = page.items.map { item in
                .with {
                    $0.featureRequest = item.tally.request.proto
                    $0.windowVotes = Int64(item.tally.windowVotes)
                }
            }
            $0.page.nextPageToken = page.nextToken(filter: filter.fingerprint) { $0.position }
        }
    }
}

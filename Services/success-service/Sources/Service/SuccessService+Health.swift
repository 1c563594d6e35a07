public import C360Contracts
import C360ServerKit
import C360StoreKit
import Foundation
public import GRPCCore

extension SuccessService {
    public func computeHealthScore(
        request: Customer360_V1_ComputeHealthScoreRequest, context: ServerContext
    ) async throws -> Customer360_V1_ComputeHealthScoreResponse {
        try Validate.id(request.customerID, field: "customer_id")
        let customerID = try await customers.resolveForWrite(request.customerID)
        let outcome = try await scorer.score(customerID: customerID, dryRun: request.dryRun)
        return .with {
            $0.score = outcome.score.proto
            $0.alertsRaised = outcome.raised.map(\.proto)
        }
    }

    public func getHealthScore(
        request: Customer360_V1_GetHealthScoreRequest, context: ServerContext
    ) async throws -> Customer360_V1_HealthScore {
        try await store.latestScore(customerID: try await readableCustomer(request.customerID)).proto
    }

    public func listHealthHistory(
        request: Customer360_V1_ListHealthHistoryRequest, context: ServerContext
    ) async throws -> Customer360_V1_ListHealthHistoryResponse {
        let customerID = try await readableCustomer(request.customerID)
        let (from, until) = try Validate.window(request.hasTimeRange ? request.timeRange : nil, field: "time_range")
        let limit = try Validate.pageSize(request.page.pageSize)
        let fingerprint = [customerID, from.map { "\($0.unixMillis)" } ?? "", until.map { "\($0.unixMillis)" } ?? ""]
            .joined(separator: "\u{1F}")
        let token: PageToken<InstantPosition>? = try Validate.pageToken(request.page.pageToken, filter: fingerprint)
        let page = try await store.history(
            customerID: customerID, from: from, until: until, after: token?.position,
            limit: limit)
        return .with {
            $0.scores = page.items.map(\.score.proto)
            $0.page.nextPageToken = page.nextToken(filter: fingerprint) { $0.position }
        }
    }

    public func startBatchRecompute(
        request: Customer360_V1_StartBatchRecomputeRequest, context: ServerContext
    ) async throws -> Customer360_V1_HealthBatch {
        let id = request.batchID.isEmpty ? "" : try Validate.clientID(request.batchID, field: "batch_id")
        let activeSince =
            request.hasActiveSince
            ? try Validate.instant(request.activeSince, field: "active_since", now: now()) : nil
        return try await batches.start(id: id, activeSince: activeSince).proto
    }

    public func getBatchStatus(
        request: Customer360_V1_GetBatchStatusRequest, context: ServerContext
    ) async throws -> Customer360_V1_HealthBatch {
        let id = try Validate.clientID(request.batchID, field: "batch_id")
        guard let batch = try await store.batch(id: id) else { throw SuccessError.batchNotFound(id) }
        return batch.proto
    }

    public func listAtRisk(
        request: Customer360_V1_ListAtRiskRequest, context: ServerContext
    ) async throws -> Customer360_V1_ListAtRiskResponse {
        var filter = AtRiskFilter()
        if request.hasMaxScore {
            guard request.maxScore.isFinite else { throw InvalidArgument("max_score", "must be a number") }
            filter.maxScore = request.maxScore
        } else if !request.bands.isEmpty {
            filter.bands = []
            for (index, value) in request.bands.enumerated() {
                guard let band = HealthBand(proto: value) else {
                    throw InvalidArgument("bands[\(index)]", "is not a band")
                }
                filter.bands.insert(band)
            }
        }
        filter.csmOwnerID = try Validate.text(request.csmOwnerID, field: "csm_owner_id", maxLength: 128)
        let limit = try Validate.pageSize(request.page.pageSize)
        let token: PageToken<ScorePosition>? = try Validate.pageToken(
            request.page.pageToken, filter: filter.fingerprint)
        let page = try await store.atRisk(filter: filter, after: token?.position, limit: limit)
        return .with {
            $0.customers = page.items.map { item in
                .with {
                    $0.customerID = item.customer.latest.customerID
                    $0.latest = item.customer.latest.proto
                    $0.openAlerts = Int64(item.customer.openAlerts)
                    $0.csmOwnerID = item.customer.csmOwnerID
                }
            }
            $0.page.nextPageToken = page.nextToken(filter: filter.fingerprint) { $0.position }
        }
    }

    public func getHealthSummary(
        request: Customer360_V1_GetHealthSummaryRequest, context: ServerContext
    ) async throws -> Customer360_V1_HealthSummary {
        let owner = try Validate.text(request.csmOwnerID, field: "csm_owner_id", maxLength: 128)
        let summary = try await store.summary(csmOwnerID: owner, at: now())
        return .with {
            $0.customersScored = Int64(summary.scored)
            $0.green = Int64(summary.green)
            $0.yellow = Int64(summary.yellow)
            $0.red = Int64(summary.red)
            $0.scoreSum = summary.scoreSum
            $0.openAlerts = AlertKind.allCases.compactMap { kind in
                summary.openAlerts[kind].map { count in
                    .with {
                        $0.kind = kind.proto
                        $0.count = Int64(count)
                    }
                }
            }
            $0.overdueTasks = Int64(summary.overdueTasks)
        }
    }
}

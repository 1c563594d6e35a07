public import C360ChangeFeed
public import C360Clients
public import C360Contracts
import C360ServerKit
import C360StoreKit
public import Foundation
public import GRPCCore
import Logging

/// The `customer360.v1.SuccessService` RPCs: validate, resolve the customer against profile-service, call the
/// store, the scorer and the batch runner, answer in protobuf.
///
/// Split by aspect: plans here, `+Goals`, `+Health`, `+Alerts`, `+Privacy`.
public struct SuccessService: Customer360_V1_SuccessService.SimpleServiceProtocol {
    let store: SuccessStore
    let customers: any CustomerDirectory
    let scorer: HealthScorer
    let batches: BatchRunner
    let feed: AlertFeed
    /// This service's change feed, served by `WatchChanges`.
    let changes: ChangeFeed
    let now: @Sendable () -> Date

    /// - Parameter changes: The feed over the store's database; a new one when `nil` (tests).
    public init(
        store: SuccessStore, customers: any CustomerDirectory, scorer: HealthScorer, batches: BatchRunner,
        feed: AlertFeed, changes: ChangeFeed? = nil, now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.store = store
        self.changes = changes ?? ChangeFeed(writer: store.writer, logger: .init(label: "success-service.changes"))
        self.customers = customers
        self.scorer = scorer
        self.batches = batches
        self.feed = feed
        self.now = now
    }

    public func watchChanges(
        request: Customer360_V1_WatchChangesRequest, response: RPCWriter<Customer360_V1_WatchChangesResponse>,
        context: ServerContext
    ) async throws {
        try await changes.watch(request, response: response, context: context)
    }

    public func createSuccessPlan(
        request: Customer360_V1_CreateSuccessPlanRequest, context: ServerContext
    ) async throws -> Customer360_V1_SuccessPlan {
        try Validate.id(request.customerID, field: "customer_id")
        let draft = try SuccessRequests.plan(request, customerID: request.customerID, now: now())
        let customerID = try await customers.resolveForWrite(request.customerID)
        var plan = draft
        plan.customerID = customerID
        return try await store.createPlan(plan).proto(at: now())
    }

    public func getSuccessPlan(
        request: Customer360_V1_GetSuccessPlanRequest, context: ServerContext
    ) async throws -> Customer360_V1_SuccessPlan {
        let customerID = try await readableCustomer(request.customerID)
        let planID = try Validate.clientID(request.planID, field: "plan_id")
        return try await store.plan(id: planID, customerID: customerID).proto(at: now())
    }

    public func listSuccessPlans(
        request: Customer360_V1_ListSuccessPlansRequest, context: ServerContext
    ) async throws -> Customer360_V1_ListSuccessPlansResponse {
        var filter = PlanFilter()
        if !request.customerID.isEmpty { filter.customerID = try await readableCustomer(request.customerID) }
        filter.csmOwnerID = try Validate.text(request.csmOwnerID, field: "csm_owner_id", maxLength: 128)
        for (index, value) in request.statuses.enumerated() {
            guard let status = PlanStatus(proto: value) else {
                throw InvalidArgument("statuses[\(index)]", "is not a plan status")
            }
            filter.statuses.insert(status)
        }
        let limit = try Validate.pageSize(request.page.pageSize)
        let token: PageToken<PlanPosition>? = try Validate.pageToken(request.page.pageToken, filter: filter.fingerprint)
        let page = try await store.plans(filter: filter, after: token?.position, limit: limit)
        let instant = now()
        return .with {
            $0.plans = page.items.map { $0.plan.proto(at: instant) }
            $0.page.nextPageToken = page.nextToken(filter: filter.fingerprint) { $0.position }
        }
    }

    public func updateSuccessPlan(
        request: Customer360_V1_UpdateSuccessPlanRequest, context: ServerContext
    ) async throws -> Customer360_V1_SuccessPlan {
        let customerID = try await readableCustomer(request.customerID)
        let planID = try Validate.clientID(request.planID, field: "plan_id")
        let title =
            request.hasTitle ? try Validate.text(request.title, field: "title", maxLength: 200, required: true) : nil
        let summary = request.hasSummary ? try Validate.text(request.summary, field: "summary", maxLength: 5000) : nil
        let owner =
            request.hasCsmOwnerID
            ? try Validate.text(request.csmOwnerID, field: "csm_owner_id", maxLength: 128, required: true) : nil
        let status = request.status == .unspecified ? nil : PlanStatus(proto: request.status)
        if request.status != .unspecified, status == nil { throw InvalidArgument("status", "is not a plan status") }
        let startsAt = request.hasStartsAt ? try SuccessRequests.date(request.startsAt, field: "starts_at") : nil
        let endsAt = request.hasEndsAt ? try SuccessRequests.date(request.endsAt, field: "ends_at") : nil
        return try await store.updatePlan(id: planID, customerID: customerID, at: now()) { plan in
            if let title { plan.title = title }
            if let summary { plan.summary = summary }
            if let owner { plan.csmOwnerID = owner }
            if let status { plan.status = status }
            if let startsAt { plan.startsAt = startsAt }
            if let endsAt { plan.endsAt = endsAt }
            if let end = plan.endsAt, end <= plan.startsAt {
                throw InvalidArgument("ends_at", "must be after starts_at")
            }
        }.proto(at: now())
    }

    public func deleteSuccessPlan(
        request: Customer360_V1_DeleteSuccessPlanRequest, context: ServerContext
    ) async throws -> Customer360_V1_DeleteSuccessPlanResponse {
        let customerID = try await readableCustomer(request.customerID)
        let planID = try Validate.clientID(request.planID, field: "plan_id")
        let deleted = try await store.deletePlan(id: planID, customerID: customerID)
        return .with { $0.deleted = deleted }
    }

    public func getSuccessKpis(
        request: Customer360_V1_GetSuccessKpisRequest, context: ServerContext
    ) async throws -> Customer360_V1_SuccessKpis {
        let customerID = request.customerID.isEmpty ? "" : try await readableCustomer(request.customerID)
        let owner = try Validate.text(request.csmOwnerID, field: "csm_owner_id", maxLength: 128)
        let (from, until) = try Validate.window(request.hasWindow ? request.window : nil, field: "window")
        let kpis = try await store.kpis(customerID: customerID, csmOwnerID: owner, from: from, until: until, at: now())
        return .with {
            if request.hasWindow { $0.window = request.window }
            $0.goals = Int64(kpis.goals)
            $0.goalsAchieved = Int64(kpis.achieved)
            $0.goalsMissed = Int64(kpis.missed)
            $0.goalsOverdue = Int64(kpis.overdue)
            $0.timeToGoalTotal = .init(interval: kpis.timeToGoalTotal)
            if let rate = kpis.achievementRate { $0.goalAchievementRate = rate }
            if let mean = kpis.meanTimeToGoal { $0.meanTimeToGoal = .init(interval: mean) }
            $0.plansActive = Int64(kpis.activePlans)
        }
    }

    // MARK: - Helpers

    /// The id a read finds the customer's data under here: the survivor once this service applied their merge
    /// (`MergeAwareCustomerDirectory`, no peer asked); the id itself when the aliases cannot be read. On a shard, a
    /// merged-away id whose survivor another shard holds is refused for the caller to follow
    /// (`OwnedSurvivorsDirectory`).
    func readableCustomer(_ requested: String) async throws -> String {
        try await customers.readable(try Validate.id(requested, field: "customer_id"))
    }
}

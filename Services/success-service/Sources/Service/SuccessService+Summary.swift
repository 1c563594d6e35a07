public import C360Contracts
import C360ServerKit
import C360StoreKit
import Foundation
public import GRPCCore

extension SuccessService {
    /// The most active plans and open alerts `GetCustomerSuccess` returns.
    static let summaryLimit = 50

    /// Active plans, latest health score and open alerts of one customer, read concurrently: the gateway's 360° view
    /// asks for them in one round trip instead of three.
    public func getCustomerSuccess(
        request: Customer360_V1_GetCustomerSuccessRequest, context: ServerContext
    ) async throws -> Customer360_V1_CustomerSuccess {
        let customerID = try await readableCustomer(request.customerID)
        var planFilter = PlanFilter()
        planFilter.customerID = customerID
        planFilter.statuses = [.active]
        var alertFilter = AlertFilter()
        alertFilter.customerID = customerID
        alertFilter.states = [.open, .acknowledged]
        async let plans = store.plans(filter: planFilter, after: nil, limit: Self.summaryLimit)
        async let alerts = store.alerts(filter: alertFilter, after: nil, limit: Self.summaryLimit)
        async let health = latestScoreIfAny(customerID)
        let instant = now()
        let (planPage, alertPage, score) = try await (plans, alerts, health)
        return .with {
            $0.customerID = customerID
            $0.activePlans = planPage.items.map { $0.plan.proto(at: instant) }
            if let score { $0.health = score.proto }
            $0.openAlerts = alertPage.items.map(\.alert.proto)
        }
    }

    private func latestScoreIfAny(_ customerID: String) async throws -> HealthScore? {
        do {
            return try await store.latestScore(customerID: customerID)
        } catch SuccessError.healthScoreNotFound {
            return nil
        }
    }
}

public import C360Contracts
import C360ServerKit
import C360StoreKit
import Foundation
public import GRPCCore

extension SuccessService {
    /// The most active plans and open alerts `GetCustomerSuccess` returns.
    static let summaryLimit = 50

    /// Active plans, latest health score and open alerts of one customer, read in one transaction: the gateway's 360°
    /// view asks for them in one round trip instead of three.
    public func getCustomerSuccess(
        request: Customer360_V1_GetCustomerSuccessRequest, context: ServerContext
    ) async throws -> Customer360_V1_CustomerSuccess {
        let customerID = try await readableCustomer(request.customerID)
        let summary = try await store.customerSuccess(customerID: customerID, limit: Self.summaryLimit)
        let instant = now()
        return .with {
            $0.customerID = customerID
            $0.activePlans = summary.plans.map { $0.proto(at: instant) }
            if let score = summary.health { $0.health = score.proto }
            $0.openAlerts = summary.alerts.map(\.proto)
        }
    }
}

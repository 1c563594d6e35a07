import C360Clients
public import C360Contracts
import C360ServerKit
import Foundation
public import GRPCCore

extension SuccessService {
    /// Records per streamed chunk.
    static let exportChunk = 500

    public func exportCustomerData(
        request: Customer360_V1_ExportSuccessDataRequest,
        response: RPCWriter<Customer360_V1_ExportSuccessDataResponse>,
        context: ServerContext
    ) async throws {
        try await ServerDrain.serverStream(context: context) {
            let customerID = try await readableCustomer(request.customerID)
            let export = try await store.export(customerID: customerID)
            let instant = now()
            for chunk in Self.chunks(export.plans) {
                try await response.write(.with { $0.plans = chunk.map { $0.proto(at: instant) } })
            }
            for chunk in Self.chunks(export.progress) {
                try await response.write(.with { $0.goalProgress = chunk.map(\.proto) })
            }
            for chunk in Self.chunks(export.scores) {
                try await response.write(.with { $0.healthScores = chunk.map(\.proto) })
            }
            for chunk in Self.chunks(export.alerts) {
                try await response.write(.with { $0.alerts = chunk.map(\.proto) })
            }
            for chunk in Self.chunks(export.tasks) { try await response.write(.with { $0.tasks = chunk.map(\.proto) }) }
        }
    }

    public func eraseCustomerData(
        request: Customer360_V1_EraseSuccessDataRequest, context: ServerContext
    ) async throws -> Customer360_V1_EraseSuccessDataResponse {
        // The id as given: after profile-service erased the customer it no longer resolves.
        let customerID = try Validate.id(request.customerID, field: "customer_id")
        let erased = try await store.erase(customerID: customerID)
        RequestContext.logger(or: .init(label: ServiceIdentity.success.name)).notice(
            "customer data erased",
            metadata: [
                "customer_id": "\(customerID)", "plans": "\(erased.plans)",
                "health_scores": "\(erased.healthScores)",
            ])
        return .with {
            $0.customerID = customerID
            $0.plansErased = Int64(erased.plans)
            $0.healthScoresErased = Int64(erased.healthScores)
            $0.alertsErased = Int64(erased.alerts)
            $0.tasksErased = Int64(erased.tasks)
        }
    }

    private static func chunks<Item>(_ items: [Item]) -> [ArraySlice<Item>] {
        stride(from: 0, to: items.count, by: exportChunk).map { items[$0..<min($0 + exportChunk, items.count)] }
    }
}

import C360Clients
public import C360Contracts
import C360ServerKit
public import GRPCCore

extension InteractionService {
    public func exportCustomerData(
        request: Customer360_V1_ExportInteractionDataRequest,
        response: RPCWriter<Customer360_V1_ExportInteractionDataResponse>,
        context: ServerContext
    ) async throws {
        try await ServerDrain.serverStream(context: context) {
            let customerID = try await readableCustomer(request.customerID)
            try await store.exportTimeline(customer: customerID, filter: TimelineFilter()) { chunk in
                try await response.write(.with { $0.touchpoints = chunk.map(\.proto) })
            }
            let tickets = try await store.allTickets(customer: customerID)
            if !tickets.isEmpty {
                try await response.write(.with { $0.tickets = tickets.map(\.proto) })
            }
        }
    }

    public func eraseCustomerData(
        request: Customer360_V1_EraseInteractionDataRequest, context: ServerContext
    ) async throws -> Customer360_V1_EraseInteractionDataResponse {
        // The id as given: after profile-service erased the customer it no longer resolves, and erasure must still
        // reach the data stored under it.
        let customerID = try Validate.id(request.customerID, field: "customer_id")
        let erased = try await store.eraseCustomer(customerID)
        RequestContext.logger(or: .init(label: ServiceIdentity.interaction.name)).notice(
            "customer data erased", metadata: ["customer_id": "\(customerID)", "touchpoints": "\(erased.touchpoints)"])
        return .with {
            $0.customerID = customerID
            $0.touchpointsErased = Int64(erased.touchpoints)
            $0.ticketsErased = Int64(erased.tickets)
        }
    }
}

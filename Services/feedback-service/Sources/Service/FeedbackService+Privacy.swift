import C360Clients
public import C360Contracts
import C360ServerKit
public import GRPCCore

extension FeedbackService {
    public func exportCustomerData(
        request: Customer360_V1_ExportFeedbackDataRequest,
        response: RPCWriter<Customer360_V1_ExportFeedbackDataResponse>,
        context: ServerContext
    ) async throws {
        try await ServerDrain.serverStream(context: context) {
            let customerID = try await readableCustomer(request.customerID)
            try await store.export(customer: customerID) { chunk in
                try await response.write(
                    .with {
                        $0.responses = chunk.responses.map(\.proto)
                        $0.votes = chunk.votes.map(\.proto)
                        $0.churnReasons = chunk.churnReasons.map(\.proto)
                    })
            }
        }
    }

    public func eraseCustomerData(
        request: Customer360_V1_EraseFeedbackDataRequest, context: ServerContext
    ) async throws -> Customer360_V1_EraseFeedbackDataResponse {
        // The id as given: after profile-service erased the customer it no longer resolves, and erasure must still
        // reach the data stored under it.
        let customerID = try Validate.id(request.customerID, field: "customer_id")
        let erased = try await store.erase(customer: customerID)
        RequestContext.logger(or: .init(label: ServiceIdentity.feedback.name)).notice(
            "customer data erased",
            metadata: [
                "customer_id": "\(customerID)", "responses": "\(erased.responses)",
                "votes": "\(erased.votes)", "churn_reasons": "\(erased.churnReasons)",
            ])
        return .with {
            $0.customerID = customerID
            $0.responsesErased = Int64(erased.responses)
            $0.votesErased = Int64(erased.votes)
            $0.churnReasonsErased = Int64(erased.churnReasons)
        }
    }
}

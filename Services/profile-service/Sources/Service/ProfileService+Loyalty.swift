public import C360Contracts
import C360ServerKit
import C360StoreKit
public import GRPCCore

extension ProfileService {
    public func earnPoints(
        request: Customer360_V1_EarnPointsRequest, context: ServerContext
    ) async throws -> Customer360_V1_LoyaltyAccount {
        let id = try Validate.id(request.customerID, field: "customer_id")
        let points = try ProfileRequests.points(request.points)
        let reason = try Validate.text(request.reason, field: "reason", maxLength: 200, required: true)
        let transactionID = try ProfileRequests.transactionID(request.transactionID)
        let result = try await store.applyPoints(
            points, reason: reason, transactionID: transactionID,
            expiresAt: loyaltyProgram?.expiry(ofPointsEarnedAt: now()), customer: id)
        return result.account.proto(customerID: result.customerID, program: loyaltyProgram)
    }

    public func redeemPoints(
        request: Customer360_V1_RedeemPointsRequest, context: ServerContext
    ) async throws -> Customer360_V1_LoyaltyAccount {
        let id = try Validate.id(request.customerID, field: "customer_id")
        let points = try ProfileRequests.points(request.points)
        let reason = try Validate.text(request.reason, field: "reason", maxLength: 200, required: true)
        let transactionID = try ProfileRequests.transactionID(request.transactionID)
        let result = try await store.applyPoints(-points, reason: reason, transactionID: transactionID, customer: id)
        return result.account.proto(customerID: result.customerID, program: loyaltyProgram)
    }

    public func getLoyalty(
        request: Customer360_V1_GetLoyaltyRequest, context: ServerContext
    ) async throws -> Customer360_V1_LoyaltyAccount {
        let id = try Validate.id(request.customerID, field: "customer_id")
        let result = try await store.loyalty(customer: id)
        return result.account.proto(customerID: result.customerID, program: loyaltyProgram)
    }

    public func listLoyaltyHistory(
        request: Customer360_V1_ListLoyaltyHistoryRequest, context: ServerContext
    ) async throws -> Customer360_V1_ListLoyaltyHistoryResponse {
        let id = try Validate.id(request.customerID, field: "customer_id")
        let limit = try Validate.pageSize(request.page.pageSize)
        let token: PageToken<String>? = try Validate.pageToken(request.page.pageToken, filter: id)
        let page = try await store.loyaltyHistory(customer: id, after: token?.position, limit: limit)
        return .with {
            $0.transactions = page.items.map { $0.proto(program: loyaltyProgram) }
            $0.page.nextPageToken = page.nextToken(filter: id) { $0.transactionID }
        }
    }
}

extension ProfileService {
    public func getLoyaltyProgram(
        request: Customer360_V1_GetLoyaltyProgramRequest, context: ServerContext
    ) async throws -> Customer360_V1_LoyaltyProgram {
        guard let loyaltyProgram else {
            throw RPCError(
                code: .failedPrecondition,
                message: "this profile-service runs no loyalty program; start it "
                    + "with --loyalty-program FILE (see deploy/loyalty-program.json) to earn points from purchases")
        }
        return loyaltyProgram.proto
    }
}

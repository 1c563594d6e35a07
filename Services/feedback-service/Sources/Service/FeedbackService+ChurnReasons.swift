public import C360Contracts
import C360ServerKit
import Foundation
public import GRPCCore

extension FeedbackService {
    public func recordChurnReason(
        request: Customer360_V1_RecordChurnReasonRequest, context: ServerContext
    ) async throws -> Customer360_V1_ChurnReason {
        let id = try Validate.clientID(request.churnReasonID, field: "churn_reason_id")
        guard let category = ChurnReasonCategory(proto: request.category) else {
            throw InvalidArgument(
                "category",
                "is required (PRICE, COMPETITOR, MISSING_FEATURE, PRODUCT_QUALITY, SUPPORT_EXPERIENCE, POOR_FIT, LOW_USAGE, ONBOARDING, BUDGET, BUSINESS_CLOSED or OTHER)"
            )
        }
        let text = try Validate.text(request.text, field: "text", maxLength: 5000)
        let churnedAt =
            request.hasChurnedAt ? try Validate.instant(request.churnedAt, field: "churned_at", now: now()) : now()
        let channel = try FeedbackRequests.optionalChannel(request.channel, field: "channel")
        let recordedBy = try Validate.text(request.recordedBy, field: "recorded_by", maxLength: 128)
        try Validate.id(request.customerID, field: "customer_id")
        let customerID = try await writableCustomer(request.customerID)
        let reason = ChurnReason(
            id: id, customerID: customerID, category: category, text: text,
            sentiment: read(text, language: nil), churnedAt: churnedAt, channel: channel,
            recordedBy: recordedBy, recordedAt: now())
        switch try await store.record(reason) {
        case .stored(let stored):
            return stored.proto
        case .duplicate(let stored):
            try ChurnReason.idempotencyFields.check(
                reason, against: stored, keyField: "churn_reason_id", key: id,
                ignoring: request.hasChurnedAt ? [] : ["churned_at"])
            return stored.proto
        }
    }

    public func getChurnReasonTally(
        request: Customer360_V1_GetChurnReasonTallyRequest, context: ServerContext
    ) async throws -> Customer360_V1_GetChurnReasonTallyResponse {
        let (from, until) = try Validate.window(request.hasWindow ? request.window : nil)
        let tally = try await store.churnReasonTally(from: from, until: until)
        return .with {
            if request.hasWindow { $0.window = request.window }
            $0.categories = tally.categories.map { count in
                .with {
                    $0.category = count.category.proto
                    $0.reasons = Int64(count.reasons)
                    $0.customers = Int64(count.customers)
                }
            }
            $0.reasons = Int64(tally.reasons)
            $0.churnedCustomers = Int64(tally.churnedCustomers)
        }
    }
}

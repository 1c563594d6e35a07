public import C360Contracts
import C360ServerKit
public import GRPCCore

extension FeedbackService {
    /// The most commented responses `GetCustomerScores` returns beside the scores.
    static let maximumRecentComments = 50

    public func getCustomerScores(
        request: Customer360_V1_GetCustomerScoresRequest, context: ServerContext
    ) async throws -> Customer360_V1_CustomerScores {
        let customerID = try await readableCustomer(request.customerID)
        let window = request.hasWindow ? request.window : nil
        let (from, until) = try Validate.window(window)
        let recentCount = try Validate.count(
            request.recentComments, field: "recent_comments",
            maximum: Self.maximumRecentComments)
        let responses = try await store.responses(customer: customerID, from: from, until: until)
        var scores = CustomerScores(responses: responses).proto(customerID: customerID, window: window)
        // `responses` is oldest first; the newest commented ones come from its end.
        scores.recentComments = responses.reversed().lazy.filter { !$0.comment.isEmpty }.prefix(recentCount).map(
            \.proto)
        return scores
    }

    public func getScores(
        request: Customer360_V1_GetScoresRequest, context: ServerContext
    ) async throws -> Customer360_V1_GetScoresResponse {
        var filter = ScoreFilter()
        (filter.from, filter.until) = try Validate.window(request.hasWindow ? request.window : nil)
        filter.surveyID = try Validate.text(request.surveyID, field: "survey_id", maxLength: 128)
        filter.channel = try FeedbackRequests.optionalChannel(request.channel, field: "channel")
        filter.language = try Validate.language(request.language, field: "language")
        let dimensions = try FeedbackRequests.groupings(request.groupBy)
        let scores = try await store.scores(filter: filter, groupedBy: dimensions)
        return .with {
            if request.hasWindow { $0.window = request.window }
            $0.overall = scores.overall.proto
            $0.groups = scores.groups.map { group in
                .with {
                    $0.surveyID = group.surveyID
                    if let channel = group.channel { $0.channel = channel.proto }
                    $0.language = group.language
                    $0.aggregate = group.aggregate.proto
                }
            }
        }
    }
}

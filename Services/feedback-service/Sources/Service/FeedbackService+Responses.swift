public import C360Contracts
import C360ServerKit
import C360StoreKit
public import GRPCCore

extension FeedbackService {
    public func recordResponse(
        request: Customer360_V1_RecordResponseRequest, context: ServerContext
    ) async throws -> Customer360_V1_RecordResponseResponse {
        let responseID = try Validate.clientID(request.responseID, field: "response_id")
        let surveyID = try Validate.clientID(request.surveyID, field: "survey_id")
        guard request.hasAnsweredAt else { throw InvalidArgument("answered_at", "is required") }
        let answeredAt = try Validate.instant(request.answeredAt, field: "answered_at", now: now())
        let comment = try Validate.text(request.comment, field: "comment", maxLength: 5000)
        let language = try FeedbackRequests.commentLanguage(request.commentLanguage, field: "comment_language")
        let channel = try FeedbackRequests.optionalChannel(request.channel, field: "channel")
        let touchpointID = try Validate.text(request.touchpointID, field: "touchpoint_id", maxLength: 128)
        let ticketID = try Validate.text(request.ticketID, field: "ticket_id", maxLength: 128)
        try Validate.id(request.customerID, field: "customer_id")

        let survey = try await store.survey(id: surveyID)
        guard survey.scale.contains(Int(request.score)) else {
            throw FeedbackError.scoreOutOfScale(score: Int(request.score), survey: survey.id, scale: survey.scale)
        }
        let customerID = try await writableCustomer(request.customerID)
        var response = SurveyResponse(
            id: responseID, customerID: customerID, survey: survey, score: Int(request.score),
            channel: channel ?? survey.channel, answeredAt: answeredAt, recordedAt: now())
        response.comment = comment
        response.sentiment = read(comment, language: language, fallback: survey.language)
        response.touchpointID = touchpointID
        response.ticketID = ticketID
        let terms = response.sentiment.map { themes.terms(of: comment, language: $0.language) } ?? []
        switch try await store.record(response, terms: terms) {
        case .stored(let stored):
            return .with { $0.response = stored.proto }
        case .duplicate(let existing):
            try SurveyResponse.idempotencyFields.check(
                response, against: existing, keyField: "response_id", key: responseID)
            return .with {
                $0.response = existing.proto
                $0.duplicate = true
            }
        }
    }

    public func listResponses(
        request: Customer360_V1_ListResponsesRequest, context: ServerContext
    ) async throws -> Customer360_V1_ListResponsesResponse {
        var filter = try FeedbackRequests.responseFilter(request)
        if !request.customerID.isEmpty { filter.customerID = try await readableCustomer(request.customerID) }
        let limit = try Validate.pageSize(request.page.pageSize)
        let token: PageToken<InstantPosition>? = try Validate.pageToken(
            request.page.pageToken, filter: filter.fingerprint)
        let page = try await store.responses(filter: filter, after: token?.position, limit: limit)
        return .with {
            $0.responses = page.items.map(\.response.proto)
            $0.page.nextPageToken = page.nextToken(filter: filter.fingerprint) { $0.position }
        }
    }
}

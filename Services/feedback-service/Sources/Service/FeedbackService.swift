public import C360ChangeFeed
public import C360Clients
public import C360Contracts
import C360ServerKit
import C360StoreKit
public import Foundation
public import GRPCCore
import Logging

/// The `customer360.v1.FeedbackService` RPCs: validate, resolve the customer against profile-service, read the
/// comments' sentiment and themes, call the store, answer in protobuf.
///
/// Split by aspect: surveys here, `+Responses`, `+Scores`, `+Text`, `+FeatureRequests`, `+ChurnReasons`, `+Privacy`.
public struct FeedbackService: Customer360_V1_FeedbackService.SimpleServiceProtocol {
    let store: FeedbackStore
    let customers: any CustomerDirectory
    let sentiment: SentimentAnalyzer
    let themes: ThemeExtractor
    /// This service's change feed, served by `WatchChanges`.
    let changes: ChangeFeed
    let now: @Sendable () -> Date

    /// - Parameter changes: The feed over the store's database; a new one when `nil` (tests).
    public init(
        store: FeedbackStore, customers: any CustomerDirectory, sentiment: SentimentAnalyzer = SentimentAnalyzer(),
        changes: ChangeFeed? = nil, now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.store = store
        self.changes = changes ?? ChangeFeed(writer: store.writer, logger: .init(label: "feedback-service.changes"))
        self.customers = customers
        self.sentiment = sentiment
        self.themes = ThemeExtractor()
        self.now = now
    }

    public func watchChanges(
        request: Customer360_V1_WatchChangesRequest, response: RPCWriter<Customer360_V1_WatchChangesResponse>,
        context: ServerContext
    ) async throws {
        try await changes.watch(request, response: response, context: context)
    }

    public func createSurvey(
        request: Customer360_V1_CreateSurveyRequest, context: ServerContext
    ) async throws -> Customer360_V1_Survey {
        try await store.createSurvey(try FeedbackRequests.survey(request, now: now())).proto
    }

    public func getSurvey(
        request: Customer360_V1_GetSurveyRequest, context: ServerContext
    ) async throws -> Customer360_V1_Survey {
        try await store.survey(id: try Validate.clientID(request.surveyID, field: "survey_id")).proto
    }

    public func retireSurvey(
        request: Customer360_V1_RetireSurveyRequest, context: ServerContext
    ) async throws -> Customer360_V1_Survey {
        try await store.retireSurvey(id: try Validate.clientID(request.surveyID, field: "survey_id")).proto
    }

    public func listSurveys(
        request: Customer360_V1_ListSurveysRequest, context: ServerContext
    ) async throws -> Customer360_V1_ListSurveysResponse {
        var filter = SurveyFilter()
        filter.type = SurveyType(proto: request.surveyType)
        filter.language = try Validate.language(request.language, field: "language")
        filter.channel = try FeedbackRequests.optionalChannel(request.channel, field: "channel")
        filter.includeInactive = request.includeInactive
        let limit = try Validate.pageSize(request.page.pageSize)
        let token: PageToken<SequencePosition>? = try Validate.pageToken(
            request.page.pageToken, filter: filter.fingerprint)
        let page = try await store.surveys(filter: filter, after: token?.position, limit: limit)
        return .with {
            $0.surveys = page.items.map(\.survey.proto)
            $0.page.nextPageToken = page.nextToken(filter: filter.fingerprint) { $0.position }
        }
    }

    // MARK: - Helpers

    /// The id to store a customer's data under: the survivor of a merged-away id.
    ///
    /// - Throws: `InvalidArgument` for a malformed id, `CustomerLookupError` when profile-service does not know the
    ///   customer (failedPrecondition) or cannot be asked (unavailable).
    func writableCustomer(_ requested: String, field: String = "customer_id") async throws -> String {
        try await customers.resolveForWrite(try Validate.id(requested, field: field))
    }

    /// The id a read finds the customer's data under here: the survivor once this service applied their merge
    /// (`MergeAwareCustomerDirectory`, no peer asked); the id itself when the aliases cannot be read. On a shard, a
    /// merged-away id whose survivor another shard holds is refused for the caller to follow
    /// (`OwnedSurvivorsDirectory`).
    func readableCustomer(_ requested: String) async throws -> String {
        try await customers.readable(try Validate.id(requested, field: "customer_id"))
    }

    /// The sentiment of a comment in the language given, detected from the script, or else the fallback's.
    func read(_ text: String, language: CommentLanguage?, fallback: String = "") -> Sentiment? {
        guard !text.isEmpty else { return nil }
        let language =
            language ?? LanguageDetector.detect(text) ?? CommentLanguage(rawValue: String(fallback.prefix(2)))
        return sentiment.analyze(text, language: language ?? .english)
    }
}

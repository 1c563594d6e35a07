import C360ChangeFeed
public import C360StoreKit
public import Foundation
import GRDB

/// What became of a response handed to `FeedbackStore.record`.
public enum RecordOutcome<Value: Sendable>: Sendable {
    /// Stored now, as returned.
    case stored(Value)
    /// Its id was already stored; nothing was written. Carries the value as first stored.
    case duplicate(Value)
}

extension FeedbackStore {
    /// Stores a response with the theme terms of its comment, unless its response id is already stored.
    ///
    /// - Throws: `FeedbackError.surveyNotFound` or `.surveyRetired` when the survey cannot take it (checked in the
    ///   same transaction, so a survey retired a moment earlier refuses it).
    public func record(
        _ response: SurveyResponse, terms: [ThemeExtractor.Term]
    ) async throws -> RecordOutcome<SurveyResponse> {
        try await writer.write { db in
            if let existing = try fetchResponse(db, id: response.id) { return .duplicate(existing) }
            guard let survey = try fetchSurvey(db, id: response.surveyID) else {
                throw FeedbackError.surveyNotFound(response.surveyID)
            }
            guard survey.active else { throw FeedbackError.surveyRetired(survey.id) }
            var response = response
            // Resolved before a merge this service has since applied: store it under the survivor.
            response.customerID = try CustomerAlias.survivor(db, ofWrite: response.customerID, handOver: handOver)
            try db.execute(
                sql: """
                    INSERT INTO survey_response (responseId, customerId, surveyId, surveyType, surveyLanguage, score,
                        npsCategory, comment, commentLanguage, sentimentScore, sentimentLabel, channel, answeredAt,
                        touchpointId, ticketId, recordedAt)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    response.id, response.customerID, response.surveyID, response.surveyType.rawValue,
                    response.surveyLanguage, response.score, response.npsCategory?.rawValue,
                    try keyring.seal(response.comment, for: response.customerID),
                    response.sentiment?.language.rawValue, response.sentiment?.score,
                    response.sentiment?.label.rawValue, response.channel.rawValue, response.answeredAt.unixMillis,
                    response.touchpointID, response.ticketID, response.recordedAt.unixMillis,
                ])
            let insertTerm = try db.cachedStatement(
                sql: """
                    INSERT OR IGNORE INTO response_term (responseId, stem, sealedStem, surface, customerId)
                    VALUES (?, ?, ?, ?, ?)
                    """)
            for term in terms {
                try insertTerm.execute(
                    arguments: try Self.termArguments(response.id, term, owner: response.customerID, keyring: keyring)
                        + [response.customerID])
            }
            try ChangeLog.append(
                db, .responseRecorded, customer: response.customerID, subject: response.id,
                at: response.recordedAt)
            return .stored(response)
        }
    }

    /// Responses newest answered first, one page after `position` (answered-at, response id).
    public func responses(
        filter: ResponseFilter, after position: InstantPosition?, limit: Int
    ) async throws -> Page<(response: SurveyResponse, position: InstantPosition)> {
        try await writer.read { db in
            // One customer's responses are theirs wherever asked; across customers, this shard's own.
            let scope: SQL =
                filter.customerID.isEmpty
                ? try owned.expression(db, customer: SurveyResponseRecord.Columns.customerId) : "1"
            let records = try Self.responses(filter).filter(scope).page(
                .descending(SurveyResponseRecord.Columns.answeredAt, tie: SurveyResponseRecord.Columns.responseId),
                after: position, limit: limit
            ).fetchAll(db)
            return try Page(fetched: records, limit: limit).map { record in
                (try record.domain(keyring: keyring), record.listPosition)
            }
        }
    }

    /// Every response of one customer answered in [from, until), oldest first.
    public func responses(customer customerID: String, from: Date?, until: Date?) async throws -> [SurveyResponse] {
        try await writer.read { db in
            var filter = ResponseFilter()
            filter.customerID = customerID
            filter.from = from
            filter.until = until
            return try Self.responses(filter)
                .order(SurveyResponseRecord.Columns.answeredAt, SurveyResponseRecord.Columns.seq)
                .preparedOnce // a customer and optional bounds: four texts
                .fetchAll(db).map { try $0.domain(keyring: keyring) }
        }
    }

    func fetchResponse(_ db: Database, id: String) throws -> SurveyResponse? {
        try SurveyResponseRecord.fetchOne(
            db, sql: "SELECT * FROM survey_response WHERE responseId = ?", arguments: [id]
        )
        .map { try $0.domain(keyring: keyring) }
    }

    /// The responses `filter` selects, in no particular order.
    private static func responses(_ filter: ResponseFilter) -> QueryInterfaceRequest<SurveyResponseRecord> {
        typealias Columns = SurveyResponseRecord.Columns
        var request = SurveyResponseRecord.all().filter(Columns.answeredAt, from: filter.from, until: filter.until)
        // A customer's responses are few: with a customer named, the survey and label only sift them.
        let byCustomer = !filter.customerID.isEmpty
        if byCustomer { request = request.filter(Columns.customerId == filter.customerID) }
        if !filter.surveyID.isEmpty {
            request = request.filter(Columns.surveyId.unindexed(when: byCustomer) == filter.surveyID)
        }
        if let type = filter.surveyType { request = request.filter(Columns.surveyType == type.rawValue) }
        if let channel = filter.channel { request = request.filter(Columns.channel == channel.rawValue) }
        if let label = filter.sentimentLabel {
            request = request.filter(Columns.sentimentLabel.unindexed(when: byCustomer) == label.rawValue)
        } else if filter.withCommentOnly {
            request = request.filter(Columns.sentimentLabel != nil)
        }
        return request
    }
}

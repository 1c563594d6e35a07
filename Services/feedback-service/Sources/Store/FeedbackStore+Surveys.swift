public import C360StoreKit
import Foundation
import GRDB

extension FeedbackStore {
    /// Stores a new survey, or answers the existing one when a survey with the same id and definition exists.
    ///
    /// - Throws: `FeedbackError.surveyExists` when the id is taken by a different definition.
    public func createSurvey(_ survey: Survey) async throws -> Survey {
        try await writer.write { db in
            if let existing = try fetchSurvey(db, id: survey.id) {
                guard existing.sameDefinition(as: survey) else { throw FeedbackError.surveyExists(survey.id) }
                return existing
            }
            try db.execute(
                sql: """
                    INSERT INTO survey (surveyId, type, name, question, language, channel, scaleMin, scaleMax, createdAt, active)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
                    """,
                arguments: [
                    survey.id, survey.type.rawValue, survey.name, survey.question, survey.language,
                    survey.channel.rawValue, survey.scale.lowerBound, survey.scale.upperBound,
                    survey.createdAt.unixMillis,
                ])
            return survey
        }
    }

    /// - Throws: `FeedbackError.surveyNotFound`.
    public func survey(id: String) async throws -> Survey {
        try await writer.read { db in
            guard let survey = try fetchSurvey(db, id: id) else { throw FeedbackError.surveyNotFound(id) }
            return survey
        }
    }

    /// Marks a survey retired (idempotent) and answers it.
    ///
    /// - Throws: `FeedbackError.surveyNotFound`.
    public func retireSurvey(id: String) async throws -> Survey {
        try await writer.write { db in
            try db.execute(sql: "UPDATE survey SET active = 0 WHERE surveyId = ?", arguments: [id])
            guard let survey = try fetchSurvey(db, id: id) else { throw FeedbackError.surveyNotFound(id) }
            return survey
        }
    }

    /// Surveys newest first, one page after `position` (a sequence number).
    public func surveys(
        filter: SurveyFilter, after position: SequencePosition?, limit: Int
    ) async throws -> Page<(survey: Survey, position: SequencePosition)> {
        try await writer.read { db in
            typealias Columns = SurveyRecord.Columns
            var request = SurveyRecord.all()
            if let type = filter.type { request = request.filter(Columns.type == type.rawValue) }
            if !filter.language.isEmpty { request = request.filter(Columns.language == filter.language) }
            if let channel = filter.channel { request = request.filter(Columns.channel == channel.rawValue) }
            if !filter.includeInactive { request = request.filter(Columns.active == true) }
            // The sequence is unique: it is its own tie-breaker.
            let records = try request.page(.descending(Columns.seq, tie: Columns.seq), after: position, limit: limit)
                .fetchAll(db)
            return Page(fetched: records, limit: limit).map { record in (record.domain, record.listPosition) }
        }
    }

    func fetchSurvey(_ db: Database, id: String) throws -> Survey? {
        try SurveyRecord.fetchOne(db.cachedStatement(sql: "SELECT * FROM survey WHERE surveyId = ?"), arguments: [id])?
            .domain
    }
}

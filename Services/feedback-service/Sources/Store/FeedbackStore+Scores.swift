public import C360ServerKit
import C360StoreKit
public import Foundation
import GRDB

/// A dimension global scores can be grouped by.
public enum ScoreDimension: String, Sendable, CaseIterable {
    case survey = "surveyId"
    case channel
    /// The survey's language.
    case language = "surveyLanguage"

    /// The column of `survey_response` groups are formed on.
    var column: Column {
        switch self {
        case .survey: SurveyResponseRecord.Columns.surveyId
        case .channel: SurveyResponseRecord.Columns.channel
        case .language: SurveyResponseRecord.Columns.surveyLanguage
        }
    }
}

/// Which responses global scores count; every part optional, combined with AND.
public struct ScoreFilter: Sendable {
    public var from: Date?
    public var until: Date?
    public var surveyID = ""
    public var channel: Channel?
    public var language = ""

    public init() {}
}

/// The scores of one group of responses; the key fields not grouped by are empty.
public struct ScoreGroup: Sendable, Equatable {
    public var surveyID = ""
    public var channel: Channel?
    public var language = ""
    public var aggregate: ScoreAggregate
}

extension FeedbackStore {
    /// The aggregate of every response matching `filter`, and one per distinct combination of `dimensions` (only
    /// groups with responses), computed by SQL over the answered-at index.
    public func scores(
        filter: ScoreFilter, groupedBy dimensions: [ScoreDimension]
    ) async throws -> (overall: ScoreAggregate, groups: [ScoreGroup]) {
        try await writer.read { db in
            let scope = try owned.expression(db, customer: SurveyResponseRecord.Columns.customerId)
            let overall =
                try Self.aggregates(db, filter: filter, dimensions: [], owned: scope).first?.aggregate
                ?? ScoreAggregate()
            let groups =
                dimensions.isEmpty
                ? [] : try Self.aggregates(db, filter: filter, dimensions: dimensions, owned: scope)
            return (overall, groups)
        }
    }

    private static func aggregates(
        _ db: Database, filter: ScoreFilter, dimensions: [ScoreDimension], owned: SQL
    ) throws -> [ScoreGroup] {
        typealias Columns = SurveyResponseRecord.Columns
        let keys = dimensions.map(\.column)
        var request = SurveyResponseRecord.all().filter(Columns.answeredAt, from: filter.from, until: filter.until)
            .filter(owned)
        if !filter.surveyID.isEmpty { request = request.filter(Columns.surveyId == filter.surveyID) }
        if let channel = filter.channel { request = request.filter(Columns.channel == channel.rawValue) }
        if !filter.language.isEmpty { request = request.filter(Columns.surveyLanguage == filter.language) }
        request = request.select(keys + [ScoreAggregateRow.aggregates])
        if !keys.isEmpty { request = request.group(keys).order(keys) }
        return try request.asRequest(of: ScoreAggregateRow.self).fetchAll(db).compactMap { row in
            guard row.responses > 0 || keys.isEmpty else { return nil }
            var group = ScoreGroup(aggregate: row.aggregate)
            if dimensions.contains(.survey) { group.surveyID = row.surveyId ?? "" }
            if dimensions.contains(.channel) { group.channel = row.channel.flatMap(Channel.init(rawValue:)) }
            if dimensions.contains(.language) { group.language = row.surveyLanguage ?? "" }
            return group
        }
    }
}

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
            let overall = try Self.aggregates(db, filter: filter, dimensions: []).first?.aggregate ?? ScoreAggregate()
            let groups = dimensions.isEmpty ? [] : try Self.aggregates(db, filter: filter, dimensions: dimensions)
            return (overall, groups)
        }
    }

    private static func aggregates(
        _ db: Database, filter: ScoreFilter, dimensions: [ScoreDimension]
    ) throws -> [ScoreGroup] {
        let keys = dimensions.map(\.rawValue)
        var sql =
            "SELECT " + keys.map { "\($0), " }.joined() + """
                COUNT(*) AS responses,
                COALESCE(SUM(npsCategory = 'promoter'), 0) AS promoters,
                COALESCE(SUM(npsCategory = 'passive'), 0) AS passives,
                COALESCE(SUM(npsCategory = 'detractor'), 0) AS detractors,
                COALESCE(SUM(surveyType = 'csat'), 0) AS csatResponses,
                COALESCE(SUM(surveyType = 'csat' AND score >= 4), 0) AS satisfied,
                COALESCE(SUM(surveyType = 'ces'), 0) AS cesResponses,
                COALESCE(SUM(CASE WHEN surveyType = 'ces' THEN score END), 0) AS cesSum,
                COALESCE(SUM(surveyType = 'custom'), 0) AS customResponses,
                COALESCE(SUM(sentimentLabel = 'positive'), 0) AS positive,
                COALESCE(SUM(sentimentLabel = 'neutral'), 0) AS neutral,
                COALESCE(SUM(sentimentLabel = 'negative'), 0) AS negative,
                TOTAL(sentimentScore) AS sentimentSum
                FROM survey_response WHERE 1
                """
        var arguments = StatementArguments()
        let (bounds, boundArguments) = InstantBounds(from: filter.from, until: filter.until).sql("answeredAt")
        sql += bounds
        _ = arguments.append(contentsOf: boundArguments)
        if !filter.surveyID.isEmpty {
            sql += " AND surveyId = ?"
            _ = arguments.append(contentsOf: [filter.surveyID])
        }
        if let channel = filter.channel {
            sql += " AND channel = ?"
            _ = arguments.append(contentsOf: [channel.rawValue])
        }
        if !filter.language.isEmpty {
            sql += " AND surveyLanguage = ?"
            _ = arguments.append(contentsOf: [filter.language])
        }
        if !keys.isEmpty {
            sql += " GROUP BY " + keys.joined(separator: ", ") + " ORDER BY " + keys.joined(separator: ", ")
        }
        return try ScoreAggregateRow.fetchAll(db, sql: sql, arguments: arguments).compactMap { row in
            guard row.responses > 0 || keys.isEmpty else { return nil }
            var group = ScoreGroup(aggregate: row.aggregate)
            if dimensions.contains(.survey) { group.surveyID = row.surveyId ?? "" }
            if dimensions.contains(.channel) { group.channel = row.channel.flatMap(Channel.init(rawValue:)) }
            if dimensions.contains(.language) { group.language = row.surveyLanguage ?? "" }
            return group
        }
    }
}

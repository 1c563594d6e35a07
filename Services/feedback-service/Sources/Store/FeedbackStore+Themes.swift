import C360StoreKit
public import Foundation
import GRDB

/// How a themes window is cut into periods.
public enum ThemePeriod: Sendable {
    /// The whole window is one period.
    case whole
    case day
    /// ISO weeks, from Monday 00:00 UTC.
    case week
    /// Calendar months, UTC.
    case month
}

/// Which comments themes are counted over.
public struct ThemeFilter: Sendable {
    public var from: Date?
    public var until: Date?
    public var period: ThemePeriod = .whole
    public var sentimentLabel: SentimentLabel = .negative
    /// The comment's language; `nil` = every language.
    public var language: CommentLanguage?
    public var surveyID = ""
    /// Terms kept per period.
    public var limit = 10

    public init() {}
}

/// The most frequent terms of the comments of one period.
public struct ThemesInPeriod: Sendable, Equatable {
    public var start: Date?
    public var end: Date?
    /// Comments considered.
    public var comments: Int
    public var themes: [Theme]
}

/// One meaningful term and how many comments contained it.
public struct Theme: Sendable, Equatable {
    /// The word as most often written in the term's 50 newest comments (terms are counted by stem).
    public var term: String
    public var comments: Int
    /// Up to three of the newest responses containing it.
    public var sampleResponseIDs: [String]
}

extension FeedbackStore {
    /// How many sample responses a theme carries.
    static let themeSamples = 3

    /// The top terms per period, oldest period first; `periods` lists every period of the window (from
    /// `ThemePeriods`), so periods without comments are answered too.
    public func themes(filter: ThemeFilter, periods: [DateInterval?]) async throws -> [ThemesInPeriod] {
        try await writer.read { db in
            try periods.map { interval in
                var bounds = filter
                if let interval {
                    bounds.from = interval.start
                    bounds.until = interval.end
                }
                return try themes(db, filter: bounds, interval: interval)
            }
        }
    }

    private func themes(_ db: Database, filter: ThemeFilter, interval: DateInterval?) throws -> ThemesInPeriod {
        typealias Columns = SurveyResponseRecord.Columns
        let response = TableAlias<SurveyResponseRecord>(name: "r")
        var conditions = [
            response[Columns.sentimentLabel] == filter.sentimentLabel.rawValue,
            response[Columns.answeredAt].isWithin(from: filter.from, until: filter.until),
            try owned.expression(db, customer: response[Columns.customerId]).sqlExpression,
        ]
        if let language = filter.language { conditions.append(response[Columns.commentLanguage] == language.rawValue) }
        if !filter.surveyID.isEmpty { conditions.append(response[Columns.surveyId] == filter.surveyID) }
        let selected = conditions.joined(operator: .and)
        let comments =
            try SQLRequest<Int>(literal: "SELECT COUNT(*) FROM survey_response r WHERE \(selected)")
            .fetchOne(db) ?? 0
        // Terms are grouped by their stem's blind index. The top `limit` by count, ties in stem order as always: every
        // group counted at least as often as the limit-th is fetched, and its stem opened to order the ties.
        let counted: SQL = """
            SELECT t.stem AS stemIndex, t.sealedStem, COUNT(*) AS comments
            FROM survey_response r JOIN response_term t ON t.responseId = r.responseId
            WHERE \(selected) GROUP BY t.stem
            """
        guard filter.limit > 0,
            let boundary = try SQLRequest<Int>(
                literal: "SELECT comments FROM (\(counted)) ORDER BY comments DESC LIMIT 1 OFFSET \(filter.limit - 1)"
            ).fetchOne(db) ?? SQLRequest<Int>(literal: "SELECT MIN(comments) FROM (\(counted))").fetchOne(db)
        else {
            return ThemesInPeriod(
                start: interval?.start ?? filter.from, end: interval?.end ?? filter.until,
                comments: comments, themes: [])
        }
        let candidates = try SQLRequest<ThemeCandidateRow>(
            literal: "SELECT * FROM (\(counted)) WHERE comments >= \(boundary)"
        ).fetchAll(db)
        let top =
            try candidates
            .map { row in (index: row.stemIndex, stem: try keyring.open(row.sealedStem), comments: row.comments) }
            .sorted { ($1.comments, $0.stem) < ($0.comments, $1.stem) }
            .prefix(filter.limit)
        let themes = try top.map { group -> Theme in
            let examples = try SQLRequest<ThemeSampleRow>(
                literal: """
                    SELECT t.surface, r.responseId FROM survey_response r JOIN response_term t ON t.responseId = r.responseId
                    WHERE \(selected) AND t.stem = \(group.index) ORDER BY r.answeredAt DESC, r.seq DESC LIMIT 50
                    """, cached: true
            ).fetchAll(db)
            var forms: [String: Int] = [:]
            for example in examples { forms[try keyring.open(example.surface), default: 0] += 1 }
            let term = forms.max { ($0.value, $1.key) < ($1.value, $0.key) }?.key ?? group.stem
            return Theme(
                term: term, comments: group.comments,
                sampleResponseIDs: examples.prefix(Self.themeSamples).map(\.responseId))
        }
        return ThemesInPeriod(
            start: interval?.start ?? filter.from, end: interval?.end ?? filter.until,
            comments: comments, themes: themes)
    }
}

/// Cuts a window into the periods themes are counted over, in UTC.
public enum ThemePeriods {
    /// The periods covering [start, end), the first and last clipped to the window. For `.whole`, the window as
    /// one interval, or a single `nil` when it has no start.
    public static func split(from start: Date?, until end: Date, period: ThemePeriod) -> [DateInterval?] {
        guard period != .whole, let start else {
            guard let start else { return [nil] }
            return [DateInterval(start: start, end: max(start, end))]
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        calendar.firstWeekday = 2
        let component: Calendar.Component =
            switch period {
            case .day: .day
            case .week: .weekOfYear
            case .month, .whole: .month
            }
        var periodStart = calendar.dateInterval(of: component, for: start)?.start ?? start
        var intervals: [DateInterval?] = []
        while periodStart < end {
            guard let next = calendar.date(byAdding: component, value: 1, to: periodStart) else { break }
            intervals.append(DateInterval(start: max(periodStart, start), end: min(next, end)))
            periodStart = next
        }
        return intervals
    }

    /// At least how many periods `split` answers; cheap, so a window far too long is refused before it is cut.
    public static func lowerBound(from start: Date, until end: Date, period: ThemePeriod) -> Int {
        let days = end.timeIntervalSince(start) / 86_400
        return switch period {
        case .whole: 1
        case .day: Int(days)
        case .week: Int(days / 7)
        case .month: Int(days / 31)
        }
    }
}

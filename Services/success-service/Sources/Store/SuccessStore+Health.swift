import C360ChangeFeed
public import C360StoreKit
public import Foundation
import GRDB

/// A computed health score and what storing it set off.
public struct ScoreOutcome: Sendable {
    public var score: HealthScore
    /// Alerts raised with their playbook tasks (empty for a dry run).
    public var raised: [Alert]
    /// The feed events to publish once committed.
    public var events: [AlertEvent]
}

/// Which latest scores the at-risk list shows.
public struct AtRiskFilter: Sendable, Hashable {
    public var bands: Set<HealthBand> = [.red]
    /// Instead of bands: latest score at most this.
    public var maxScore: Double?
    public var csmOwnerID = ""

    public init() {}

    public var fingerprint: String {
        [bands.map(\.rawValue).sorted().joined(separator: ","), maxScore.map { "\($0)" } ?? "", csmOwnerID]
            .joined(separator: "\u{1F}")
    }
}

/// One at-risk customer.
public struct AtRiskCustomer: Sendable, Equatable {
    public var latest: HealthScore
    public var openAlerts: Int
    public var csmOwnerID: String
}

/// Customers per band of their latest score, open alerts per kind, overdue tasks.
public struct HealthSummary: Sendable, Equatable {
    public var scored = 0, green = 0, yellow = 0, red = 0
    public var scoreSum = 0.0
    public var openAlerts: [AlertKind: Int] = [:]
    public var overdueTasks = 0
}

extension SuccessStore {
    /// Completes an evaluation into a health score (previous score, 30-day change) and, unless `dryRun`, stores it
    /// as the customer's latest with the alerts it raises (churn risk, score drop, overdue goals), their playbook
    /// tasks and feed events, all in one transaction.
    public func recordScore(
        customerID: String, evaluation: HealthCalculator.Evaluation, score value: Double, computedAt: Date,
        rules: AlertRules, batchID: String = "", dryRun: Bool = false
    ) async throws -> ScoreOutcome {
        let assemble = { @Sendable (db: Database) throws -> (HealthScore, HealthBand?) in
            let previous = try LatestHealthRecord.fetchOne(
                db, sql: "SELECT * FROM latest_health WHERE customerId = ?",
                arguments: [customerID])
            let windowStart = computedAt.addingTimeInterval(-Double(rules.configuration.dropWindowDays) * 86_400)
            let peak = try Double.fetchOne(
                db,
                sql: """
                    SELECT MAX(score) FROM health_score WHERE customerId = ? AND computedAt >= ? AND computedAt <= ?
                    """, arguments: [customerID, windowStart.unixMillis, computedAt.unixMillis])
            let score = HealthScore(
                id: EntityID.generate(), customerID: customerID, score: value,
                band: rules.configuration.band(of: value), components: evaluation.components,
                missing: evaluation.missing, computedAt: computedAt, previousScore: previous?.score,
                change30d: peak.map { value - $0 }, configVersion: rules.configuration.version, batchID: batchID)
            return (score, previous?.band)
        }
        if dryRun {
            let (score, _) = try await writer.read { db in try assemble(db) }
            return ScoreOutcome(score: score, raised: [], events: [])
        }
        return try await writer.write { db in
            let (score, previousBand) = try assemble(db)
            try db.execute(
                sql: """
                    INSERT INTO health_score (healthScoreId, customerId, score, band, components, missing, computedAt,
                        previousScore, change30d, configVersion, batchId)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    score.id, customerID, score.score, score.band.rawValue,
                    try JSONColumn.encode(score.components), try JSONColumn.encode(score.missing),
                    computedAt.unixMillis, score.previousScore, score.change30d, score.configVersion,
                    batchID,
                ])
            try db.execute(
                sql: """
                    INSERT INTO latest_health (customerId, healthScoreId, score, band, computedAt) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(customerId) DO UPDATE SET healthScoreId = excluded.healthScoreId, score = excluded.score,
                        band = excluded.band, computedAt = excluded.computedAt
                    """, arguments: [customerID, score.id, score.score, score.band.rawValue, computedAt.unixMillis])
            try ChangeLog.append(db, .healthScored, customer: customerID, subject: score.id, at: computedAt)
            let openKinds = Set(
                try String.fetchAll(
                    db,
                    sql: """
                        SELECT DISTINCT kind FROM alert WHERE customerId = ? AND state <> 'resolved'
                        """, arguments: [customerID]
                ).compactMap(AlertKind.init(rawValue:)))
            let plans = try String.fetchAll(
                db, sql: "SELECT planId FROM plan WHERE customerId = ?", arguments: [customerID]
            )
            .compactMap { try fetchPlan(db, id: $0) }
            let alertedGoals = Set(
                try String.fetchAll(
                    db,
                    sql: """
                        SELECT goalId FROM alert WHERE customerId = ? AND kind = 'goal_overdue'
                        """, arguments: [customerID]))
            var drafts = rules.alerts(for: score, previousBand: previousBand, openKinds: openKinds)
            drafts += rules.overdueGoalAlerts(plans: plans, alertedGoals: alertedGoals, at: computedAt)
            let raised = try raise(
                db, drafts, customerID: customerID, healthScoreID: score.id,
                owner: rules.owner(plans: plans), rules: rules, at: computedAt)
            return ScoreOutcome(score: score, raised: raised.map(\.alert), events: raised.map(\.event))
        }
    }

    /// The latest stored score of a customer.
    ///
    /// - Throws: `SuccessError.healthScoreNotFound`.
    public func latestScore(customerID: String) async throws -> HealthScore {
        try await writer.read { db in
            guard let score = try latestScore(db, customerID: customerID) else {
                throw SuccessError.healthScoreNotFound(customer: customerID)
            }
            return score
        }
    }

    /// One customer's active plans, open or acknowledged alerts (each at most `limit`) and latest health score, from
    /// one snapshot: `GetCustomerSuccess` answers all three in one read transaction instead of three.
    public func customerSuccess(customerID: String, limit: Int) async throws -> (
        plans: [SuccessPlan], alerts: [Alert], health: HealthScore?
    ) {
        var plans = PlanFilter()
        plans.customerID = customerID
        plans.statuses = [.active]
        var alerts = AlertFilter()
        alerts.customerID = customerID
        alerts.states = [.open, .acknowledged]
        return try await writer.read { [plans, alerts] db in
            (
                try self.plans(db, filter: plans, after: nil, limit: limit).items.map(\.plan),
                try self.alerts(db, filter: alerts, after: nil, limit: limit).items.map(\.alert),
                try latestScore(db, customerID: customerID)
            )
        }
    }

    func latestScore(_ db: Database, customerID: String) throws -> HealthScore? {
        try HealthScoreRecord.fetchOne(
            db.cachedStatement(
                sql: """
                    SELECT h.* FROM latest_health l JOIN health_score h ON h.healthScoreId = l.healthScoreId
                    WHERE l.customerId = ?
                    """), arguments: [customerID]
        )?.domain()
    }

    /// A customer's scores newest first within [from, until), one page after `position` (computed-at, id).
    public func history(
        customerID: String, from: Date?, until: Date?, after position: InstantPosition?, limit: Int
    ) async throws -> Page<(score: HealthScore, position: InstantPosition)> {
        try await writer.read { db in
            let records = try HealthScoreRecord.filter(HealthScoreRecord.Columns.customerId == customerID)
                .filter(HealthScoreRecord.Columns.computedAt, from: from, until: until)
                .page(
                    .descending(HealthScoreRecord.Columns.computedAt, tie: HealthScoreRecord.Columns.healthScoreId),
                    after: position, limit: limit
                ).fetchAll(db)
            return try Page(fetched: records, limit: limit).map { record in
                let score = try record.domain()
                return (score, InstantPosition(key: score.computedAt.unixMillis, tie: score.id))
            }
        }
    }

    /// Customers whose latest score is in the filter's bands (or at most its max score), lowest first, then by
    /// customer id, one page after `position` (score, customer id).
    public func atRisk(
        filter: AtRiskFilter, after position: ScorePosition?, limit: Int
    ) async throws -> Page<(customer: AtRiskCustomer, position: ScorePosition)> {
        try await writer.read { db in
            let score = TableAlias<HealthScoreRecord>()
            let latest = TableAlias<LatestHealthRecord>()
            var request = HealthScoreRecord.aliased(score)
                .joining(required: HealthScoreRecord.latest.aliased(latest))
                .annotated(with: AtRiskRow.computed(for: score))
                .filter(try owned.expression(db, customer: latest[LatestHealthRecord.Columns.customerId]))
            if let maxScore = filter.maxScore {
                request = request.filter(latest[LatestHealthRecord.Columns.score] <= maxScore)
            } else {
                request = request.filter(filter.bands.map(\.rawValue).contains(latest[LatestHealthRecord.Columns.band]))
            }
            if !filter.csmOwnerID.isEmpty {
                request = request.filter(
                    PlanRecord.filter(
                        PlanRecord.Columns.customerId == latest[LatestHealthRecord.Columns.customerId]
                            && PlanRecord.Columns.csmOwnerId == filter.csmOwnerID
                    ).exists())
            }
            let rows = try request.page(
                .ascending(
                    latest[LatestHealthRecord.Columns.score], tie: latest[LatestHealthRecord.Columns.customerId]),
                after: position, limit: limit
            ).asRequest(of: AtRiskRow.self).fetchAll(db)
            return try Page(fetched: rows, limit: limit).map { row in
                let score = try row.score.domain()
                return (
                    AtRiskCustomer(latest: score, openAlerts: row.openAlerts, csmOwnerID: row.owner ?? ""),
                    ScorePosition(key: score.score, tie: score.customerID)
                )
            }
        }
    }

    /// Band counts of latest scores, open alerts by kind and overdue open tasks; for one CSM's customers when given.
    public func summary(csmOwnerID: String, at now: Date) async throws -> HealthSummary {
        try await writer.read { db in
            let ofCsm =
                csmOwnerID.isEmpty
                ? "" : " AND EXISTS (SELECT 1 FROM plan p WHERE p.customerId = x.customerId AND p.csmOwnerId = ?)"
            let scope = ofCsm + " AND \(try owned.predicate(db, customer: "x.customerId"))"
            let arguments: StatementArguments = csmOwnerID.isEmpty ? [] : [csmOwnerID]
            var summary = HealthSummary()
            for row in try BandCount.fetchAll(
                db,
                sql: """
                    SELECT band, COUNT(*) AS customers, TOTAL(score) AS scoreSum FROM latest_health x WHERE 1\(scope) GROUP BY band
                    """, arguments: arguments)
            {
                let count = row.customers
                summary.scored += count
                summary.scoreSum += row.scoreSum
                switch row.band {
                case "green": summary.green = count
                case "yellow": summary.yellow = count
                default: summary.red = count
                }
            }
            for row in try AlertKindCount.fetchAll(
                db,
                sql: """
                    SELECT kind, COUNT(*) AS alerts FROM alert x WHERE state <> 'resolved'\(scope) GROUP BY kind
                    """, arguments: arguments)
            {
                if let kind = AlertKind(rawValue: row.kind) { summary.openAlerts[kind] = row.alerts }
            }
            summary.overdueTasks =
                try Int.fetchOne(
                    db,
                    sql: """
                        SELECT COUNT(*) FROM task x WHERE status = 'open' AND dueAt < ?\(scope)
                        """, arguments: [now.unixMillis] + arguments) ?? 0
            return summary
        }
    }
}

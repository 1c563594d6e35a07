import C360StoreKit
import Foundation
public import GRDB

// One record per table, decoded through `Decodable` by the columns' names instead of read from a `Row` by strings; the
// conversions to and from the domain types are in `Records+Domain.swift`.
//
// Instants are Unix milliseconds (`Int64`), as the columns hold them; the conversions turn them into `Date`s. What
// people write about a customer is `SealedText`, opened with the store's keyring in the conversion. Status and band
// columns decode into their domain enums, so a value this version does not know fails the read with a
// `RowDecodingError` naming the column and the row.

/// A row of `plan`.
struct PlanRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "plan"
    var planId: String
    var customerId: String
    var title: SealedText
    var summary: SealedText
    var csmOwnerId: String
    var status: PlanStatus
    var startsAt: Int64
    var endsAt: Int64?
    var createdAt: Int64
    var updatedAt: Int64

    enum Columns {
        static let planId = Column(CodingKeys.planId)
        static let customerId = Column(CodingKeys.customerId)
        static let csmOwnerId = Column(CodingKeys.csmOwnerId)
        static let status = Column(CodingKeys.status)
        static let createdAt = Column(CodingKeys.createdAt)
    }
}

/// A row of `goal`.
struct GoalRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "goal"
    var goalId: String
    var planId: String
    var customerId: String
    var title: SealedText
    var metric: String
    var unit: String
    var baselineValue: Double
    var targetValue: Double
    var currentValue: Double
    var dueAt: Int64
    var status: GoalStatus
    var createdAt: Int64
    var achievedAt: Int64?
    var updatedAt: Int64

    enum Columns {
        static let goalId = Column(CodingKeys.goalId)
        static let planId = Column(CodingKeys.planId)
        static let customerId = Column(CodingKeys.customerId)
    }

    /// The plan the goal belongs to.
    static let plan = belongsTo(PlanRecord.self, using: ForeignKey([Columns.planId], to: [PlanRecord.Columns.planId]))
}

/// A row of `milestone` (its customer is its plan's).
struct MilestoneRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "milestone"
    var milestoneId: String
    var planId: String
    var title: SealedText
    var dueAt: Int64?
    var status: MilestoneStatus
    var completedAt: Int64?
    /// The goal it advances; empty if none.
    var goalId: String

    enum Columns {
        static let milestoneId = Column(CodingKeys.milestoneId)
        static let planId = Column(CodingKeys.planId)
    }
}

/// A row of `goal_progress`.
struct GoalProgressRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "goal_progress"
    var progressId: String
    var goalId: String
    var customerId: String
    var value: Double
    var recordedAt: Int64
    var note: SealedText
    var recordedBy: String

    enum Columns {
        static let progressId = Column(CodingKeys.progressId)
        static let goalId = Column(CodingKeys.goalId)
        static let customerId = Column(CodingKeys.customerId)
        static let recordedAt = Column(CodingKeys.recordedAt)
    }
}

/// A row of `health_score`: one computed score, never updated.
struct HealthScoreRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "health_score"
    var healthScoreId: String
    var customerId: String
    var score: Double
    var band: HealthBand
    /// `[HealthComponent]` as JSON (`JSONColumn`).
    var components: String
    /// `[MissingHealthComponent]` as JSON (`JSONColumn`).
    var missing: String
    var computedAt: Int64
    var previousScore: Double?
    var change30d: Double?
    var configVersion: String
    /// The batch that computed it; empty on demand.
    var batchId: String

    enum Columns {
        static let healthScoreId = Column(CodingKeys.healthScoreId)
        static let customerId = Column(CodingKeys.customerId)
        static let computedAt = Column(CodingKeys.computedAt)
    }

    /// The customer's latest score, when this is it.
    static let latest = hasOne(
        LatestHealthRecord.self,
        using: ForeignKey([LatestHealthRecord.Columns.healthScoreId], to: [Columns.healthScoreId]))
}

/// A row of `latest_health`: each customer's latest score, denormalised for the at-risk list and the summary.
struct LatestHealthRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "latest_health"
    var customerId: String
    var healthScoreId: String
    var score: Double
    var band: HealthBand
    var computedAt: Int64

    enum Columns {
        static let customerId = Column(CodingKeys.customerId)
        static let healthScoreId = Column(CodingKeys.healthScoreId)
        static let score = Column(CodingKeys.score)
        static let band = Column(CodingKeys.band)
    }
}

/// A row of `alert`: the alert sealed whole in `body`, beside the columns its lists filter and order on.
struct AlertRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "alert"
    var alertId: String
    var customerId: String
    var kind: AlertKind
    var state: AlertState
    var raisedAt: Int64
    /// The goal an overdue-goal alert is about; empty for others.
    var goalId: String
    var body: SealedText

    enum Columns {
        static let alertId = Column(CodingKeys.alertId)
        static let customerId = Column(CodingKeys.customerId)
        static let kind = Column(CodingKeys.kind)
        static let state = Column(CodingKeys.state)
        static let raisedAt = Column(CodingKeys.raisedAt)
        static let body = Column(CodingKeys.body)
    }

    /// Newest first, as `alert_by_raised` is ordered.
    static let order = KeysetOrder.descending(Columns.raisedAt, tie: Columns.alertId)
}

/// A row of `alert_event`: one event of the replayable alert feed, holding the alert as it was after the event.
struct AlertEventRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "alert_event"
    var eventId: String
    var customerId: String
    var kind: AlertKind
    var type: AlertEventType
    var occurredAt: Int64
    /// The `Alert` as JSON, sealed under its customer's key.
    var alert: SealedText

    enum Columns {
        static let eventId = Column(CodingKeys.eventId)
        static let customerId = Column(CodingKeys.customerId)
        static let occurredAt = Column(CodingKeys.occurredAt)
    }
}

/// A row of `task`: a playbook task.
struct TaskRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "task"
    var taskId: String
    var customerId: String
    /// The alert that created it; empty for a task a person or a journey asked for.
    var alertId: String
    var playbook: String
    var title: SealedText
    var instructions: SealedText
    var ownerId: String
    var dueAt: Int64
    var status: TaskStatus
    var createdAt: Int64
    var completedAt: Int64?
    var completedBy: String
    var outcomeNote: SealedText

    enum Columns {
        static let taskId = Column(CodingKeys.taskId)
        static let customerId = Column(CodingKeys.customerId)
        static let ownerId = Column(CodingKeys.ownerId)
        static let dueAt = Column(CodingKeys.dueAt)
        static let status = Column(CodingKeys.status)
    }
}

/// A row of `batch`: a batch recompute with the cursor it resumes from.
struct BatchRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "batch"
    var batchId: String
    var state: BatchState
    var processed: Int
    var scored: Int
    var partial: Int
    var failed: Int
    var alertsRaised: Int
    var cursorCustomerId: String
    var pageToken: String
    var startedAt: Int64
    var updatedAt: Int64
    var finishedAt: Int64?
    var lastError: String
    var resumes: Int
    var activeSince: Int64?

    enum Columns {
        static let batchId = Column(CodingKeys.batchId)
        static let state = Column(CodingKeys.state)
    }
}

// MARK: - Row shapes of projections and aggregates

/// A latest score with what the at-risk list adds to it: the customer's open alerts and the owner of their newest
/// active plan (nil without one).
struct AtRiskRow: Decodable, FetchableRecord {
    var score: HealthScoreRecord
    var openAlerts: Int
    var owner: String?

    private enum CodingKeys: String, CodingKey {
        case openAlerts, owner
    }

    /// The two computed columns, for the customer of the score row `score`: their alerts not yet resolved, and the
    /// owner of their newest active plan.
    static func computed(for score: TableAlias<HealthScoreRecord>) -> [any SQLSelectable] {
        let customer = score[HealthScoreRecord.Columns.customerId]
        return [
            SQL(
                """
                (SELECT COUNT(*) FROM alert a WHERE a.customerId = \(customer) AND a.state <> \(AlertState.resolved.rawValue))
                """
            ).forKey(CodingKeys.openAlerts),
            SQL(
                """
                (SELECT p.csmOwnerId FROM plan p WHERE p.customerId = \(customer) AND p.status = \(PlanStatus.active.rawValue)
                    ORDER BY p.createdAt DESC LIMIT 1)
                """
            ).forKey(CodingKeys.owner),
        ]
    }

    /// The score's columns and the two computed ones come in one row.
    init(from decoder: any Decoder) throws {
        score = try HealthScoreRecord(from: decoder)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        openAlerts = try container.decode(Int.self, forKey: .openAlerts)
        owner = try container.decodeIfPresent(String.self, forKey: .owner)
    }
}

/// Latest scores per band, for the summary. The band stays text: a summary counts a band this version does not know
/// as red (the most cautious reading) rather than failing the dashboard.
struct BandCount: Decodable, FetchableRecord {
    var band: String
    var customers: Int
    var scoreSum: Double
}

/// Open alerts per kind, for the summary. The kind stays text: a summary leaves out kinds this version does not know
/// rather than failing the dashboard.
struct AlertKindCount: Decodable, FetchableRecord {
    var kind: String
    var alerts: Int
}

/// A sealed alert and its row's key (`alert.body` or `alert_event.alert`), for re-addressing on a merge.
struct SealedAlertRow: Decodable, FetchableRecord {
    var rowKey: String
    var sealed: SealedText
}

// Domain enums are stored by their raw (snake_case) names.
extension PlanStatus: DatabaseValueConvertible {}
extension GoalStatus: DatabaseValueConvertible {}
extension MilestoneStatus: DatabaseValueConvertible {}
extension HealthBand: DatabaseValueConvertible {}
extension AlertKind: DatabaseValueConvertible {}
extension AlertEventType: DatabaseValueConvertible {}
extension TaskStatus: DatabaseValueConvertible {}
extension BatchState: DatabaseValueConvertible {}

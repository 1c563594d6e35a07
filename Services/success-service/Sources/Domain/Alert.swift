public import Foundation

/// Why an alert fired.
public enum AlertKind: String, Codable, Sendable, CaseIterable {
    /// The health score entered the red band.
    case churnRisk = "churn_risk"
    /// A goal passed its due date without being achieved.
    case goalOverdue = "goal_overdue"
    /// The health score dropped by the deployment's threshold within 30 days.
    case scoreDrop = "score_drop"
}

/// Where an alert stands.
public enum AlertState: String, Codable, Sendable, CaseIterable {
    case open, acknowledged, resolved
}

/// Something about a customer that needs a person's attention.
public struct Alert: Sendable, Equatable, Codable {
    public var id: String
    public var customerID: String
    public var kind: AlertKind
    public var state: AlertState = .open
    /// Human-readable, e.g. "Health fell from 72 to 51 in 12 days".
    public var message: String
    /// Machine-readable facts.
    public var details: [String: String]
    public var raisedAt: Date
    public var acknowledgedAt: Date?
    public var acknowledgedBy = ""
    public var resolvedAt: Date?
    public var resolvedBy = ""
    /// The health score that triggered it (churn risk, score drop).
    public var healthScoreID = ""
    /// The plan and goal that triggered it (goal overdue).
    public var planID = ""
    public var goalID = ""
    /// The playbook task it created.
    public var taskID = ""

    public init(
        id: String, customerID: String, kind: AlertKind, message: String, details: [String: String],
        raisedAt: Date
    ) {
        self.id = id
        self.customerID = customerID
        self.kind = kind
        self.message = message
        self.details = details
        self.raisedAt = raisedAt
    }
}

/// What happened to an alert.
public enum AlertEventType: String, Codable, Sendable {
    case raised, acknowledged, resolved
}

/// One event of the alert feed: the alert as it is after the event.
public struct AlertEvent: Sendable, Equatable {
    /// Time-ordered (UUIDv7): a reconnecting watcher resumes after the last one it saw.
    public var id: String
    public var type: AlertEventType
    public var alert: Alert
    public var occurredAt: Date

    public init(id: String, type: AlertEventType, alert: Alert, occurredAt: Date) {
        self.id = id
        self.type = type
        self.alert = alert
        self.occurredAt = occurredAt
    }
}

/// Where a playbook task stands.
public enum TaskStatus: String, Codable, Sendable, CaseIterable {
    case open, done, cancelled
}

/// A piece of work an alert calls for, with an owner and a due date.
public struct PlaybookTask: Sendable, Equatable {
    public var id: String
    public var customerID: String
    public var alertID: String
    /// The playbook step it comes from, e.g. "churn-risk/call".
    public var playbook: String
    public var title: String
    public var instructions: String
    public var ownerID: String
    public var dueAt: Date
    public var status: TaskStatus = .open
    public var createdAt: Date
    public var completedAt: Date?
    public var completedBy = ""
    public var outcomeNote = ""

    public init(
        id: String, customerID: String, alertID: String, playbook: String, title: String,
        instructions: String, ownerID: String, dueAt: Date, createdAt: Date
    ) {
        self.id = id
        self.customerID = customerID
        self.alertID = alertID
        self.playbook = playbook
        self.title = title
        self.instructions = instructions
        self.ownerID = ownerID
        self.dueAt = dueAt
        self.createdAt = createdAt
    }
}

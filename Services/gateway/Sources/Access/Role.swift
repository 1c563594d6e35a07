/// What an API key may do. The default matrix (gateway.proto): viewers read one customer at a time with personal
/// data redacted; analysts add dashboards and cross-customer lists, still redacted; agents see personal data and
/// make every routed write; admins manage keys, read the audit log, export and erase.
public enum Role: String, Codable, Sendable, CaseIterable {
    case viewer, agent, analyst, admin

    /// What a call needs.
    public enum Capability: Sendable {
        /// One customer's view, search, timeline.
        case view
        /// Dashboards and cross-customer lists.
        case analyze
        /// Routed writes.
        case write
        /// Keys, audit log, export, erase.
        case administer
    }

    public func may(_ capability: Capability) -> Bool {
        switch (self, capability) {
        case (.admin, _): true
        case (_, .view): true
        case (.analyst, .analyze), (.agent, .analyze): true
        case (.agent, .write): true
        default: false
        }
    }

    /// Whether names, identifiers, demographics, comments and message bodies are shown.
    public var seesPersonalData: Bool { self == .agent || self == .admin }

    /// The capability each GatewayService method needs; a method not listed is refused.
    public static let capabilities: [String: Capability] = [
        "GetCustomer360": .view, "ListCustomers": .view, "ListTimeline": .view,
        "GetKpiDashboard": .analyze, "ListAtRisk": .analyze, "ListAlerts": .analyze, "WatchAlerts": .analyze,
        "ListTasks": .analyze,
        "CreateCustomer": .write, "UpdateCustomer": .write, "SetConsent": .write, "RecordTouchpoint": .write,
        "RecordTouchpoints": .write, "OpenTicket": .write, "ReplyToTicket": .write, "ResolveTicket": .write,
        "RecordResponse": .write, "CreateSuccessPlan": .write, "UpdateSuccessPlan": .write, "AddGoal": .write,
        "RecordGoalProgress": .write, "AcknowledgeAlert": .write, "CompleteTask": .write,
        "CreateApiKey": .administer, "ListApiKeys": .administer, "RevokeApiKey": .administer,
        "ListAuditLog": .administer, "ExportCustomerData": .administer, "EraseCustomer": .administer,
    ]
}

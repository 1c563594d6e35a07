public import C360Contracts

/// What an API key may do (access.proto's AccessRole): viewers read one customer at a time with personal data
/// redacted; analysts add dashboards and cross-customer lists, still redacted; agents see personal data and make
/// every client-facing write; admins manage keys, read the audit log, export, erase and run operations.
public enum Role: String, Codable, Sendable, CaseIterable {
    case viewer, agent, analyst, admin

    /// Position in the access order, viewer < analyst < agent < admin: each role may do everything the roles
    /// before it may (an agent reads dashboards too). Every RPC's least role comes from its `(customer360.v1.access)`
    /// option in Proto/ (`AccessPolicies`), not from a list here.
    public var rank: Int {
        switch self {
        case .viewer: 1
        case .analyst: 2
        case .agent: 3
        case .admin: 4
        }
    }

    /// Whether this role may call an RPC whose least role is `least`.
    public func satisfies(_ least: Role) -> Bool { rank >= least.rank }

    /// The role an access policy names; nil for UNSPECIFIED.
    public init?(access: Customer360_V1_AccessRole) {
        switch access {
        case .viewer: self = .viewer
        case .analyst: self = .analyst
        case .agent: self = .agent
        case .admin: self = .admin
        default: return nil
        }
    }

    /// Whether names, identifiers, demographics, comments and message bodies are shown.
    public var seesPersonalData: Bool { self == .agent || self == .admin }
}

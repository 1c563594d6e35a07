public import C360ServerKit
public import Foundation

/// Kinds of external identifier a customer can be found by.
public enum IdentifierKind: String, Codable, Sendable, CaseIterable {
    case email, phone
    case crmID = "crm_id"

    /// How people call it in messages.
    public var label: String {
        switch self {
        case .email: "email"
        case .phone: "phone"
        case .crmID: "CRM id"
        }
    }
}

/// One normalised external identifier (lower-case email, E.164 phone, trimmed CRM id).
public struct Identifier: Hashable, Codable, Sendable, CustomStringConvertible {
    public var kind: IdentifierKind
    public var value: String

    public init(_ kind: IdentifierKind, _ value: String) {
        self.kind = kind
        self.value = value
    }

    public var description: String { "\(kind.label) \(value)" }
}

/// Where the customer stands in their relationship with us.
public enum LifecycleStage: String, Codable, Sendable, CaseIterable {
    case lead, prospect, onboarding, active
    case atRisk = "at_risk"
    case churned
}

/// Loyalty tiers by lifetime points earned.
public enum LoyaltyTier: String, Codable, Sendable, CaseIterable, Comparable {
    case bronze, silver, gold, platinum

    /// Lifetime points from which each tier starts.
    public static let thresholds: [(tier: LoyaltyTier, from: Int64)] = [
        (.platinum, 20_000), (.gold, 5_000), (.silver, 1_000), (.bronze, 0),
    ]

    public init(lifetimePoints: Int64) {
        self = Self.thresholds.first { lifetimePoints >= $0.from }?.tier ?? .bronze
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// A daily do-not-contact window.
public struct QuietHours: Hashable, Codable, Sendable {
    public var startMinute: Int
    public var endMinute: Int
    public var timeZone: String

    public init(startMinute: Int, endMinute: Int, timeZone: String) {
        self.startMinute = startMinute
        self.endMinute = endMinute
        self.timeZone = timeZone
    }
}

/// The value of a computed trait.
public enum TraitValue: Hashable, Codable, Sendable {
    case string(String)
    case number(Double)
    case bool(Bool)
}

/// A computed trait another service published, keyed `<namespace>.<name>`.
public struct Trait: Hashable, Sendable {
    public var key: String
    public var value: TraitValue
    public var updatedAt: Date
}

/// Everything profile-service knows about one customer, assembled from its tables.
public struct CustomerProfile: Sendable, Equatable {
    public var id: String
    public var identifiers: [Identifier]
    public var givenName: String
    public var familyName: String
    public var birthYear: Int?
    public var city: String
    public var countryCode: String
    public var language: String
    public var company: String
    public var preferredChannel: Channel?
    public var preferredLanguage: String
    public var quietHours: QuietHours?
    public var tags: [String]
    public var attributes: [String: String]
    public var traits: [Trait]
    public var lifecycleStage: LifecycleStage?
    public var loyalty: LoyaltyAccount
    public var createdAt: Date
    public var updatedAt: Date
    public var mergedIDs: [String]
    /// The id the caller asked for when it was merged into this customer.
    public var resolvedFrom: String?
}

/// What a new customer starts with (already validated and normalised).
public struct NewCustomer: Sendable {
    public var identifiers: [Identifier] = []
    public var givenName = ""
    public var familyName = ""
    public var birthYear: Int?
    public var city = ""
    public var countryCode = ""
    public var language = ""
    public var company = ""
    public var preferredChannel: Channel?
    public var preferredLanguage = ""
    public var quietHours: QuietHours?
    public var tags: [String] = []
    public var attributes: [String: String] = [:]
    public var lifecycleStage: LifecycleStage?

    public init() {}
}

/// A partial update: only non-nil fields change; an empty string clears a text field.
public struct CustomerPatch: Sendable {
    public var givenName: String?
    public var familyName: String?
    /// `.some(nil)` clears the birth year.
    public var birthYear: Int??
    public var city: String?
    public var countryCode: String?
    public var language: String?
    public var company: String?
    public var preferredChannel: Channel??
    public var preferredLanguage: String?
    public var quietHours: QuietHours??
    public var lifecycleStage: LifecycleStage??

    public init() {}
}

/// Filters for listing and searching customers; every filter is optional and they combine with AND.
public struct CustomerQuery: Sendable, Hashable, Codable {
    /// Lower-case prefix of a given name, family name, full name or email.
    public var text = ""
    public var tag = ""
    public var countryCode = ""
    public var lifecycleStage: LifecycleStage?
    public var createdFrom: Date?
    public var createdUntil: Date?

    public init() {}

    /// Identifies this filter inside page tokens.
    public var fingerprint: String {
        let parts = [
            text, tag, countryCode, lifecycleStage?.rawValue ?? "",
            createdFrom.map { "\($0.timeIntervalSince1970)" } ?? "",
            createdUntil.map { "\($0.timeIntervalSince1970)" } ?? "",
        ]
        return parts.joined(separator: "\u{1F}")
    }
}

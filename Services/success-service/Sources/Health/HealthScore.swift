public import Foundation

/// The parts a health score is made of, in the order scores list them.
public enum HealthComponentKind: String, Codable, Sendable, CaseIterable, Comparable {
    case engagement, feedback, goals, support, commercial

    public static func < (lhs: Self, rhs: Self) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// Traffic-light band of a health score.
public enum HealthBand: String, Codable, Sendable, CaseIterable {
    case green, yellow, red
}

/// One component of a health score, explaining itself.
public struct HealthComponent: Sendable, Equatable, Codable {
    public var kind: HealthComponentKind
    /// 0…100.
    public var value: Double
    /// Configured weight.
    public var weight: Double
    /// Weight after renormalising over the components present; these sum to 1.
    public var effectiveWeight: Double
    /// The facts it was computed from, human-readable.
    public var inputs: [String: String]
    /// One sentence explaining the value.
    public var explanation: String
}

/// A component that could not be computed, and why.
public struct MissingHealthComponent: Sendable, Equatable, Codable {
    public var kind: HealthComponentKind
    public var reason: String

    public init(kind: HealthComponentKind, reason: String) {
        self.kind = kind
        self.reason = reason
    }
}

/// A customer's health at one instant.
public struct HealthScore: Sendable, Equatable {
    public var id: String
    public var customerID: String
    /// 0…100: Σ value × effective weight over the components used.
    public var score: Double
    public var band: HealthBand
    public var components: [HealthComponent]
    public var missing: [MissingHealthComponent]
    public var computedAt: Date
    /// The previous stored score; `nil` for the first.
    public var previousScore: Double?
    /// score − the highest score stored in the previous 30 days; `nil` without one.
    public var change30d: Double?
    /// The weights and thresholds in force.
    public var configVersion: String
    /// The batch that computed it; empty on demand.
    public var batchID = ""
}

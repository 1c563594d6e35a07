import Foundation

/// The weights and thresholds of health scores, configurable per deployment (ARCHITECTURE.md's are the default).
public struct HealthConfiguration: Sendable, Equatable {
    public var weights: [HealthComponentKind: Double]
    /// A score at or above this is green.
    public var greenAt: Double
    /// A score below this is red.
    public var redBelow: Double
    /// A drop of at least this many points within `dropWindowDays` raises a score-drop alert.
    public var dropPoints: Double
    public var dropWindowDays: Int

    public static let `default` = HealthConfiguration(
        weights: [.engagement: 0.30, .feedback: 0.25, .goals: 0.20, .support: 0.15, .commercial: 0.10],
        greenAt: 70, redBelow: 40, dropPoints: 15, dropWindowDays: 30)

    public init(
        weights: [HealthComponentKind: Double], greenAt: Double, redBelow: Double, dropPoints: Double,
        dropWindowDays: Int
    ) {
        self.weights = weights
        self.greenAt = greenAt
        self.redBelow = redBelow
        self.dropPoints = dropPoints
        self.dropWindowDays = dropWindowDays
    }

    /// Parses weights written as "engagement=0.3,feedback=0.25,goals=0.2,support=0.15,commercial=0.1"; every
    /// component must be named once, weights must be ≥ 0 and sum to a positive number (they are used relative to
    /// each other, so "3,2.5,2,1.5,1" works too).
    public static func weights(parsing text: String) throws(HealthConfigurationError) -> [HealthComponentKind: Double] {
        var weights: [HealthComponentKind: Double] = [:]
        for part in text.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2, let kind = HealthComponentKind(rawValue: pair[0].lowercased()),
                let weight = Double(pair[1]), weight >= 0, weight.isFinite
            else {
                throw HealthConfigurationError(
                    "'\(part)' is not component=weight (components: engagement, feedback, goals, support, commercial)")
            }
            guard weights.updateValue(weight, forKey: kind) == nil else {
                throw HealthConfigurationError("\(kind.rawValue) is given twice")
            }
        }
        let missing = HealthComponentKind.allCases.filter { weights[$0] == nil }
        guard missing.isEmpty else {
            throw HealthConfigurationError("no weight for \(missing.map(\.rawValue).joined(separator: ", "))")
        }
        guard weights.values.reduce(0, +) > 0 else { throw HealthConfigurationError("the weights sum to 0") }
        return weights
    }

    /// Checks the thresholds make sense together.
    public func validated() throws(HealthConfigurationError) -> Self {
        guard (0...100).contains(redBelow), (0...100).contains(greenAt), redBelow <= greenAt else {
            throw HealthConfigurationError(
                "thresholds must satisfy 0 ≤ red-below (\(redBelow)) ≤ green-at (\(greenAt)) ≤ 100")
        }
        guard dropPoints > 0, dropWindowDays > 0 else {
            throw HealthConfigurationError("the drop alert needs positive points and days")
        }
        return self
    }

    /// The band of a score.
    public func band(of score: Double) -> HealthBand {
        score >= greenAt ? .green : score < redBelow ? .red : .yellow
    }

    /// Identifies these weights and thresholds in stored scores, e.g. "w30-25-20-15-10/g70-r40/d15in30".
    public var version: String {
        let total = weights.values.reduce(0, +)
        let percents = HealthComponentKind.allCases.map { kind in
            "\(Int(((weights[kind] ?? 0) / total * 100).rounded()))"
        }
        return
            "w\(percents.joined(separator: "-"))/g\(Self.format(greenAt))-r\(Self.format(redBelow))/d\(Self.format(dropPoints))in\(dropWindowDays)"
    }

    private static func format(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value))" : "\(value)"
    }
}

/// A health configuration that does not make sense.
public struct HealthConfigurationError: Error, CustomStringConvertible {
    public var description: String

    init(_ description: String) {
        self.description = description
    }
}

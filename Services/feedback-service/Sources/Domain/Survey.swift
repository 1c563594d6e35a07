public import C360ServerKit
public import Foundation

/// What a survey measures, which fixes its scale and how its responses are scored.
public enum SurveyType: String, Codable, Sendable, CaseIterable {
    /// "How likely are you to recommend us?" 0–10.
    case nps
    /// "How satisfied were you?" 1–5.
    case csat
    /// "It was easy to handle my issue" 1–7, higher is easier.
    case ces
    /// Any other question on the survey's own scale; counted, not scored.
    case custom

    /// The scale NPS, CSAT and CES are defined on; `nil` for custom surveys, which choose their own.
    public var fixedScale: ClosedRange<Int>? {
        switch self {
        case .nps: 0...10
        case .csat: 1...5
        case .ces: 1...7
        case .custom: nil
        }
    }
}

/// A question we ask customers, on one channel, in one language.
public struct Survey: Sendable, Equatable {
    public var id: String
    public var type: SurveyType
    /// Short internal name, e.g. "post-ticket CSAT (fa)".
    public var name: String
    /// The question as the customer sees it.
    public var question: String
    /// ISO 639-1 code of the question's language.
    public var language: String
    public var channel: Channel
    /// Inclusive score scale.
    public var scale: ClosedRange<Int>
    public var createdAt: Date
    /// False once retired: new responses are refused.
    public var active: Bool

    public init(
        id: String, type: SurveyType, name: String, question: String, language: String, channel: Channel,
        scale: ClosedRange<Int>, createdAt: Date, active: Bool = true
    ) {
        self.id = id
        self.type = type
        self.name = name
        self.question = question
        self.language = language
        self.channel = channel
        self.scale = scale
        self.createdAt = createdAt
        self.active = active
    }

    /// Whether `other` defines the same survey (what an idempotent re-create must match); ignores the creation
    /// time and whether it was retired since.
    public func sameDefinition(as other: Survey) -> Bool {
        id == other.id && type == other.type && name == other.name && question == other.question
            && language == other.language && channel == other.channel && scale == other.scale
    }
}

/// Which surveys a list shows; every part optional.
public struct SurveyFilter: Sendable, Hashable {
    public var type: SurveyType?
    public var language = ""
    public var channel: Channel?
    public var includeInactive = false

    public init() {}

    /// Identifies the filter inside page tokens.
    public var fingerprint: String {
        [type?.rawValue ?? "", language, channel?.rawValue ?? "", includeInactive ? "all" : "active"]
            .joined(separator: "\u{1F}")
    }
}

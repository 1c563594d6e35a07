public import C360Contracts
public import C360ServerKit
import C360StoreKit
public import Foundation
public import GRDB
import SwiftProtobuf

/// A segment rule compiled to one SQL condition over the read model (`customer_fact`, with `customer_tag`,
/// `customer_consent` and `customer_channel_count` reached through correlated subqueries), so a preview or a
/// membership update is one query, never a call to another service.
///
/// Compiling validates: every error names the condition's path in the request (`rule.all.rules[1].condition.field`).
/// Time windows are relative to `now`, so the same rule selects differently as time passes; membership is therefore
/// re-evaluated periodically as well as on every change.
public struct SegmentQuery: Sendable {
    public let condition: SQLExpression
    /// Conditions in the rule (a bound on cost).
    public let conditions: Int

    /// The most conditions a rule may hold, and how deeply it may nest.
    public static let maxConditions = 100
    public static let maxDepth = 8

    /// - Throws: `InvalidArgument` naming the offending part of the rule.
    public init(_ rule: Customer360_V1_SegmentRule, field: String = "rule", now: Date) throws(InvalidArgument) {
        var count = 0
        condition = try Self.compile(rule, path: field, depth: 1, now: now, count: &count)
        conditions = count
    }

    private static func compile(
        _ rule: Customer360_V1_SegmentRule, path: String, depth: Int, now: Date, count: inout Int
    ) throws(InvalidArgument) -> SQLExpression {
        guard depth <= maxDepth else { throw InvalidArgument(path, "nests deeper than \(maxDepth) levels") }
        switch rule.rule {
        case .all(let group):
            let parts = try compile(group, path: "\(path).all", depth: depth, now: now, count: &count)
            return parts.joined(operator: .and)
        case .any(let group):
            let parts = try compile(group, path: "\(path).any", depth: depth, now: now, count: &count)
            return parts.joined(operator: .or)
        case .not(let inner):
            return !(try compile(inner, path: "\(path).not", depth: depth + 1, now: now, count: &count))
        case .condition(let condition):
            count += 1
            guard count <= maxConditions else {
                throw InvalidArgument(path, "the rule holds more than \(maxConditions) conditions")
            }
            return try SegmentCondition(condition, path: "\(path).condition").expression(now: now)
        case nil:
            throw InvalidArgument(path, "is empty: set all, any, not or condition")
        }
    }

    private static func compile(
        _ group: Customer360_V1_SegmentRuleGroup, path: String, depth: Int, now: Date, count: inout Int
    ) throws(InvalidArgument) -> [SQLExpression] {
        guard !group.rules.isEmpty else { throw InvalidArgument("\(path).rules", "needs at least one rule") }
        var parts: [SQLExpression] = []
        for (index, rule) in group.rules.enumerated() {
            parts.append(try compile(rule, path: "\(path).rules[\(index)]", depth: depth + 1, now: now, count: &count))
        }
        return parts
    }
}

/// One validated condition and the SQL it stands for.
struct SegmentCondition {
    /// The kinds of fact a field holds, which decide the operators it takes.
    enum Kind {
        case text(column: String, allowed: Set<String>?)
        case attribute(key: String)
        case tags
        case number(column: String)
        case touchpoints(channel: Channel?)
        case time(column: String)
        case boolean(column: String)
        case consent(purpose: String, channel: Channel)
    }

    let kind: Kind
    let condition: Customer360_V1_SegmentCondition
    let path: String

    /// Enum-valued text fields and the values they take (the proto enum names, lower case, without prefix).
    static let textFields: [String: (column: String, allowed: Set<String>?)] = [
        "lifecycle_stage": ("lifecycleStage", ["lead", "prospect", "onboarding", "active", "at_risk", "churned"]),
        "loyalty_tier": ("loyaltyTier", ["bronze", "silver", "gold", "platinum"]),
        "rfm_segment": (
            "rfmSegment",
            [
                "champions", "loyal", "potential_loyalist", "new", "promising", "needs_attention", "about_to_sleep",
                "at_risk", "cannot_lose", "hibernating", "lost", "no_purchases",
            ]
        ),
        "nps_category": ("npsCategory", ["promoter", "passive", "detractor"]),
        "sentiment": ("sentiment", ["negative", "neutral", "positive"]),
        "health_band": ("healthBand", ["green", "yellow", "red"]),
        "country_code": ("countryCode", nil),
        "language": ("language", nil),
        "preferred_channel": ("preferredChannel", Set(Channel.allCases.map(\.rawValue))),
        "best_channel": ("bestChannel", Set(Channel.allCases.map(\.rawValue))),
    ]
    static let numberFields: [String: String] = [
        "clv": "clvMinor", "orders": "orders", "loyalty_points": "loyaltyPoints", "latest_csat": "latestCsat",
        "health_score": "healthScore", "open_alerts": "openAlerts", "total_touchpoints": "totalTouchpoints",
    ]
    static let timeFields: [String: String] = [
        "last_purchase_at": "lastPurchaseAt", "last_seen_at": "lastSeenAt", "created_at": "createdAt",
    ]
    static let booleanFields: [String: String] = ["discount_driven": "discountDriven", "churn_risk": "churnRisk"]
    static let consentPurposes = [
        "marketing", "analytics", "personalization", "service_messages", "third_party_sharing",
    ]
    /// The windows the read model keeps touchpoint counts for.
    static let touchpointWindows = [7, 30, 90]

    static var knownFields: String {
        (Array(textFields.keys) + Array(numberFields.keys) + Array(timeFields.keys) + Array(booleanFields.keys)
            + ["tag", "attribute.<key>", "touchpoints", "touchpoints.<channel>", "consent.<purpose>.<channel>"])
            .sorted().joined(separator: ", ")
    }

    init(_ condition: Customer360_V1_SegmentCondition, path: String) throws(InvalidArgument) {
        self.condition = condition
        self.path = path
        let field = condition.field
        if let text = Self.textFields[field] {
            kind = .text(column: text.column, allowed: text.allowed)
        } else if let column = Self.numberFields[field] {
            kind = .number(column: column)
        } else if let column = Self.timeFields[field] {
            kind = .time(column: column)
        } else if let column = Self.booleanFields[field] {
            kind = .boolean(column: column)
        } else if field == "tag" {
            kind = .tags
        } else if field == "touchpoints" {
            kind = .touchpoints(channel: nil)
        } else if field.hasPrefix("touchpoints.") {
            let name = String(field.dropFirst("touchpoints.".count))
            guard let channel = Channel(rawValue: name) else {
                throw InvalidArgument("\(path).field", "'\(name)' is not a channel; use one of \(Self.channelNames)")
            }
            kind = .touchpoints(channel: channel)
        } else if field.hasPrefix("attribute.") {
            let key = String(field.dropFirst("attribute.".count))
            guard !key.isEmpty, key.count <= 64,
                key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" })
            else {
                throw InvalidArgument("\(path).field", "'\(field)' needs an attribute key of letters, digits, _ or -")
            }
            kind = .attribute(key: key)
        } else if field.hasPrefix("consent.") {
            let parts = field.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 3, Self.consentPurposes.contains(parts[1]), let channel = Channel(rawValue: parts[2])
            else {
                throw InvalidArgument(
                    "\(path).field",
                    "'\(field)' must be consent.<purpose>.<channel> with purpose one of "
                        + "\(Self.consentPurposes.joined(separator: ", ")) and channel one of \(Self.channelNames)")
            }
            kind = .consent(purpose: parts[1], channel: channel)
        } else if field.isEmpty {
            throw InvalidArgument("\(path).field", "is required; known fields: \(Self.knownFields)")
        } else {
            throw InvalidArgument(
                "\(path).field", "'\(field.prefix(64))' is not a known field; known fields: \(Self.knownFields)")
        }
    }

    static var channelNames: String { Channel.allCases.map(\.rawValue).joined(separator: ", ") }

    func expression(now: Date) throws(InvalidArgument) -> SQLExpression {
        let op = condition.operator
        switch kind {
        case .text(let column, let allowed):
            return try text(SQL(sql: "customer_fact.\(column)").sqlExpression, allowed: allowed, op: op)
        case .attribute(let key):
            let value = SQL(sql: "json_extract(customer_fact.attributes, ?)", arguments: ["$.\"\(key)\""]).sqlExpression
            return try text(value, allowed: nil, op: op)
        case .tags:
            return try tags(op)
        case .number(let column):
            return try compare(SQL(sql: "customer_fact.\(column)").sqlExpression, op: op)
        case .touchpoints(let channel):
            let days = try window()
            let value: SQLExpression =
                if let channel {
                    SQL(
                        sql: """
                            COALESCE((SELECT c.touchpoints FROM customer_channel_count c WHERE c.customerId = customer_fact.customerId \
                            AND c.windowDays = ? AND c.channel = ?), 0)
                            """, arguments: [days, channel.rawValue]
                    ).sqlExpression
                } else {
                    SQL(sql: "customer_fact.touchpoints\(days)d").sqlExpression
                }
            return try compare(value, op: op)
        case .time(let column):
            let value = SQL(sql: "customer_fact.\(column)").sqlExpression
            guard condition.hasWithin, let span = condition.within.validSpan else {
                throw InvalidArgument(
                    "\(path).within", "is required for \(condition.field): a positive duration of at most 100 years")
            }
            let since = now.addingTimeInterval(-span).unixMillis
            switch op {
            case .within: return value != nil && value >= since
            case .notWithin: return value == nil || value < since
            default: throw unsupported(op, "WITHIN, NOT_WITHIN")
            }
        case .boolean(let column):
            let value = SQL(sql: "customer_fact.\(column)").sqlExpression
            switch op {
            case .isTrue: return value == true
            case .isFalse: return value == false
            default: throw unsupported(op, "IS_TRUE, IS_FALSE")
            }
        case .consent(let purpose, let channel):
            let granted = SQL(
                sql: """
                    EXISTS (SELECT 1 FROM customer_consent c WHERE c.customerId = customer_fact.customerId \
                    AND c.purpose = ? AND c.channel = ? AND c.granted)
                    """, arguments: [purpose, channel.rawValue]
            ).sqlExpression
            switch op {
            case .isTrue: return granted
            case .isFalse: return !granted
            default: throw unsupported(op, "IS_TRUE, IS_FALSE")
            }
        }
    }

    private func text(_ value: SQLExpression, allowed: Set<String>?, op: Customer360_V1_SegmentOperator)
        throws(InvalidArgument) -> SQLExpression
    {
        switch op {
        case .exists:
            return value != nil && value != ""
        case .equals, .notEquals:
            guard condition.values.count == 1 else {
                throw InvalidArgument(
                    "\(path).values", "\(op == .equals ? "EQUALS" : "NOT_EQUALS") takes exactly one value")
            }
            let operand = try checked(condition.values[0], allowed: allowed, index: 0)
            return op == .equals ? value == operand : (value == nil || value != operand)
        case .in:
            guard !condition.values.isEmpty else {
                throw InvalidArgument("\(path).values", "IN takes at least one value")
            }
            var operands: [String] = []
            for (index, operand) in condition.values.enumerated() {
                operands.append(try checked(operand, allowed: allowed, index: index))
            }
            return operands.contains(value)
        default:
            throw unsupported(op, "EQUALS, NOT_EQUALS, IN, EXISTS")
        }
    }

    private func tags(_ op: Customer360_V1_SegmentOperator) throws(InvalidArgument) -> SQLExpression {
        guard !condition.values.isEmpty else { throw InvalidArgument("\(path).values", "needs at least one tag") }
        var tags: [String] = []
        for (index, tag) in condition.values.enumerated() { tags.append(try checked(tag, allowed: nil, index: index)) }
        let has = { (tag: String) in
            SQL(
                sql:
                    "EXISTS (SELECT 1 FROM customer_tag t WHERE t.customerId = customer_fact.customerId AND t.tag = ?)",
                arguments: [tag]
            ).sqlExpression
        }
        switch op {
        case .contains: return tags.map(has).joined(operator: .and)
        case .in: return tags.map(has).joined(operator: .or)
        default: throw unsupported(op, "CONTAINS (every tag), IN (any tag)")
        }
    }

    private func compare(_ value: SQLExpression, op: Customer360_V1_SegmentOperator) throws(InvalidArgument)
        -> SQLExpression
    {
        let comparisons: Set<Customer360_V1_SegmentOperator> = [
            .equals, .notEquals, .greaterThan, .greaterOrEqual, .lessThan, .lessOrEqual,
        ]
        guard comparisons.contains(op) else {
            throw unsupported(op, "EQUALS, NOT_EQUALS, GREATER_THAN, GREATER_OR_EQUAL, LESS_THAN, LESS_OR_EQUAL")
        }
        guard condition.hasNumber, condition.number.isFinite else {
            throw InvalidArgument("\(path).number", "is required for \(condition.field) and must be a finite number")
        }
        let number = condition.number
        switch op {
        case .equals: return value == number
        case .notEquals: return value == nil || value != number
        case .greaterThan: return value > number
        case .greaterOrEqual: return value >= number
        case .lessThan: return value < number
        default: return value <= number
        }
    }

    /// The touchpoint window in days (7, 30 or 90).
    private func window() throws(InvalidArgument) -> Int {
        let days = condition.hasWithin ? Int(condition.within.seconds / 86_400) : 0
        guard condition.hasWithin, condition.within.nanos == 0, condition.within.seconds % 86_400 == 0,
            Self.touchpointWindows.contains(days)
        else {
            throw InvalidArgument("\(path).within", "must be 7, 30 or 90 days for touchpoint counts")
        }
        return days
    }

    private func checked(_ value: String, allowed: Set<String>?, index: Int) throws(InvalidArgument) -> String {
        let field = "\(path).values[\(index)]"
        let trimmed = try Validate.text(value, field: field, maxLength: 200, required: true)
        if let allowed, !allowed.contains(trimmed) {
            throw InvalidArgument(
                field,
                "'\(trimmed.prefix(64))' is not a value of \(condition.field); use one of "
                    + allowed.sorted().joined(separator: ", "))
        }
        return trimmed
    }

    private func unsupported(_ op: Customer360_V1_SegmentOperator, _ supported: String) -> InvalidArgument {
        InvalidArgument("\(path).operator", "\(op) does not apply to \(condition.field); use \(supported)")
    }
}

extension Google_Protobuf_Duration {
    /// The duration in seconds when positive and at most 100 years.
    var validSpan: TimeInterval? {
        guard seconds >= 0, nanos >= 0, nanos < 1_000_000_000, seconds <= 100 * 366 * 86_400 else { return nil }
        let span = TimeInterval(seconds) + TimeInterval(nanos) / 1e9
        return span > 0 ? span : nil
    }
}

public import C360Contracts
public import C360StoreKit
public import Foundation
public import SwiftProtobuf

/// Checks shared by every service's request validation. Each throws `InvalidArgument` naming the field.
public enum Validate {
    /// A required id issued by this system.
    @discardableResult
    public static func id(_ value: String, field: String) throws(InvalidArgument) -> String {
        guard !value.isEmpty else { throw InvalidArgument(field, "is required") }
        guard EntityID.isWellFormed(value) else {
            throw InvalidArgument(field, "'\(value.prefix(64))' is not a valid id (expected a lower-case UUID)")
        }
        return value
    }

    /// Trims surrounding white space and enforces a maximum length (in characters); empty is allowed unless required.
    public static func text(
        _ value: String, field: String, maxLength: Int, required: Bool = false
    ) throws(InvalidArgument) -> String {
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        if required, trimmed.isEmpty { throw InvalidArgument(field, "is required") }
        guard trimmed.count <= maxLength else {
            throw InvalidArgument(field, "is \(trimmed.count) characters long; the maximum is \(maxLength)")
        }
        guard !trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw InvalidArgument(field, "must not contain control characters")
        }
        return trimmed
    }

    /// The number of rows a list RPC returns.
    public static func pageSize(_ requested: Int32, field: String = "page.page_size") throws(InvalidArgument) -> Int {
        guard let size = PageSize.resolve(requested) else {
            throw InvalidArgument(field, "must be between 0 (default \(PageSize.default)) and \(PageSize.maximum), not \(requested)")
        }
        return size
    }

    /// A count of extra items a caller asks for alongside an answer (e.g. recent touchpoints), 0…`maximum`.
    public static func count(_ requested: Int32, field: String, maximum: Int) throws(InvalidArgument) -> Int {
        guard requested >= 0, requested <= maximum else {
            throw InvalidArgument(field, "must be between 0 (none) and \(maximum), not \(requested)")
        }
        return Int(requested)
    }

    /// Decodes a page token issued for `filter`.
    public static func pageToken<Position>(
        _ token: String, filter: String, field: String = "page.page_token"
    ) throws(InvalidArgument) -> PageToken<Position>? {
        do {
            return try PageToken<Position>.decode(token, filter: filter)
        } catch {
            throw InvalidArgument(field, error.reason)
        }
    }

    /// An ISO 3166-1 alpha-2 country code, returned upper-cased; empty stays empty.
    public static func countryCode(_ value: String, field: String) throws(InvalidArgument) -> String {
        let code = value.trimmingCharacters(in: .whitespaces).uppercased()
        guard code.isEmpty || ISOCodes.countries.contains(code) else {
            throw InvalidArgument(field, "'\(value.prefix(16))' is not an ISO 3166-1 alpha-2 country code (e.g. IR, DE)")
        }
        return code
    }

    /// An ISO 639-1 language code with an optional ISO 3166-1 region ("fa", "en-GB"), returned in canonical case.
    public static func language(_ value: String, field: String) throws(InvalidArgument) -> String {
        let trimmed = value.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "_", with: "-")
        guard !trimmed.isEmpty else { return "" }
        let parts = trimmed.split(separator: "-", omittingEmptySubsequences: false)
        let language = parts[0].lowercased()
        let invalid = InvalidArgument(field, "'\(value.prefix(16))' is not an ISO 639-1 language code, optionally with a region (e.g. fa, en-GB)")
        guard parts.count <= 2, ISOCodes.languages.contains(language) else { throw invalid }
        guard parts.count == 2 else { return language }
        let region = parts[1].uppercased()
        guard ISOCodes.countries.contains(region) else { throw invalid }
        return "\(language)-\(region)"
    }

    /// A timestamp that, when set, must be a valid instant not after `now` (plus a minute of clock skew).
    public static func pastInstant(
        _ timestamp: Google_Protobuf_Timestamp?, field: String, now: Date
    ) throws(InvalidArgument) -> Date? {
        guard let timestamp else { return nil }
        guard (0..<1_000_000_000).contains(timestamp.nanos), (-62_135_596_800...253_402_300_799).contains(timestamp.seconds) else { throw InvalidArgument(field, "is not a valid timestamp") }
        let date = timestamp.date
        guard date <= now.addingTimeInterval(60) else {
            throw InvalidArgument(field, "is in the future (\(date.formatted(.iso8601)))")
        }
        return date
    }

    /// How far in the future a client may claim something happened (clock skew between systems).
    public static let futureTolerance: TimeInterval = 300

    /// A required client-chosen id that makes a write idempotent: 1 to 128 of A–Z, a–z, 0–9, '.', '_', ':' and '-'.
    public static func clientID(_ value: String, field: String) throws(InvalidArgument) -> String {
        guard !value.isEmpty else { throw InvalidArgument(field, "is required: a client-chosen id that makes retries safe") }
        guard value.utf8.count <= 128, value.unicodeScalars.allSatisfy({
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || ".-_:".unicodeScalars.contains($0)
        }) else {
            throw InvalidArgument(field, "'\(value.prefix(64))' must be 1 to 128 of A-Z, a-z, 0-9, '.', '_', ':' and '-'")
        }
        return value
    }

    /// A required instant after 1970 that is not more than `futureTolerance` in the future: when an event happened.
    public static func instant(_ timestamp: Google_Protobuf_Timestamp, field: String, now: Date) throws(InvalidArgument) -> Date {
        guard (0..<1_000_000_000).contains(timestamp.nanos), timestamp.seconds > 0 else {
            throw InvalidArgument(field, "is not a valid timestamp")
        }
        let date = timestamp.date
        guard date <= now.addingTimeInterval(futureTolerance) else {
            throw InvalidArgument(field, "is more than 5 minutes in the future (\(date.formatted(.iso8601)))")
        }
        return date
    }

    /// The bounds of an optional time range; unset bounds are open, and a start at or after the end is refused.
    public static func window(
        _ range: Customer360_V1_TimeRange?, field: String = "window"
    ) throws(InvalidArgument) -> (from: Date?, until: Date?) {
        guard let range else { return (nil, nil) }
        let from = range.startDate, until = range.endDate
        if let from, let until, from >= until { throw InvalidArgument(field, "start must be before end") }
        return (from, until)
    }
}

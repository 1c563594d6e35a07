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
            throw InvalidArgument(
                field, "must be between 0 (default \(PageSize.default)) and \(PageSize.maximum), not \(requested)")
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
            throw InvalidArgument(
                field, "'\(value.prefix(16))' is not an ISO 3166-1 alpha-2 country code (e.g. IR, DE)")
        }
        return code
    }

    /// An ISO 639-1 language code with an optional ISO 3166-1 region ("fa", "en-GB"), returned in canonical case.
    public static func language(_ value: String, field: String) throws(InvalidArgument) -> String {
        let trimmed = value.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "_", with: "-")
        guard !trimmed.isEmpty else { return "" }
        let parts = trimmed.split(separator: "-", omittingEmptySubsequences: false)
        let language = parts[0].lowercased()
        let invalid = InvalidArgument(
            field, "'\(value.prefix(16))' is not an ISO 639-1 language code, optionally with a region (e.g. fa, en-GB)")
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
        let date = try Self.timestamp(timestamp, field: field)
        guard date <= now.addingTimeInterval(60) else {
            throw InvalidArgument(field, "is in the future (\(date.formatted(.iso8601)))")
        }
        return date
    }

    /// The instants a `google.protobuf.Timestamp` may hold: 0001-01-01T00:00:00Z through 9999-12-31T23:59:59Z.
    public static let timestampSeconds: ClosedRange<Int64> = -62_135_596_800...253_402_300_799

    /// Any instant the protobuf spec allows, as a date. Every timestamp a client sends passes through here (or a
    /// check built on it) *before* it becomes a `Date`: an out-of-range value would otherwise reach integer
    /// conversions (Unix milliseconds, day numbers) that trap and take the process down.
    public static func timestamp(_ timestamp: Google_Protobuf_Timestamp, field: String) throws(InvalidArgument) -> Date
    {
        guard timestampSeconds.contains(timestamp.seconds) else {
            throw InvalidArgument(
                field, "seconds \(timestamp.seconds) is outside 0001-01-01..9999-12-31 (\(timestampSeconds))")
        }
        guard (0..<1_000_000_000).contains(timestamp.nanos) else {
            throw InvalidArgument(field, "nanos \(timestamp.nanos) must be between 0 and 999999999")
        }
        return timestamp.date
    }

    /// An optional timestamp (`has` says whether the client set it), checked like `timestamp(_:field:)`.
    public static func timestamp(
        _ timestamp: Google_Protobuf_Timestamp, isSet: Bool, field: String
    ) throws(InvalidArgument) -> Date? {
        isSet ? try Self.timestamp(timestamp, field: field) : nil
    }

    /// The spans a `google.protobuf.Duration` may hold: ±10,000 years, in whole seconds.
    public static let durationSeconds: ClosedRange<Int64> = -315_576_000_000...315_576_000_000

    /// A non-negative duration no longer than `maximum` seconds, as seconds. Checked on the integer fields before
    /// any floating-point arithmetic, so no client value can overflow a later conversion.
    public static func duration(
        _ duration: Google_Protobuf_Duration, field: String, maximum: Int64 = 315_576_000_000
    ) throws(InvalidArgument) -> TimeInterval {
        guard (-999_999_999...999_999_999).contains(duration.nanos),
            duration.seconds == 0 || duration.nanos == 0 || (duration.seconds < 0) == (duration.nanos < 0)
        else {
            throw InvalidArgument(
                field, "nanos \(duration.nanos) must be within ±999999999 and share the sign of seconds")
        }
        guard duration.seconds >= 0, duration.nanos >= 0 else { throw InvalidArgument(field, "must not be negative") }
        guard duration.seconds <= maximum else {
            throw InvalidArgument(field, "is \(duration.seconds) s; the maximum is \(maximum) s")
        }
        return Double(duration.seconds) + Double(duration.nanos) / 1e9
    }

    /// How far in the future a client may claim something happened (clock skew between systems).
    public static let futureTolerance: TimeInterval = 300

    /// A required client-chosen id that makes a write idempotent: 1 to 128 of A–Z, a–z, 0–9, '.', '_', ':' and '-'.
    public static func clientID(_ value: String, field: String) throws(InvalidArgument) -> String {
        guard !value.isEmpty else {
            throw InvalidArgument(field, "is required: a client-chosen id that makes retries safe")
        }
        guard value.utf8.count <= 128,
            value.unicodeScalars.allSatisfy({
                ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0)
                    || ".-_:".unicodeScalars.contains($0)
            })
        else {
            throw InvalidArgument(
                field, "'\(value.prefix(64))' must be 1 to 128 of A-Z, a-z, 0-9, '.', '_', ':' and '-'")
        }
        return value
    }

    /// A required instant after 1970 that is not more than `futureTolerance` in the future: when an event happened.
    public static func instant(_ timestamp: Google_Protobuf_Timestamp, field: String, now: Date) throws(InvalidArgument)
        -> Date
    {
        let date = try Self.timestamp(timestamp, field: field)
        guard timestamp.seconds > 0 else { throw InvalidArgument(field, "must be after 1970-01-01") }
        guard date <= now.addingTimeInterval(futureTolerance) else {
            throw InvalidArgument(field, "is more than 5 minutes in the future (\(date.formatted(.iso8601)))")
        }
        return date
    }

    /// The bounds of an optional time range; unset bounds are open, each set bound must be a valid timestamp, and a
    /// start at or after the end is refused.
    public static func window(
        _ range: Customer360_V1_TimeRange?, field: String = "window"
    ) throws(InvalidArgument) -> (from: Date?, until: Date?) {
        guard let range else { return (nil, nil) }
        let from = try timestamp(range.start, isSet: range.hasStart, field: "\(field).start")
        let until = try timestamp(range.end, isSet: range.hasEnd, field: "\(field).end")
        if let from, let until, from >= until { throw InvalidArgument(field, "start must be before end") }
        return (from, until)
    }

    /// `window(_:field:)` for a request whose range field may be unset (`isSet` is the generated `has…`).
    public static func window(
        _ range: Customer360_V1_TimeRange, isSet: Bool, field: String
    ) throws(InvalidArgument) -> (from: Date?, until: Date?) {
        try window(isSet ? range : nil, field: field)
    }
}

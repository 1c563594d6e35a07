public import Foundation

/// A customer's quiet hours: no message goes out between `startMinute` and `endMinute` (minutes after local
/// midnight, in `timeZone`); a window whose start is after its end spans midnight (22:00–07:00).
public struct QuietHours: Sendable, Equatable {
    public var startMinute: Int
    public var endMinute: Int
    public var timeZone: TimeZone

    public init?(startMinute: Int?, endMinute: Int?, timeZone identifier: String) {
        guard let startMinute, let endMinute, startMinute != endMinute,
            (0..<1_440).contains(startMinute), (0..<1_440).contains(endMinute)
        else { return nil }
        self.startMinute = startMinute
        self.endMinute = endMinute
        self.timeZone = TimeZone(identifier: identifier) ?? TimeZone(identifier: "UTC")!
    }

    /// `nil` when a message may go at `date`; otherwise the instant the quiet hours end (the message is deferred to
    /// it, not dropped).
    public func deferral(at date: Date) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.hour, .minute], from: date)
        let minute = (parts.hour ?? 0) * 60 + (parts.minute ?? 0)
        let quiet =
            startMinute < endMinute
            ? (startMinute..<endMinute).contains(minute)
            : minute >= startMinute || minute < endMinute
        guard quiet else { return nil }
        let startOfDay = calendar.startOfDay(for: date)
        let dayOffset = (startMinute > endMinute && minute >= startMinute) ? 1 : 0
        guard let day = calendar.date(byAdding: .day, value: dayOffset, to: startOfDay),
            let end = calendar.date(bySettingHour: endMinute / 60, minute: endMinute % 60, second: 0, of: day)
        else { return nil }
        return end
    }
}

/// At most `limit` marketing messages per customer within `window`; `nil` limit means no cap.
public struct FrequencyCap: Sendable, Equatable, CustomStringConvertible {
    public var limit: Int?
    public var window: Duration

    public static let off = FrequencyCap(limit: nil, window: .zero)

    public init(limit: Int?, window: Duration) {
        self.limit = limit
        self.window = window
    }

    /// Parses `3/7d`, `1/24h` or `off`.
    public init?(parsing text: String) {
        if text == "off" {
            self = .off
            return
        }
        let parts = text.split(separator: "/")
        guard parts.count == 2, let limit = Int(parts[0]), limit > 0, let unit = parts[1].last,
            let amount = Int(parts[1].dropLast()), amount > 0, amount <= 366 * 24
        else { return nil }
        switch unit {
        case "d": self.init(limit: limit, window: .seconds(amount * 86_400))
        case "h": self.init(limit: limit, window: .seconds(amount * 3_600))
        default: return nil
        }
    }

    public var description: String {
        guard let limit else { return "off" }
        let seconds = window.components.seconds
        return seconds % 86_400 == 0 ? "\(limit)/\(seconds / 86_400)d" : "\(limit)/\(seconds / 3_600)h"
    }
}

import C360ServerKit
public import Foundation

/// Turns a customer's recent touchpoints into the engagement windows (7, 30 and 90 days by default) that the profile
/// page shows and the health score's engagement component reads. It is pure, and the caller fetches the events, so
/// every count can be checked by hand without a database.
public enum EngagementCalculator {
    /// Seconds in a day. Windows and UTC calendar days use whole 86 400-second days because Unix time has no leap
    /// seconds.
    static let secondsPerDay: TimeInterval = 86_400

    /// Works out one customer's engagement windows as of `asOf`.
    ///
    /// A window of `d` days covers (asOf − d·86 400 s, asOf]. An event exactly `d` days old has left the window, and
    /// an event at `asOf` is inside it. Events after `asOf` or older than a window are ignored, so the caller may pass
    /// more events than the windows need.
    /// - Parameters:
    ///   - events: the customer's touchpoints, in any order.
    ///   - totals: the lifetime counters, returned unchanged so one message carries both views.
    ///   - asOf: the end of every window; the caller's clock, never read here.
    ///   - windowDays: the window lengths, returned in this order.
    public static func engagement(
        events: [ActivityEvent], totals: ActivityTotals, asOf: Date, windowDays: [Int] = [7, 30, 90]
    ) -> EngagementStats {
        EngagementStats(
            asOf: asOf,
            windows: windowDays.map { window(days: $0, events: events, asOf: asOf) },
            totals: totals
        )
    }

    /// Computes the counters of one window. If `days` is zero or negative, the window is empty.
    static func window(days: Int, events: [ActivityEvent], asOf: Date) -> EngagementWindow {
        let start = asOf.addingTimeInterval(-Double(days) * secondsPerDay)
        var touchpoints: Int64 = 0
        var inbound: Int64 = 0
        var outbound: Int64 = 0
        var byChannel: [Channel: Int64] = [:]
        var activeDays = Set<Int64>()
        for event in events where event.occurredAt > start && event.occurredAt <= asOf {
            touchpoints += 1
            switch event.direction {
            case .inbound: inbound += 1
            case .outbound: outbound += 1
            }
            byChannel[event.channel, default: 0] += 1
            activeDays.insert(utcDay(of: event.occurredAt))
        }
        return EngagementWindow(
            days: days, touchpoints: touchpoints, inbound: inbound, outbound: outbound,
            activeDays: activeDays.count, byChannel: byChannel
        )
    }

    /// Returns the UTC calendar day of `date` as a count of days since 1970-01-01. Two instants share a day number
    /// exactly when they share a UTC `yyyy-mm-dd`, and no calendar or time zone is needed to compute it.
    static func utcDay(of date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 / secondsPerDay).rounded(.down))
    }
}

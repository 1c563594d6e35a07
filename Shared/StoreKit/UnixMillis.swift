public import Foundation

/// Dates as Unix milliseconds, the unit the instant columns of interaction-, feedback-, success- and
/// outreach-service and the gateway use (integers keep indexes small and comparisons cheap). profile-service is the
/// exception: its records store `Date` through GRDB's default (`YYYY-MM-DD HH:MM:SS.SSS` text, which also sorts in
/// time order), and its newer columns follow that so one database keeps one format; moving it to integers would
/// rewrite every row of its largest tables in a migration, which no measurement has asked for yet.
extension Date {
    /// Saturates instead of trapping: requests are range-checked before they become dates (`Validate.timestamp`),
    /// so this only guards against a date computed from one (a window end plus a margin), where a wrong answer at
    /// the edge of time is better than a crashed process.
    public var unixMillis: Int64 {
        let millis = (timeIntervalSince1970 * 1000).rounded()
        guard millis.isFinite else { return millis > 0 ? .max : .min }
        return Int64(exactly: millis) ?? (millis > 0 ? .max : .min)
    }

    public init(unixMillis: Int64) {
        self.init(timeIntervalSince1970: Double(unixMillis) / 1000)
    }
}

extension Date {
    /// This instant moved by `duration` (negative moves back), to the attosecond a `TimeInterval` can carry: delays,
    /// retries and retention windows are `Duration`s, instants are `Date`s.
    public func adding(_ duration: Duration) -> Date {
        addingTimeInterval(Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
    }
}

public import C360Contracts
public import Foundation

/// The bounds of a `TimeRange` as dates; an unset bound is open (nil).
extension Customer360_V1_TimeRange {
    public var startDate: Date? { hasStart ? start.date : nil }
    public var endDate: Date? { hasEnd ? end.date : nil }
}

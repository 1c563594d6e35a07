public import Foundation

/// Dates as Unix milliseconds, the unit every instant column of every service's database uses (integers keep
/// indexes small and comparisons cheap).
extension Date {
    public var unixMillis: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }

    public init(unixMillis: Int64) {
        self.init(timeIntervalSince1970: Double(unixMillis) / 1000)
    }
}

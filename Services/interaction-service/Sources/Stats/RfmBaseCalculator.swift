public import Foundation

/// The whole customer base's RFM picture (`GetRfmSegments`): how many buyers fall in each segment with their orders and
/// net revenue, the base's cut points, repeat buyers, and the historic and predictive CLV sums.
///
/// A pure function of the buyers' counters, so the handler only reads and converts, and the arithmetic is tested on
/// its own (`RfmBaseCalculatorTests`).
public enum RfmBaseCalculator {
    /// One segment's share of the base.
    public struct SegmentSize: Hashable, Sendable {
        public var customers: Int64 = 0
        public var orders: Int64 = 0
        public var netMinor: Int64 = 0
    }

    /// The base summed up.
    public struct Summary: Hashable, Sendable {
        /// Only segments with at least one customer.
        public var segments: [RfmSegment: SegmentSize] = [:]
        /// nil when nobody bought anything.
        public var cutPoints: RfmCutPoints?
        public var customersWithPurchases: Int64 = 0
        public var customersWithRepeatPurchases: Int64 = 0
        public var historicCLVMinor: Int64 = 0
        public var predictiveCLVMinor: Int64 = 0
    }

    /// Sums up `buyers` (the counters of every customer with a purchase) at `asOf`.
    public static func summarize(_ buyers: [CommerceTotals], asOf: Date, settings: CommerceSettings) -> Summary {
        let inputs = buyers.compactMap(\.rfmInput)
        var summary = Summary(
            cutPoints: RfmCalculator.cutPoints(from: inputs, asOf: asOf),
            customersWithPurchases: Int64(inputs.count))
        for input in inputs {
            if let cutPoints = summary.cutPoints {
                let segment = RfmCalculator.score(input, asOf: asOf, cutPoints: cutPoints).segment
                summary.segments[segment, default: SegmentSize()].customers += 1
                summary.segments[segment, default: SegmentSize()].orders += input.orders
                summary.segments[segment, default: SegmentSize()].netMinor += input.netMinor
            }
            summary.historicCLVMinor += input.netMinor
            if input.orders > 1 { summary.customersWithRepeatPurchases += 1 }
        }
        for totals in buyers {
            summary.predictiveCLVMinor +=
                CommerceCalculator.commerce(
                    totals: totals, asOf: asOf, settings: settings, cutPoints: nil
                ).predictiveCLVMinor ?? 0
        }
        return summary
    }
}

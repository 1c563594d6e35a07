public import Foundation

/// Derives a customer's commerce KPIs from the lifetime counters that interaction-service keeps up to date on ingest:
/// average order value, repeat rate, discount dependence, historic and predictive CLV, and the RFM score. Reading them
/// therefore never scans the purchase history.
public enum CommerceCalculator {
    /// Seconds in an average Gregorian year (365.25 days), used to convert tenure into years.
    static let secondsPerYear: TimeInterval = 365.25 * 86_400

    /// Computes one customer's commerce KPIs as of `asOf`.
    ///
    /// - Average order value = gross ÷ orders, rounded half away from zero. It is computed from gross (not net) sales
    ///   because it describes the basket a customer buys, whatever is refunded later.
    /// - Historic CLV = net (gross − refunded).
    /// - Purchases per year = orders ÷ years since the first purchase. That span is never shorter than
    ///   `settings.minimumTenure`, so one recent order does not extrapolate to hundreds a year.
    /// - Predictive CLV = gross ÷ orders × purchases per year × expected lifetime years, rounded once at the end. It
    ///   uses the exact gross mean (the unrounded AOV), so refunds lower historic CLV but not predictive CLV.
    ///   ARCHITECTURE.md defines predictive CLV as AOV × frequency × lifetime.
    /// - Discount-driven: at least `discountDrivenMinimumOrders` orders, of which at least `discountDrivenShare`
    ///   carry a discount code.
    /// - RFM: scored against `cutPoints` (the customer base's quintiles). It is nil without orders, without a last
    ///   purchase date or without cut points.
    ///
    /// `totals.orders` is taken as the number of orders in the reporting currency. `otherCurrencyOrders` plays no
    /// part in any of these figures.
    public static func commerce(
        totals: CommerceTotals, asOf: Date, settings: CommerceSettings, cutPoints: RfmCutPoints?
    ) -> CommerceStats {
        let orders = totals.orders
        let hasOrders = orders > 0
        let share: Double? = hasOrders ? Double(totals.discountedOrders) / Double(orders) : nil
        let perYear = purchasesPerYear(totals: totals, asOf: asOf, minimumTenure: settings.minimumTenure)
        let predictive = perYear.flatMap { rate in
            roundedMinor(Double(totals.grossMinor) / Double(orders) * rate * settings.expectedLifetimeYears)
        }
        let discountDriven = hasOrders && orders >= settings.discountDrivenMinimumOrders
            && (share ?? 0) >= settings.discountDrivenShare
        var rfm: RfmScore?
        if hasOrders, let lastPurchaseAt = totals.lastPurchaseAt, let cutPoints {
            let input = RfmInput(lastPurchaseAt: lastPurchaseAt, orders: orders, netMinor: totals.netMinor)
            rfm = RfmCalculator.score(input, asOf: asOf, cutPoints: cutPoints)
        }
        return CommerceStats(
            asOf: asOf,
            currency: settings.currency,
            totals: totals,
            averageOrderValueMinor: hasOrders ? roundedQuotient(totals.grossMinor, orders) : nil,
            repeatOrders: max(orders - 1, 0),
            repeatPurchaseRate: hasOrders ? Double(orders - 1) / Double(orders) : nil,
            discountShare: share,
            discountDriven: discountDriven,
            historicCLVMinor: totals.netMinor,
            predictiveCLVMinor: predictive,
            purchasesPerYear: perYear,
            expectedLifetimeYears: settings.expectedLifetimeYears,
            rfm: rfm
        )
    }

    /// Returns orders per year over the customer's tenure, which is never shorter than `minimumTenure`. It is nil
    /// without orders or a first purchase date. It is also nil when the tenure is not positive, which can happen with
    /// a zero minimum tenure and an order at `asOf`.
    static func purchasesPerYear(totals: CommerceTotals, asOf: Date, minimumTenure: TimeInterval) -> Double? {
        guard totals.orders > 0, let firstPurchaseAt = totals.firstPurchaseAt else { return nil }
        let tenure = max(asOf.timeIntervalSince(firstPurchaseAt), minimumTenure)
        guard tenure > 0 else { return nil }
        return Double(totals.orders) / (tenure / secondsPerYear)
    }

    /// Returns `numerator ÷ denominator` rounded half away from zero. It uses integer arithmetic so that large sums
    /// of minor units lose no precision. `denominator` must be positive.
    static func roundedQuotient(_ numerator: Int64, _ denominator: Int64) -> Int64 {
        let quotient = numerator / denominator
        let remainder = (numerator % denominator).magnitude
        guard remainder >= denominator.magnitude - remainder else { return quotient }
        return numerator < 0 ? quotient - 1 : quotient + 1
    }

    /// Rounds a Double amount of minor units half away from zero. It returns nil when the value is not finite or
    /// does not fit in `Int64`, rather than trapping.
    static func roundedMinor(_ value: Double) -> Int64? {
        Int64(exactly: value.rounded(.toNearestOrAwayFromZero))
    }
}

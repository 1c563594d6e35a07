public import Foundation

/// Derives a customer's commerce KPIs from the lifetime counters that interaction-service keeps up to date on ingest:
/// average order value, repeat rate, discount dependence, historic and predictive CLV, and the RFM score. Reading them
/// therefore never scans the purchase history.
public enum CommerceCalculator {
    /// Seconds in an average Gregorian year (365.25 days), used to convert tenure into years.
    static let secondsPerYear: TimeInterval = 365.25 * 86_400

    /// Computes one customer's commerce KPIs as of `asOf`.
    ///
    /// - Average order value: see `averageOrderValue(of:)`, its one definition.
    /// - Historic CLV = net (gross − refunded).
    /// - Purchases per year = orders ÷ years since the first purchase. That span is never shorter than
    ///   `settings.minimumTenure`, so one recent order does not extrapolate to hundreds a year.
    /// - Predictive CLV = AOV × purchases per year × expected lifetime years (ARCHITECTURE.md), rounded once at the
    ///   end from the exact (unrounded) AOV. Since AOV is gross, refunds lower historic CLV but not predictive CLV.
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
        let aov = averageOrderValue(of: totals)
        let predictive = perYear.flatMap { rate in
            aov.flatMap { roundedMinor($0.exact * rate * settings.expectedLifetimeYears) }
        }
        let discountDriven =
            hasOrders && orders >= settings.discountDrivenMinimumOrders
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
            averageOrderValueMinor: aov?.minor,
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

    /// Average order value = gross revenue ÷ orders, the one definition every figure uses (the contract's
    /// `CommerceStats.average_order_value` and predictive CLV). Gross, not net: AOV describes the basket a customer
    /// buys when they order; refunds that come later are what historic CLV (net) is for. `minor` is rounded half away
    /// from zero in integer arithmetic; `exact` feeds predictive CLV so it is rounded only once. Nil without orders.
    static func averageOrderValue(of totals: CommerceTotals) -> (exact: Double, minor: Int64)? {
        guard totals.orders > 0 else { return nil }
        return (Double(totals.grossMinor) / Double(totals.orders), roundedQuotient(totals.grossMinor, totals.orders))
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

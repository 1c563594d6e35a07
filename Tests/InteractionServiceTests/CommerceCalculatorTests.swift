import Foundation
import Testing

@testable import C360Interaction

/// Fixed instants and settings for the commerce tests.
private enum CommerceFixture {
    /// 2026-06-01T00:00:00Z.
    static let asOf = Date(timeIntervalSince1970: 1_780_272_000)
    static let day: TimeInterval = 86_400
    /// USD, 3-year lifetime, 90-day minimum tenure, discount-driven at ≥ 3 orders and ≥ 80%.
    static let settings = CommerceSettings()
    /// Recency days 10/20/30/40, orders 1/2/3/4, net 1000/2000/3000/4000.
    static let cuts = RfmCutPoints(
        recencyDays: [10, 20, 30, 40], frequency: [1, 2, 3, 4], monetaryMinor: [1_000, 2_000, 3_000, 4_000]
    )

    static func daysBefore(_ days: Double) -> Date {
        asOf.addingTimeInterval(-days * day)
    }

    static func stats(_ totals: CommerceTotals, cutPoints: RfmCutPoints? = CommerceFixture.cuts) -> CommerceStats {
        CommerceCalculator.commerce(totals: totals, asOf: asOf, settings: settings, cutPoints: cutPoints)
    }
}

@Suite("CommerceCalculator: averages, repeat rate and lifetime value")
struct CommerceCalculatorValueTests {
    private typealias F = CommerceFixture

    @Test("a customer without orders has no averages, no predictive CLV and no RFM score")
    func noOrders() {
        let stats = F.stats(CommerceTotals())

        // 0 orders: every ratio is undefined, nothing is repeat or discount-driven, historic CLV 0.
        #expect(stats.averageOrderValueMinor == nil)
        #expect(stats.repeatOrders == 0)
        #expect(stats.repeatPurchaseRate == nil)
        #expect(stats.discountShare == nil)
        #expect(stats.discountDriven == false)
        #expect(stats.historicCLVMinor == 0)
        #expect(stats.purchasesPerYear == nil)
        #expect(stats.predictiveCLVMinor == nil)
        #expect(stats.rfm == nil)
        #expect(stats.currency == "USD")
        #expect(stats.expectedLifetimeYears == 3)
        #expect(stats.asOf == F.asOf)
    }

    @Test("three orders over exactly one year give AOV, repeat rate and both CLVs")
    func threeOrdersOneYear() {
        let totals = CommerceTotals(
            orders: 3, refunds: 1, grossMinor: 9_000, refundedMinor: 1_000,
            firstPurchaseAt: F.daysBefore(365.25), lastPurchaseAt: F.daysBefore(10)
        )
        let stats = F.stats(totals)

        // 3 orders, gross 9000: AOV = 3000. Repeat orders 3 − 1 = 2, rate 2/3. Historic CLV = 9000 − 1000 = 8000.
        // Tenure 365.25 days = 1 year: 3 purchases a year. Predictive = 3000 × 3 × 3 years = 27000.
        #expect(stats.totals == totals)
        #expect(stats.averageOrderValueMinor == 3_000)
        #expect(stats.repeatOrders == 2)
        #expect(stats.repeatPurchaseRate == 2.0 / 3.0)
        #expect(stats.historicCLVMinor == 8_000)
        #expect(stats.purchasesPerYear == 3)
        #expect(stats.predictiveCLVMinor == 27_000)
    }

    @Test("one recent order is spread over the minimum tenure instead of extrapolated from a single day")
    func oneOrderMinimumTenure() throws {
        let totals = CommerceTotals(
            orders: 1, grossMinor: 5_000, firstPurchaseAt: F.daysBefore(1), lastPurchaseAt: F.daysBefore(1)
        )
        let stats = F.stats(totals)

        // Tenure max(1 day, 90 days) = 90 days = 90/365.25 years: 365.25/90 = 4.058333… purchases a year.
        // Predictive = 5000 × 4.058333… × 3 = 60875. One order: no repeat, repeat rate 0.
        let perYear = try #require(stats.purchasesPerYear)
        #expect(abs(perYear - 365.25 / 90) < 1e-9)
        #expect(stats.predictiveCLVMinor == 60_875)
        #expect(stats.averageOrderValueMinor == 5_000)
        #expect(stats.repeatOrders == 0)
        #expect(stats.repeatPurchaseRate == 0)
    }

    @Test("predictive CLV uses the average of gross sales, so refunds lower historic CLV only")
    func predictiveUsesGross() {
        let totals = CommerceTotals(
            orders: 2, refunds: 2, grossMinor: 10_000, refundedMinor: 10_000,
            firstPurchaseAt: F.daysBefore(365.25), lastPurchaseAt: F.daysBefore(100)
        )
        let stats = F.stats(totals)

        // AOV = 10000 / 2 = 5000 (gross); 2 purchases a year; predictive = 5000 × 2 × 3 = 30000; net = 0.
        #expect(stats.averageOrderValueMinor == 5_000)
        #expect(stats.historicCLVMinor == 0)
        #expect(stats.predictiveCLVMinor == 30_000)
    }

    @Test("AOV is gross revenue ÷ orders, as the contract says: a refund lowers net revenue, not AOV")
    func aovIsGrossOverOrders() {
        // The case reported from outside: 5 orders totalling 48,800 minor units and a 2,000 refund.
        let totals = CommerceTotals(orders: 5, refunds: 1, grossMinor: 48_800, refundedMinor: 2_000)
        let stats = F.stats(totals)

        // AOV = 48,800 ÷ 5 = 9,760 (net ÷ orders would be 46,800 ÷ 5 = 9,360); net = historic CLV = 46,800.
        #expect(stats.averageOrderValueMinor == 9_760)
        #expect(stats.historicCLVMinor == 46_800)
    }

    @Test("without a first purchase date there is no purchase rate and no predictive CLV")
    func noFirstPurchaseDate() {
        let stats = F.stats(CommerceTotals(orders: 2, grossMinor: 4_000))

        // AOV 4000 / 2 = 2000 is still known; the rate needs a tenure.
        #expect(stats.averageOrderValueMinor == 2_000)
        #expect(stats.purchasesPerYear == nil)
        #expect(stats.predictiveCLVMinor == nil)
    }

    @Test("AOV rounds to the nearest minor unit, halves away from zero")
    func aovRounding() {
        // 10 / 4 = 2.5 → 3; 9 / 4 = 2.25 → 2; 11 / 4 = 2.75 → 3; 6 / 4 = 1.5 → 2.
        #expect(F.stats(CommerceTotals(orders: 4, grossMinor: 10)).averageOrderValueMinor == 3)
        #expect(F.stats(CommerceTotals(orders: 4, grossMinor: 9)).averageOrderValueMinor == 2)
        #expect(F.stats(CommerceTotals(orders: 4, grossMinor: 11)).averageOrderValueMinor == 3)
        #expect(F.stats(CommerceTotals(orders: 4, grossMinor: 6)).averageOrderValueMinor == 2)
        // −10 / 4 = −2.5 → −3; −9 / 4 = −2.25 → −2.
        #expect(CommerceCalculator.roundedQuotient(-10, 4) == -3)
        #expect(CommerceCalculator.roundedQuotient(-9, 4) == -2)
    }
}

@Suite("CommerceCalculator: discount-driven customers")
struct CommerceCalculatorDiscountTests {
    private typealias F = CommerceFixture

    /// The stats of a customer with `orders` orders, `discounted` of them with a discount code.
    func stats(orders: Int64, discounted: Int64) -> CommerceStats {
        F.stats(CommerceTotals(orders: orders, grossMinor: orders * 1_000, discountedOrders: discounted))
    }

    @Test("three of three discounted orders are discount-driven; two of three are not")
    func threeOrders() {
        // 3/3 = 1.0 ≥ 0.8 with 3 ≥ 3 orders → yes. 2/3 = 0.667 < 0.8 → no.
        #expect(stats(orders: 3, discounted: 3).discountDriven)
        #expect(stats(orders: 3, discounted: 3).discountShare == 1)
        #expect(!stats(orders: 3, discounted: 2).discountDriven)
    }

    @Test("exactly 80% of five orders is discount-driven; 60% is not")
    func exactlyTheShare() {
        // 4/5 = 0.8 ≥ 0.8 → yes. 3/5 = 0.6 → no.
        #expect(stats(orders: 5, discounted: 4).discountShare == 0.8)
        #expect(stats(orders: 5, discounted: 4).discountDriven)
        #expect(!stats(orders: 5, discounted: 3).discountDriven)
    }

    @Test("every order discounted is not enough below the minimum number of orders")
    func tooFewOrders() {
        // 2/2 = 1.0 but 2 < 3 orders → no.
        #expect(stats(orders: 2, discounted: 2).discountShare == 1)
        #expect(!stats(orders: 2, discounted: 2).discountDriven)
    }
}

@Suite("CommerceCalculator: RFM score")
struct CommerceCalculatorRfmTests {
    private typealias F = CommerceFixture

    @Test("a purchasing customer is scored against the base's cut points")
    func scored() {
        let totals = CommerceTotals(
            orders: 5, grossMinor: 5_000, refundedMinor: 500,
            firstPurchaseAt: F.daysBefore(200), lastPurchaseAt: F.daysBefore(5)
        )

        // 5 days ≤ every recency cut → R 5; 5 orders > 1, 2, 3, 4 → F 5; net 4500 > 4000 → M 5; champions.
        #expect(F.stats(totals).rfm == RfmScore(recency: 5, frequency: 5, monetary: 5, segment: .champions))
    }

    @Test("there is no RFM score without cut points or without a last purchase date")
    func unscored() {
        let withDate = CommerceTotals(orders: 1, grossMinor: 1_000, lastPurchaseAt: F.daysBefore(1))
        let withoutDate = CommerceTotals(orders: 1, grossMinor: 1_000)

        #expect(F.stats(withDate, cutPoints: nil).rfm == nil)
        #expect(F.stats(withoutDate).rfm == nil)
        // The same customer with cut points: 1 day → R 5; 1 order → F 1; 1000 → M 1; FM 1 → new.
        #expect(F.stats(withDate).rfm == RfmScore(recency: 5, frequency: 1, monetary: 1, segment: .new))
    }
}

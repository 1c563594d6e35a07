import Foundation
import Testing

@testable import C360Interaction

@Suite("RfmBaseCalculator: the whole base's segments and CLV sums")
struct RfmBaseCalculatorTests {
    static let asOf = Date(timeIntervalSince1970: 1_780_272_000)
    static let settings = CommerceSettings(currency: "USD")

    static func buyer(daysAgo: Double, orders: Int64, net: Int64) -> CommerceTotals {
        CommerceTotals(
            orders: orders, grossMinor: net, firstPurchaseAt: asOf.addingTimeInterval(-400 * 86_400),
            lastPurchaseAt: asOf.addingTimeInterval(-daysAgo * 86_400))
    }

    /// Five buyers in the reporting currency (RfmCalculatorTests' base) and one who bought only in another.
    static let base = [
        buyer(daysAgo: 2, orders: 10, net: 50_000), buyer(daysAgo: 10, orders: 4, net: 20_000),
        buyer(daysAgo: 30, orders: 2, net: 8_000), buyer(daysAgo: 60, orders: 1, net: 3_000),
        buyer(daysAgo: 200, orders: 6, net: 30_000), CommerceTotals(otherCurrencyOrders: 3),
    ]

    @Test("every buyer in the reporting currency is in exactly one segment; the segments add up to the base")
    func segmentsAddUp() {
        let summary = RfmBaseCalculator.summarize(Self.base, asOf: Self.asOf, settings: Self.settings)
        #expect(summary.customersWithPurchases == 5)
        #expect(summary.segments.values.map(\.customers).reduce(0, +) == 5)
        #expect(summary.segments.values.map(\.orders).reduce(0, +) == 23)
        #expect(summary.segments.values.map(\.netMinor).reduce(0, +) == 111_000)
        #expect(summary.segments.values.allSatisfy { $0.customers > 0 })
        #expect(summary.cutPoints?.frequency == [1, 2, 4, 6])
        // The best customer (2 days, 10 orders, the most spent) is a champion.
        #expect(summary.segments[.champions]?.customers == 1 && summary.segments[.champions]?.netMinor == 50_000)
    }

    @Test("repeat buyers have more than one order; historic CLV is the net spent; predictive CLV sums each buyer's")
    func sums() {
        let summary = RfmBaseCalculator.summarize(Self.base, asOf: Self.asOf, settings: Self.settings)
        #expect(summary.customersWithRepeatPurchases == 4)
        #expect(summary.historicCLVMinor == 111_000)
        let each = Self.base.map {
            CommerceCalculator.commerce(totals: $0, asOf: Self.asOf, settings: Self.settings, cutPoints: nil)
                .predictiveCLVMinor ?? 0
        }
        #expect(summary.predictiveCLVMinor == each.reduce(0, +) && summary.predictiveCLVMinor > 0)
    }

    @Test("a base without purchases has no cut points, no segments and zero sums")
    func emptyBase() {
        let summary = RfmBaseCalculator.summarize(
            [CommerceTotals(otherCurrencyOrders: 1)], asOf: Self.asOf,
            settings: Self.settings)
        #expect(summary == RfmBaseCalculator.Summary())
    }
}

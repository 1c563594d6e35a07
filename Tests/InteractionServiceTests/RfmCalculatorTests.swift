import Foundation
import Testing

@testable import C360Interaction

/// A hand-made base of five customers, all as of 2026-06-01T00:00:00Z.
private enum RfmFixture {
    static let asOf = Date(timeIntervalSince1970: 1_780_272_000)

    static func customer(daysAgo: Double, orders: Int64, net: Int64) -> RfmInput {
        RfmInput(lastPurchaseAt: asOf.addingTimeInterval(-daysAgo * 86_400), orders: orders, netMinor: net)
    }

    static let a = customer(daysAgo: 2, orders: 10, net: 50_000)
    static let b = customer(daysAgo: 10, orders: 4, net: 20_000)
    static let c = customer(daysAgo: 30, orders: 2, net: 8_000)
    static let d = customer(daysAgo: 60, orders: 1, net: 3_000)
    static let e = customer(daysAgo: 200, orders: 6, net: 30_000)
    static let base = [a, b, c, d, e]
}

@Suite("RfmCalculator: cut points over the customer base")
struct RfmCalculatorCutPointTests {
    private typealias F = RfmFixture

    @Test("an empty base has no cut points")
    func emptyBase() {
        #expect(RfmCalculator.cutPoints(from: [], asOf: F.asOf) == nil)
    }

    @Test("five customers give nearest-rank cut points at the 1st to 4th sorted values")
    func fiveCustomers() {
        // n = 5: ranks ⌈0.2·5⌉ … ⌈0.8·5⌉ = 1, 2, 3, 4 → the four lowest sorted values.
        // Recency days sorted 2, 10, 30, 60, 200; orders 1, 2, 4, 6, 10; net 3000, 8000, 20000, 30000, 50000.
        let cuts = RfmCalculator.cutPoints(from: F.base, asOf: F.asOf)
        #expect(cuts?.recencyDays == [2, 10, 30, 60])
        #expect(cuts?.frequency == [1, 2, 4, 6])
        #expect(cuts?.monetaryMinor == [3_000, 8_000, 20_000, 30_000])
    }

    @Test("with three customers the nearest ranks repeat values")
    func threeCustomers() {
        let inputs = [
            F.customer(daysAgo: 1, orders: 1, net: 100),
            F.customer(daysAgo: 5, orders: 1, net: 200),
            F.customer(daysAgo: 9, orders: 5, net: 300),
        ]
        // n = 3: ranks ⌈0.6⌉, ⌈1.2⌉, ⌈1.8⌉, ⌈2.4⌉ = 1, 2, 2, 3 → indices 0, 1, 1, 2.
        let cuts = RfmCalculator.cutPoints(from: inputs, asOf: F.asOf)
        #expect(cuts?.recencyDays == [1, 5, 5, 9])
        #expect(cuts?.frequency == [1, 1, 1, 5])
        #expect(cuts?.monetaryMinor == [100, 200, 200, 300])
    }

    @Test("recency counts whole days elapsed, rounding part days down and future purchases to zero")
    func recencyDays() {
        // 2 days 21.6 hours → 2; one hour in the future → 0.
        #expect(RfmCalculator.recencyDays(since: F.asOf.addingTimeInterval(-2.9 * 86_400), asOf: F.asOf) == 2)
        #expect(RfmCalculator.recencyDays(since: F.asOf.addingTimeInterval(3_600), asOf: F.asOf) == 0)
    }
}

@Suite("RfmCalculator: scoring customers")
struct RfmCalculatorScoreTests {
    private typealias F = RfmFixture

    /// The score of `input` against the five-customer base's cut points.
    func score(_ input: RfmInput) throws -> RfmScore {
        let cuts = try #require(RfmCalculator.cutPoints(from: F.base, asOf: F.asOf))
        return RfmCalculator.score(input, asOf: F.asOf, cutPoints: cuts)
    }

    // Cut points: recency [2, 10, 30, 60], frequency [1, 2, 4, 6], monetary [3000, 8000, 20000, 30000].

    @Test("the most recent, most frequent, biggest spender is a champion")
    func champion() throws {
        // 2 days: none of the cuts below → R 5; 10 orders above all 4 → F 5; 50000 above all 4 → M 5; FM 5.
        #expect(try score(F.a) == RfmScore(recency: 5, frequency: 5, monetary: 5, segment: .champions))
    }

    @Test("a recent customer with middling spend is a potential loyalist")
    func potentialLoyalist() throws {
        // 10 days > 2 → R 4; 4 orders > 1, 2 → F 3; 20000 > 3000, 8000 → M 3; FM 3 → potential loyalist.
        #expect(try score(F.b) == RfmScore(recency: 4, frequency: 3, monetary: 3, segment: .potentialLoyalist))
    }

    @Test("a middling-recency low spender is about to sleep")
    func aboutToSleep() throws {
        // 30 days > 2, 10 → R 3; 2 orders > 1 → F 2; 8000 > 3000 → M 2; FM 2 → about to sleep.
        #expect(try score(F.c) == RfmScore(recency: 3, frequency: 2, monetary: 2, segment: .aboutToSleep))
    }

    @Test("an old one-order customer is hibernating")
    func hibernating() throws {
        // 60 days > 2, 10, 30 → R 2; 1 order → F 1; 3000 → M 1; FM 1 → hibernating.
        #expect(try score(F.d) == RfmScore(recency: 2, frequency: 1, monetary: 1, segment: .hibernating))
    }

    @Test("a valuable customer who stopped buying long ago cannot be lost")
    func cannotLose() throws {
        // 200 days > all 4 → R 1; 6 orders > 1, 2, 4 → F 4; 30000 > 3000, 8000, 20000 → M 4; FM 4 → cannot lose.
        #expect(try score(F.e) == RfmScore(recency: 1, frequency: 4, monetary: 4, segment: .cannotLose))
    }

    @Test("values level with a cut point take the lower frequency and monetary score and the higher recency score")
    func tiesWithCutPoints() throws {
        let level = F.customer(daysAgo: 10, orders: 2, net: 8_000)
        // 10 days: only 2 is strictly below → R 4; 2 orders: only 1 below → F 2; 8000: only 3000 below → M 2.
        // FM 2, R 4 → potential loyalist.
        #expect(try score(level) == RfmScore(recency: 4, frequency: 2, monetary: 2, segment: .potentialLoyalist))
    }
}

@Suite("RfmCalculator: naming segments")
struct RfmCalculatorSegmentTests {
    @Test("every one of the 125 score triples names exactly the segment the documented table gives")
    func totality() {
        var reached = Set<RfmSegment>()
        for r in 1...5 {
            for f in 1...5 {
                for m in 1...5 {
                    let fm = (f + m) / 2
                    let rules: [(segment: RfmSegment, matches: Bool)] = [
                        (.champions, r >= 4 && fm >= 4),
                        (.loyal, r == 3 && fm >= 4),
                        (.cannotLose, r <= 1 && fm >= 4),
                        (.atRisk, r <= 2 && fm >= 3 && !(r <= 1 && fm >= 4)),
                        (.potentialLoyalist, r >= 4 && (2...3).contains(fm)),
                        (.new, r == 5 && fm <= 1),
                        (.promising, r == 4 && fm <= 1),
                        (.needsAttention, r == 3 && fm == 3),
                        (.aboutToSleep, r == 3 && fm <= 2),
                        (.hibernating, r == 2 && fm <= 2),
                        (.lost, r <= 1 && fm <= 2),
                    ]
                    let matching = rules.filter { $0.matches }.map { $0.segment }
                    let segment = RfmCalculator.segment(recency: r, frequency: f, monetary: m)
                    // Exactly one rule holds, and it is the one the calculator picked.
                    #expect(matching == [segment], "R \(r) F \(f) M \(m)")
                    reached.insert(segment)
                }
            }
        }
        // Every named segment is reachable; no_purchases is only for customers without scores.
        #expect(reached == Set(RfmSegment.allCases).subtracting([.noPurchases]))
    }

    @Test("FM is the mean of frequency and monetary rounded down")
    func fmRoundsDown() {
        // F 1 M 2 → FM 1: R 5 → new, R 4 → promising. F 3 M 4 → FM 3: R 3 → needs attention.
        #expect(RfmCalculator.segment(recency: 5, frequency: 1, monetary: 2) == .new)
        #expect(RfmCalculator.segment(recency: 4, frequency: 2, monetary: 1) == .promising)
        #expect(RfmCalculator.segment(recency: 3, frequency: 3, monetary: 4) == .needsAttention)
        // F 5 M 4 → FM 4: R 3 → loyal; R 1 → cannot lose. F 3 M 3 → FM 3: R 1 → at risk. F 1 M 2 → FM 1: R 1 → lost.
        #expect(RfmCalculator.segment(recency: 3, frequency: 5, monetary: 4) == .loyal)
        #expect(RfmCalculator.segment(recency: 1, frequency: 5, monetary: 4) == .cannotLose)
        #expect(RfmCalculator.segment(recency: 1, frequency: 3, monetary: 3) == .atRisk)
        #expect(RfmCalculator.segment(recency: 1, frequency: 1, monetary: 2) == .lost)
    }

    @Test("scores outside 1 to 5 are clamped before the table is read")
    func clamped() {
        // (9, 0, 7) → (5, 1, 5): FM 3, R 5 → potential loyalist. (−1, 9, 9) → (1, 5, 5): cannot lose.
        #expect(RfmCalculator.segment(recency: 9, frequency: 0, monetary: 7) == .potentialLoyalist)
        #expect(RfmCalculator.segment(recency: -1, frequency: 9, monetary: 9) == .cannotLose)
    }
}

public import Foundation

/// Scores customers on recency, frequency and monetary value in quintiles of the whole customer base, and names their
/// segment. Marketing can then target "champions" or "at risk" customers without thresholds tuned by hand for each
/// shop: the cut points move with the base.
public enum RfmCalculator {
    /// The percentiles, in percent, whose values split a dimension into quintiles.
    static let percentiles = [20, 40, 60, 80]

    /// Computes the 20th, 40th, 60th and 80th percentiles of each dimension over the customer base, or nil for an
    /// empty base.
    ///
    /// Uses the nearest-rank method on the sorted values: the p-th percentile is the value at index
    /// max(0, ⌈p·n⌉ − 1). It is computed in integers so that a floating-point product cannot move a rank. Recency is
    /// measured in whole days since the last purchase (see `recencyDays(since:asOf:)`).
    /// - Parameter inputs: one entry for each customer with at least one purchase.
    public static func cutPoints(from inputs: [RfmInput], asOf: Date) -> RfmCutPoints? {
        guard !inputs.isEmpty else { return nil }
        return RfmCutPoints(
            recencyDays: quintileCuts(inputs.map { recencyDays(since: $0.lastPurchaseAt, asOf: asOf) }),
            frequency: quintileCuts(inputs.map { Double($0.orders) }),
            monetaryMinor: quintileCuts(inputs.map { Double($0.netMinor) })
        )
    }

    /// Scores one customer from 1 to 5 against the base's cut points, where 5 is always best, and names the segment.
    ///
    /// - Frequency and monetary value (higher is better): 1 + the number of cut points strictly below the value. A
    ///   value above every cut point scores 5; a value at or below the lowest scores 1.
    /// - Recency in days (lower is better): 5 − the number of cut points strictly below the days. A customer who
    ///   bought no longer ago than every cut point scores 5; one who bought longer ago than all of them scores 1.
    ///
    /// Ties make a cut point equal its neighbours, so a customer level with a cut point takes the lower score for
    /// frequency and monetary value and the higher score for recency. Scores are clamped to 1...5 in case the cut
    /// points are malformed.
    public static func score(_ input: RfmInput, asOf: Date, cutPoints: RfmCutPoints) -> RfmScore {
        let days = recencyDays(since: input.lastPurchaseAt, asOf: asOf)
        let orders = Double(input.orders)
        let net = Double(input.netMinor)
        let recency = clamp(5 - cutPoints.recencyDays.count(where: { days > $0 }))
        let frequency = clamp(1 + cutPoints.frequency.count(where: { orders > $0 }))
        let monetary = clamp(1 + cutPoints.monetaryMinor.count(where: { net > $0 }))
        return RfmScore(
            recency: recency, frequency: frequency, monetary: monetary,
            segment: segment(recency: recency, frequency: frequency, monetary: monetary)
        )
    }

    /// Names the segment of an R, F, M triple, using the common RFM segment map on R and FM = ⌊(F + M) ÷ 2⌋.
    ///
    /// Scores outside 1...5 are clamped first. The table gives every one of the 125 triples exactly one segment
    /// (rows are R, columns are FM):
    ///
    /// | R \ FM | 1               | 2                  | 3                  | 4           | 5           |
    /// |--------|-----------------|--------------------|--------------------|-------------|-------------|
    /// | 5      | new             | potential_loyalist | potential_loyalist | champions   | champions   |
    /// | 4      | promising       | potential_loyalist | potential_loyalist | champions   | champions   |
    /// | 3      | about_to_sleep  | about_to_sleep     | needs_attention    | loyal       | loyal       |
    /// | 2      | hibernating     | hibernating        | at_risk            | at_risk     | at_risk     |
    /// | 1      | lost            | lost               | at_risk            | cannot_lose | cannot_lose |
    ///
    /// `no_purchases` is never returned here. It belongs to customers without scores.
    public static func segment(recency r: Int, frequency f: Int, monetary m: Int) -> RfmSegment {
        let recency = clamp(r)
        let fm = (clamp(f) + clamp(m)) / 2
        switch (recency, fm) {
        case (4...5, 4...5): return .champions
        case (3, 4...5): return .loyal
        case (1, 4...5): return .cannotLose
        case (2, 3...5), (1, 3): return .atRisk
        case (4...5, 2...3): return .potentialLoyalist
        case (5, 1): return .new
        case (4, 1): return .promising
        case (3, 3): return .needsAttention
        case (3, 1...2): return .aboutToSleep
        case (2, 1...2): return .hibernating
        default: return .lost // R 1, FM 1–2: the only cells left.
        }
    }

    /// Returns the whole days elapsed since the last purchase, rounded down and never negative. A purchase 2 days
    /// and 23 hours ago counts as 2 days, so customers who bought on the same day compare equal.
    static func recencyDays(since lastPurchaseAt: Date, asOf: Date) -> Double {
        max(0, (asOf.timeIntervalSince(lastPurchaseAt) / 86_400).rounded(.down))
    }

    /// Returns the nearest-rank 20/40/60/80th percentiles of `values`, which must not be empty.
    static func quintileCuts(_ values: [Double]) -> [Double] {
        let sorted = values.sorted()
        let count = sorted.count
        // ⌈percent·count / 100⌉ − 1, in integers.
        return percentiles.map { percent in sorted[max(0, (percent * count + 99) / 100 - 1)] }
    }

    /// Clamps a score to 1...5.
    static func clamp(_ score: Int) -> Int {
        min(max(score, 1), 5)
    }
}

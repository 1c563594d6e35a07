import Foundation
import Synchronization

/// RFM quintile cut points over the whole customer base, recomputed at most once a minute: every customer's score
/// depends on them, and computing them reads every customer's summary.
final class RfmCutPointsCache: Sendable {
    private let store: InteractionStore
    private let maxAge: Duration
    private let cached = Mutex<(points: RfmCutPoints?, at: ContinuousClock.Instant)?>(nil)

    init(store: InteractionStore, maxAge: Duration = .seconds(60)) {
        self.store = store
        self.maxAge = maxAge
    }

    /// The cut points as of `asOf`; nil when no customer has purchased.
    func cutPoints(asOf: Date) async throws -> RfmCutPoints? {
        let now = ContinuousClock.now
        if let entry = cached.withLock({ $0 }), now - entry.at < maxAge { return entry.points }
        let points = RfmCalculator.cutPoints(from: try await store.rfmInputs(), asOf: asOf)
        cached.withLock { $0 = (points, now) }
        return points
    }
}

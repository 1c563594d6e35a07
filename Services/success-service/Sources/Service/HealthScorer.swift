public import Foundation

/// Computes one customer's health score: asks the peers for facts concurrently, evaluates them, stores the score
/// with the alerts it raises, and publishes those alerts on the feed once committed. Used on demand and by batches.
public struct HealthScorer: Sendable {
    let store: SuccessStore
    let facts: any HealthFactsSource
    let calculator: HealthCalculator
    let rules: AlertRules
    let feed: AlertFeed
    let now: @Sendable () -> Date

    public init(
        store: SuccessStore, facts: any HealthFactsSource, configuration: HealthConfiguration,
        defaultOwner: String, feed: AlertFeed, now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.store = store
        self.facts = facts
        self.calculator = HealthCalculator(configuration: configuration)
        self.rules = AlertRules(configuration: configuration, defaultOwner: defaultOwner)
        self.feed = feed
        self.now = now
    }

    /// Scores `customerID` now.
    ///
    /// - Throws: `SuccessError.noHealthFacts` when no component could be computed (every peer down and no goals).
    public func score(customerID: String, batchID: String = "", dryRun: Bool = false) async throws -> ScoreOutcome {
        let instant = now()
        async let interaction = facts.interactionFacts(customerID: customerID, at: instant)
        async let feedback = facts.feedbackFacts(customerID: customerID)
        let goals = try await store.plans(customerID: customerID).filter { $0.status == .active }.flatMap(\.goals)
        let (engagement, support, commercial) = await interaction
        let feedbackFacts = await feedback
        let evaluation = calculator.evaluate(
            HealthFacts(
                engagement: engagement, support: support, commercial: commercial, feedback: feedbackFacts,
                goals: goals),
            at: instant)
        guard let value = evaluation.score else {
            throw SuccessError.noHealthFacts(
                customer: customerID,
                reasons: evaluation.missing.map { "\($0.kind.rawValue): \($0.reason)" }.joined(separator: "; "),
                peersUnreachable: engagement.isUnreachable || support.isUnreachable || commercial.isUnreachable
                    || feedbackFacts.isUnreachable)
        }
        let outcome = try await store.recordScore(
            customerID: customerID, evaluation: evaluation, score: value,
            computedAt: instant, rules: rules, batchID: batchID, dryRun: dryRun)
        outcome.events.forEach(feed.publish)
        return outcome
    }
}

import C360ChangeFeed
public import C360StoreKit
import Foundation
public import GRDB

/// What moves when a customer moves to another shard: plans with their goals, milestones and progress, the health
/// history with the latest score, alerts with their feed events, tasks, a pending re-score and the merge journal.
/// Batches are this shard's own runs and stay. Nothing is kept across customers, so arriving and leaving only queue
/// a re-score.
extension SuccessStore: SlotMovable {
    public var database: any DatabaseWriter { writer }
    public var dataKeys: Keyring { keyring }

    /// In the order rows can be inserted: goals and milestones name their plan, progress its goal.
    public static let customerTables = [
        CustomerTable(name: "plan", customerColumn: "customerId", assignedKey: "seq", listsCustomers: true),
        CustomerTable(name: "goal", customerColumn: "customerId", assignedKey: "seq"),
        CustomerTable(name: "milestone", customerColumn: "customerId", assignedKey: "seq"),
        CustomerTable(name: "goal_progress", customerColumn: "customerId", assignedKey: "seq"),
        // Every customer ever scored has a score; alerts and tasks come from scores, or from people and journeys.
        CustomerTable(name: "health_score", customerColumn: "customerId", assignedKey: "seq", listsCustomers: true),
        CustomerTable(name: "latest_health", customerColumn: "customerId"),
        CustomerTable(name: "alert", customerColumn: "customerId", assignedKey: "seq", listsCustomers: true),
        CustomerTable(name: "alert_event", customerColumn: "customerId", assignedKey: "seq"),
        CustomerTable(name: "task", customerColumn: "customerId", assignedKey: "seq", listsCustomers: true),
        // A change that arrived for the customer and was not scored yet: the new owner scores it.
        CustomerTable(name: "rescore_queue", customerColumn: "customerId", listsCustomers: true),
        CustomerTable(name: "merge_journal", customerColumn: "survivorId"),
    ]

    /// The new owner scores an arriving customer once it owns them (`HealthRescorer` leaves others queued): what moved
    /// the customer's health while the copy ran may not be in the copied score.
    public func customerArrived(_ db: Database, _ customerID: String) throws {
        try Self.enqueueRescore(db, customerID: customerID, delay: .seconds(1), now: Date())
    }

    public func customerLeaving(_ db: Database, _ customerID: String) throws {}

    /// A handover (a merge across shards) adds the merged customer's rows and keeps the survivor's latest score when
    /// it has one, as a merge on one shard does; the re-score `customerArrived` queues takes in the whole history.
    public func customerGrew(_ db: Database, _ customerID: String) throws {}
}

import C360Clients
import C360Contracts
import C360ServerKit
import C360StoreKit
import C360TestSupport
import Foundation
import GRDB
import GRPCCore
import Testing

@testable import C360ChangeFeed
@testable import C360Success

/// success-service's customers move between shards whole (`SlotMoves` over `SuccessStore`): a plan with its goal,
/// milestone and progress, the health history, a task, sealed text readable under the target's keys.
@Suite("Moving success-service customers between shards (SlotMoves)")
struct SuccessSlotMoveTests {
    /// Two success stores as success-0 (owning every slot) and success-1 of one map file.
    typealias TwoShards = TwoShardStores<SuccessStore>

    @Test(
        "plans, tasks, KPIs and the health summary count a copied customer on the target once the map gives them to it, and no longer on the source"
    )
    func readsAcrossCustomersCountEachCustomerOnce() async throws {
        let shards = try TwoShards(countingOwnSlots: true)
        defer { try? FileManager.default.removeItem(at: shards.mapFile) }
        _ = try await shards.source.createPlan(
            makePlan("plan-ada", goals: [makeGoal("goal-ada", plan: "plan-ada", created: Fixed.day0, due: Fixed.now)]))
        _ = try await shards.source.createTask(
            PlaybookTask(
                id: "task-ada", customerID: Customers.ada, alertID: "", playbook: "check-in", title: "Call Ada",
                instructions: "", ownerID: "csm-ada", dueAt: Fixed.day0, createdAt: Fixed.day0))
        _ = try await shards.target.createPlan(makePlan("plan-sara", customer: Customers.sara))
        func counted(_ store: SuccessStore) async throws -> [Int] {
            [
                try await store.plans(filter: PlanFilter(), after: nil, limit: 10).items.count,
                try await store.tasks(filter: TaskFilter(), after: nil, limit: 10).items.count,
                try await store.kpis(customerID: "", csmOwnerID: "", from: nil, until: nil, at: Fixed.now).activePlans,
                try await store.summary(csmOwnerID: "", at: Fixed.now).overdueTasks,
            ]
        }

        // When ada is copied to the target, she counts on the source only (sara's plan, written to the target before it
        // took any slot, counts nowhere: only the map says whose a row is)
        let page = try await shards.sourceMoves.exportSlots(.with { $0.slots = ["0-1023"] })
        _ = try await shards.targetMoves.importSlotCustomers(
            .with { $0.customers = page.customers.filter { $0.customerID == Customers.ada } })
        #expect(try await counted(shards.source) == [1, 1, 1, 1])
        #expect(try await counted(shards.target) == [0, 0, 0, 0], "sara's plan, written before it took any slot, too")

        // When the source fences the slots and the map gives them to the target, ada counts there, not on the source,
        // which holds her until the drop
        _ = try await shards.sourceMoves.fenceSlots(shards.map.fenceEverySlot)
        try shards.map.giveEverySlotToTarget()
        #expect(try await counted(shards.source) == [0, 0, 0, 0])
        #expect(try await counted(shards.target) == [2, 1, 2, 1])
    }

    @Test("a customer's plan, goal, milestone, progress, task and pending re-score move whole and stay readable")
    func customerMovesWhole() async throws {
        let shards = try TwoShards()
        defer { try? FileManager.default.removeItem(at: shards.mapFile) }
        let store = shards.source
        _ = try await store.createPlan(
            makePlan("plan-ada", goals: [makeGoal("goal-ada", created: Fixed.day0, due: Fixed.now + 30 * Fixed.day)]))
        _ = try await store.addMilestone(
            Milestone(id: "ms-ada", planID: "plan-ada", title: "Kick-off with Ada", dueAt: nil),
            customerID: Customers.ada)
        _ = try await store.recordProgress(
            GoalProgressEntry(
                id: "progress-ada", goalID: "goal-ada", value: 40, recordedAt: Fixed.now, note: "Ada's seats",
                recordedBy: "csm-ada"),
            planID: "plan-ada", customerID: Customers.ada, at: Fixed.now)
        _ = try await store.createTask(
            PlaybookTask(
                id: "task-ada", customerID: Customers.ada, alertID: "", playbook: "check-in", title: "Call Ada",
                instructions: "About the renewal", ownerID: "csm-ada", dueAt: Fixed.now, createdAt: Fixed.now))
        _ = try await store.createPlan(makePlan("plan-sara", customer: Customers.sara))

        let page = try await shards.sourceMoves.exportSlots(.with { $0.slots = ["0-1023"] })
        #expect(Set(page.customers.map(\.customerID)) == [Customers.ada, Customers.sara])
        let ada = try #require(page.customers.first { $0.customerID == Customers.ada })
        #expect(
            Set(ada.tables.map(\.name)).isSuperset(of: ["plan", "goal", "milestone", "goal_progress", "task"]),
            "\(ada.tables.map(\.name))")
        _ = try await shards.targetMoves.importSlotCustomers(.with { $0.customers = page.customers })
        // Copied twice (a mover restarted), it is still one copy.
        _ = try await shards.targetMoves.importSlotCustomers(.with { $0.customers = page.customers })

        let plans = try await shards.target.plans(customerID: Customers.ada)
        #expect(plans.map(\.id) == ["plan-ada"])
        #expect(plans.first?.title == "Plan plan-ada")
        #expect(plans.first?.goals.map(\.currentValue) == [40])
        #expect(plans.first?.milestones.map(\.title) == ["Kick-off with Ada"], "sealed, opened under the target's key")
        let progress = try await shards.target.progress(
            goalID: "goal-ada", planID: "plan-ada", customerID: Customers.ada, after: nil, limit: 10)
        #expect(progress.items.map(\.entry.note) == ["Ada's seats"])
        var filter = TaskFilter()
        filter.customerID = Customers.ada
        let tasks = try await shards.target.tasks(filter: filter, after: nil, limit: 10)
        #expect(tasks.items.map(\.task.title) == ["Call Ada"])
        // The new owner scores every customer that arrives, once it owns them.
        let queued = try await shards.target.writer.read { db in
            try String.fetchAll(db, sql: "SELECT customerId FROM rescore_queue ORDER BY customerId")
        }
        #expect(queued == [Customers.ada, Customers.sara])
    }

    @Test("a fenced customer's writes are refused in the transaction, and a queued re-score leaves them to the target")
    func fenceStopsWrites() async throws {
        let shards = try TwoShards()
        defer { try? FileManager.default.removeItem(at: shards.mapFile) }
        let store = shards.source
        _ = try await store.createPlan(makePlan("plan-ada"))
        try await store.writer.write { db in
            try SuccessStore.enqueueRescore(db, customerID: Customers.sara, delay: .zero, now: Fixed.now)
        }
        _ = try await shards.sourceMoves.fenceSlots(shards.map.fenceEverySlot)
        await #expect(throws: (any Error).self) {
            _ = try await store.createTask(
                PlaybookTask(
                    id: "task-ada", customerID: Customers.ada, alertID: "", playbook: "check-in", title: "Call Ada",
                    instructions: "", ownerID: "csm-ada", dueAt: Fixed.now, createdAt: Fixed.now))
        }
        try await store.writer.write { db in
            try SuccessStore.enqueueRescores(
                db,
                for: [
                    .with {
                        $0.kind = .touchpointRecorded
                        $0.customerID = Customers.ada
                    }
                ], delay: .seconds(1), now: Fixed.now)
        }
        let queued = try await store.rescoreQueueDepth()
        #expect(queued == 1, "the change is left to the shard the customer moves to, not failed on the fence")
        // What was queued before the fence is neither due nor waited for: it can be neither scored nor postponed.
        let (due, next) = try await store.dueRescores(at: Fixed.now + Fixed.day, limit: 10)
        #expect(due.isEmpty)
        #expect(next == nil)
    }

    @Test("after a merge and its unmerge, a plan's goals and milestones name the plan's customer, added ones too")
    func childrenFollowTheirPlanThroughAMergeAndBack() async throws {
        let store = try makeSuccessStore()
        _ = try await store.createPlan(
            makePlan(
                "plan-m", customer: Customers.mergedAway,
                goals: [makeGoal("goal-1", created: Fixed.day0, due: Fixed.now + Fixed.day)]))
        try await store.writer.write { db in
            try store.rekey(db, merged: Customers.mergedAway, survivor: Customers.ada)
        }
        // Added while merged: it names the survivor, and no journal knows it.
        _ = try await store.addGoal(
            makeGoal("goal-2", plan: "plan-m", created: Fixed.now, due: Fixed.now + Fixed.day),
            customerID: Customers.ada)
        _ = try await store.addMilestone(
            Milestone(id: "ms-2", planID: "plan-m", title: "Added while merged", dueAt: nil),
            customerID: Customers.ada)
        try await store.writer.write { db in
            try store.unrekey(db, merged: Customers.mergedAway, survivor: Customers.ada)
        }
        let owners = try await store.writer.read { db in
            try String.fetchAll(
                db,
                sql: """
                    SELECT customerId FROM plan UNION ALL SELECT customerId FROM goal
                    UNION ALL SELECT customerId FROM milestone
                    """)
        }
        #expect(owners == Array(repeating: Customers.mergedAway, count: 4), "\(owners)")
    }
}

extension TwoShardStores<SuccessStore> {
    /// - Parameter countingOwnSlots: Each store's reads across customers keep to the slots its shard owns, as in a
    ///   deployment (`CustomerOwnership.slots`); otherwise they count every row held.
    init(countingOwnSlots: Bool = false) throws {
        try self.init(service: "success-service", shardPrefix: "success") { map, shards in
            try makeSuccessStore(owned: map.ownedSlots(shards, countingOwnSlots: countingOwnSlots))
        }
    }
}

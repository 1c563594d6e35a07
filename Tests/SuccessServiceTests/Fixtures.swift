import C360StoreKit
import Foundation

@testable import C360Success

/// A store on a fresh in-memory database with the production configuration.
func makeSuccessStore(owned: OwnedSlots = .everyone) throws -> SuccessStore {
    try SuccessStore(writer: ServiceDatabase.inMemory(), keyring: .inMemory(), owned: owned)
}

/// Customer ids (well-formed lower-case UUIDs) the tests use; the handler tests' directory knows ada, sara and nora
/// and maps `mergedAway` to ada.
enum Customers {
    static let ada = "01900000-0000-7000-8000-00000000000a"
    static let sara = "01900000-0000-7000-8000-00000000000b"
    static let mergedAway = "01900000-0000-7000-8000-00000000000c"
    static let nora = "01900000-0000-7000-8000-00000000000d"
    static let unknown = "01900000-0000-7000-8000-0000000000ff"
    /// Customers a batch pages through, in ascending order.
    static let batch = [
        "01900000-0000-7000-8000-000000000101", "01900000-0000-7000-8000-000000000102",
        "01900000-0000-7000-8000-000000000103", "01900000-0000-7000-8000-000000000104",
    ]
}

/// Fixed instants, in whole seconds so they survive the millisecond round trip through the database exactly.
enum Fixed {
    static let hour: TimeInterval = 3_600
    static let day: TimeInterval = 86_400
    /// 2026-09-21 00:00:00 UTC.
    static let day0 = Date(timeIntervalSince1970: 1_789_948_800)
    /// 2026-09-21 14:13:20 UTC: the handlers' clock at the start of every test.
    static let now = Date(timeIntervalSince1970: 1_790_000_000)
}

/// Whether `value` is within `tolerance` of `expected` (`false` for nil).
func isClose(_ value: Double?, _ expected: Double, tolerance: Double = 1e-9) -> Bool {
    guard let value else { return false }
    return abs(value - expected) <= tolerance
}

/// A goal "weekly active seats" from `baseline` to `target`, at `current` (the baseline unless given), with a stored
/// status when given.
func makeGoal(
    _ id: String, plan: String = "plan-1", baseline: Double = 0, target: Double = 100, current: Double? = nil,
    created: Date, due: Date, status: GoalStatus? = nil
) -> Goal {
    var goal = Goal(
        id: id, planID: plan, title: "Goal \(id)", metric: "weekly active seats", unit: "seats",
        baselineValue: baseline, targetValue: target, dueAt: due, createdAt: created)
    if let current { goal.currentValue = current }
    if let status { goal.status = status }
    return goal
}

/// A plan of `customer` owned by `csm`, its goals moved onto it.
func makePlan(
    _ id: String, customer: String = Customers.ada, csm: String = "csm-ada", status: PlanStatus = .active,
    created: Date = Fixed.day0, goals: [Goal] = []
) -> SuccessPlan {
    var plan = SuccessPlan(
        id: id, customerID: customer, title: "Plan \(id)", summary: "", csmOwnerID: csm,
        status: status, startsAt: created, endsAt: nil, createdAt: created)
    plan.goals = goals.map { goal in
        var moved = goal
        moved.planID = id
        return moved
    }
    return plan
}

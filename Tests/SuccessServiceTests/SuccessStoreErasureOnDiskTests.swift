import C360StoreKit
import C360TestSupport
import Foundation
import GRDB
@testable import SuccessService
import Testing

@Suite("Success store: erasure leaves nothing on disk")
struct SuccessStoreErasureOnDiskTests {
    @Test("after erasure no byte of the customer's plans, goals or progress notes is in success.sqlite or its WAL")
    func noBytesLeft() async throws {
        try await DatabaseFileScan.withTemporaryDirectory { directory in
            let pool = try DatabasePool(path: directory.appendingPathComponent("success.sqlite").path,
                                        configuration: ServiceDatabase.configuration(label: "success.sqlite"))
            let store = try SuccessStore(writer: pool)
            let day1 = Fixed.day0.addingTimeInterval(Fixed.day)
            var goal = makeGoal("g1", created: Fixed.day0, due: Fixed.day0.addingTimeInterval(30 * Fixed.day))
            goal.title = "Quillbrook seats in use"
            var plan = makePlan("plan-ada", goals: [goal])
            plan.title = "Onboarding Xanthippa Quillbrook"
            plan.summary = "Call Xanthippa on +989127364518 every Monday"
            _ = try await store.createPlan(plan)
            _ = try await store.createPlan(makePlan("plan-sara", customer: Customers.sara, csm: "csm-sara",
                                                    goals: [makeGoal("g2", created: Fixed.day0, due: day1)]))
            _ = try await store.recordProgress(
                GoalProgressEntry(id: "p1", goalID: "g1", value: 10, recordedAt: day1,
                                  note: "Xanthippa says the rollout is on track", recordedBy: "csm-ada"),
                planID: "plan-ada", customerID: Customers.ada, at: day1)
            let erasedValues = ["Xanthippa", "Quillbrook", "+989127364518"]
            let stored = Set(try DatabaseFileScan.find(erasedValues, under: directory).map(\.value))
            #expect(stored == Set(erasedValues), "\(stored)")

            let erased = try await store.erase(customerID: Customers.ada)

            #expect(erased.plans == 1)
            let left = try DatabaseFileScan.find(erasedValues, under: directory)
            #expect(left.isEmpty, "left on disk: \(left)")
            #expect(try await store.export(customerID: Customers.sara).plans.map(\.id) == ["plan-sara"])
            try pool.close()
        }
    }
}

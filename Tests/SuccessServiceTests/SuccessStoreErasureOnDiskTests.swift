import C360StoreKit
import C360TestSupport
import Foundation
import GRDB
import Testing

@testable import C360Success

@Suite("Success store: what people write sealed on disk, and erasure leaves nothing")
struct SuccessStoreErasureOnDiskTests {
    @Test(
        "plans, goals, milestones, progress notes and tasks are ciphertext on disk; after erasure no byte of them is in success.sqlite or its WAL, and a backup taken before can no longer be opened for that customer"
    )
    func noBytesLeft() async throws {
        try await DatabaseFileScan.withTemporaryDirectory { directory in
            let pool = try DatabasePool(
                path: directory.appendingPathComponent("success.sqlite").path,
                configuration: ServiceDatabase.configuration(label: "success.sqlite"))
            let keyring = try Keyring.open(
                path: directory.appendingPathComponent("keys/keyring.sqlite").path,
                kek: .generate(), logger: .init(label: "test"))
            let store = try SuccessStore(writer: pool, keyring: keyring)
            let day1 = Fixed.day0.addingTimeInterval(Fixed.day)
            var goal = makeGoal("g1", created: Fixed.day0, due: Fixed.day0.addingTimeInterval(30 * Fixed.day))
            goal.title = "Quillbrook seats in use"
            var plan = makePlan("plan-ada", goals: [goal])
            plan.title = "Onboarding Xanthippa Quillbrook"
            plan.summary = "Call Xanthippa on +989127364518 every Monday"
            plan.milestones = [Milestone(id: "m1", planID: "plan-ada", title: "Quillbrook kick-off", dueAt: day1)]
            _ = try await store.createPlan(plan)
            _ = try await store.createPlan(
                makePlan(
                    "plan-sara", customer: Customers.sara, csm: "csm-sara",
                    goals: [makeGoal("g2", created: Fixed.day0, due: day1)]))
            _ = try await store.recordProgress(
                GoalProgressEntry(
                    id: "p1", goalID: "g1", value: 10, recordedAt: day1,
                    note: "Xanthippa says the rollout is on track", recordedBy: "csm-ada"),
                planID: "plan-ada", customerID: Customers.ada, at: day1)
            _ = try await store.createTask(
                PlaybookTask(
                    id: "t1", customerID: Customers.ada, alertID: "", playbook: "journey/welcome-call",
                    title: "Welcome call with Xanthippa", instructions: "Dial +989127364518", ownerID: "csm-ada",
                    dueAt: day1, createdAt: Fixed.day0))
            _ = try await store.completeTask(
                id: "t1", customerID: Customers.ada, by: "csm-ada",
                note: "Quillbrook was happy", at: day1)
            let erasedValues = ["Xanthippa", "Quillbrook", "+989127364518"]
            let stored = try DatabaseFileScan.find(erasedValues, under: directory)
            #expect(stored.isEmpty, "stored in the clear: \(stored)")
            let exported = try await store.export(customerID: Customers.ada)
            #expect(exported.plans.first?.summary == plan.summary)
            #expect(exported.plans.first?.goals.first?.title == "Quillbrook seats in use")
            #expect(exported.plans.first?.milestones.first?.title == "Quillbrook kick-off")
            #expect(exported.progress.map(\.note) == ["Xanthippa says the rollout is on track"])
            #expect(exported.tasks.map(\.outcomeNote) == ["Quillbrook was happy"])
            let backupPath = directory.appendingPathComponent("backup/success.sqlite").path
            try FileManager.default.createDirectory(
                atPath: (backupPath as NSString).deletingLastPathComponent,
                withIntermediateDirectories: true)
            try pool.backup(to: try DatabaseQueue(path: backupPath))

            let erased = try await store.erase(customerID: Customers.ada)

            #expect(erased.plans == 1 && erased.tasks == 1)
            let left = try DatabaseFileScan.find(erasedValues, under: directory)
            #expect(left.isEmpty, "left on disk: \(left)")
            #expect(try await store.export(customerID: Customers.sara).plans.map(\.id) == ["plan-sara"])
            // The backup still has Ada's rows, but with her key shredded they are ciphertext nobody can open.
            let restored = try SuccessStore(writer: try DatabaseQueue(path: backupPath), keyring: keyring)
            await #expect(throws: KeyringError.shredded(customerID: Customers.ada)) {
                _ = try await restored.export(customerID: Customers.ada)
            }
            #expect(try await restored.export(customerID: Customers.sara).plans.map(\.id) == ["plan-sara"])
            try pool.close()
        }
    }
}

import C360StoreKit
import C360TestSupport
import Foundation
import GRDB
import Testing

@testable import C360Success

@Suite("Success store: migration v2 seals the text version 1 stored in the clear")
struct SuccessSealingMigrationTests {
    @Test(
        "plan, goal and milestone titles, progress notes, tasks and alerts written in the clear read the same after the migration, and are no longer in the file"
    )
    func sealsExistingText() async throws {
        try await DatabaseFileScan.withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("success.sqlite").path
            let pool = try DatabasePool(
                path: path, configuration: ServiceDatabase.configuration(label: "success.sqlite"))
            try SuccessStore.schema.migrate(pool, upTo: "merge journal: rows each applied merge moved")
            let ada = Customers.ada
            let alert = Alert(
                id: "a1", customerID: ada, kind: .goalOverdue, message: "Goal \"Quillbrook seats\" is overdue",
                details: ["goal": "Quillbrook seats"], raisedAt: Fixed.day0)
            let alertJSON = try JSONColumn.encode(alert)
            try await pool.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO plan (planId, customerId, title, summary, csmOwnerId, status, startsAt, createdAt, updatedAt)
                        VALUES ('p1', '\(ada)', 'Onboarding Xanthippa', 'Call +989127364518', 'csm', 'active', 0, 0, 0);
                        INSERT INTO goal (goalId, planId, customerId, title, metric, unit, baselineValue, targetValue,
                            currentValue, dueAt, status, createdAt, updatedAt)
                        VALUES ('g1', 'p1', '\(ada)', 'Quillbrook seats', 'seats', 'seats', 0, 10, 0, 0, 'on_track', 0, 0);
                        INSERT INTO milestone (milestoneId, planId, title, status) VALUES ('m1', 'p1', 'Xanthippa kick-off', 'pending');
                        INSERT INTO goal_progress (progressId, goalId, customerId, value, recordedAt, note, recordedBy)
                        VALUES ('r1', 'g1', '\(ada)', 3, 0, 'Xanthippa is pleased', 'csm');
                        INSERT INTO task (taskId, customerId, alertId, playbook, title, instructions, ownerId, dueAt, status,
                            createdAt, outcomeNote)
                        VALUES ('t1', '\(ada)', 'a1', 'goal/review', 'Review Quillbrook seats', 'Dial +989127364518', 'csm',
                            0, 'open', 0, '');
                        """)
                try db.execute(
                    sql: """
                        INSERT INTO alert (alertId, customerId, kind, state, raisedAt, goalId, body)
                        VALUES ('a1', ?, 'goal_overdue', 'open', 0, 'g1', ?)
                        """, arguments: [ada, alertJSON])
                try db.execute(
                    sql: """
                        INSERT INTO alert_event (eventId, customerId, kind, type, occurredAt, alert)
                        VALUES ('e1', ?, 'goal_overdue', 'raised', 0, ?)
                        """, arguments: [ada, alertJSON])
            }
            try await pool.writeWithoutTransaction { _ = try $0.checkpoint(.truncate) }
            let plaintext = ["Xanthippa", "Quillbrook", "+989127364518"]
            #expect(Set(try DatabaseFileScan.find(plaintext, under: directory).map(\.value)) == Set(plaintext))

            let keyring = try Keyring.open(
                path: directory.appendingPathComponent("keys/keyring.sqlite").path,
                kek: .generate(), logger: .init(label: "test"))
            let store = try SuccessStore(writer: pool, keyring: keyring)
            let exported = try await store.export(customerID: ada)
            #expect(exported.plans.map(\.title) == ["Onboarding Xanthippa"])
            #expect(exported.plans.first?.summary == "Call +989127364518")
            #expect(exported.plans.first?.goals.map(\.title) == ["Quillbrook seats"])
            #expect(exported.plans.first?.milestones.map(\.title) == ["Xanthippa kick-off"])
            #expect(exported.progress.map(\.note) == ["Xanthippa is pleased"])
            #expect(exported.tasks.map(\.instructions) == ["Dial +989127364518"])
            #expect(exported.alerts == [alert])
            #expect(try await store.events(afterEventID: nil, since: nil, limit: 10).map(\.alert) == [alert])

            try await pool.writeWithoutTransaction { _ = try $0.checkpoint(.truncate) }
            let left = try DatabaseFileScan.find(plaintext, in: [URL(fileURLWithPath: path)])
            #expect(left.isEmpty, "left in the clear: \(left)")
            try pool.close()
        }
    }
}

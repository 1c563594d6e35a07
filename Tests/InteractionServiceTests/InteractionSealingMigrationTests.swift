import C360StoreKit
import C360TestSupport
import Foundation
import GRDB
import Testing

@testable import C360Interaction

@Suite("Interaction store: migration v3 seals the text earlier versions stored in the clear")
struct InteractionSealingMigrationTests {
    @Test(
        "bodies, attributes and ticket subjects written in the clear read the same after the migration, and are no longer in the file"
    )
    func sealsExistingText() async throws {
        try await DatabaseFileScan.withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("interaction.sqlite").path
            let pool = try DatabasePool(
                path: path,
                configuration: ServiceDatabase.configuration(label: "interaction.sqlite"))
            try InteractionStore.schema.migrate(pool, upTo: "v2: item affinity for recommendations")
            try await pool.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO touchpoint (eventId, customerId, occurredAt, recordedAt, channel, kind, direction,
                            ticketId, attributes, body)
                        VALUES ('m1', '\(Customers.ada)', 1000, 1000, 'email', 'message', 'inbound', '', NULL,
                                'Xanthippa writes from +989127364518'),
                               ('t1', '\(Customers.ada)', 2000, 2000, 'email', 'ticket_opened', 'inbound', 'T1',
                                '{"subject":"Quillbrook refund"}', '');
                        INSERT INTO ticket (ticketId, customerId, subject, status, priority, channel, openedAt,
                            openedEventId, updatedAt)
                        VALUES ('T1', '\(Customers.ada)', 'Quillbrook refund', 'open', 'normal', 'email', 2000, 't1', 2000);
                        """)
            }
            try await pool.writeWithoutTransaction { _ = try $0.checkpoint(.truncate) }
            let plaintext = ["Xanthippa writes", "+989127364518", "Quillbrook refund"]
            #expect(Set(try DatabaseFileScan.find(plaintext, under: directory).map(\.value)) == Set(plaintext))

            let keyring = try Keyring.open(
                path: directory.appendingPathComponent("keys/keyring.sqlite").path,
                kek: .generate(), logger: .init(label: "test"))
            let store = try InteractionStore(writer: pool, keyring: keyring)
            let page = try await store.timeline(
                customer: Customers.ada, filter: TimelineFilter(), after: nil, limit: 10)
            #expect(page.items.map(\.touchpoint.body) == ["", "Xanthippa writes from +989127364518"])
            #expect(page.items.first?.touchpoint.attributes == ["subject": "Quillbrook refund"])
            #expect(try await store.ticket("T1", customer: Customers.ada).subject == "Quillbrook refund")

            try await pool.writeWithoutTransaction { _ = try $0.checkpoint(.truncate) }
            let left = try DatabaseFileScan.find(plaintext, in: [URL(fileURLWithPath: path)])
            #expect(left.isEmpty, "left in the clear: \(left)")
            try pool.close()
        }
    }
}

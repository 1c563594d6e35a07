import C360StoreKit
import C360TestSupport
import Foundation
import GRDB
import Testing

@testable import C360Interaction

@Suite("Interaction store: what people write sealed on disk, and erasure leaves nothing")
struct InteractionStoreErasureOnDiskTests {
    @Test(
        "bodies, attributes and ticket subjects are ciphertext on disk; after erasure no byte of them is in interaction.sqlite or its WAL, and a backup taken before can no longer be opened for that customer"
    )
    func noBytesLeft() async throws {
        try await DatabaseFileScan.withTemporaryDirectory { directory in
            let clock = TestClock()
            let pool = try DatabasePool(
                path: directory.appendingPathComponent("interaction.sqlite").path,
                configuration: ServiceDatabase.configuration(label: "interaction.sqlite"))
            let keyring = try Keyring.open(
                path: directory.appendingPathComponent("keys/keyring.sqlite").path,
                kek: .generate(), logger: .init(label: "test"))
            let store = try InteractionStore(writer: pool, keyring: keyring, currency: "USD", now: { clock.now() })
            let base = clock.now().addingTimeInterval(-3_600)
            var message = touchpoint("m1", at: base, channel: .email, kind: .message)
            message.body = "Hi, this is Xanthippa Quillbrook, reach me at xanthippa.q@example.org or +989127364518"
            let opened = touchpoint(
                "t1", at: base.addingTimeInterval(60), kind: .ticketOpened, ticketID: "T1",
                attributes: ["subject": "Refund for Xanthippa Quillbrook"])
            // Filler from other customers, so the erased rows share pages with rows that stay.
            let others = (0..<50).map { index in
                var other = touchpoint(
                    "o\(index)", customer: Customers.sara, at: base.addingTimeInterval(Double(index)),
                    kind: .message)
                other.body = "an ordinary message number \(index) from another customer"
                return other
            }
            _ = try await store.ingest([message, opened] + others)
            let erasedValues = ["Xanthippa", "Quillbrook", "xanthippa.q@example.org", "+989127364518"]
            let stored = try DatabaseFileScan.find(erasedValues + ["an ordinary message"], under: directory)
            #expect(stored.isEmpty, "stored in the clear: \(stored)")
            // What the store hands back is the text as written.
            let page = try await store.timeline(
                customer: Customers.ada, filter: TimelineFilter(), after: nil, limit: 10)
            #expect(page.items.map(\.touchpoint.body).contains(message.body))
            #expect(try await store.ticket("T1", customer: Customers.ada).subject == "Refund for Xanthippa Quillbrook")
            let backupPath = directory.appendingPathComponent("backup/interaction.sqlite").path
            try FileManager.default.createDirectory(
                atPath: (backupPath as NSString).deletingLastPathComponent,
                withIntermediateDirectories: true)
            try pool.backup(to: try DatabaseQueue(path: backupPath))

            let erased = try await store.eraseCustomer(Customers.ada)

            #expect(erased.touchpoints == 2 && erased.tickets == 1)
            let left = try DatabaseFileScan.find(erasedValues, under: directory)
            #expect(left.isEmpty, "left on disk: \(left)")
            #expect(try await store.totals(customer: Customers.sara)?.activity.touchpoints == 50)
            let sara = try await store.timeline(
                customer: Customers.sara, filter: TimelineFilter(), after: nil, limit: 1)
            #expect(sara.items.first?.touchpoint.body == "an ordinary message number 49 from another customer")
            // The backup still has Ada's rows, but with her key shredded they are ciphertext nobody can open.
            let restored = try InteractionStore(
                writer: try DatabaseQueue(path: backupPath), keyring: keyring,
                currency: "USD", now: { clock.now() })
            await #expect(throws: KeyringError.shredded(customerID: Customers.ada)) {
                _ = try await restored.timeline(
                    customer: Customers.ada, filter: TimelineFilter(), after: nil, limit: 10)
            }
            try pool.close()
        }
    }
}

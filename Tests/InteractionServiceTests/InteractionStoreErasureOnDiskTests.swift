import C360StoreKit
import C360TestSupport
import Foundation
import GRDB
@testable import InteractionService
import Testing

@Suite("Interaction store: erasure leaves nothing on disk")
struct InteractionStoreErasureOnDiskTests {
    @Test("after erasure no byte of the customer's message bodies, ticket subjects or attributes is in interaction.sqlite or its WAL")
    func noBytesLeft() async throws {
        try await DatabaseFileScan.withTemporaryDirectory { directory in
            let clock = TestClock()
            let pool = try DatabasePool(path: directory.appendingPathComponent("interaction.sqlite").path,
                                        configuration: ServiceDatabase.configuration(label: "interaction.sqlite"))
            let store = try InteractionStore(writer: pool, currency: "USD", now: { clock.now() })
            let base = clock.now().addingTimeInterval(-3_600)
            var message = touchpoint("m1", at: base, channel: .email, kind: .message)
            message.body = "Hi, this is Xanthippa Quillbrook, reach me at xanthippa.q@example.org or +989127364518"
            let opened = touchpoint("t1", at: base.addingTimeInterval(60), kind: .ticketOpened, ticketID: "T1",
                                    attributes: ["subject": "Refund for Xanthippa Quillbrook"])
            // Filler from other customers, so the erased rows share pages with rows that stay.
            let others = (0..<50).map { index in
                var other = touchpoint("o\(index)", customer: Customers.sara, at: base.addingTimeInterval(Double(index)),
                                       kind: .message)
                other.body = "an ordinary message number \(index) from another customer"
                return other
            }
            _ = try await store.ingest([message, opened] + others)
            let erasedValues = ["Xanthippa", "Quillbrook", "xanthippa.q@example.org", "+989127364518"]
            let stored = Set(try DatabaseFileScan.find(erasedValues, under: directory).map(\.value))
            #expect(stored == Set(erasedValues), "\(stored)")

            let erased = try await store.eraseCustomer(Customers.ada)

            #expect(erased.touchpoints == 2 && erased.tickets == 1)
            let left = try DatabaseFileScan.find(erasedValues, under: directory)
            #expect(left.isEmpty, "left on disk: \(left)")
            #expect(try await store.totals(customer: Customers.sara)?.activity.touchpoints == 50)
            try pool.close()
        }
    }
}

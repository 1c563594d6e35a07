import C360StoreKit
import C360TestSupport
import Foundation
import GRDB
@testable import ProfileService
import Testing

@Suite("Profile store: erasure leaves nothing on disk")
struct ProfileStoreErasureOnDiskTests {
    @Test("after erasure no byte of the customer's name, emails, phone or attributes — nor those of a profile merged into it — is in profile.sqlite or its WAL")
    func noBytesLeft() async throws {
        try await DatabaseFileScan.withTemporaryDirectory { directory in
            let clock = TestClock()
            let pool = try DatabasePool(path: directory.appendingPathComponent("profile.sqlite").path,
                                        configuration: ServiceDatabase.configuration(label: "profile.sqlite"))
            let store = try ProfileStore(writer: pool, now: { clock.now() })
            let customer = try await store.createCustomer(newCustomer(
                email: "xanthippa.quillbrook@example.org", phone: "+989127364518", given: "Xanthippa",
                family: "Quillbrook", attributes: ["pet": "Bartholomew-the-tortoise"]))
            let duplicate = try await store.createCustomer(newCustomer(email: "x.quillbrook@work.example.org",
                                                                       given: "Xanthippa", family: "Quillbrook"))
            _ = try await store.mergeCustomers(survivor: customer.id, merged: duplicate.id)
            let other = try await store.createCustomer(newCustomer(email: "sara@example.com", given: "Sara"))
            let erasedValues = ["Xanthippa", "Quillbrook", "xanthippa", "quillbrook", "xanthippa.quillbrook@example.org",
                                "x.quillbrook@work.example.org", "+989127364518", "Bartholomew-the-tortoise"]
            let stored = Set(try DatabaseFileScan.find(erasedValues, under: directory).map(\.value))
            #expect(stored == Set(erasedValues), "\(stored)")

            let erased = try await store.eraseCustomer(customer.id)

            #expect(erased.erasedNow)
            let left = try DatabaseFileScan.find(erasedValues, under: directory)
            #expect(left.isEmpty, "left on disk: \(left)")
            #expect(try await store.customer(other.id).givenName == "Sara")
            try pool.close()
        }
    }
}

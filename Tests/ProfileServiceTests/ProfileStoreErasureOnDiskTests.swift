import C360StoreKit
import C360TestSupport
import Foundation
import GRDB
import Testing

@testable import C360Profile

@Suite("Profile store: personal data is sealed on disk, and erasure shreds it in every copy")
struct ProfileStoreErasureOnDiskTests {
    @Test(
        "no byte of the customer's name, emails, phone, attributes or merge notes is in profile.sqlite or its WAL — before the erasure or after"
    )
    func noBytesOnDisk() async throws {
        try await DatabaseFileScan.withTemporaryDirectory { directory in
            let clock = TestClock()
            let pool = try DatabasePool(
                path: directory.appendingPathComponent("profile.sqlite").path,
                configuration: ServiceDatabase.configuration(label: "profile.sqlite"))
            let keyring = try Keyring.open(
                path: directory.appendingPathComponent("keys/keyring.sqlite").path,
                kek: .generate(), logger: .init(label: "test"))
            let store = try ProfileStore(writer: pool, keyring: keyring, now: { clock.now() })
            let customer = try await store.createCustomer(
                newCustomer(
                    email: "xanthippa.quillbrook@example.org", phone: "+989127364518", given: "Xanthippa",
                    family: "Quillbrook", attributes: ["pet": "Bartholomew-the-tortoise"]))
            let duplicate = try await store.createCustomer(
                newCustomer(
                    email: "x.quillbrook@work.example.org",
                    given: "Xanthippa", family: "Quillbrook"))
            _ = try await store.mergeCustomers(
                survivor: customer.id, merged: duplicate.id,
                request: MergeRequest(note: "Xanthippa called from +989127364518"))
            let other = try await store.createCustomer(newCustomer(email: "sara@example.com", given: "Sara"))
            let values = [
                "Xanthippa", "Quillbrook", "xanthippa", "quillbrook", "xanthippa.quillbrook@example.org",
                "x.quillbrook@work.example.org", "+989127364518", "Bartholomew-the-tortoise",
            ]
            // Readable through the store, never on disk in the clear.
            let profile = try await store.customer(customer.id)
            #expect(profile.givenName == "Xanthippa" && profile.attributes["pet"] == "Bartholomew-the-tortoise")
            #expect(
                try await store.customer(with: Identifier(.email, "x.quillbrook@work.example.org")).id == customer.id)
            let before = try DatabaseFileScan.find(
                values,
                in: [
                    directory.appendingPathComponent("profile.sqlite"),
                    directory.appendingPathComponent("profile.sqlite-wal"),
                ])
            #expect(before.isEmpty, "in the clear on disk: \(before)")

            _ = try await store.eraseCustomer(customer.id)

            let left = try DatabaseFileScan.find(values, under: directory)
            #expect(left.isEmpty, "left on disk: \(left)")
            #expect(try await store.customer(other.id).givenName == "Sara")
            try pool.close()
        }
    }

    @Test(
        "a backup taken before the erasure cannot be read for the erased customer once their key is shredded; others stay readable"
    )
    func backupsAreShredded() async throws {
        try await DatabaseFileScan.withTemporaryDirectory { directory in
            let keyring = try Keyring.open(
                path: directory.appendingPathComponent("keyring.sqlite").path,
                kek: .generate(), logger: .init(label: "test"))
            let pool = try DatabasePool(
                path: directory.appendingPathComponent("profile.sqlite").path,
                configuration: ServiceDatabase.configuration(label: "profile.sqlite"))
            let store = try ProfileStore(writer: pool, keyring: keyring)
            let erased = try await store.createCustomer(newCustomer(email: "quill@example.org", given: "Xanthippa"))
            let kept = try await store.createCustomer(newCustomer(email: "sara@example.com", given: "Sara"))
            let backup = try DatabaseQueue(path: directory.appendingPathComponent("backup.sqlite").path)
            try pool.backup(to: backup)

            _ = try await store.eraseCustomer(erased.id)

            // The old copy, with today's keyring: the erased customer answers "erased", the other reads as before.
            let restored = try ProfileStore(writer: backup, keyring: keyring)
            await #expect(throws: ProfileError.customerErased(erased.id)) { try await restored.customer(erased.id) }
            #expect(try await restored.customer(kept.id).givenName == "Sara")
            #expect(try await restored.customer(with: Identifier(.email, "sara@example.com")).id == kept.id)
        }
    }
}

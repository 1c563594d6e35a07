import C360StoreKit
import C360TestSupport
import Foundation
import GRDB
import Testing

@testable import C360Outreach

@Suite("Outreach store: migration v7 seals the personal data version 6 stored in the clear")
struct OutreachSealingMigrationTests {
    @Test(
        "the read model's contact columns and a sent message's recipient, subject and body read the same after the migration, and are no longer in the file"
    )
    func sealsExistingText() async throws {
        try await DatabaseFileScan.withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("outreach.sqlite").path
            let pool = try DatabasePool(
                path: path, configuration: ServiceDatabase.configuration(label: "outreach.sqlite"))
            try OutreachStore.schema.migrate(
                pool, upTo: "v6: what triggered a journey run; placeholder values carried by a message")
            try await pool.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO customer_fact (customerId, givenName, familyName, email, phone, pushToken, city,
                            loyaltyTier, refreshedAt)
                        VALUES ('c-x', 'Xanthippa', 'Quillbrook', 'xanthippa.quillbrook@example.org', '+989127364518',
                            'push-token-7Qz3Wv', 'Zarrinabad', 'gold', 1);
                        INSERT INTO customer_fact (customerId, loyaltyTier, refreshedAt) VALUES ('c-empty', 'silver', 1);
                        INSERT INTO message (messageId, customerId, templateId, campaignId, idempotencyKey, purpose,
                            forcedChannel, channel, status, statusReason, createdAt, scheduledFor, sentAt, attempts,
                            recipient, subject, body, language)
                        VALUES ('m-sent', 'c-x', 't', '', 'k-sent', 'marketing', '', 'email', 'sent', '', 1, 1, 1, 1,
                            'xanthippa.quillbrook@example.org', 'Hi Xanthippa', 'Dear Xanthippa Quillbrook', 'en'),
                            ('m-queued', 'c-x', 't', '', 'k-queued', 'marketing', '', '', 'queued', '', 1, 1, NULL, 0,
                            '', '', '', '');
                        """)
            }
            try await pool.writeWithoutTransaction { _ = try $0.checkpoint(.truncate) }
            let plaintext = [
                "Xanthippa", "Quillbrook", "xanthippa.quillbrook@example.org", "+989127364518",
                "push-token-7Qz3Wv", "Zarrinabad",
            ]
            #expect(try DatabaseFileScan.find(plaintext, under: directory).count == plaintext.count)

            let keyring = try Keyring.open(
                path: directory.appendingPathComponent("keys/keyring.sqlite").path,
                kek: .generate(), logger: .init(label: "test"))
            let store = try OutreachStore(writer: pool, keyring: keyring)

            #expect(
                try await store.contact(customerID: "c-x")
                    == CustomerContact(
                        givenName: "Xanthippa", familyName: "Quillbrook", email: "xanthippa.quillbrook@example.org",
                        phone: "+989127364518", pushToken: "push-token-7Qz3Wv", city: "Zarrinabad"))
            #expect(try await store.contact(customerID: "c-empty") == CustomerContact())
            #expect(try await store.facts(customerID: "c-x")?.loyaltyTier == "gold", "what rules read stays as it was")
            #expect(
                try store.content(of: try await store.message(id: "m-sent"))
                    == MessageContent(
                        recipient: "xanthippa.quillbrook@example.org", subject: "Hi Xanthippa",
                        body: "Dear Xanthippa Quillbrook"))
            #expect(try store.content(of: try await store.message(id: "m-queued")) == MessageContent())
            #expect(
                try await store.dueMessages(at: Date(unixMillis: 2), limit: 10).due.map(\.messageId) == ["m-queued"])

            try await pool.writeWithoutTransaction { _ = try $0.checkpoint(.truncate) }
            let left = try DatabaseFileScan.find(plaintext, in: [URL(fileURLWithPath: path)])
            #expect(left.isEmpty, "left in the clear: \(left)")
            try pool.close()
        }
    }
}

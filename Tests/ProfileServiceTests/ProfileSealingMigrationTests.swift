import C360StoreKit
import C360TestSupport
import Foundation
import GRDB
import Testing

@testable import C360Profile

@Suite("Profile store: migration v4 seals what versions 1–3 stored in the clear")
struct ProfileSealingMigrationTests {
    @Test(
        "a database written in the clear is sealed on first open: every profile, lookup, search, suggestion and merge reads as before, and no plaintext is left in the file"
    )
    func sealsExistingData() async throws {
        try await DatabaseFileScan.withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("profile.sqlite").path
            let pool = try DatabasePool(
                path: path, configuration: ServiceDatabase.configuration(label: "profile.sqlite"))
            // The schema as version 3 left it, and rows as version 3 wrote them.
            try ProfileStore.schema.migrate(
                pool, upTo: "v3: loyalty program: applied purchases, expiring lots, spend tier, cashback")
            try await pool.write { db in
                for (id, given, family, email) in [
                    ("c-1", "Xanthippa", "Quillbrook", "xq@example.org"),
                    ("c-2", "Ximena", "Quillford", "ximena@example.org"),
                ] {
                    try db.execute(
                        sql: """
                            INSERT INTO customer (id, state, givenName, familyName, fullNameKey, familyNameKey, birthYear, city,
                                countryCode, language, company, preferredLanguage, loyaltyBalance, loyaltyLifetime, createdAt,
                                updatedAt, matchKey)
                            VALUES (?, 'active', ?, ?, ?, ?, 1980, 'Zanzibar', 'TZ', 'en', 'Quillworks', '', 0, 0, ?, ?, ?)
                            """,
                        arguments: [
                            id, given, family, "\(given) \(family)".lowercased(), family.lowercased(),
                            Date(), Date(), "\(given)|\(family)|1980|zanzibar".lowercased(),
                        ])
                    try db.execute(
                        sql: """
                            INSERT INTO customer_identifier (kind, value, customerId, createdAt, matchKey) VALUES ('email', ?, ?, ?, ?)
                            """, arguments: [email, id, Date(), email])
                    try db.execute(
                        sql: "INSERT INTO customer_attribute (customerId, key, value) VALUES (?, 'pet', 'Bartholomew')",
                        arguments: [id])
                }
                try db.execute(
                    sql: """
                        INSERT INTO match_suggestion (suggestionId, customerId, candidateId, rule, score, explanation, state,
                            suggestedAt, decidedBy) VALUES ('s-1', 'c-1', 'c-2', 'email', 0.9, 'Xanthippa and Ximena share a desk', 'open', ?, '')
                        """, arguments: [Date()])
            }
            let plaintext = [
                "Xanthippa", "Quillbrook", "xanthippa", "xq@example.org", "Zanzibar", "Quillworks", "Bartholomew",
            ]
            try await pool.writeWithoutTransaction { _ = try $0.checkpoint(.truncate) }
            #expect(!(try DatabaseFileScan.find(plaintext, in: [URL(fileURLWithPath: path)])).isEmpty)

            let keyring = try Keyring.open(
                path: directory.appendingPathComponent("keys/keyring.sqlite").path,
                kek: .generate(), logger: .init(label: "test"))
            let store = try ProfileStore(writer: pool, keyring: keyring)

            let ada = try await store.customer("c-1")
            #expect(ada.givenName == "Xanthippa" && ada.familyName == "Quillbrook" && ada.city == "Zanzibar")
            #expect(ada.company == "Quillworks" && ada.attributes == ["pet": "Bartholomew"])
            #expect(ada.identifiers == [Identifier(.email, "xq@example.org")])
            #expect(try await store.customer(with: Identifier(.email, "xq@example.org")).id == "c-1")
            var query = CustomerQuery()
            query.text = "xan"
            #expect(try await store.customers(matching: query, after: nil, limit: 10).items.map(\.id) == ["c-1"])
            query.text = "quill"
            #expect(
                try await store.customers(matching: query, after: nil, limit: 10).items.map(\.id) == ["c-1", "c-2"])
            let suggestions = try await store.matchSuggestions(customer: nil, minScore: 0, after: nil, limit: 10)
            #expect(suggestions.items.map(\.suggestion.explanation) == ["Xanthippa and Ximena share a desk"])
            // An identifier taken before the migration is still taken.
            await #expect(throws: ProfileError.self) {
                _ = try await store.createCustomer(newCustomer(email: "xq@example.org", given: "Copy"))
            }

            try await pool.writeWithoutTransaction { _ = try $0.checkpoint(.truncate) }
            let left = try DatabaseFileScan.find(plaintext, under: directory)
            #expect(left.isEmpty, "left in the clear: \(left)")
            try pool.close()
        }
    }
}

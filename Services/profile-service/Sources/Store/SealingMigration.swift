import C360StoreKit
import Foundation
import GRDB

/// Migration v4: seals the personal data versions 1–3 stored in the clear, and replaces the indexes that held it
/// (name keys, identifier values, identity-resolution keys) with blind indexes and search tokens.
///
/// Works on plain rows and JSON, never the records, so it keeps working as the records change. SQLite's
/// `secure_delete` (on for every connection) zeroes the plaintext the updates replace; a VACUUM afterwards is not
/// needed for that.
struct SealingMigration {
    let db: Database
    let keyring: Keyring

    func run() throws {
        try createSearchTokens()
        try indexActiveCustomers()
        try sealCustomers()
        try rebuildIdentifiers()
        try sealAttributes()
        try sealSuggestions()
        try sealLedger()
    }

    private func seal(_ text: String?, _ owner: String) throws -> SealedText {
        try keyring.seal(text ?? "", for: owner)
    }

    private func createSearchTokens() throws {
        try db.create(table: "customer_search_token", options: [.withoutRowID]) { t in
            t.column("token", .text).notNull()
            t.column("customerId", .text).notNull().references("customer", onDelete: .cascade).indexed()
            t.primaryKey(["token", "customerId"])
        }
    }

    /// Search tokens for every active customer, from the names and emails still in the clear.
    private func indexActiveCustomers() throws {
        let emails = Dictionary(
            grouping: try Row.fetchAll(
                db,
                sql: """
                    SELECT customerId, value FROM customer_identifier WHERE kind = 'email'
                    """), by: { $0["customerId"] as String })
        for row in try Row.fetchAll(db, sql: "SELECT id, givenName, familyName FROM customer WHERE state = 'active'") {
            let id: String = row["id"]
            let fields = PersonalFields(givenName: row["givenName"], familyName: row["familyName"])
            for term in SearchTerms.terms(personal: fields, emails: (emails[id] ?? []).map { $0["value"] }) {
                try db.execute(
                    sql: "INSERT OR IGNORE INTO customer_search_token (token, customerId) VALUES (?, ?)",
                    arguments: [BlindIndex.searchToken(term, keyring), id])
            }
        }
    }

    private func sealCustomers() throws {
        let rows = try Row.fetchAll(
            db, sql: "SELECT id, state, givenName, familyName, birthYear, city, company FROM customer")
        for row in rows {
            let id: String = row["id"]
            let fields = PersonalFields(
                givenName: row["givenName"], familyName: row["familyName"], city: row["city"],
                company: row["company"])
            let matchKey =
                row["state"] as String == "active"
                ? IdentityMatch.personKey(
                    givenName: fields.givenName, familyName: fields.familyName,
                    birthYear: row["birthYear"], city: fields.city
                )
                .map { BlindIndex.person($0, keyring) }
                : nil
            try db.execute(
                sql: """
                    UPDATE customer SET givenName = ?, familyName = ?, city = ?, company = ?, matchKey = ? WHERE id = ?
                    """,
                arguments: [
                    try seal(fields.givenName, id), try seal(fields.familyName, id), try seal(fields.city, id),
                    try seal(fields.company, id), matchKey, id,
                ])
        }
        // The plaintext name keys go, with their indexes.
        for index in try String.fetchAll(
            db,
            sql: """
                SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'customer'
                  AND (sql LIKE '%fullNameKey%' OR sql LIKE '%familyNameKey%')
                """)
        {
            try db.drop(index: index)
        }
        try db.alter(table: "customer") { t in
            t.drop(column: "fullNameKey")
            t.drop(column: "familyNameKey")
        }
    }

    private func rebuildIdentifiers() throws {
        try db.create(table: "customer_identifier_sealed") { t in
            t.column("kind", .text).notNull()
            t.column("valueIndex", .text).notNull()
            t.column("value", .blob).notNull()
            t.column("customerId", .text).notNull().references("customer", onDelete: .cascade)
            t.column("createdAt", .datetime).notNull()
            t.column("matchKey", .text).notNull()
            t.primaryKey(["kind", "valueIndex"])
        }
        for row in try Row.fetchAll(db, sql: "SELECT kind, value, customerId, createdAt FROM customer_identifier") {
            let kindName: String = row["kind"]
            let value: String = row["value"]
            let owner: String = row["customerId"]
            let matchKey = IdentifierKind(rawValue: kindName).map { IdentityMatch.identifierKey($0, value) } ?? value
            try db.execute(
                sql: """
                    INSERT INTO customer_identifier_sealed (kind, valueIndex, value, customerId, createdAt, matchKey)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    kindName, BlindIndex.identifier(kindName, value, keyring),
                    try seal(value, owner), owner, row["createdAt"] as DatabaseValue,
                    BlindIndex.identifierMatch(kindName, matchKey, keyring),
                ])
        }
        try db.drop(table: "customer_identifier")
        try db.rename(table: "customer_identifier_sealed", to: "customer_identifier")
        try db.create(index: "customer_identifier_on_customerId", on: "customer_identifier", columns: ["customerId"])
        try db.create(index: "identifier_by_match_key", on: "customer_identifier", columns: ["kind", "matchKey"])
    }

    private func sealAttributes() throws {
        for row in try Row.fetchAll(db, sql: "SELECT customerId, key, value FROM customer_attribute") {
            let owner: String = row["customerId"]
            try db.execute(
                sql: "UPDATE customer_attribute SET value = ? WHERE customerId = ? AND key = ?",
                arguments: [try seal(row["value"], owner), owner, row["key"] as String])
        }
    }

    private func sealSuggestions() throws {
        for row in try Row.fetchAll(db, sql: "SELECT suggestionId, customerId, explanation FROM match_suggestion") {
            try db.execute(
                sql: "UPDATE match_suggestion SET explanation = ? WHERE suggestionId = ?",
                arguments: [try seal(row["explanation"], row["customerId"]), row["suggestionId"] as String])
        }
    }

    /// The ledger's note and match explanations are sealed under the survivor's key; in its undo snapshot, each
    /// record's personal fields under their own customer's key, as the records now store them.
    private func sealLedger() throws {
        for row in try Row.fetchAll(db, sql: "SELECT seq, survivorId, matchedOn, note, undo FROM merge_ledger") {
            let survivor: String = row["survivorId"]
            let matchedOn = try JSONDecoder().decode([String].self, from: Data((row["matchedOn"] as String).utf8))
            let sealedMatches = try matchedOn.map { try seal($0, survivor) }
            guard
                var undo = try JSONSerialization.jsonObject(with: Data((row["undo"] as String).utf8)) as? [String: Any]
            else { continue }
            for key in ["merged", "survivorBefore"] {
                guard var record = undo[key] as? [String: Any], let id = record["id"] as? String else { continue }
                for field in ["givenName", "familyName", "city", "company"] {
                    record[field] = try seal(record[field] as? String, id).combined.base64EncodedString()
                }
                record["fullNameKey"] = nil
                record["familyNameKey"] = nil
                if let key = record["matchKey"] as? String { record["matchKey"] = BlindIndex.person(key, keyring) }
                undo[key] = record
            }
            undo["identifiers"] = try (undo["identifiers"] as? [[String: Any]] ?? []).map { old in
                var record = old
                let kind = record["kind"] as? String ?? ""
                let value = record["value"] as? String ?? ""
                let owner = record["customerId"] as? String ?? survivor
                record["valueIndex"] = BlindIndex.identifier(kind, value, keyring)
                record["value"] = try seal(value, owner).combined.base64EncodedString()
                let matchKey = IdentifierKind(rawValue: kind).map { IdentityMatch.identifierKey($0, value) } ?? value
                record["matchKey"] = BlindIndex.identifierMatch(kind, matchKey, keyring)
                return record
            }
            for key in ["attributes", "survivorAttributes"] {
                undo[key] = try (undo[key] as? [[String: Any]] ?? []).map { old in
                    var record = old
                    record["value"] = try seal(record["value"] as? String, record["customerId"] as? String ?? survivor)
                        .combined.base64EncodedString()
                    return record
                }
            }
            let undoText = String(decoding: try JSONSerialization.data(withJSONObject: undo), as: UTF8.self)
            let matchesText = String(decoding: try JSONEncoder().encode(sealedMatches), as: UTF8.self)
            try db.execute(
                sql: "UPDATE merge_ledger SET matchedOn = ?, note = ?, undo = ? WHERE seq = ?",
                arguments: [matchesText, try seal(row["note"], survivor), undoText, row["seq"] as Int64])
        }
    }
}

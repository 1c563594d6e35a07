import C360StoreKit
import Foundation
import GRDB

/// A customer's personal fields in the clear, as the store's code works with them; on disk they are `SealedText`.
struct PersonalFields: Equatable {
    var givenName = ""
    var familyName = ""
    var city = ""
    var company = ""
}

/// The blind-indexed prefixes prefix search looks candidates up by.
///
/// Each word of the name, and the email, contributes its first 1…`maxPrefix` Unicode scalars, lower-cased; a query word
/// looks up its own first `maxPrefix` scalars, and the candidates are then checked in the clear (after opening) with the
/// search's exact rule. Short prefixes keep the index small (about a dozen rows per customer) and leak little: what
/// the index reveals is which customers share a 1–4 letter prefix, never a name.
enum SearchTerms {
    static let maxPrefix = 4

    static func prefixes(of word: Substring) -> [String] {
        let scalars = Array(word.unicodeScalars)
        return (1...min(maxPrefix, max(scalars.count, 1))).compactMap { length in
            scalars.count >= length ? String(String.UnicodeScalarView(scalars.prefix(length))) : nil
        }
    }

    /// The terms a customer is indexed under.
    static func terms(personal: PersonalFields, emails: [String]) -> Set<String> {
        var terms = Set<String>()
        for word in "\(personal.givenName) \(personal.familyName)".lowercased().split(whereSeparator: \.isWhitespace) {
            for prefix in prefixes(of: word) { terms.insert("name:" + prefix) }
        }
        for email in emails {
            for prefix in prefixes(of: Substring(email.lowercased())) { terms.insert("email:" + prefix) }
        }
        return terms
    }

    /// The name terms every candidate must have for `query` (one per word), and the email term one may have instead.
    static func queryTerms(_ query: String) -> (name: [String], email: String?) {
        let words = query.split(whereSeparator: \.isWhitespace)
        let name = words.map { "name:" + String(String.UnicodeScalarView($0.unicodeScalars.prefix(maxPrefix))) }
        let email =
            query.contains(where: \.isWhitespace) || query.isEmpty
            ? nil : "email:" + String(String.UnicodeScalarView(query.unicodeScalars.prefix(maxPrefix)))
        return (name, email)
    }

    /// The search's own rule, applied in the clear: the query starts the full name, the family name or an email.
    static func matches(_ query: String, personal: PersonalFields, emails: [String]) -> Bool {
        func starts(_ text: String) -> Bool { text.unicodeScalars.starts(with: query.unicodeScalars) }
        let fullName = "\(personal.givenName) \(personal.familyName)".trimmingCharacters(in: .whitespaces).lowercased()
        return starts(fullName) || starts(personal.familyName.lowercased()) || emails.contains(where: starts)
    }
}

/// profile-service's blind indexes, one formula each, shared by the store and the migration that first wrote them
/// (a lookup only finds what was indexed the same way).
enum BlindIndex {
    /// Identity resolution's person key (`IdentityMatch.personKey`).
    static func person(_ key: String, _ keyring: Keyring) -> String {
        keyring.blindIndex(key, purpose: "person")
    }

    /// An identifier's (normalised) value: its primary key with the kind.
    static func identifier(_ kind: String, _ value: String, _ keyring: Keyring) -> String {
        keyring.blindIndex(value, purpose: "identifier:\(kind)")
    }

    /// An identifier as identity resolution compares it (`IdentityMatch.identifierKey`).
    static func identifierMatch(_ kind: String, _ key: String, _ keyring: Keyring) -> String {
        keyring.blindIndex(key, purpose: "identifier-match:\(kind)")
    }

    /// A search term (`SearchTerms`), shortened: 64 bits keep collisions negligible at any customer count.
    static func searchToken(_ term: String, _ keyring: Keyring) -> String {
        String(keyring.blindIndex(term, purpose: "search").prefix(16))
    }
}

extension ProfileStore {
    /// The customer's personal fields, opened.
    ///
    /// - Throws: `ProfileError.customerErased` when the customer's key was shredded (a row restored from a backup
    ///   taken before the erasure): what it holds can never be read again.
    func personal(of row: CustomerRecord) throws -> PersonalFields {
        try opening(row.id) {
            PersonalFields(
                givenName: try keyring.open(row.givenName),
                familyName: try keyring.open(row.familyName),
                city: try keyring.open(row.city),
                company: try keyring.open(row.company))
        }
    }

    /// Seals the fields of `fields` that differ from what `row` holds under the row's customer's key, and recomputes
    /// the row's identity-resolution index. Unchanged fields keep their sealed bytes (and the key they are under).
    func setPersonal(_ fields: PersonalFields, of row: inout CustomerRecord) throws {
        let current = try personal(of: row)
        if fields.givenName != current.givenName { row.givenName = try keyring.seal(fields.givenName, for: row.id) }
        if fields.familyName != current.familyName { row.familyName = try keyring.seal(fields.familyName, for: row.id) }
        if fields.city != current.city { row.city = try keyring.seal(fields.city, for: row.id) }
        if fields.company != current.company { row.company = try keyring.seal(fields.company, for: row.id) }
        try refreshMatchKey(&row, fields)
    }

    /// Recomputes the row's identity-resolution index (after its name, birth year or city changed).
    func refreshMatchKey(_ row: inout CustomerRecord, _ fields: PersonalFields? = nil) throws {
        let fields = try fields ?? personal(of: row)
        row.matchKey = IdentityMatch.personKey(
            givenName: fields.givenName, familyName: fields.familyName,
            birthYear: row.birthYear, city: fields.city
        )
        .map { BlindIndex.person($0, keyring) }
    }

    /// The blind index an identifier is stored and looked up under.
    func valueIndex(_ identifier: Identifier) -> String {
        BlindIndex.identifier(identifier.kind.rawValue, identifier.value, keyring)
    }

    /// The row for `identifier` held by `customerID`, its value sealed under that customer's key.
    func identifierRecord(_ identifier: Identifier, customerID: String, createdAt: Date) throws -> IdentifierRecord {
        IdentifierRecord(
            kind: identifier.kind, valueIndex: valueIndex(identifier),
            value: try keyring.seal(identifier.value, for: customerID), customerId: customerID, createdAt: createdAt,
            matchKey: BlindIndex.identifierMatch(
                identifier.kind.rawValue,
                IdentityMatch.identifierKey(identifier.kind, identifier.value), keyring))
    }

    /// The identifier a row holds, opened.
    func identifier(_ record: IdentifierRecord) throws -> Identifier {
        try opening(record.customerId) { Identifier(record.kind, try keyring.open(record.value)) }
    }

    /// Recomputes the customer's search tokens from their opened name and emails; none once they are not active.
    func reindexSearch(_ db: Database, _ customerID: String) throws {
        // Every create and update runs this, so its statements are prepared once per connection: through the query
        // interface and GRDB's persistence methods, a create's ~35 token inserts were two fifths of its CPU.
        try db.cachedStatement(sql: "DELETE FROM customer_search_token WHERE customerId = ?").execute(
            arguments: [customerID])
        guard let row = try customerRow(db, customerID), row.state == .active else { return }
        let emails =
            try IdentifierRecord
            .filter(
                IdentifierRecord.Columns.customerId == customerID
                    && IdentifierRecord.Columns.kind == IdentifierKind.email.rawValue
            )
            .preparedOnce.fetchAll(db).map { try identifier($0).value }
        try insertSearchTokens(db, customerID, personal: try personal(of: row), emails: emails)
    }

    /// Stores the search tokens of an active customer who has none yet, from their name and emails in the clear: a
    /// create passes what it was given rather than reading back and opening what it has just sealed.
    func insertSearchTokens(_ db: Database, _ customerID: String, personal: PersonalFields, emails: [String]) throws {
        let insert = try db.cachedStatement(sql: "INSERT INTO customer_search_token (token, customerId) VALUES (?, ?)")
        for term in SearchTerms.terms(personal: personal, emails: emails) {
            try insert.execute(arguments: [searchToken(term), customerID])
        }
    }

    func searchToken(_ term: String) -> String {
        BlindIndex.searchToken(term, keyring)
    }

    /// Runs `body`, turning a shredded key into the erasure it stands for.
    func opening<T>(_ customerID: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch KeyringError.shredded {
            throw ProfileError.customerErased(customerID)
        }
    }
}

public import C360StoreKit
public import Foundation
public import GRDB

/// Two customers that may be one person.
public struct MatchSuggestion: Sendable, Equatable {
    public var id: String
    /// The older of the two (ids are time-ordered), the default survivor.
    public var customerID: String
    public var candidateID: String
    public var rule: String
    public var score: Double
    public var explanation: String
    public var suggestedAt: Date
}

extension ProfileStore {
    /// Looks for customers that may be the same person as `customer`, through the match-key indexes (never a
    /// scan), and records a suggestion per pair not suggested before — a rejected pair never comes back, and a pair
    /// matched again by a stronger rule takes the stronger rule. Called inside the write that created or changed the
    /// customer, so suggestions appear as soon as the data that causes them.
    func suggestMatches(_ db: Database, for customer: CustomerRecord) throws {
        // The row as the caller has just written it, rather than read back (every create runs this).
        guard customer.state == .active else { return }
        let customerID = customer.id
        var found: [String: (rule: IdentityMatch.Rule, explanation: String)] = [:]
        func consider(_ candidate: String, _ rule: IdentityMatch.Rule, _ explanation: String) {
            guard candidate != customerID else { return }
            if let known = found[candidate], known.rule.score >= rule.score { return }
            found[candidate] = (rule, explanation)
        }
        // Every create runs this: its statements are prepared once per connection (see `preparedOnce`).
        let identifiers = try IdentifierRecord.filter(IdentifierRecord.Columns.customerId == customerID)
            .preparedOnce.fetchAll(db)
        for identifier in identifiers {
            let others =
                try IdentifierRecord
                .filter(IdentifierRecord.Columns.kind == identifier.kind.rawValue)
                .filter(IdentifierRecord.Columns.matchKey == identifier.matchKey)
                .filter(IdentifierRecord.Columns.customerId != customerID)
                .limit(20).preparedOnce.fetchAll(db)
            for other in others {
                let (mine, theirs) = (try self.identifier(identifier).value, try self.identifier(other).value)
                consider(
                    other.customerId, IdentityMatch.Rule(identifier.kind),
                    "\(identifier.kind.label) \(mine) and \(theirs) reach the same \(identifier.kind == .email ? "inbox" : identifier.kind == .phone ? "number" : "record")"
                )
            }
        }
        if let key = customer.matchKey {
            let others = try CustomerRecord.select(CustomerRecord.Columns.id, as: String.self)
                .filter(CustomerRecord.Columns.matchKey == key).filter(CustomerRecord.Columns.id != customerID)
                .limit(20).preparedOnce.fetchAll(db)
            let fields = try personal(of: customer)
            for other in others {
                consider(
                    other, .nameBirthYearCity,
                    "same name, birth year and city: \(fields.givenName) "
                        + "\(fields.familyName), \(customer.birthYear.map(String.init) ?? ""), \(fields.city)")
            }
        }
        let timestamp = now()
        for (candidate, match) in found {
            guard let other = try customerRow(db, candidate), other.state == .active else { continue }
            let (older, newer) = customerID < candidate ? (customerID, candidate) : (candidate, customerID)
            try db.execute(
                sql: """
                    INSERT INTO match_suggestion (suggestionId, customerId, candidateId, rule, score, explanation, state,
                        suggestedAt, decidedBy, decidedAt)
                    VALUES (?, ?, ?, ?, ?, ?, 'open', ?, '', NULL)
                    ON CONFLICT (customerId, candidateId) DO UPDATE SET rule = excluded.rule, score = excluded.score,
                        explanation = excluded.explanation
                    WHERE state = 'open' AND excluded.score > score
                    """,
                arguments: [
                    EntityID.generate(), older, newer, match.rule.rawValue, match.rule.score,
                    try keyring.seal(match.explanation, for: older), timestamp,
                ])
        }
    }

    /// Open suggestions whose two customers are both still active, best first, one page after `after`.
    public func matchSuggestions(
        customer customerID: String?, minScore: Double, after: SuggestionPosition?, limit: Int
    ) async throws -> Page<(suggestion: MatchSuggestion, position: SuggestionPosition)> {
        try await writer.read { db in
            typealias Columns = SuggestionRecord.Columns
            // With a customer named, their few suggestions are found by their two ids, not among every open one.
            var request = SuggestionRecord.filter(
                Columns.state.unindexed(when: customerID != nil) == "open" && Columns.score >= minScore
                    && CustomerRecord.isActive(Columns.customerId) && CustomerRecord.isActive(Columns.candidateId))
            // A suggestion moves with its customer's slot: on a shard, those of other shards' slots are left out.
            request = request.filter(try owned.expression(db, customer: Columns.customerId))
            if let customerID {
                request = request.filter(Columns.customerId == customerID || Columns.candidateId == customerID)
            }
            let rows = try request.page(SuggestionRecord.bestFirst, after: after, limit: limit).fetchAll(db)
            return try Page(fetched: rows, limit: limit).map {
                (try suggestion($0), $0.position)
            }
        }
    }

    /// Merges the two customers of an open suggestion (the older survives unless `survivorID` names the other),
    /// with the rule as the ledger's reason, and marks the suggestion accepted — one transaction.
    ///
    /// - Throws: `ProfileError.suggestionNotFound`, `.suggestionDecided`, `.survivorNotInSuggestion`, and what a
    ///   merge throws (a customer no longer active).
    public func acceptSuggestion(
        _ id: String, survivor survivorID: String?, requestedBy: String,
        owns: @Sendable (String) -> Bool = { _ in true }
    ) async throws
        -> (profile: CustomerProfile, entry: MergeEntry?)
    {
        try await writer.write { db in
            var record = try openSuggestion(db, id, owns: owns)
            let survivor = survivorID ?? record.customerId
            guard survivor == record.customerId || survivor == record.candidateId else {
                throw ProfileError.survivorNotInSuggestion(survivor, suggestion: id)
            }
            let merged = survivor == record.customerId ? record.candidateId : record.customerId
            let result = try merge(
                db, survivor: survivor, merged: merged,
                request: MergeRequest(
                    reason: .matchRule, rule: record.rule, matchedOn: [try suggestion(record).explanation],
                    note: "accepted match suggestion \(id)", requestedBy: requestedBy))
            record.state = "accepted"
            record.decidedBy = requestedBy
            record.decidedAt = now()
            try record.update(db)
            return result
        }
    }

    /// Rejects an open suggestion; the pair is never suggested again.
    public func rejectSuggestion(
        _ id: String, requestedBy: String, owns: @Sendable (String) -> Bool = { _ in true }
    ) async throws {
        try await writer.write { db in
            var record = try openSuggestion(db, id, owns: owns)
            record.state = "rejected"
            record.decidedBy = requestedBy
            record.decidedAt = now()
            try record.update(db)
        }
    }

    /// An open suggestion of a customer this shard owns (`owns`): a move's copy on the target is not found there
    /// until the map gives the customer to it, so a call asking each shard in turn reaches the owner.
    private func openSuggestion(_ db: Database, _ id: String, owns: (String) -> Bool) throws -> SuggestionRecord {
        guard let record = try SuggestionRecord.fetchOne(db, key: id), owns(record.customerId) else {
            throw ProfileError.suggestionNotFound(id)
        }
        guard record.state == "open" else { throw ProfileError.suggestionDecided(id, state: record.state) }
        return record
    }
}

/// Where a list of suggestions continues: after this negated score and id.
public typealias SuggestionPosition = KeysetPosition<Double, String>

/// A row of `match_suggestion`.
struct SuggestionRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "match_suggestion"
    var suggestionId: String
    var customerId: String
    var candidateId: String
    var rule: String
    var score: Double
    /// Names both people: sealed under `customerId`'s key (erasing either deletes the row).
    var explanation: SealedText
    /// open, accepted or rejected.
    var state: String
    var suggestedAt: Date
    var decidedBy: String
    var decidedAt: Date?

    enum Columns {
        static let suggestionId = Column(CodingKeys.suggestionId)
        static let customerId = Column(CodingKeys.customerId)
        static let candidateId = Column(CodingKeys.candidateId)
        static let score = Column(CodingKeys.score)
        static let state = Column(CodingKeys.state)
    }

    /// Best score first, then by id: ascending on the negated score.
    static let bestFirst = KeysetOrder.ascending(-Columns.score, tie: Columns.suggestionId)

    var position: SuggestionPosition { SuggestionPosition(key: -score, tie: suggestionId) }
}

extension ProfileStore {
    /// The row as the API shows it, its explanation opened.
    func suggestion(_ record: SuggestionRecord) throws -> MatchSuggestion {
        try opening(record.customerId) {
            MatchSuggestion(
                id: record.suggestionId, customerID: record.customerId, candidateID: record.candidateId,
                rule: record.rule, score: record.score, explanation: try keyring.open(record.explanation),
                suggestedAt: record.suggestedAt)
        }
    }
}

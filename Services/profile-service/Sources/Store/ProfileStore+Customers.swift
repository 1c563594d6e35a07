import C360ChangeFeed
import C360Clients
import C360Contracts
import C360ServerKit
public import C360StoreKit
public import Foundation
import GRDB

extension ProfileStore {
    // MARK: - Reads

    /// The customer `id` resolves to: itself, or the survivor it was merged into (with `resolvedFrom` set).
    ///
    /// - Throws: `ProfileError` when the id is unknown, deleted or erased.
    public func customer(_ id: String) async throws -> CustomerProfile {
        try await writer.read { db in try profile(db, resolving: id) }
    }

    /// What each of `ids` resolves to for a write, in one read: the active customer's id (itself, or the survivor of
    /// a merge), or why it cannot take data (`ProfileError`: unknown, deleted or erased).
    public func resolve(_ ids: [String]) async throws -> [Result<String, ProfileError>] {
        try await writer.read { db in try activeRows(db, resolving: ids).map { $0.map(\.id) } }
    }

    /// The active row each of `ids` resolves to, or why it cannot be used; a database error throws.
    func activeRows(_ db: Database, resolving ids: [String]) throws -> [Result<CustomerRecord, ProfileError>] {
        try ids.map { id in
            do {
                return .success(try activeRow(db, resolving: id).0)
            } catch let error as ProfileError {
                return .failure(error)
            }
        }
    }

    /// The customer holding `identifier` (already normalised).
    public func customer(with identifier: Identifier) async throws -> CustomerProfile {
        try await writer.read { db in
            guard
                let row = try IdentifierRecord.fetchOne(
                    db,
                    key: [
                        "kind": identifier.kind.rawValue,
                        "valueIndex": valueIndex(identifier),
                    ])
            else { throw ProfileError.identifierNotFound(identifier) }
            return try profile(db, resolving: row.customerId)
        }
    }

    /// One page of active customers matching `query`, in creation (id) order, starting after `afterID`.
    ///
    /// Text search: the query starts the customer's full name, family name or an email. Names and emails are sealed,
    /// so candidates come from the blind-indexed prefixes (`SearchTerms`) and are checked in the clear after opening,
    /// a batch at a time, until the page is full.
    ///
    /// On a shard, customers it holds of other shards' slots (a move's copies) are left out (`OwnedSlots`).
    public func customers(
        matching query: CustomerQuery, after afterID: String?, limit: Int
    ) async throws -> Page<CustomerProfile> {
        try await writer.read { db in
            // Most customers are active: the id order (the page's) or a token or tag list drives the query, not state.
            var request = CustomerRecord.filter(
                CustomerRecord.Columns.state.unindexed == CustomerRecord.State.active.rawValue
            ).filter(try owned.expression(db, customer: CustomerRecord.Columns.id))
            if !query.text.isEmpty {
                let terms = SearchTerms.queryTerms(query.text)
                func having(_ term: String) -> SQLExpression {
                    SearchTokenRecord.select(SearchTokenRecord.Columns.customerId)
                        .filter(SearchTokenRecord.Columns.token == searchToken(term)).contains(
                            CustomerRecord.Columns.id)
                }
                var byName: SQLExpression = true.sqlExpression
                for term in terms.name { byName = byName && having(term) }
                request = request.filter(terms.email.map { byName || having($0) } ?? byName)
            }
            if !query.tag.isEmpty {
                request = request.filter(
                    TagRecord.select(TagRecord.Columns.customerId)
                        .filter(TagRecord.Columns.tag == query.tag).contains(CustomerRecord.Columns.id))
            }
            if !query.countryCode.isEmpty {
                request = request.filter(CustomerRecord.Columns.countryCode == query.countryCode)
            }
            if let stage = query.lifecycleStage {
                request = request.filter(CustomerRecord.Columns.lifecycleStage == stage.rawValue)
            }
            if let from = query.createdFrom { request = request.filter(CustomerRecord.Columns.createdAt >= from) }
            if let until = query.createdUntil { request = request.filter(CustomerRecord.Columns.createdAt < until) }
            request = request.order(CustomerRecord.Columns.id)

            var found: [CustomerRecord] = []
            var cursor = afterID
            let batch = max(limit + 1, 64)
            while found.count <= limit {
                let candidates = try request.filter(cursor.map { CustomerRecord.Columns.id > $0 } ?? true.sqlExpression)
                    .limit(batch).fetchAll(db)
                for row in candidates where found.count <= limit {
                    let matches =
                        try query.text.isEmpty
                        || SearchTerms.matches(query.text, personal: personal(of: row), emails: emails(db, of: row.id))
                    if matches { found.append(row) }
                }
                guard candidates.count == batch, let last = candidates.last else { break }
                cursor = last.id
            }
            let page = Page(fetched: found, limit: limit)
            return Page(items: try profiles(db, rows: page.items), hasMore: page.hasMore)
        }
    }

    /// The customer's email addresses, opened.
    func emails(_ db: Database, of customerID: String) throws -> [String] {
        try IdentifierRecord
            .filter(
                IdentifierRecord.Columns.customerId == customerID
                    && IdentifierRecord.Columns.kind == IdentifierKind.email.rawValue
            )
            .fetchAll(db).map { try identifier($0).value }
    }

    // MARK: - Writes

    /// Creates a customer from validated input.
    ///
    /// - Throws: `ProfileError.identifierTaken` naming the customer that already holds one of the identifiers.
    /// - Parameters:
    ///   - id: The new customer's id; a shard passes one whose slot it owns.
    ///   - notAfter: On a shard, when the identifiers' claims stop being safe to write under
    ///     (`ProfileError.claimsExpired` after it), checked inside the transaction.
    public func createCustomer(
        _ new: NewCustomer, id: String = EntityID.generate(), notAfter: ContinuousClock.Instant? = nil
    ) async throws -> CustomerProfile {
        try await writer.write { db in
            try Self.checkClaims(notAfter)
            for identifier in new.identifiers {
                try ensureFree(db, identifier)
            }
            let timestamp = now()
            var row = CustomerRecord(
                id: id, state: .active, mergedInto: nil, givenName: .empty,
                familyName: .empty, matchKey: nil, birthYear: new.birthYear,
                city: .empty, countryCode: new.countryCode, language: new.language, company: .empty,
                preferredChannel: new.preferredChannel, preferredLanguage: new.preferredLanguage,
                quietHours: new.quietHours, lifecycleStage: new.lifecycleStage, loyaltyBalance: 0,
                loyaltyLifetime: 0, createdAt: timestamp, updatedAt: timestamp, deletedAt: nil, erasedAt: nil)
            let personal = PersonalFields(
                givenName: new.givenName, familyName: new.familyName, city: new.city, company: new.company)
            try setPersonal(personal, of: &row)
            try row.insert(db)
            for identifier in new.identifiers {
                try identifierRecord(identifier, customerID: row.id, createdAt: timestamp).insert(db)
            }
            for tag in new.tags {
                try TagRecord(customerId: row.id, tag: tag).insert(db)
            }
            for (key, value) in new.attributes {
                try AttributeRecord(customerId: row.id, key: key, value: keyring.seal(value, for: row.id)).insert(db)
            }
            try insertSearchTokens(
                db, row.id, personal: personal, emails: new.identifiers.filter { $0.kind == .email }.map(\.value))
            try ChangeLog.append(db, .customerCreated, customer: row.id, at: timestamp)
            try suggestMatches(db, for: row)
            return try profile(db, row: row, resolvedFrom: nil)
        }
    }

    /// Applies the fields present in `patch`.
    public func updateCustomer(_ id: String, _ patch: CustomerPatch) async throws -> CustomerProfile {
        try await writer.write { db in
            let (original, resolvedFrom) = try activeRow(db, resolving: id)
            var row = original
            var fields = try personal(of: row)
            if let value = patch.givenName { fields.givenName = value }
            if let value = patch.familyName { fields.familyName = value }
            if let value = patch.birthYear { row.birthYear = value }
            if let value = patch.city { fields.city = value }
            if let value = patch.countryCode { row.countryCode = value }
            if let value = patch.language { row.language = value }
            if let value = patch.company { fields.company = value }
            if let value = patch.preferredChannel { row.preferredChannel = value }
            if let value = patch.preferredLanguage { row.preferredLanguage = value }
            if let value = patch.quietHours { row.quietHours = value }
            if let value = patch.lifecycleStage { row.lifecycleStage = value }
            try setPersonal(fields, of: &row)
            row.updatedAt = now()
            try row.update(db)
            try reindexSearch(db, row.id)
            try ChangeLog.append(db, .customerUpdated, customer: row.id, at: row.updatedAt)
            if row.matchKey != original.matchKey { try suggestMatches(db, for: row) }
            return try profile(db, row: row, resolvedFrom: resolvedFrom)
        }
    }

    /// Soft-deletes a customer: hidden from reads and lists, data and identifiers kept. Deleting again answers the
    /// time of the first deletion.
    public func deleteCustomer(_ id: String) async throws -> (id: String, deletedAt: Date) {
        try await writer.write { db in
            var row = try resolvedRow(db, id)
            switch row.state {
            case .erased: throw ProfileError.customerErased(id)
            case .deleted: return (row.id, row.deletedAt ?? row.updatedAt)
            case .active, .merged:
                let timestamp = now()
                row.state = .deleted
                row.deletedAt = timestamp
                row.updatedAt = timestamp
                try row.update(db)
                try ChangeLog.append(db, .customerDeleted, customer: row.id, at: timestamp)
                return (row.id, timestamp)
            }
        }
    }

    /// Erases the customer's personal data for good, including everything merged into it; keeps a tombstone row so
    /// the id answers "erased". Erasing again reports `erasedNow == false`. Once committed, the old values are
    /// purged from the WAL too (`purgeDeletedData()`), so no file keeps the name, email or phone.
    public func eraseCustomer(_ id: String) async throws -> (id: String, erasedAt: Date, erasedNow: Bool) {
        let (erased, owners) = try await writer.write { db in
            var row = try resolvedRow(db, id)
            let owners =
                [row.id]
                + (try String.fetchAll(
                    db, sql: "SELECT id FROM customer WHERE mergedInto = ?", arguments: [row.id]))
            if row.state == .erased { return ((row.id, row.erasedAt ?? row.updatedAt, false), owners) }
            for table in [
                "customer_identifier", "customer_search_token", "customer_tag", "customer_attribute",
                "customer_trait", "consent_decision", "loyalty_transaction", "loyalty_purchase",
                "loyalty_queue",
            ] {
                try db.execute(
                    sql: "DELETE FROM \(table) WHERE customerId IN (\(databaseQuestionMarks(count: owners.count)))",
                    arguments: StatementArguments(owners))
            }
            let timestamp = now()
            row.state = .erased
            row.erasedAt = timestamp
            row.updatedAt = timestamp
            row.clearPersonalData()
            try row.update(db)
            // The merge ledger keeps what merged profiles were, and suggestions explain themselves with names.
            let owned = StatementArguments(owners + owners)
            let marks = databaseQuestionMarks(count: owners.count)
            try db.execute(
                sql: "DELETE FROM merge_ledger WHERE survivorId IN (\(marks)) OR mergedId IN (\(marks))",
                arguments: owned)
            try db.execute(
                sql: "DELETE FROM match_suggestion WHERE customerId IN (\(marks)) OR candidateId IN (\(marks))",
                arguments: owned)
            // The feed keeps no trace of what happened to the customer before, only that they were erased.
            for owner in owners { try ChangeLog.forget(db, customer: owner) }
            try ChangeLog.append(db, .customerErased, customer: row.id, at: timestamp)
            return ((row.id, timestamp, true), owners)
        }
        // After the commit (a rolled-back erasure must leave the data readable), and also when nothing was erased now:
        // a retried erasure finishes what a crash between the commit and here left. Without the keys, every copy of
        // what was sealed for these customers — backups included — is ciphertext nobody can open.
        try keyring.shred(owners)
        // A retried erasure also finishes a purge an earlier one could not.
        await writer.purgeDeletedData()
        return erased
    }

    /// Gives a customer one more external identifier.
    ///
    /// - Parameter notAfter: As for `createCustomer`.
    public func addIdentifier(
        _ identifier: Identifier, to id: String, notAfter: ContinuousClock.Instant? = nil
    ) async throws -> CustomerProfile {
        try await writer.write { db in
            try Self.checkClaims(notAfter)
            var (row, resolvedFrom) = try activeRow(db, resolving: id)
            if let holder = try holderOf(db, identifier), holder == row.id {
                return try profile(db, row: row, resolvedFrom: resolvedFrom)
            }
            try ensureFree(db, identifier)
            let timestamp = now()
            try identifierRecord(identifier, customerID: row.id, createdAt: timestamp).insert(db)
            try reindexSearch(db, row.id)
            row.updatedAt = timestamp
            try row.update(db)
            try ChangeLog.append(db, .customerUpdated, customer: row.id, at: timestamp)
            try suggestMatches(db, for: row)
            return try profile(db, row: row, resolvedFrom: resolvedFrom)
        }
    }

    /// Takes an external identifier away from a customer; it becomes free for others.
    public func removeIdentifier(_ identifier: Identifier, from id: String) async throws -> CustomerProfile {
        try await writer.write { db in
            var (row, resolvedFrom) = try activeRow(db, resolving: id)
            let removed =
                try IdentifierRecord
                .filter(key: ["kind": identifier.kind.rawValue, "valueIndex": valueIndex(identifier)])
                .filter(IdentifierRecord.Columns.customerId == row.id)
                .deleteAll(db)
            guard removed > 0 else { throw ProfileError.identifierNotOnCustomer(identifier, customer: row.id) }
            try reindexSearch(db, row.id)
            row.updatedAt = now()
            try row.update(db)
            try ChangeLog.append(db, .customerUpdated, customer: row.id, at: row.updatedAt)
            return try profile(db, row: row, resolvedFrom: resolvedFrom)
        }
    }

    // MARK: - Helpers shared by the store's extensions

    /// Refuses a write that comes after its identifier claims' deadline: by then another shard may have taken them
    /// over. Checked inside the write transaction, so a write queued behind others is refused when it finally runs.
    static func checkClaims(_ notAfter: ContinuousClock.Instant?) throws {
        if let notAfter, ContinuousClock.now > notAfter { throw ProfileError.claimsExpired }
    }

    /// The row `id` names, following merges to the survivor; any state.
    func resolvedRow(_ db: Database, _ id: String) throws -> CustomerRecord {
        // Every RPC starts here: a statement prepared once per connection, not SQL generated per call (which was an
        // eighth of profile-service's CPU under a send run's batch reads).
        // Sent here for its survivor's family (the request's own customer only, not another id it names).
        let family = WrongShard.family.flatMap { $0.customer == id && $0.survivor != id ? $0.survivor : nil }
        // That survivor was merged on since (its own alias here names into whom): answered by that family, never by
        // rows this shard may hold of it meanwhile, such as a move's copy.
        if let family, let next = try alias(db, family) { throw ProfileError.mergedElsewhere(id, survivor: next) }
        guard var row = try customerRow(db, id) else {
            // A merged-away id whose family moved to another shard, its slot staying here (or arriving alone).
            if let survivor = try alias(db, id) { throw ProfileError.mergedElsewhere(id, survivor: survivor) }
            throw ProfileError.customerNotFound(id)
        }
        // Merges are flattened when they happen, so one hop suffices; the bound guards against a corrupt chain.
        var hops = 0
        while row.state == .merged, let target = row.mergedInto, hops < 8 {
            guard let next = try customerRow(db, target) else {
                throw ProfileError.customerNotFound(id)
            }
            row = next
            hops += 1
        }
        // Sent here for its survivor's family: only that family answers, never a row this shard holds for another.
        if let family, row.id != family {
            // Split from that family by an unmerge here, and being handed back to its own shard meanwhile.
            if try FamilyTransferOut.isOpen(db, family: row.id) { throw ProfileError.handingBack(id) }
            throw ProfileError.customerNotFound(id)
        }
        return row
    }

    /// The row `id` names as it is (no merge followed), any state, through one statement prepared per connection.
    func customerRow(_ db: Database, _ id: String) throws -> CustomerRecord? {
        try CustomerRecord.fetchOne(db.cachedStatement(sql: "SELECT * FROM customer WHERE id = ?"), arguments: [id])
    }

    /// The active customer `id` resolves to and the id asked for when it was merged away.
    func activeRow(_ db: Database, resolving id: String) throws -> (CustomerRecord, resolvedFrom: String?) {
        let row = try resolvedRow(db, id)
        switch row.state {
        case .active, .merged: return (row, row.id == id ? nil : id)
        case .deleted: throw ProfileError.customerDeleted(row.id)
        case .erased: throw ProfileError.customerErased(row.id)
        }
    }

    /// The full profile of the active customer `id` resolves to.
    func profile(_ db: Database, resolving id: String) throws -> CustomerProfile {
        let (row, resolvedFrom) = try activeRow(db, resolving: id)
        return try profile(db, row: row, resolvedFrom: resolvedFrom)
    }

    func profile(_ db: Database, row: CustomerRecord, resolvedFrom: String?) throws -> CustomerProfile {
        var result = try profiles(db, rows: [row])[0]
        result.resolvedFrom = resolvedFrom
        return result
    }

    /// Assembles profiles for `rows`, loading their identifiers, tags, attributes, traits and merged ids with one
    /// query per table.
    ///
    /// One customer (GetCustomer, every write's answer) is read with fixed SQL through statements cached per
    /// connection: compiling the five queries on each call was a quarter of profile-service's CPU under GetCustomer,
    /// and once they were cached, writing their SQL through the query interface was a third of what was left. A page
    /// of customers builds its queries (an `IN` list of its own length) and compiles them once per page.
    func profiles(_ db: Database, rows: [CustomerRecord]) throws -> [CustomerProfile] {
        guard !rows.isEmpty else { return [] }
        let ids = rows.map(\.id)
        /// The rows of one table for `ids`: `oneCustomer` (one `?`) for a single id, else `request()`.
        func fetch<Record: FetchableRecord>(
            _ oneCustomer: String, _ request: @autoclosure () -> QueryInterfaceRequest<Record>
        ) throws -> [Record] {
            guard ids.count > 1 else {
                return try Record.fetchAll(db.cachedStatement(sql: oneCustomer), arguments: [ids[0]])
            }
            return try request().fetchAll(db)
        }
        let identifiers = Dictionary(
            grouping: try fetch(
                "SELECT * FROM customer_identifier WHERE customerId = ?",
                IdentifierRecord.filter(ids.contains(IdentifierRecord.Columns.customerId))),
            by: \.customerId)
        let tags = Dictionary(
            grouping: try fetch(
                "SELECT * FROM customer_tag WHERE customerId = ? ORDER BY tag",
                TagRecord.filter(ids.contains(TagRecord.Columns.customerId)).order(TagRecord.Columns.tag)),
            by: \.customerId)
        let attributes = Dictionary(
            grouping: try fetch(
                "SELECT * FROM customer_attribute WHERE customerId = ?",
                AttributeRecord.filter(ids.contains(AttributeRecord.Columns.customerId))),
            by: \.customerId)
        let traits = Dictionary(
            grouping: try fetch(
                "SELECT * FROM customer_trait WHERE customerId = ? ORDER BY key",
                TraitRecord.filter(ids.contains(TraitRecord.Columns.customerId)).order(TraitRecord.Columns.key)),
            by: \.customerId)
        let merged = Dictionary(
            grouping: try fetch(
                "SELECT * FROM customer WHERE mergedInto = ? ORDER BY id",
                CustomerRecord.filter(ids.contains(CustomerRecord.Columns.mergedInto)).order(CustomerRecord.Columns.id)
            ), by: { $0.mergedInto ?? "" })
        return try rows.map { row in
            let fields = try personal(of: row)
            // Sorted in the clear: the stored values are ciphertext.
            let opened = try (identifiers[row.id] ?? []).map(identifier)
                .sorted { ($0.kind.rawValue, $0.value) < ($1.kind.rawValue, $1.value) }
            return CustomerProfile(
                id: row.id,
                identifiers: opened,
                givenName: fields.givenName, familyName: fields.familyName, birthYear: row.birthYear, city: fields.city,
                countryCode: row.countryCode, language: row.language, company: fields.company,
                preferredChannel: row.preferredChannel, preferredLanguage: row.preferredLanguage,
                quietHours: row.quietHours,
                tags: (tags[row.id] ?? []).map(\.tag),
                attributes: Dictionary(
                    uniqueKeysWithValues: try (attributes[row.id] ?? []).map { attribute in
                        (attribute.key, try opening(row.id) { try keyring.open(attribute.value) })
                    }),
                traits: (traits[row.id] ?? []).map { Trait(key: $0.key, value: $0.value, updatedAt: $0.updatedAt) },
                lifecycleStage: row.lifecycleStage,
                loyalty: row.loyaltyAccount,
                createdAt: row.createdAt, updatedAt: row.updatedAt,
                mergedIDs: (merged[row.id] ?? []).map(\.id), resolvedFrom: nil)
        }
    }

    func holderOf(_ db: Database, _ identifier: Identifier) throws -> String? {
        try String.fetchOne(
            db.cachedStatement(sql: "SELECT customerId FROM customer_identifier WHERE kind = ? AND valueIndex = ?"),
            arguments: [identifier.kind.rawValue, valueIndex(identifier)])
    }

    func ensureFree(_ db: Database, _ identifier: Identifier) throws {
        if let holder = try holderOf(db, identifier) {
            throw ProfileError.identifierTaken(identifier, holder: holder)
        }
    }

    /// Bumps `updatedAt` of a customer after a change to one of its child tables, and tells the feed.
    func touch(_ db: Database, _ id: String, change: Customer360_V1_ChangeKind = .customerUpdated) throws {
        let timestamp = now()
        try db.execute(sql: "UPDATE customer SET updatedAt = ? WHERE id = ?", arguments: [timestamp, id])
        try ChangeLog.append(db, change, customer: id, at: timestamp)
    }
}

extension CustomerRecord {
    /// Blanks every column that says who the person is; the id, state and timestamps stay.
    mutating func clearPersonalData() {
        givenName = .empty
        familyName = .empty
        matchKey = nil
        birthYear = nil
        city = .empty
        countryCode = ""
        language = ""
        company = .empty
        preferredChannel = nil
        preferredLanguage = ""
        quietHours = nil
        lifecycleStage = nil
        loyaltyBalance = 0
        loyaltyLifetime = 0
        spendTier = nil
        windowSpendMinor = nil
        rewardBalanceMinor = nil
    }
}

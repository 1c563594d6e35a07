import C360StoreKit
import Foundation
import GRDB
import Testing

@testable import C360Gateway

/// Every key id `store` lists, page by page of `limit`, and how many pages that took.
private func listedKeyIDs(
    _ store: GatewayStore, includeInactive: Bool, at now: Date = Fixed.now, limit: Int
) async throws -> (ids: [String], pages: Int) {
    var ids: [String] = []
    var pages = 0
    var position: InstantPosition?
    repeat {
        let page = try await store.keys(includeInactive: includeInactive, at: now, after: position, limit: limit)
        ids += page.items.map { $0.key.id }
        pages += 1
        position = page.hasMore ? page.items.last?.position : nil
    } while position != nil && pages < 100
    return (ids, pages)
}

/// Every audit record `filter` selects, page by page of `limit`, and how many pages that took.
private func listedAudit(
    _ store: GatewayStore, _ filter: AuditFilter = AuditFilter(), limit: Int = 100
) async throws -> (records: [AuditRecord], pages: Int) {
    var records: [AuditRecord] = []
    var pages = 0
    var position: InstantPosition?
    repeat {
        let page = try await store.audit(filter: filter, after: position, limit: limit)
        records += page.items.map { $0.record }
        pages += 1
        position = page.hasMore ? page.items.last?.position : nil
    } while position != nil && pages < 100
    return (records, pages)
}

@Suite("Gateway store: API keys")
struct GatewayStoreKeyTests {
    @Test("a key is found by the hash of its secret, and only the hash is stored")
    func createAndLookUp() async throws {
        let store = try makeGatewayStore()
        let key = makeKey("key-agent", role: .agent, expiresAt: Fixed.at(86_400), createdBy: "key-admin")
        let secret = try await addKey(key, to: store)

        let found = try await store.key(secretHash: ApiKeySecret.hash(secret))
        #expect(found == key)
        #expect(try await store.key(secretHash: ApiKeySecret.hash(secret + "x")) == nil)
        #expect(try await store.key(secretHash: secret) == nil, "the secret itself is no lookup key")

        let rows = try await store.writer.read { db in
            try String.fetchAll(
                db,
                sql: """
                    SELECT keyId || '|' || name || '|' || role || '|' || secretHash || '|' || secretPrefix || '|' || createdBy
                    FROM api_key
                    """)
        }
        #expect(rows.count == 1)
        for row in rows {
            #expect(!row.contains(secret.dropFirst(5)), "a column holds the secret: \(row)")
        }
        let hashes = try await store.writer.read { db in
            try String.fetchAll(db, sql: "SELECT secretHash FROM api_key")
        }
        #expect(hashes == [ApiKeySecret.hash(secret)])
    }

    @Test("two keys cannot share a secret")
    func uniqueSecret() async throws {
        let store = try makeGatewayStore()
        let secret = ApiKeySecret.generate()
        try await store.createKey(makeKey("key-1", role: .viewer), secretHash: ApiKeySecret.hash(secret))
        await #expect(throws: (any Error).self) {
            try await store.createKey(makeKey("key-2", role: .viewer), secretHash: ApiKeySecret.hash(secret))
        }
    }

    @Test("keys are listed newest first, a page at a time, ties broken by id")
    func paging() async throws {
        let store = try makeGatewayStore()
        for key in [
            makeKey("key-a", role: .viewer, createdAt: Fixed.at(-300)),
            makeKey("key-b", role: .agent, createdAt: Fixed.at(-240)),
            makeKey("key-c", role: .analyst, createdAt: Fixed.at(-180)),
            makeKey("key-d", role: .admin, createdAt: Fixed.at(-180)),
            makeKey("key-e", role: .viewer, createdAt: Fixed.at(-60)),
        ] {
            try await addKey(key, to: store)
        }
        let paged = try await listedKeyIDs(store, includeInactive: false, limit: 2)
        #expect(paged.ids == ["key-e", "key-d", "key-c", "key-b", "key-a"])
        #expect(paged.pages == 3)
        let whole = try await listedKeyIDs(store, includeInactive: false, limit: 5)
        #expect(whole.ids == paged.ids && whole.pages == 1)
        let first = try await store.keys(includeInactive: false, at: Fixed.now, after: nil, limit: 5)
        #expect(!first.hasMore)
    }

    @Test("revoked and expired keys are listed only when inactive ones are asked for")
    func inactiveKeys() async throws {
        let store = try makeGatewayStore()
        try await addKey(makeKey("key-a", role: .viewer, createdAt: Fixed.at(-300)), to: store)
        try await addKey(makeKey("key-b", role: .agent, createdAt: Fixed.at(-240)), to: store)
        let expiredSecret = try await addKey(
            makeKey("key-c", role: .analyst, createdAt: Fixed.at(-180), expiresAt: Fixed.at(-1)), to: store)
        try await addKey(
            makeKey("key-d", role: .analyst, createdAt: Fixed.at(-120), expiresAt: Fixed.at(3_600)), to: store)
        _ = try await store.revoke(keyID: "key-b", at: Fixed.at(-10))

        #expect(try await listedKeyIDs(store, includeInactive: false, limit: 10).ids == ["key-d", "key-a"])
        #expect(
            try await listedKeyIDs(store, includeInactive: true, limit: 10).ids == ["key-d", "key-c", "key-b", "key-a"])
        // An hour later key-d has expired too.
        #expect(try await listedKeyIDs(store, includeInactive: false, at: Fixed.at(3_600), limit: 10).ids == ["key-a"])

        // An expired key is still found by its secret (so the caller can be told why it fails), but it is inactive.
        let expiredLookup = try await store.key(secretHash: ApiKeySecret.hash(expiredSecret))
        let expired = try #require(expiredLookup)
        #expect(expired.id == "key-c")
        #expect(!expired.isActive(at: Fixed.now))
    }

    @Test("revoking is idempotent: a second revoke answers the key as first revoked")
    func revokeIsIdempotent() async throws {
        let store = try makeGatewayStore()
        let secret = try await addKey(makeKey("key-viewer", role: .viewer), to: store)

        let first = try await store.revoke(keyID: "key-viewer", at: Fixed.at(10))
        #expect(first.revokedAt == Fixed.at(10))
        #expect(!first.isActive(at: Fixed.at(10)))
        let again = try await store.revoke(keyID: "key-viewer", at: Fixed.at(20))
        #expect(again == first)
        #expect(again.revokedAt == Fixed.at(10))

        let storedLookup = try await store.key(secretHash: ApiKeySecret.hash(secret))
        let stored = try #require(storedLookup)
        #expect(stored.revokedAt == Fixed.at(10))

        await #expect(throws: GatewayError.keyNotFound("key-nope")) {
            try await store.revoke(keyID: "key-nope", at: Fixed.now)
        }
    }

    @Test("the last active admin key cannot be revoked; an expired admin does not count")
    func lastAdmin() async throws {
        let store = try makeGatewayStore()
        #expect(try await store.hasActiveAdmin(at: Fixed.now) == false)
        try await addKey(makeKey("admin-1", role: .admin), to: store)
        try await addKey(makeKey("admin-2", role: .admin), to: store)
        try await addKey(makeKey("admin-expired", role: .admin, expiresAt: Fixed.at(-1)), to: store)
        try await addKey(makeKey("agent-1", role: .agent), to: store)
        #expect(try await store.hasActiveAdmin(at: Fixed.now))

        _ = try await store.revoke(keyID: "admin-1", at: Fixed.now)
        await #expect(throws: GatewayError.lastAdminKey("admin-2")) {
            try await store.revoke(keyID: "admin-2", at: Fixed.now)
        }
        // Refused means untouched.
        let listed = try await listedKeyIDs(store, includeInactive: false, limit: 10).ids
        #expect(Set(listed) == ["admin-2", "agent-1"])
        #expect(try await store.hasActiveAdmin(at: Fixed.now))

        // Other keys, and inactive admin keys, can still be revoked.
        _ = try await store.revoke(keyID: "agent-1", at: Fixed.now)
        let expired = try await store.revoke(keyID: "admin-expired", at: Fixed.now)
        #expect(expired.revokedAt == Fixed.now)

        // With a second admin again, the first one can go.
        try await addKey(makeKey("admin-3", role: .admin), to: store)
        _ = try await store.revoke(keyID: "admin-2", at: Fixed.now)
        await #expect(throws: GatewayError.lastAdminKey("admin-3")) {
            try await store.revoke(keyID: "admin-3", at: Fixed.now)
        }
    }

    @Test("only expired or revoked admins means no active admin")
    func noActiveAdmin() async throws {
        let store = try makeGatewayStore()
        try await addKey(makeKey("admin-expired", role: .admin, expiresAt: Fixed.at(-1)), to: store)
        try await addKey(makeKey("agent-1", role: .agent), to: store)
        #expect(try await store.hasActiveAdmin(at: Fixed.now) == false)
        try await addKey(makeKey("admin-later", role: .admin, expiresAt: Fixed.at(60)), to: store)
        #expect(try await store.hasActiveAdmin(at: Fixed.now))
        #expect(try await store.hasActiveAdmin(at: Fixed.at(60)) == false)
    }

    @Test("use is noted at most once a minute")
    func touch() async throws {
        let store = try makeGatewayStore()
        let secret = try await addKey(makeKey("key-1", role: .viewer), to: store)
        func lastUsed() async throws -> Date? {
            try await store.key(secretHash: ApiKeySecret.hash(secret))?.lastUsedAt
        }
        #expect(try await lastUsed() == nil)
        try await store.touch(keyID: "key-1", at: Fixed.at(0))
        #expect(try await lastUsed() == Fixed.at(0))
        try await store.touch(keyID: "key-1", at: Fixed.at(30))
        #expect(try await lastUsed() == Fixed.at(0))
        try await store.touch(keyID: "key-1", at: Fixed.at(61))
        #expect(try await lastUsed() == Fixed.at(61))
    }
}

private let viewMethod = "customer360.v1.GatewayService/GetCustomer360"

@Suite("Gateway store: audit log")
struct GatewayStoreAuditTests {
    /// A record `seconds` from `Fixed.now`.
    private static func record(
        _ number: Int, at seconds: TimeInterval, actor: String, role: Role, action: AuditAction, customer: String,
        method: String = viewMethod, status: String = "OK"
    ) -> AuditRecord {
        AuditRecord(
            id: "audit-\(number)", occurredAt: Fixed.at(seconds), actorKeyID: actor, actorRole: role,
            action: action, method: method, customerID: customer, statusCode: status,
            requestID: "request-\(number)", clientAddress: "ipv4:127.0.0.1:\(40_000 + number)")
    }

    /// Seven calls by an agent, a viewer and an admin about two customers; audit-3 and audit-4 at the same instant.
    private static let records: [AuditRecord] = [
        record(
            1, at: -500, actor: "key-agent", role: .agent, action: .write, customer: "cust-1",
            method: "customer360.v1.GatewayService/CreateCustomer"),
        record(2, at: -400, actor: "key-agent", role: .agent, action: .read, customer: "cust-1"),
        record(3, at: -300, actor: "key-viewer", role: .viewer, action: .read, customer: "cust-1"),
        record(
            4, at: -300, actor: "key-viewer", role: .viewer, action: .read, customer: "cust-2",
            status: "NOT_FOUND"),
        record(
            5, at: -200, actor: "key-admin", role: .admin, action: .export, customer: "cust-1",
            method: "customer360.v1.GatewayService/ExportCustomerData"),
        record(
            6, at: -100, actor: "key-admin", role: .admin, action: .erase, customer: "cust-1",
            method: "customer360.v1.GatewayService/EraseCustomer"),
        record(
            7, at: -50, actor: "key-admin", role: .admin, action: .admin, customer: "",
            method: "customer360.v1.GatewayService/CreateApiKey"),
    ]

    private func filledStore() async throws -> GatewayStore {
        let store = try makeGatewayStore()
        for record in Self.records { try await store.append(record) }
        return store
    }

    private func ids(_ records: [AuditRecord]) -> [String] {
        records.map(\.id)
    }

    @Test("records come back as appended, newest first, ties broken by id")
    func roundTrip() async throws {
        let store = try await filledStore()
        let all = try await listedAudit(store)
        #expect(ids(all.records) == ["audit-7", "audit-6", "audit-5", "audit-4", "audit-3", "audit-2", "audit-1"])
        let byID = Dictionary(uniqueKeysWithValues: Self.records.map { ($0.id, $0) })
        for record in all.records {
            // Stored records carry their link in the hash chain (AuditChainTests); the rest is as appended.
            var appended = record
            #expect(record.hash.count == 64, "\(record.id)")
            (appended.hash, appended.previousHash) = ("", "")
            #expect(appended == byID[record.id], "\(record.id)")
        }
    }

    @Test("pages continue where the last one ended, with and without a filter")
    func paging() async throws {
        let store = try await filledStore()
        let all = try await listedAudit(store, limit: 3)
        #expect(ids(all.records) == ["audit-7", "audit-6", "audit-5", "audit-4", "audit-3", "audit-2", "audit-1"])
        #expect(all.pages == 3)
        // A page boundary between the two records of the same instant.
        let pairs = try await listedAudit(store, limit: 4)
        #expect(ids(pairs.records) == ids(all.records) && pairs.pages == 2)

        var filter = AuditFilter()
        filter.customerID = "cust-1"
        let customer = try await listedAudit(store, filter, limit: 2)
        #expect(ids(customer.records) == ["audit-6", "audit-5", "audit-3", "audit-2", "audit-1"])
        #expect(customer.pages == 3)
    }

    @Test("filters by customer, actor, actions and time, combined with AND")
    func filters() async throws {
        let store = try await filledStore()

        var byCustomer = AuditFilter()
        byCustomer.customerID = "cust-2"
        let customer = try await listedAudit(store, byCustomer).records
        #expect(ids(customer) == ["audit-4"])

        var byActor = AuditFilter()
        byActor.actorKeyID = "key-viewer"
        let actor = try await listedAudit(store, byActor).records
        #expect(ids(actor) == ["audit-4", "audit-3"])

        var byActions = AuditFilter()
        byActions.actions = [.write, .erase]
        let writesAndErasures = try await listedAudit(store, byActions).records
        #expect(ids(writesAndErasures) == ["audit-6", "audit-1"])

        var byRead = AuditFilter()
        byRead.actions = [.read]
        let reads = try await listedAudit(store, byRead).records
        #expect(ids(reads) == ["audit-4", "audit-3", "audit-2"])

        var byAll = AuditFilter()
        byAll.customerID = "cust-1"
        byAll.actorKeyID = "key-agent"
        byAll.actions = [.read]
        let combined = try await listedAudit(store, byAll).records
        #expect(ids(combined) == ["audit-2"])

        // from is inclusive, until exclusive.
        var byTime = AuditFilter()
        byTime.from = Fixed.at(-300)
        byTime.until = Fixed.at(-100)
        let window = try await listedAudit(store, byTime).records
        #expect(ids(window) == ["audit-5", "audit-4", "audit-3"])

        var byNobody = AuditFilter()
        byNobody.actorKeyID = "key-nobody"
        let nobody = try await listedAudit(store, byNobody).records
        #expect(nobody.isEmpty)
    }

    @Test("a filter's fingerprint changes with every part of it and not with the order of actions")
    func fingerprint() {
        var first = AuditFilter()
        first.actions = [.read, .write]
        var second = AuditFilter()
        second.actions = [.write, .read]
        #expect(first.fingerprint == second.fingerprint)
        var other = first
        other.customerID = "cust-1"
        #expect(other.fingerprint != first.fingerprint)
        var actor = first
        actor.actorKeyID = "cust-1"
        #expect(actor.fingerprint != other.fingerprint, "customer and actor must not be confused")
        var from = first
        from.from = Fixed.now
        #expect(from.fingerprint != first.fingerprint)
    }
}

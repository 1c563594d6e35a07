public import C360StoreKit
public import Foundation
import GRDB

extension GatewayStore {
    /// Stores a key under the hash of its secret. Storing the same key under the same hash again answers the stored
    /// key, so a replica may resend it after losing the answer (`GatewayAuthorityService.StoreApiKey`).
    ///
    /// - Throws: `GatewayError.keyExists` when another key has this id or this secret.
    @discardableResult
    public func createKey(_ key: ApiKey, secretHash: String) async throws -> ApiKey {
        try await writer.write { db in
            if let stored = try ApiKeyRecord.fetchOne(db, key: key.id) {
                guard stored.secretHash == secretHash else { throw GatewayError.keyExists(key.id) }
                return try stored.domain()
            }
            guard try ApiKeyRecord.filter(ApiKeyRecord.Columns.secretHash == secretHash).isEmpty(db) else {
                throw GatewayError.keyExists(key.id)
            }
            let record = ApiKeyRecord(
                keyId: key.id, name: key.name, role: key.role.rawValue, secretHash: secretHash,
                secretPrefix: key.secretPrefix, createdAt: key.createdAt.unixMillis, createdBy: key.createdBy,
                expiresAt: key.expiresAt?.unixMillis)
            try record.insert(db)
            return try record.domain()
        }
    }

    /// The key whose secret hashes to `secretHash`, active or not.
    public func key(secretHash: String) async throws -> ApiKey? {
        try await writer.read { db in
            // Every call whose key is not in the authenticator's cache asks this: prepared once per connection.
            try ApiKeyRecord.fetchOne(
                db.cachedStatement(sql: "SELECT * FROM api_key WHERE secretHash = ?"),
                arguments: [secretHash])?.domain()
        }
    }

    /// Keys newest first, one page after `position`.
    public func keys(
        includeInactive: Bool, at now: Date, after position: InstantPosition?, limit: Int
    ) async throws -> Page<(key: ApiKey, position: InstantPosition)> {
        try await writer.read { db in
            var request = ApiKeyRecord.all()
            if !includeInactive { request = request.filter(ApiKeyRecord.isActive(at: now)) }
            let records = try request.page(
                .descending(ApiKeyRecord.Columns.createdAt, tie: ApiKeyRecord.Columns.keyId), after: position,
                limit: limit
            ).fetchAll(db)
            return try Page(fetched: records, limit: limit).map { record in
                let key = try record.domain()
                return (key, InstantPosition(key: key.createdAt.unixMillis, tie: key.id))
            }
        }
    }

    /// Revokes a key (idempotent). Refuses to revoke the last active admin key, so the deployment is never locked out.
    ///
    /// - Throws: `GatewayError.keyNotFound`, `.lastAdminKey`.
    public func revoke(keyID: String, at now: Date) async throws -> ApiKey {
        try await writer.write { db in
            guard
                let key = try ApiKeyRecord.fetchOne(
                    db, sql: "SELECT * FROM api_key WHERE keyId = ?",
                    arguments: [keyID])?.domain()
            else { throw GatewayError.keyNotFound(keyID) }
            guard key.revokedAt == nil else { return key }
            if key.role == .admin, key.isActive(at: now) {
                let admins = try ApiKeyRecord.activeAdmins(at: now).fetchCount(db)
                guard admins > 1 else { throw GatewayError.lastAdminKey(keyID) }
            }
            try db.execute(sql: "UPDATE api_key SET revokedAt = ? WHERE keyId = ?", arguments: [now.unixMillis, keyID])
            guard
                let revoked = try ApiKeyRecord.fetchOne(
                    db, sql: "SELECT * FROM api_key WHERE keyId = ?",
                    arguments: [keyID])?.domain()
            else { throw GatewayError.keyNotFound(keyID) }
            return revoked
        }
    }

    /// Whether any active admin key exists (else the gateway creates a bootstrap key).
    public func hasActiveAdmin(at now: Date) async throws -> Bool {
        try await writer.read { db in
            try !ApiKeyRecord.activeAdmins(at: now).isEmpty(db)
        }
    }

    /// Notes that a key was used (at most once a minute per key, to keep reads from writing).
    public func touch(keyID: String, at now: Date) async throws {
        try await writer.write { db in
            try db.execute(
                sql: "UPDATE api_key SET lastUsedAt = ? WHERE keyId = ? AND (lastUsedAt IS NULL OR lastUsedAt < ?)",
                arguments: [now.unixMillis, keyID, now.unixMillis - 60_000])
        }
    }
}

/// A row of `api_key`: a key under the hash of its secret (the secret itself is never stored).
///
/// The role stays text, as in `AuditRow`: a role this version does not know is reported as `GatewayError.storedValue`
/// naming it, which the gateway answers as an internal error a person can act on.
struct ApiKeyRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "api_key"
    var keyId: String
    var name: String
    var role: String
    var secretHash: String
    var secretPrefix: String
    var createdAt: Int64
    /// The admin key that created it; empty for the bootstrap key.
    var createdBy: String
    var expiresAt: Int64?
    var revokedAt: Int64?
    var lastUsedAt: Int64?

    enum Columns {
        static let keyId = Column(CodingKeys.keyId)
        static let role = Column(CodingKeys.role)
        static let secretHash = Column(CodingKeys.secretHash)
        static let createdAt = Column(CodingKeys.createdAt)
        static let expiresAt = Column(CodingKeys.expiresAt)
        static let revokedAt = Column(CodingKeys.revokedAt)
    }

    /// Keys neither revoked nor expired at `now` (what `ApiKey.isActive(at:)` says of one key).
    static func isActive(at now: Date) -> SQLExpression {
        Columns.revokedAt == nil && (Columns.expiresAt == nil || Columns.expiresAt > now.unixMillis)
    }

    /// Active admin keys at `now`.
    static func activeAdmins(at now: Date) -> QueryInterfaceRequest<ApiKeyRecord> {
        filter(Columns.role == Role.admin.rawValue && isActive(at: now))
    }

    func domain() throws -> ApiKey {
        guard let known = Role(rawValue: role) else {
            throw GatewayError.storedValue("role '\(role)' is not known to this version")
        }
        var key = ApiKey(
            id: keyId, name: name, role: known, secretPrefix: secretPrefix,
            createdAt: Date(unixMillis: createdAt), createdBy: createdBy,
            expiresAt: expiresAt.map(Date.init(unixMillis:)))
        key.revokedAt = revokedAt.map(Date.init(unixMillis:))
        key.lastUsedAt = lastUsedAt.map(Date.init(unixMillis:))
        return key
    }
}

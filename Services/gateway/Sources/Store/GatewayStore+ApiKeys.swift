public import C360StoreKit
public import Foundation
import GRDB

extension GatewayStore {
    /// Stores a key under the hash of its secret.
    public func createKey(_ key: ApiKey, secretHash: String) async throws {
        try await writer.write { db in
            try db.execute(sql: """
                INSERT INTO api_key (keyId, name, role, secretHash, secretPrefix, createdAt, createdBy, expiresAt)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [key.id, key.name, key.role.rawValue, secretHash, key.secretPrefix,
                                 key.createdAt.unixMillis, key.createdBy, key.expiresAt?.unixMillis])
        }
    }

    /// The key whose secret hashes to `secretHash`, active or not.
    public func key(secretHash: String) async throws -> ApiKey? {
        try await writer.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM api_key WHERE secretHash = ?", arguments: [secretHash]).map(Self.key)
        }
    }

    /// Keys newest first, one page after `position`.
    public func keys(
        includeInactive: Bool, at now: Date, after position: ListPosition?, limit: Int
    ) async throws -> Page<(key: ApiKey, position: ListPosition)> {
        try await writer.read { db in
            var sql = "SELECT * FROM api_key WHERE 1"
            var arguments = StatementArguments()
            if !includeInactive {
                sql += " AND revokedAt IS NULL AND (expiresAt IS NULL OR expiresAt > ?)"
                _ = arguments.append(contentsOf: [now.unixMillis])
            }
            if let position {
                sql += " AND (createdAt < ? OR (createdAt = ? AND keyId < ?))"
                _ = arguments.append(contentsOf: [position.key, position.key, position.tie])
            }
            sql += " ORDER BY createdAt DESC, keyId DESC LIMIT ?"
            _ = arguments.append(contentsOf: [limit + 1])
            return try Page(fetched: try Row.fetchAll(db, sql: sql, arguments: arguments), limit: limit).map { row in
                let key = try Self.key(row)
                return (key, ListPosition(key: key.createdAt.unixMillis, tie: key.id))
            }
        }
    }

    /// Revokes a key (idempotent). Refuses to revoke the last active admin key, so the deployment is never locked out.
    ///
    /// - Throws: `GatewayError.keyNotFound`, `.lastAdminKey`.
    public func revoke(keyID: String, at now: Date) async throws -> ApiKey {
        try await writer.write { db in
            guard let key = try Row.fetchOne(db, sql: "SELECT * FROM api_key WHERE keyId = ?", arguments: [keyID])
                .map(Self.key) else { throw GatewayError.keyNotFound(keyID) }
            guard key.revokedAt == nil else { return key }
            if key.role == .admin, key.isActive(at: now) {
                let admins = try Int.fetchOne(db, sql: """
                    SELECT COUNT(*) FROM api_key WHERE role = 'admin' AND revokedAt IS NULL AND (expiresAt IS NULL OR expiresAt > ?)
                    """, arguments: [now.unixMillis]) ?? 0
                guard admins > 1 else { throw GatewayError.lastAdminKey(keyID) }
            }
            try db.execute(sql: "UPDATE api_key SET revokedAt = ? WHERE keyId = ?", arguments: [now.unixMillis, keyID])
            guard let revoked = try Row.fetchOne(db, sql: "SELECT * FROM api_key WHERE keyId = ?", arguments: [keyID])
                .map(Self.key) else { throw GatewayError.keyNotFound(keyID) }
            return revoked
        }
    }

    /// Whether any active admin key exists (else the gateway creates a bootstrap key).
    public func hasActiveAdmin(at now: Date) async throws -> Bool {
        try await writer.read { db in
            try Bool.fetchOne(db, sql: """
                SELECT EXISTS (SELECT 1 FROM api_key WHERE role = 'admin' AND revokedAt IS NULL AND (expiresAt IS NULL OR expiresAt > ?))
                """, arguments: [now.unixMillis]) ?? false
        }
    }

    /// Notes that a key was used (at most once a minute per key, to keep reads from writing).
    public func touch(keyID: String, at now: Date) async throws {
        try await writer.write { db in
            try db.execute(sql: "UPDATE api_key SET lastUsedAt = ? WHERE keyId = ? AND (lastUsedAt IS NULL OR lastUsedAt < ?)",
                           arguments: [now.unixMillis, keyID, now.unixMillis - 60_000])
        }
    }

    static func key(_ row: Row) throws -> ApiKey {
        guard let role = Role(rawValue: row["role"]) else {
            throw GatewayError.storedValue("role '\(row["role"] as String)' is not known to this version")
        }
        var key = ApiKey(id: row["keyId"], name: row["name"], role: role, secretPrefix: row["secretPrefix"],
                         createdAt: Date(unixMillis: row["createdAt"]), createdBy: row["createdBy"],
                         expiresAt: (row["expiresAt"] as Int64?).map(Date.init(unixMillis:)))
        key.revokedAt = (row["revokedAt"] as Int64?).map(Date.init(unixMillis:))
        key.lastUsedAt = (row["lastUsedAt"] as Int64?).map(Date.init(unixMillis:))
        return key
    }
}

public import C360Contracts
import C360ServerKit
import C360StoreKit
import Foundation
public import GRPCCore
import SwiftProtobuf

extension GatewayService {
    public func createApiKey(
        request: Customer360_V1_CreateApiKeyRequest, context: ServerContext
    ) async throws -> Customer360_V1_CreateApiKeyResponse {
        let name = try Validate.text(request.name, field: "name", maxLength: 100, required: true)
        guard let role = Role(proto: request.role) else {
            throw InvalidArgument("role", "is required (VIEWER, AGENT, ANALYST or ADMIN)")
        }
        var expiresAt: Date?
        if request.hasExpiresAt {
            expiresAt = try Validate.timestamp(request.expiresAt, field: "expires_at")
            guard let expiry = expiresAt, expiry > now() else {
                throw InvalidArgument("expires_at", "must be in the future")
            }
        }
        return try await audited(.admin, customer: "", context: context) {
            // Made here, even on a replica: the secret never leaves the gateway that answers the caller.
            let secret = ApiKeySecret.generate()
            let key = ApiKey(
                id: EntityID.generate(), name: name, role: role, secretPrefix: ApiKeySecret.prefix(secret),
                createdAt: now(), createdBy: Caller.current?.key.id ?? "", expiresAt: expiresAt)
            let stored = try await records.createKey(key, secretHash: ApiKeySecret.hash(secret))
            return (
                Customer360_V1_CreateApiKeyResponse.with {
                    $0.apiKey = stored.proto
                    $0.secret = secret
                }, ""
            )
        }
    }

    public func listApiKeys(
        request: Customer360_V1_ListApiKeysRequest, context: ServerContext
    ) async throws -> Customer360_V1_ListApiKeysResponse {
        try await records.listKeys(request, at: now())
    }

    public func revokeApiKey(
        request: Customer360_V1_RevokeApiKeyRequest, context: ServerContext
    ) async throws -> Customer360_V1_ApiKey {
        let keyID = try Validate.id(request.keyID, field: "key_id")
        return try await audited(.admin, customer: "", context: context) {
            let key = try await records.revoke(keyID: keyID, at: now())
            authenticator.forget(keyID: keyID)
            return (key.proto, "")
        }
    }

    public func listAuditLog(
        request: Customer360_V1_ListAuditLogRequest, context: ServerContext
    ) async throws -> Customer360_V1_ListAuditLogResponse {
        // Checked before the audit record, so a malformed request records nothing; the records check it again.
        let filter = try AuditFilter(validating: request)
        _ = try Validate.pageSize(request.page.pageSize)
        _ = try Validate.pageToken(request.page.pageToken, filter: filter.fingerprint) as PageToken<InstantPosition>?
        // Reading the audit log is itself audited: who looked, at whose records.
        return try await audited(.admin, customer: filter.customerID, context: context) {
            (try await records.listAudit(request), filter.customerID)
        }
    }
}

extension GatewayService {
    /// Checks the whole hash chain; a broken chain is an answer (intact false, where and why), not an error, so the
    /// caller can report it.
    public func verifyAuditLog(
        request: Customer360_V1_VerifyAuditLogRequest, context: ServerContext
    ) async throws -> Customer360_V1_VerifyAuditLogResponse {
        try await audited(.admin, customer: "", context: context) {
            (try await records.verifyAudit(), "")
        }
    }
}

extension Role {
    public init?(proto: Customer360_V1_ApiKeyRole) {
        switch proto {
        case .viewer: self = .viewer
        case .agent: self = .agent
        case .analyst: self = .analyst
        case .admin: self = .admin
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    public var proto: Customer360_V1_ApiKeyRole {
        switch self {
        case .viewer: .viewer
        case .agent: .agent
        case .analyst: .analyst
        case .admin: .admin
        }
    }
}

extension AuditAction {
    public init?(proto: Customer360_V1_AuditAction) {
        switch proto {
        case .read: self = .read
        case .write: self = .write
        case .export: self = .export
        case .erase: self = .erase
        case .admin: self = .admin
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    public var proto: Customer360_V1_AuditAction {
        switch self {
        case .read: .read
        case .write: .write
        case .export: .export
        case .erase: .erase
        case .admin: .admin
        }
    }
}

extension ApiKey {
    public var proto: Customer360_V1_ApiKey {
        .with {
            $0.keyID = id
            $0.name = name
            $0.role = role.proto
            $0.secretPrefix = secretPrefix
            $0.createdAt = Google_Protobuf_Timestamp(date: createdAt)
            $0.createdBy = createdBy
            if let expiresAt { $0.expiresAt = Google_Protobuf_Timestamp(date: expiresAt) }
            if let revokedAt { $0.revokedAt = Google_Protobuf_Timestamp(date: revokedAt) }
            if let lastUsedAt { $0.lastUsedAt = Google_Protobuf_Timestamp(date: lastUsedAt) }
        }
    }
}

extension AuditRecord {
    public var proto: Customer360_V1_AuditRecord {
        .with {
            $0.auditID = id
            $0.occurredAt = Google_Protobuf_Timestamp(date: occurredAt)
            $0.actorKeyID = actorKeyID
            $0.actorRole = actorRole.proto
            $0.action = action.proto
            $0.method = method
            $0.customerID = customerID
            $0.statusCode = statusCode
            $0.requestID = requestID
            $0.clientAddress = clientAddress
            $0.note = note
            $0.hash = hash
            $0.previousHash = previousHash
        }
    }
}

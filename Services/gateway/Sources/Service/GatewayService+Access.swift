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
            let secret = ApiKeySecret.generate()
            let key = ApiKey(
                id: EntityID.generate(), name: name, role: role, secretPrefix: ApiKeySecret.prefix(secret),
                createdAt: now(), createdBy: Caller.current?.key.id ?? "", expiresAt: expiresAt)
            try await store.createKey(key, secretHash: ApiKeySecret.hash(secret))
            return (
                Customer360_V1_CreateApiKeyResponse.with {
                    $0.apiKey = key.proto
                    $0.secret = secret
                }, ""
            )
        }
    }

    public func listApiKeys(
        request: Customer360_V1_ListApiKeysRequest, context: ServerContext
    ) async throws -> Customer360_V1_ListApiKeysResponse {
        let limit = try Validate.pageSize(request.page.pageSize)
        let fingerprint = request.includeInactive ? "all" : "active"
        let token: PageToken<InstantPosition>? = try Validate.pageToken(request.page.pageToken, filter: fingerprint)
        let page = try await store.keys(
            includeInactive: request.includeInactive, at: now(), after: token?.position,
            limit: limit)
        return .with {
            $0.apiKeys = page.items.map(\.key.proto)
            $0.page.nextPageToken = page.nextToken(filter: fingerprint) { $0.position }
        }
    }

    public func revokeApiKey(
        request: Customer360_V1_RevokeApiKeyRequest, context: ServerContext
    ) async throws -> Customer360_V1_ApiKey {
        let keyID = try Validate.id(request.keyID, field: "key_id")
        return try await audited(.admin, customer: "", context: context) {
            let key = try await store.revoke(keyID: keyID, at: now())
            authenticator.forget(keyID: keyID)
            return (key.proto, "")
        }
    }

    public func listAuditLog(
        request: Customer360_V1_ListAuditLogRequest, context: ServerContext
    ) async throws -> Customer360_V1_ListAuditLogResponse {
        var filter = AuditFilter()
        (filter.from, filter.until) = try Validate.window(
            request.timeRange, isSet: request.hasTimeRange,
            field: "time_range")
        filter.actorKeyID = try Validate.text(request.actorKeyID, field: "actor_key_id", maxLength: 64)
        filter.customerID = try Validate.text(request.customerID, field: "customer_id", maxLength: 64)
        for (index, value) in request.actions.enumerated() {
            guard let action = AuditAction(proto: value) else {
                throw InvalidArgument("actions[\(index)]", "is not an audit action")
            }
            filter.actions.insert(action)
        }
        let limit = try Validate.pageSize(request.page.pageSize)
        let token: PageToken<InstantPosition>? = try Validate.pageToken(
            request.page.pageToken, filter: filter.fingerprint)
        // Reading the audit log is itself audited: who looked, at whose records.
        return try await audited(.admin, customer: filter.customerID, context: context) {
            let page = try await store.audit(filter: filter, after: token?.position, limit: limit)
            return (
                Customer360_V1_ListAuditLogResponse.with {
                    $0.records = page.items.map(\.record.proto)
                    $0.page.nextPageToken = page.nextToken(filter: filter.fingerprint) { $0.position }
                }, filter.customerID
            )
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
            let report = try await store.verifyAuditChain()
            return (
                Customer360_V1_VerifyAuditLogResponse.with {
                    $0.intact = report.intact
                    $0.recordsChecked = report.recordsChecked
                    $0.headHash = report.headHash
                    $0.firstBrokenAuditID = report.firstBroken?.auditID ?? ""
                    $0.problem = report.firstBroken?.problem ?? ""
                }, ""
            )
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

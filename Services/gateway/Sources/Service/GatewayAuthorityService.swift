public import C360Contracts
import C360ServerKit
public import Foundation
public import GRPCCore

/// The `customer360.v1.GatewayAuthorityService` RPCs: the authority gateway's API keys and audit log, for the other
/// replicas of a gateway run as several (`AuthorityRecords` is their side).
///
/// Served only on the authority's internal port, where the caller is a Customer 360 process proved by its
/// certificate or the service token (`ServiceHost.internalServer`), never on the port clients call. The replica has
/// already authenticated, authorized and validated the client's call, and makes its audit record; this checks only
/// what storing needs, so a faulty replica cannot store a record the log could not show.
public struct GatewayAuthorityService: Customer360_V1_GatewayAuthorityService.SimpleServiceProtocol {
    /// The most records one `AppendAuditRecords` may carry: a replica's batch, not a bulk import.
    static let maxRecordsPerAppend = 1_000

    let store: GatewayStore
    /// The authority's own, which forgets a key a replica revoked, as it does one revoked by its own clients.
    let authenticator: Authenticator
    let now: @Sendable () -> Date

    public init(store: GatewayStore, authenticator: Authenticator, now: @escaping @Sendable () -> Date = Date.init) {
        self.store = store
        self.authenticator = authenticator
        self.now = now
    }

    public func findApiKey(
        request: Customer360_V1_FindApiKeyRequest, context: ServerContext
    ) async throws -> Customer360_V1_FindApiKeyResponse {
        let hash = try Self.secretHash(request.secretHash)
        let key = try await store.findKey(secretHash: hash, usedAt: now())
        return .with {
            $0.found = key != nil
            if let key { $0.apiKey = key.proto }
        }
    }

    public func appendAuditRecords(
        request: Customer360_V1_AppendAuditRecordsRequest, context: ServerContext
    ) async throws -> Customer360_V1_AppendAuditRecordsResponse {
        guard request.records.count <= Self.maxRecordsPerAppend else {
            throw InvalidArgument(
                "records", "holds \(request.records.count) records; send at most \(Self.maxRecordsPerAppend) per call")
        }
        let records = try request.records.enumerated().map { index, record in
            try AuditRecord(proto: record, field: "records[\(index)]")
        }
        let stored = try await store.append(records)
        return .with { $0.stored = Int32(stored) }
    }

    public func storeApiKey(
        request: Customer360_V1_StoreApiKeyRequest, context: ServerContext
    ) async throws -> Customer360_V1_ApiKey {
        guard request.apiKey.hasCreatedAt else { throw InvalidArgument("api_key.created_at", "is required") }
        // A new key is neither revoked nor used: what the request says of that is ignored, not read.
        var sent = request.apiKey
        sent.clearRevokedAt()
        sent.clearLastUsedAt()
        let key = try ApiKey(proto: sent)
        return try await store.createKey(key, secretHash: try Self.secretHash(request.secretHash)).proto
    }

    public func listApiKeys(
        request: Customer360_V1_ListApiKeysRequest, context: ServerContext
    ) async throws -> Customer360_V1_ListApiKeysResponse {
        try await store.listKeys(request, at: now())
    }

    public func revokeApiKey(
        request: Customer360_V1_RevokeApiKeyRequest, context: ServerContext
    ) async throws -> Customer360_V1_ApiKey {
        let keyID = try Validate.id(request.keyID, field: "key_id")
        let key = try await store.revoke(keyID: keyID, at: now())
        authenticator.forget(keyID: keyID)
        return key.proto
    }

    public func listAuditLog(
        request: Customer360_V1_ListAuditLogRequest, context: ServerContext
    ) async throws -> Customer360_V1_ListAuditLogResponse {
        try await store.listAudit(request)
    }

    public func verifyAuditLog(
        request: Customer360_V1_VerifyAuditLogRequest, context: ServerContext
    ) async throws -> Customer360_V1_VerifyAuditLogResponse {
        try await store.verifyAudit()
    }

    /// A secret's hash as `ApiKeySecret.hash` writes it: 64 lowercase hex digits.
    static func secretHash(_ value: String) throws(InvalidArgument) -> String {
        guard value.utf8.count == 64, value.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) })
        else {
            throw InvalidArgument("secret_hash", "must be the secret's SHA-256 as 64 lowercase hex digits")
        }
        return value
    }
}

public import C360Contracts
import C360ServerKit
import C360StoreKit
public import Foundation

/// Where a gateway keeps its API keys and audit log: its own database (`GatewayStore`), or, for a replica of a
/// gateway run as several, the authority's (`AuthorityRecords`), so that every replica accepts the same keys and the
/// audit log stays one hash chain. The handlers, the authenticator and the forwarder do not know which.
///
/// The list and verify operations take and answer the contract's messages: a replica passes them to the authority
/// as they are, and page tokens stay the authority's own.
public protocol AccessRecords: Sendable {
    /// The key whose secret hashes to `secretHash`, active or not, noted as used at `now`.
    func findKey(secretHash: String, usedAt now: Date) async throws -> ApiKey?

    /// Appends `records` in order, each chained to the one before; a record whose id is stored already is skipped.
    /// Answers once they are durable, with how many were stored.
    @discardableResult
    func append(_ records: [AuditRecord]) async throws -> Int

    /// Stores a new key under the hash of its secret; the same key and hash again answer the stored key.
    ///
    /// - Throws: `GatewayError.keyExists` when another key has the id or the secret.
    @discardableResult
    func createKey(_ key: ApiKey, secretHash: String) async throws -> ApiKey

    /// Revokes a key (idempotent).
    ///
    /// - Throws: `GatewayError.keyNotFound`, `.lastAdminKey`.
    func revoke(keyID: String, at now: Date) async throws -> ApiKey

    /// One page of keys, newest first, as `GatewayService.ListApiKeys` answers it.
    func listKeys(_ request: Customer360_V1_ListApiKeysRequest, at now: Date) async throws
        -> Customer360_V1_ListApiKeysResponse

    /// One page of the audit log, newest first, as `GatewayService.ListAuditLog` answers it.
    func listAudit(_ request: Customer360_V1_ListAuditLogRequest) async throws -> Customer360_V1_ListAuditLogResponse

    /// The audit log's hash chain checked from its first record.
    func verifyAudit() async throws -> Customer360_V1_VerifyAuditLogResponse

    /// Answers once an audit record could be stored now, before a call that must be audited does anything: a
    /// replica whose authority is down refuses the call rather than do it unrecorded.
    ///
    /// - Throws: `GatewayError.authorityUnavailable`.
    func readyToAudit() async throws
}

extension AccessRecords {
    /// A gateway's own database is always there.
    public func readyToAudit() async throws {}

    /// Appends one record.
    public func append(_ record: AuditRecord) async throws {
        try await append([record])
    }
}

extension GatewayStore: AccessRecords {
    public func findKey(secretHash: String, usedAt now: Date) async throws -> ApiKey? {
        let key = try await key(secretHash: secretHash)
        // Last use is a hint for people retiring keys: a busy database must not fail the call over it.
        if let key { try? await touch(keyID: key.id, at: now) }
        return key
    }

    public func listKeys(
        _ request: Customer360_V1_ListApiKeysRequest, at now: Date
    ) async throws -> Customer360_V1_ListApiKeysResponse {
        let limit = try Validate.pageSize(request.page.pageSize)
        let fingerprint = request.includeInactive ? "all" : "active"
        let token: PageToken<InstantPosition>? = try Validate.pageToken(request.page.pageToken, filter: fingerprint)
        let page = try await keys(
            includeInactive: request.includeInactive, at: now, after: token?.position, limit: limit)
        return .with {
            $0.apiKeys = page.items.map(\.key.proto)
            $0.page.nextPageToken = page.nextToken(filter: fingerprint) { $0.position }
        }
    }

    public func listAudit(
        _ request: Customer360_V1_ListAuditLogRequest
    ) async throws -> Customer360_V1_ListAuditLogResponse {
        let filter = try AuditFilter(validating: request)
        let limit = try Validate.pageSize(request.page.pageSize)
        let token: PageToken<InstantPosition>? = try Validate.pageToken(
            request.page.pageToken, filter: filter.fingerprint)
        let page = try await audit(filter: filter, after: token?.position, limit: limit)
        return .with {
            $0.records = page.items.map(\.record.proto)
            $0.page.nextPageToken = page.nextToken(filter: filter.fingerprint) { $0.position }
        }
    }

    public func verifyAudit() async throws -> Customer360_V1_VerifyAuditLogResponse {
        let report = try await verifyAuditChain()
        return .with {
            $0.intact = report.intact
            $0.recordsChecked = report.recordsChecked
            $0.headHash = report.headHash
            $0.firstBrokenAuditID = report.firstBroken?.auditID ?? ""
            $0.problem = report.firstBroken?.problem ?? ""
        }
    }
}

extension AuditFilter {
    /// The filter a `ListAuditLog` request asks for.
    ///
    /// - Throws: `InvalidArgument` naming the field.
    public init(validating request: Customer360_V1_ListAuditLogRequest) throws {
        self.init()
        (from, until) = try Validate.window(request.timeRange, isSet: request.hasTimeRange, field: "time_range")
        actorKeyID = try Validate.text(request.actorKeyID, field: "actor_key_id", maxLength: 64)
        customerID = try Validate.text(request.customerID, field: "customer_id", maxLength: 64)
        for (index, value) in request.actions.enumerated() {
            guard let action = AuditAction(proto: value) else {
                throw InvalidArgument("actions[\(index)]", "is not an audit action")
            }
            actions.insert(action)
        }
    }
}

extension ApiKey {
    /// The key a replica sent (`StoreApiKey`), or the authority answered (`FindApiKey`).
    ///
    /// - Throws: `InvalidArgument` naming the field that is missing or unknown.
    public init(proto: Customer360_V1_ApiKey, field: String = "api_key") throws {
        guard let role = Role(proto: proto.role) else { throw InvalidArgument("\(field).role", "is not a known role") }
        self.init(
            id: try Validate.id(proto.keyID, field: "\(field).key_id"),
            name: try Validate.text(proto.name, field: "\(field).name", maxLength: 100, required: true), role: role,
            secretPrefix: try Validate.text(
                proto.secretPrefix, field: "\(field).secret_prefix", maxLength: 64, required: true),
            createdAt: try Validate.timestamp(proto.createdAt, field: "\(field).created_at"),
            createdBy: try Validate.text(proto.createdBy, field: "\(field).created_by", maxLength: 64),
            expiresAt: try Validate.timestamp(proto.expiresAt, isSet: proto.hasExpiresAt, field: "\(field).expires_at"))
        revokedAt = try Validate.timestamp(proto.revokedAt, isSet: proto.hasRevokedAt, field: "\(field).revoked_at")
        lastUsedAt = try Validate.timestamp(
            proto.lastUsedAt, isSet: proto.hasLastUsedAt, field: "\(field).last_used_at")
    }
}

extension AuditRecord {
    /// The longest each text field is stored, in characters: `init(proto:field:)` refuses longer ones, `fitted()`
    /// cuts them to this.
    enum Limit {
        static let actorKeyID = 64
        static let method = 300
        static let customerID = 64
        static let statusCode = 40
        static let requestID = 200
        static let clientAddress = 300
        static let note = 2_000
    }

    /// A record a replica sent to be appended (`AppendAuditRecords`); its hashes are the authority's to set.
    ///
    /// - Throws: `InvalidArgument` naming the field that is missing or unknown.
    public init(proto: Customer360_V1_AuditRecord, field: String) throws {
        guard let role = Role(proto: proto.actorRole) else {
            throw InvalidArgument("\(field).actor_role", "is not a known role")
        }
        guard let action = AuditAction(proto: proto.action) else {
            throw InvalidArgument("\(field).action", "is not a known audit action")
        }
        guard proto.hasOccurredAt else { throw InvalidArgument("\(field).occurred_at", "is required") }
        self.init(
            id: try Validate.id(proto.auditID, field: "\(field).audit_id"),
            occurredAt: try Validate.timestamp(proto.occurredAt, field: "\(field).occurred_at"),
            actorKeyID: try Validate.text(
                proto.actorKeyID, field: "\(field).actor_key_id", maxLength: Limit.actorKeyID, required: true),
            actorRole: role, action: action,
            method: try Validate.text(proto.method, field: "\(field).method", maxLength: Limit.method, required: true),
            customerID: try Validate.text(
                proto.customerID, field: "\(field).customer_id", maxLength: Limit.customerID),
            statusCode: try Validate.text(
                proto.statusCode, field: "\(field).status_code", maxLength: Limit.statusCode),
            requestID: try Validate.text(proto.requestID, field: "\(field).request_id", maxLength: Limit.requestID),
            clientAddress: try Validate.text(
                proto.clientAddress, field: "\(field).client_address", maxLength: Limit.clientAddress))
        note = try Validate.text(proto.note, field: "\(field).note", maxLength: Limit.note)
    }

    /// This record as the authority stores it: each text field trimmed, its control characters replaced, and cut to
    /// its `Limit`. A record carries what clients sent (a customer id, a request id), and the records of calls made
    /// together travel in one batch, so one client's odd value must not get the whole batch refused.
    func fitted() -> AuditRecord {
        func fit(_ text: String, _ limit: Int) -> String {
            let cleaned = String(
                String.UnicodeScalarView(
                    text.trimmingCharacters(in: .whitespacesAndNewlines).unicodeScalars.map {
                        $0.properties.generalCategory == .control ? "\u{FFFD}" : $0
                    }))
            return String(cleaned.prefix(limit))
        }
        var record = self
        record.actorKeyID = fit(actorKeyID, Limit.actorKeyID)
        record.method = fit(method, Limit.method)
        record.customerID = fit(customerID, Limit.customerID)
        record.statusCode = fit(statusCode, Limit.statusCode)
        record.requestID = fit(requestID, Limit.requestID)
        record.clientAddress = fit(clientAddress, Limit.clientAddress)
        record.note = fit(note, Limit.note)
        return record
    }
}

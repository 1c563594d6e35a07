public import C360StoreKit
public import Foundation
import GRDB

/// What an audited call did.
public enum AuditAction: String, Codable, Sendable, CaseIterable {
    case read, write, export, erase, admin
}

/// One audited call.
public struct AuditRecord: Sendable, Equatable {
    public var id: String
    public var occurredAt: Date
    public var actorKeyID: String
    public var actorRole: Role
    public var action: AuditAction
    /// Full gRPC method or HTTP route.
    public var method: String
    public var customerID: String
    /// gRPC status code name, "OK" on success.
    public var statusCode: String
    public var requestID: String
    public var clientAddress: String
    /// Why, when the call carried a reason (erasure).
    ///
    /// Audit records outlive an erasure on purpose — they are the proof that it happened, who asked and why — so
    /// they hold the customer's opaque id and never their name, email or phone; this note is the one free-text field,
    /// and it is kept with them, so the reason must not repeat personal data.
    public var note = ""

    public init(id: String, occurredAt: Date, actorKeyID: String, actorRole: Role, action: AuditAction, method: String,
                customerID: String, statusCode: String, requestID: String, clientAddress: String) {
        self.id = id
        self.occurredAt = occurredAt
        self.actorKeyID = actorKeyID
        self.actorRole = actorRole
        self.action = action
        self.method = method
        self.customerID = customerID
        self.statusCode = statusCode
        self.requestID = requestID
        self.clientAddress = clientAddress
    }
}

/// Which audit records a list shows.
public struct AuditFilter: Sendable, Hashable {
    public var from: Date?
    public var until: Date?
    public var actorKeyID = ""
    public var customerID = ""
    public var actions: Set<AuditAction> = []

    public init() {}

    public var fingerprint: String {
        [from.map { "\($0.unixMillis)" } ?? "", until.map { "\($0.unixMillis)" } ?? "", actorKeyID, customerID,
         actions.map(\.rawValue).sorted().joined(separator: ",")].joined(separator: "\u{1F}")
    }
}

extension GatewayStore {
    public func append(_ record: AuditRecord) async throws {
        try await writer.write { db in
            try db.execute(sql: """
                INSERT INTO audit_record (auditId, occurredAt, actorKeyId, actorRole, action, method, customerId,
                    statusCode, requestId, clientAddress, note)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [record.id, record.occurredAt.unixMillis, record.actorKeyID, record.actorRole.rawValue,
                                 record.action.rawValue, record.method, record.customerID, record.statusCode,
                                 record.requestID, record.clientAddress, record.note])
        }
    }

    /// Audit records newest first, one page after `position`.
    public func audit(
        filter: AuditFilter, after position: ListPosition?, limit: Int
    ) async throws -> Page<(record: AuditRecord, position: ListPosition)> {
        try await writer.read { db in
            var sql = "SELECT * FROM audit_record WHERE 1"
            var arguments = StatementArguments()
            func add(_ condition: String, _ value: some DatabaseValueConvertible) {
                sql += " AND \(condition)"
                _ = arguments.append(contentsOf: [value])
            }
            if let from = filter.from { add("occurredAt >= ?", from.unixMillis) }
            if let until = filter.until { add("occurredAt < ?", until.unixMillis) }
            if !filter.actorKeyID.isEmpty { add("actorKeyId = ?", filter.actorKeyID) }
            if !filter.customerID.isEmpty { add("customerId = ?", filter.customerID) }
            if !filter.actions.isEmpty {
                sql += " AND action IN (\(databaseQuestionMarks(count: filter.actions.count)))"
                _ = arguments.append(contentsOf: StatementArguments(filter.actions.map(\.rawValue).sorted()))
            }
            if let position {
                sql += " AND (occurredAt < ? OR (occurredAt = ? AND auditId < ?))"
                _ = arguments.append(contentsOf: [position.key, position.key, position.tie])
            }
            sql += " ORDER BY occurredAt DESC, auditId DESC LIMIT ?"
            _ = arguments.append(contentsOf: [limit + 1])
            return try Page(fetched: try Row.fetchAll(db, sql: sql, arguments: arguments), limit: limit).map { row in
                guard let role = Role(rawValue: row["actorRole"]), let action = AuditAction(rawValue: row["action"]) else {
                    throw GatewayError.storedValue("audit record \(row["auditId"] as String) has an unknown role or action")
                }
                var record = AuditRecord(
                    id: row["auditId"], occurredAt: Date(unixMillis: row["occurredAt"]), actorKeyID: row["actorKeyId"],
                    actorRole: role, action: action, method: row["method"], customerID: row["customerId"],
                    statusCode: row["statusCode"], requestID: row["requestId"], clientAddress: row["clientAddress"])
                record.note = row["note"]
                return (record, ListPosition(key: record.occurredAt.unixMillis, tie: record.id))
            }
        }
    }
}

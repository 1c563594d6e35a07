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
    /// The hash chaining this record to the one before (see `AuditRow.chain`), and that record's; set when stored.
    public var hash = ""
    public var previousHash = ""

    public init(
        id: String, occurredAt: Date, actorKeyID: String, actorRole: Role, action: AuditAction, method: String,
        customerID: String, statusCode: String, requestID: String, clientAddress: String
    ) {
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
        [
            from.map { "\($0.unixMillis)" } ?? "", until.map { "\($0.unixMillis)" } ?? "", actorKeyID, customerID,
            actions.map(\.rawValue).sorted().joined(separator: ","),
        ].joined(separator: "\u{1F}")
    }
}

/// An `audit_record` row. Each row's `hash` is the SHA-256 of its fields and of the row before's `hash`
/// (`previousHash`), so editing, removing or reordering a stored row breaks the chain from there on — which
/// `GatewayStore.verifyAuditChain()` finds.
struct AuditRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "audit_record"

    var auditId: String
    var occurredAt: Int64
    var actorKeyId: String
    var actorRole: String
    var action: String
    var method: String
    var customerId: String
    var statusCode: String
    var requestId: String
    var clientAddress: String
    var note: String
    var previousHash: String
    var hash: String

    enum Columns {
        static let auditId = Column(CodingKeys.auditId)
        static let occurredAt = Column(CodingKeys.occurredAt)
        static let actorKeyId = Column(CodingKeys.actorKeyId)
        static let action = Column(CodingKeys.action)
        static let customerId = Column(CodingKeys.customerId)
    }

    init(_ record: AuditRecord) {
        auditId = record.id
        occurredAt = record.occurredAt.unixMillis
        actorKeyId = record.actorKeyID
        actorRole = record.actorRole.rawValue
        action = record.action.rawValue
        method = record.method
        customerId = record.customerID
        statusCode = record.statusCode
        requestId = record.requestID
        clientAddress = record.clientAddress
        note = record.note
        previousHash = ""
        hash = ""
    }

    /// Links the row after the row whose hash is `previous` ("" for the first row).
    mutating func chain(after previous: String) {
        previousHash = previous
        hash = contentHash(after: previous)
    }

    /// SHA-256 over `previous` and every field, each prefixed with its UTF-8 length so no two different rows
    /// encode alike.
    func contentHash(after previous: String) -> String {
        var bytes: [UInt8] = []
        for field in [
            previous, auditId, String(occurredAt), actorKeyId, actorRole, action, method, customerId,
            statusCode, requestId, clientAddress, note,
        ] {
            let utf8 = Array(field.utf8)
            bytes += Array("\(utf8.count):".utf8) + utf8
        }
        return Digest.sha256Hex(bytes)
    }

    func record() throws -> AuditRecord {
        guard let role = Role(rawValue: actorRole), let action = AuditAction(rawValue: action) else {
            throw GatewayError.storedValue("audit record \(auditId) has an unknown role or action")
        }
        var record = AuditRecord(
            id: auditId, occurredAt: Date(unixMillis: occurredAt), actorKeyID: actorKeyId, actorRole: role,
            action: action, method: method, customerID: customerId, statusCode: statusCode, requestID: requestId,
            clientAddress: clientAddress)
        record.note = note
        record.hash = hash
        record.previousHash = previousHash
        return record
    }
}

/// What checking the audit log's hash chain found.
public struct AuditChainReport: Sendable, Equatable {
    public var recordsChecked: Int64
    /// The newest record's hash; "" for an empty log. Kept outside the gateway, it also shows the newest records
    /// being cut off, which the chain alone cannot.
    public var headHash: String
    /// The first record where the chain breaks, and how; nil when the whole chain holds.
    public var firstBroken: (auditID: String, problem: String)?

    public var intact: Bool { firstBroken == nil }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.recordsChecked == rhs.recordsChecked && lhs.headHash == rhs.headHash
            && lhs.firstBroken?.auditID == rhs.firstBroken?.auditID
            && lhs.firstBroken?.problem == rhs.firstBroken?.problem
    }
}

extension GatewayStore {
    /// Appends `records` to the audit log in order, each chained to the record before, in one transaction, and
    /// answers how many it stored. A record whose id is stored already is skipped: a replica that sends a batch again
    /// after losing the answer (`GatewayAuthorityService.AppendAuditRecords`) must not record its calls twice.
    @discardableResult
    public func append(_ records: [AuditRecord]) async throws -> Int {
        try await writer.write { db in
            var previous =
                try String.fetchOne(db.cachedStatement(sql: "SELECT hash FROM audit_record ORDER BY seq DESC LIMIT 1"))
                ?? ""
            var stored = 0
            for record in records {
                guard try AuditRow.filter(AuditRow.Columns.auditId == record.id).isEmpty(db) else { continue }
                var row = AuditRow(record)
                row.chain(after: previous)
                try row.insert(db)
                previous = row.hash
                stored += 1
            }
            return stored
        }
    }

    /// Appends one record (see `append(_:)` for many).
    public func append(_ record: AuditRecord) async throws {
        try await append([record])
    }

    /// Walks the whole audit log oldest first, recomputing each record's hash and its link to the one before.
    public func verifyAuditChain() async throws -> AuditChainReport {
        try await writer.read { db in
            var previous = ""
            var checked: Int64 = 0
            let rows = try AuditRow.fetchCursor(db, sql: "SELECT * FROM audit_record ORDER BY seq")
            while let row = try rows.next() {
                checked += 1
                if row.previousHash != previous {
                    return AuditChainReport(
                        recordsChecked: checked, headHash: "",
                        firstBroken: (
                            row.auditId,
                            """
                            its previous_hash does not match the hash of the record stored before it: a record was \
                            removed, inserted or reordered there
                            """
                        ))
                }
                if row.contentHash(after: previous) != row.hash {
                    return AuditChainReport(
                        recordsChecked: checked, headHash: "",
                        firstBroken: (
                            row.auditId,
                            """
                            its fields do not match its hash: the record was edited
                            """
                        ))
                }
                previous = row.hash
            }
            return AuditChainReport(recordsChecked: checked, headHash: previous, firstBroken: nil)
        }
    }

    /// Audit records newest first, one page after `position`.
    public func audit(
        filter: AuditFilter, after position: InstantPosition?, limit: Int
    ) async throws -> Page<(record: AuditRecord, position: InstantPosition)> {
        try await writer.read { db in
            var request = AuditRow.all().filter(AuditRow.Columns.occurredAt, from: filter.from, until: filter.until)
                .filter(AuditRow.Columns.action, anyOf: filter.actions.map(\.rawValue))
            // A customer's records are few next to a key's (an application reads thousands of customers), so with
            // both named the customer's index drives the query.
            let actor = AuditRow.Columns.actorKeyId.unindexed(when: !filter.customerID.isEmpty)
            if !filter.actorKeyID.isEmpty { request = request.filter(actor == filter.actorKeyID) }
            if !filter.customerID.isEmpty { request = request.filter(AuditRow.Columns.customerId == filter.customerID) }
            let rows = try request.page(
                .descending(AuditRow.Columns.occurredAt, tie: AuditRow.Columns.auditId), after: position, limit: limit
            ).fetchAll(db)
            return try Page(fetched: rows, limit: limit).map {
                row in
                let record = try row.record()
                return (record, InstantPosition(key: row.occurredAt, tie: row.auditId))
            }
        }
    }
}

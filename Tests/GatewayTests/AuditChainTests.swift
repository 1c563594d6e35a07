import C360StoreKit
import Foundation
import GRDB
import Testing

@testable import C360Gateway

/// The audit log is append-only and hash-chained: every record's hash covers its fields and the record before's
/// hash, so tampering with the database file is found by `verifyAuditChain()` (the VerifyAuditLog RPC).
@Suite("The audit log's hash chain")
struct AuditChainTests {
    private func record(_ number: Int, customer: String = "customer-1") -> AuditRecord {
        AuditRecord(
            id: "audit-\(number)", occurredAt: Fixed.at(Double(number)), actorKeyID: "key-1", actorRole: .agent,
            action: .read, method: "/customer360.v1.GatewayService/GetCustomer360", customerID: customer,
            statusCode: "OK", requestID: "request-\(number)", clientAddress: "ipv4:127.0.0.1:40000")
    }

    /// A store with three audit records and the writer underneath, for tampering as someone with the file would.
    private func storeWithThreeRecords() async throws -> (GatewayStore, any DatabaseWriter) {
        let writer = try ServiceDatabase.inMemory()
        let store = try GatewayStore(writer: writer)
        for number in 1...3 { try await store.append(record(number)) }
        return (store, writer)
    }

    /// Runs `sql` past the append-only triggers, as an attacker with the database file can.
    private func tamper(_ writer: any DatabaseWriter, _ sql: String) async throws {
        try await writer.write { db in
            try db.execute(sql: "DROP TRIGGER audit_record_no_update; DROP TRIGGER audit_record_no_delete")
            try db.execute(sql: sql)
        }
    }

    @Test("each record links to the one before; an untouched log verifies, answering its head hash")
    func intact() async throws {
        let (store, _) = try await storeWithThreeRecords()
        let listed = try await store.audit(filter: AuditFilter(), after: nil, limit: 10).items.map(\.record)
        #expect(listed.map(\.id) == ["audit-3", "audit-2", "audit-1"])
        #expect(listed.last?.previousHash == "")
        #expect(listed[0].previousHash == listed[1].hash && listed[1].previousHash == listed[2].hash)
        #expect(Set(listed.map(\.hash)).count == 3 && listed.allSatisfy { $0.hash.count == 64 })
        let report = try await store.verifyAuditChain()
        #expect(report == AuditChainReport(recordsChecked: 3, headHash: listed[0].hash, firstBroken: nil))
        #expect(
            try await makeGatewayStore().verifyAuditChain()
                == AuditChainReport(recordsChecked: 0, headHash: "", firstBroken: nil))
    }

    @Test("the database refuses to change or remove a record")
    func appendOnly() async throws {
        let (_, writer) = try await storeWithThreeRecords()
        for sql in [
            "UPDATE audit_record SET customerId = 'someone-else' WHERE auditId = 'audit-2'",
            "DELETE FROM audit_record WHERE auditId = 'audit-2'",
        ] {
            let error = await #expect(throws: DatabaseError.self) {
                try await writer.write { db in try db.execute(sql: sql) }
            }
            #expect(error?.message?.contains("append-only") == true, "\(sql)")
        }
    }

    @Test("an edited record is named as edited")
    func edited() async throws {
        let (store, writer) = try await storeWithThreeRecords()
        try await tamper(writer, "UPDATE audit_record SET customerId = 'someone-else' WHERE auditId = 'audit-2'")
        let report = try await store.verifyAuditChain()
        #expect(!report.intact && report.firstBroken?.auditID == "audit-2" && report.recordsChecked == 2)
        #expect(report.firstBroken?.problem.contains("edited") == true)
    }

    @Test("an edited record whose hash was recomputed breaks the link of the record after it")
    func editedAndRehashed() async throws {
        let (store, writer) = try await storeWithThreeRecords()
        var forged = try #require(
            try await writer.read { db in
                try AuditRow.fetchOne(db, sql: "SELECT * FROM audit_record WHERE auditId = 'audit-2'")
            })
        forged.customerId = "someone-else"
        forged.chain(after: forged.previousHash)
        try await tamper(
            writer,
            "UPDATE audit_record SET customerId = 'someone-else', hash = '\(forged.hash)' WHERE auditId = 'audit-2'")
        let report = try await store.verifyAuditChain()
        #expect(report.firstBroken?.auditID == "audit-3", "\(report)")
        #expect(report.firstBroken?.problem.contains("removed, inserted or reordered") == true)
    }

    @Test("a removed record breaks the link of the record after it")
    func removed() async throws {
        let (store, writer) = try await storeWithThreeRecords()
        try await tamper(writer, "DELETE FROM audit_record WHERE auditId = 'audit-2'")
        let report = try await store.verifyAuditChain()
        #expect(report.firstBroken?.auditID == "audit-3" && report.recordsChecked == 2, "\(report)")
    }
}

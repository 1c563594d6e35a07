import C360ServerKit
import C360StoreKit
import Foundation
import Synchronization
import Testing

@testable import C360Gateway

/// What the authority gateway does for its replicas (`GatewayAuthorityService` over `GatewayStore`), and how a
/// replica sends its audit records (`AuditBatcher`): storing twice what was sent twice stores it once.
@Suite("The authority's storage for gateway replicas")
struct AuthorityStorageTests {
    private func record(_ number: Int) -> AuditRecord {
        AuditRecord(
            id: "audit-\(number)", occurredAt: Fixed.at(Double(number)), actorKeyID: "key-1", actorRole: .agent,
            action: .read, method: "/customer360.v1.GatewayService/GetCustomer360", customerID: "customer-1",
            statusCode: "OK", requestID: "request-\(number)", clientAddress: "ipv4:127.0.0.1:40000")
    }

    @Test("a batch is chained in order, and records stored already are skipped, the chain intact")
    func appendSkipsStoredRecords() async throws {
        let store = try makeGatewayStore()
        #expect(try await store.append([record(1), record(2)]) == 2)
        // A batch sent again after a lost answer, with one new record.
        #expect(try await store.append([record(1), record(2), record(3)]) == 1)
        let listed = try await store.audit(filter: AuditFilter(), after: nil, limit: 10).items.map(\.record)
        #expect(listed.map(\.id) == ["audit-3", "audit-2", "audit-1"])
        let report = try await store.verifyAuditChain()
        #expect(report.intact && report.recordsChecked == 3)
    }

    @Test("a key stored again with its own hash answers the stored key; another key with its id or secret is refused")
    func createKeyIsIdempotent() async throws {
        let store = try makeGatewayStore()
        let key = makeKey("0193a3c2-5b8e-7000-8000-00000000000a", role: .agent)
        let first = try await store.createKey(key, secretHash: String(repeating: "a", count: 64))
        let again = try await store.createKey(key, secretHash: String(repeating: "a", count: 64))
        #expect(first == again && first.id == key.id)
        await #expect(throws: GatewayError.keyExists(key.id)) {
            try await store.createKey(key, secretHash: String(repeating: "b", count: 64))
        }
        let other = makeKey("0193a3c2-5b8e-7000-8000-00000000000b", role: .viewer)
        await #expect(throws: GatewayError.keyExists(other.id)) {
            try await store.createKey(other, secretHash: String(repeating: "a", count: 64))
        }
        let found = try await store.findKey(secretHash: String(repeating: "a", count: 64), usedAt: Fixed.at(60))
        #expect(found?.id == key.id)
        #expect(try await store.key(secretHash: String(repeating: "a", count: 64))?.lastUsedAt == Fixed.at(60))
    }

    @Test("a record is fitted to the log's field sizes: trimmed, control characters replaced, cut, then accepted")
    func fittedRecordsAreAccepted() throws {
        var odd = record(1)
        odd.customerID = "  " + String(repeating: "x", count: 100) + "  "
        odd.requestID = "request\u{0}one"
        odd.note = String(repeating: "n", count: 3_000)
        let fitted = odd.fitted()
        #expect(fitted.customerID == String(repeating: "x", count: AuditRecord.Limit.customerID))
        #expect(fitted.requestID == "request\u{FFFD}one")
        #expect(fitted.note.count == AuditRecord.Limit.note)
        #expect(throws: InvalidArgument.self) { try AuditRecord(proto: odd.proto, field: "records[0]") }
        var sent = fitted.proto
        sent.auditID = "0193a3c2-5b8e-7000-8000-000000000001"
        let accepted = try AuditRecord(proto: sent, field: "records[0]")
        #expect(accepted.customerID == fitted.customerID && accepted.note == fitted.note)
    }

    @Test("records appended at the same time travel in fewer sends, each sent once, each caller answered")
    func batcherCoalesces() async throws {
        let sent = Mutex<[[String]]>([])
        let gate = Gate()
        let batcher = AuditBatcher { records in
            // The first send waits until every caller has queued, so the rest must share the second.
            let isFirst = sent.withLock { sent in
                sent.append(records.map(\.id))
                return sent.count == 1
            }
            if isFirst { await gate.wait() }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for number in 1...20 {
                group.addTask { try await batcher.append([record(number)]) }
            }
            while batcher.waiting + sent.withLock({ $0.first?.count ?? 0 }) < 20 {
                try await Task.sleep(for: .milliseconds(1))
            }
            await gate.open()
            try await group.waitForAll()
        }
        let batches = sent.withLock { $0 }
        // The first send holds what had queued when it began (one caller's record or more), the second all the rest.
        #expect((1...2).contains(batches.count), "\(batches.map(\.count))")
        #expect(batches.flatMap { $0 }.sorted() == (1...20).map { "audit-\($0)" }.sorted())
    }

    @Test("a failed send fails the callers whose records it held, and the next batch goes on")
    func batcherFailsItsBatch() async throws {
        struct Refused: Error {}
        let attempts = Mutex(0)
        let batcher = AuditBatcher { _ in
            let attempt = attempts.withLock { value -> Int in
                value += 1
                return value
            }
            if attempt == 1 { throw Refused() }
        }
        await #expect(throws: Refused.self) { try await batcher.append([record(1)]) }
        try await batcher.append([record(2)])
        #expect(attempts.withLock { $0 } == 2)
    }
}

/// A one-shot latch a test opens.
private actor Gate {
    private var isOpen = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func wait() async {
        if isOpen { return }
        await withCheckedContinuation { waiters.append($0) }
    }

    func open() {
        isOpen = true
        for waiter in waiters { waiter.resume() }
        waiters = []
    }
}

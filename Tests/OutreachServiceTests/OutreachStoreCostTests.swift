import C360StoreKit
import C360TestSupport
import Testing

@testable import C360Outreach

@Suite("Outreach store: the dispatcher's poll costs the same however many messages were sent before")
struct OutreachStoreCostTests {
    @Test("finding the due messages reads the pending ones only, not every message ever sent")
    func dueMessagesIgnoreSentOnes() async throws {
        let (database, work) = try SQLiteWork.inMemory()
        let store = try OutreachStore(writer: database, keyring: Keyring.inMemory())
        var stored = 0
        func message(_ id: String, _ status: MessageStatus) -> MessageRecord {
            MessageRecord(
                messageId: id, customerId: "c\(stored)", templateId: "t", campaignId: "", idempotencyKey: id,
                purpose: .marketing, forcedChannel: "", channel: "email", status: status, statusReason: "",
                createdAt: now.unixMillis, scheduledFor: now.unixMillis, sentAt: nil, attempts: 0, language: "")
        }
        func send(to count: Int) async throws {
            while stored < count {
                _ = try await store.enqueue(message("sent-\(stored)", .sent))
                stored += 1
            }
        }
        _ = try await store.enqueue(message("pending", .queued))

        var due: [[String]] = []
        func poll() async throws { due.append(try await store.dueMessages(at: now, limit: 10).due.map(\.messageId)) }
        try await send(to: 20)
        let few = try await work.measure(poll)
        try await send(to: 400)
        let many = try await work.measure(poll)
        #expect(due == [["pending"], ["pending"]])
        #expect(
            Double(many) <= Double(few) * 1.5,
            "\(few) SQLite instructions after 20 sent messages, \(many) after 400")
    }
}

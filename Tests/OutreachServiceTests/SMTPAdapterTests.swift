import C360ServerKit
import C360TestSupport
import Foundation
import Testing

@testable import C360Outreach

@Suite("SMTP adapter against a real SMTP server (aiosmtpd)")
struct SMTPAdapterTests {
    private func envelope(_ index: Int) -> Envelope {
        Envelope(
            messageID: "m\(index)", customerID: "c\(index)", channel: .email, recipient: "c\(index)@example.com",
            subject: "Hello \(index)", body: "Body \(index)", language: "en")
    }

    @Test("messages in a row share one connection instead of opening one each")
    func reusesConnections() async throws {
        try await withPythonPeer("smtp_sink.py") { sink in
            let adapter = try #require(
                SMTPAdapter(
                    url: "smtp://\(sink.address)", from: "Shop <shop@example.com>",
                    maxConnections: 4))
            for index in 0..<5 { try await adapter.deliver(envelope(index)) }
            let received = try await sink.waitForMessages(5)
            #expect(received.compactMap { $0["subject"] as? String } == (0..<5).map { "Hello \($0)" })
            #expect(Set(received.compactMap { $0["peer_port"] as? Int }).count == 1)
        }
    }

    @Test("a refused message is transient, and the session is reset and goes on with the next")
    func refusalResetsTheSession() async throws {
        try await withPythonPeer("smtp_sink.py", arguments: ["--fail-first", "1"]) { sink in
            let adapter = try #require(
                SMTPAdapter(url: "smtp://\(sink.address)", from: "shop@example.com", maxConnections: 1))
            await #expect(throws: DeliveryError.self) { try await adapter.deliver(envelope(0)) }
            try await adapter.deliver(envelope(1))
            let received = try await sink.waitForMessages(1)
            #expect(received.first?["subject"] as? String == "Hello 1")
        }
    }

    @Test("many deliveries at once use at most the pool's connections")
    func boundedConnections() async throws {
        try await withPythonPeer("smtp_sink.py") { sink in
            // A generous time-out: this is about the bound on connections, and a loaded CI box is slow.
            let adapter = try #require(
                SMTPAdapter(
                    url: "smtp://\(sink.address)", from: "shop@example.com",
                    timeout: .seconds(60), maxConnections: 3))
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<30 { group.addTask { try await adapter.deliver(envelope(index)) } }
                try await group.waitForAll()
            }
            let received = try await sink.waitForMessages(30)
            #expect(Set(received.compactMap { $0["peer_port"] as? Int }).count <= 3)
        }
    }

    @Test("the Date header is RFC 5322, as Foundation's formatter writes it, across years, leap days and the epoch")
    func dateHeader() {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        let instants: [TimeInterval] =
            [0, 951_782_400, 1_709_164_799, 1_790_000_000.75, 4_102_444_800, -86_401]
            + (0..<200).map { Double($0) * 15_778_463.0 + 1_234.5 }
        for instant in instants {
            let date = Date(timeIntervalSince1970: instant)
            #expect(SMTPAdapter.rfc5322Date(date) == formatter.string(from: date), "\(instant)")
        }
    }

    @Test("nothing listening is a transient failure")
    func unreachable() async throws {
        let adapter = try #require(SMTPAdapter(url: "smtp://127.0.0.1:1", from: "shop@example.com"))
        await #expect {
            try await adapter.deliver(envelope(0))
        } throws: { error in
            if case .transient = error as? DeliveryError { return true }
            return false
        }
    }
}

public import C360ServerKit
import Foundation
import NIOCore
import NIOPosix

/// Sends email over SMTP (RFC 5321) to one relay: EHLO, MAIL FROM, RCPT TO, DATA, QUIT on a fresh connection per
/// message. The message is RFC 5322 with a UTF-8 subject as an encoded word (RFC 2047) and a base64 UTF-8 text body,
/// so Persian (right-to-left) text arrives byte for byte. A 4xx reply or a connection failure is transient (retried),
/// a 5xx reply permanent.
///
/// No library for SMTP is among this project's dependencies, and the client part needed is this small exchange, so it
/// is written on SwiftNIO's async channel. Authentication and STARTTLS are not supported yet: point it at a local relay.
public struct SMTPAdapter: MessageAdapter {
    public let host: String
    public let port: Int
    /// The envelope sender and `From:` header, e.g. `Customer 360 <noreply@example.com>`.
    public let from: String
    let timeout: Duration

    public var channels: Set<C360ServerKit.Channel> { [.email] }
    /// SMTP servers deliver every DATA they accept; `Message-ID` is not a de-duplication key.
    public var dropsRepeats: Bool { false }

    /// - Parameter url: `smtp://host:port` (port 25 when omitted).
    public init?(url: String, from: String, timeout: Duration = .seconds(10)) {
        guard let components = URLComponents(string: url), components.scheme == "smtp", let host = components.host,
              !host.isEmpty else { return nil }
        self.host = host
        self.port = components.port ?? 25
        self.from = from
        self.timeout = timeout
    }

    /// The address inside `Name <address>`, or the whole text.
    static func address(_ mailbox: String) -> String {
        guard let open = mailbox.lastIndex(of: "<"), let close = mailbox.lastIndex(of: ">"), open < close else {
            return mailbox.trimmingCharacters(in: .whitespaces)
        }
        return String(mailbox[mailbox.index(after: open)..<close])
    }

    public func deliver(_ envelope: Envelope) async throws(DeliveryError) {
        let message = Self.message(envelope, from: from, date: Date())
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await converse(envelope: envelope, message: message) }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    throw DeliveryError.transient("the SMTP server at \(host):\(port) did not finish within \(timeout)")
                }
                try await group.next()
                group.cancelAll()
            }
        } catch let error as DeliveryError {
            throw error
        } catch {
            throw .transient("SMTP \(host):\(port): \(error)")
        }
    }

    private func converse(envelope: Envelope, message: String) async throws {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(5))
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        try await channel.executeThenClose { inbound, outbound in
            var replies = SMTPReplies(inbound.makeAsyncIterator())
            func command(_ line: String?, expect: Int) async throws {
                if let line { try await outbound.write(ByteBuffer(string: line + "\r\n")) }
                let reply = try await replies.next()
                guard reply.code == expect || (expect == 250 && reply.code == 251) else {
                    let text = "\(line.map { String($0.prefix(12)) } ?? "greeting") → \(reply.code) \(reply.text)"
                    throw reply.code >= 500 ? DeliveryError.permanent(text) : DeliveryError.transient(text)
                }
            }
            try await command(nil, expect: 220)
            try await command("EHLO customer360", expect: 250)
            try await command("MAIL FROM:<\(Self.address(from))>", expect: 250)
            try await command("RCPT TO:<\(envelope.recipient)>", expect: 250)
            try await command("DATA", expect: 354)
            try await command(message + "\r\n.", expect: 250)
            try? await command("QUIT", expect: 221)
        }
    }

    /// The RFC 5322 message, dot-stuffed for DATA (without the final dot line).
    static func message(_ envelope: Envelope, from: String, date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        let body = Data(envelope.body.utf8).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
        let headers = [
            "From: \(from)",
            "To: <\(envelope.recipient)>",
            "Subject: \(encodedWord(envelope.subject))",
            "Date: \(formatter.string(from: date))",
            "Message-ID: <\(envelope.messageID)@customer360>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: base64",
            "Content-Language: \(envelope.language.isEmpty ? "en" : envelope.language)",
        ]
        // Base64 lines never start with a dot, so the body needs no dot-stuffing; headers are ours.
        return headers.joined(separator: "\r\n") + "\r\n\r\n" + body
    }

    /// An RFC 2047 encoded word for non-ASCII text; ASCII text as it is.
    static func encodedWord(_ text: String) -> String {
        let plain = text.unicodeScalars.allSatisfy { $0.isASCII && $0.value >= 32 }
        return plain ? text : "=?UTF-8?B?\(Data(text.utf8).base64EncodedString())?="
    }
}

/// Reads SMTP replies (possibly multi-line, `250-…` then `250 …`) from a byte stream.
struct SMTPReplies {
    var iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    var pending = ""

    init(_ iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator) {
        self.iterator = iterator
    }

    mutating func next() async throws -> (code: Int, text: String) {
        var text: [String] = []
        while true {
            let line = try await nextLine()
            guard line.count >= 3, let code = Int(line.prefix(3)) else {
                throw DeliveryError.transient("the SMTP server answered '\(line.prefix(80))'")
            }
            text.append(String(line.dropFirst(4)))
            if line.count == 3 || line[line.index(line.startIndex, offsetBy: 3)] != "-" {
                return (code, text.joined(separator: " "))
            }
        }
    }

    private mutating func nextLine() async throws -> String {
        while true {
            if let end = pending.range(of: "\r\n") {
                let line = String(pending[..<end.lowerBound])
                pending.removeSubrange(..<end.upperBound)
                return line
            }
            guard var buffer = try await iterator.next() else {
                throw DeliveryError.transient("the SMTP server closed the connection")
            }
            pending += buffer.readString(length: buffer.readableBytes) ?? ""
            guard pending.utf8.count < 64 * 1024 else { throw DeliveryError.transient("the SMTP reply is too long") }
        }
    }
}

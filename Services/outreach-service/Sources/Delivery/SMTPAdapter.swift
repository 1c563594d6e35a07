public import C360ServerKit
import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// Sends email over SMTP (RFC 5321) to one relay, reusing connections: a delivery takes an idle session from the
/// pool (or opens one: greeting, EHLO), sends MAIL FROM, RCPT TO, DATA on it and gives it back, so a campaign costs
/// one TCP connection and EHLO per pooled session rather than per message. The message is RFC 5322 with a UTF-8
/// subject as an encoded word (RFC 2047) and a base64 UTF-8 text body, so Persian (right-to-left) text arrives byte
/// for byte. A 4xx reply or a connection failure is transient (retried), a 5xx reply permanent; after a refused
/// message the session is reset (RSET) and reused. A session the relay closed while idle is replaced once without
/// counting as a failure.
///
/// No library for SMTP is among this project's dependencies, and the client part needed is this small exchange, so it
/// is written on SwiftNIO's async channel. Authentication and STARTTLS are not supported yet: point it at a local relay.
public struct SMTPAdapter: MessageAdapter {
    public let host: String
    public let port: Int
    /// The envelope sender and `From:` header, e.g. `Customer 360 <noreply@example.com>`.
    public let from: String
    let timeout: Duration
    let pool: SMTPConnectionPool

    public var channels: Set<C360ServerKit.Channel> { [.email] }
    /// SMTP servers deliver every DATA they accept; `Message-ID` is not a de-duplication key.
    public var dropsRepeats: Bool { false }

    /// - Parameters:
    ///   - url: `smtp://host:port` (port 25 when omitted).
    ///   - maxConnections: Sessions kept open at most (the dispatcher's concurrency is a good value).
    public init?(url: String, from: String, timeout: Duration = .seconds(10), maxConnections: Int = 16) {
        guard let components = URLComponents(string: url), components.scheme == "smtp", let host = components.host,
            !host.isEmpty
        else { return nil }
        let port = components.port ?? 25
        self.host = host
        self.port = port
        self.from = from
        self.timeout = timeout
        self.pool = SMTPConnectionPool(maxConnections: max(1, maxConnections)) {
            try await SMTPSession.open(host: host, port: port)
        }
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
        let sender = Self.address(from)
        do {
            for attempt in 0..<2 {
                // Waiting for a free session is the pool's backpressure, not the relay's slowness: the time-out
                // starts once the message has a session.
                let session = try await pool.acquire()
                do {
                    try await exchange(on: session, sender: sender, recipient: envelope.recipient, message: message)
                    await pool.release(session)
                    return
                } catch is SMTPSession.Stale where attempt == 0 {
                    // The relay had closed the idle connection: nothing was accepted, so another session may send it.
                    await pool.release(session)
                } catch {
                    await pool.release(session)
                    throw error
                }
            }
        } catch let error as DeliveryError {
            throw error
        } catch {
            throw .transient("SMTP \(host):\(port): \(error)")
        }
    }

    /// One message on `session`, within the time-out; a session that runs out of time is closed (its state in the
    /// middle of the exchange is unknown).
    private func exchange(on session: SMTPSession, sender: String, recipient: String, message: String) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await session.send(sender: sender, recipient: recipient, message: message) }
            group.addTask {
                try await Task.sleep(for: timeout)
                session.close()
                throw DeliveryError.transient("the SMTP server at \(host):\(port) did not finish within \(timeout)")
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    /// The RFC 5322 message, dot-stuffed for DATA (without the final dot line).
    static func message(_ envelope: Envelope, from: String, date: Date) -> String {
        let body = Data(envelope.body.utf8).base64EncodedString(options: [
            .lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed,
        ])
        let headers = [
            "From: \(from)",
            "To: <\(envelope.recipient)>",
            "Subject: \(encodedWord(envelope.subject))",
            "Date: \(rfc5322Date(date))",
            "Message-ID: <\(envelope.messageID)@customer360>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: base64",
            "Content-Language: \(envelope.language.isEmpty ? "en" : envelope.language)",
        ]
        // Base64 lines never start with a dot, so the body needs no dot-stuffing; headers are ours.
        return headers.joined(separator: "\r\n") + "\r\n\r\n" + body
    }

    /// `Fri, 04 Dec 2026 09:30:00 +0000`, in UTC. Formatted by hand: a DateFormatter per message was a twentieth of a
    /// send run's CPU, and one shared formatter is not Sendable.
    static func rfc5322Date(_ date: Date) -> String {
        let days = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let day = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - day * 86_400
        // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
        let z = day + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shifted = (5 * dayOfYear + 2) / 153
        let dayOfMonth = dayOfYear - (153 * shifted + 2) / 5 + 1
        let month = shifted < 10 ? shifted + 3 : shifted - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let weekday = days[Int(((day % 7) + 7) % 7)]
        return "\(weekday), \(two(dayOfMonth)) \(months[Int(month - 1)]) \(year) "
            + "\(two(secondOfDay / 3_600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60)) +0000"
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

/// SMTP sessions kept open for reuse, at most `maxConnections` at once; a delivery waits for one when all are busy.
actor SMTPConnectionPool {
    private var idle: [SMTPSession] = []
    private var open = 0
    private var waiters: [CheckedContinuation<SMTPSession?, Never>] = []
    let maxConnections: Int
    let connect: @Sendable () async throws -> SMTPSession

    init(maxConnections: Int, connect: @escaping @Sendable () async throws -> SMTPSession) {
        self.maxConnections = maxConnections
        self.connect = connect
    }

    /// An idle live session, a new one, or the next one released.
    func acquire() async throws -> SMTPSession {
        while let session = idle.popLast() {
            if session.isUsable { return session }
            open -= 1
        }
        if open >= maxConnections, let handed = await withCheckedContinuation({ waiters.append($0) }) {
            return handed
        }
        // Below the limit, or handed a freed slot (nil) by a session that was closed.
        open += 1
        do {
            return try await connect()
        } catch {
            open -= 1
            wakeOne(with: nil)
            throw error
        }
    }

    /// Gives a session back: a live one to the next waiter or the idle list, a closed one frees its slot.
    func release(_ session: SMTPSession) {
        if session.isUsable {
            if waiters.isEmpty { idle.append(session) } else { wakeOne(with: session) }
        } else {
            open -= 1
            wakeOne(with: nil)
        }
    }

    private func wakeOne(with session: SMTPSession?) {
        guard !waiters.isEmpty else { return }
        waiters.removeFirst().resume(returning: session)
    }
}

/// One SMTP connection after its greeting and EHLO, sending one message at a time. Its channel is owned by a task
/// that takes messages from a stream (NIO's async channel is used only inside `executeThenClose`).
final class SMTPSession: Sendable {
    /// The connection was found closed before the relay accepted any part of the message: safe to send elsewhere.
    struct Stale: Error, CustomStringConvertible {
        var description: String { "the connection was closed before the server accepted any part of the message" }
    }

    private struct Job: Sendable {
        var sender: String
        var recipient: String
        var message: String
        var done: CheckedContinuation<Void, any Error>
    }

    private let jobs: AsyncStream<Job>.Continuation
    private let channel: any NIOCore.Channel
    private let usable = Atomic<Bool>(true)

    var isUsable: Bool { usable.load(ordering: .relaxed) }

    private init(jobs: AsyncStream<Job>.Continuation, channel: any NIOCore.Channel) {
        self.jobs = jobs
        self.channel = channel
    }

    /// Connects, reads the greeting and says EHLO.
    static func open(host: String, port: Int) async throws -> SMTPSession {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(5))
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let (stream, continuation) = AsyncStream.makeStream(of: Job.self)
        let session = SMTPSession(jobs: continuation, channel: channel.channel)
        try await withCheckedThrowingContinuation { (ready: CheckedContinuation<Void, any Error>) in
            Task { await session.run(channel, jobs: stream, ready: ready) }
        }
        return session
    }

    /// Sends one message; throws `Stale` when the connection had closed before anything was accepted.
    func send(sender: String, recipient: String, message: String) async throws {
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
            if case .terminated = jobs.yield(Job(sender: sender, recipient: recipient, message: message, done: done)) {
                done.resume(throwing: Stale())
            }
        }
    }

    /// Closes the connection (a delivery timed out or was cancelled mid-exchange).
    func close() {
        usable.store(false, ordering: .relaxed)
        jobs.finish()
        channel.close(promise: nil)
    }

    private func run(
        _ channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>, jobs: AsyncStream<Job>,
        ready: CheckedContinuation<Void, any Error>
    ) async {
        var greeted = false
        var current: Job?
        do {
            try await channel.executeThenClose { inbound, outbound in
                var replies = SMTPReplies(inbound.makeAsyncIterator())
                func command(_ line: String?, expect: Int) async throws {
                    if let line { try await outbound.write(ByteBuffer(string: line + "\r\n")) }
                    let reply = try await replies.next()
                    guard reply.code == expect || (expect == 250 && reply.code == 251) else {
                        let text = "\(line.map { String($0.prefix(12)) } ?? "greeting") → \(reply.code) \(reply.text)"
                        throw SMTPRefusal(code: reply.code, text: text)
                    }
                }
                try await command(nil, expect: 220)
                try await command("EHLO customer360", expect: 250)
                greeted = true
                ready.resume()
                for await job in jobs {
                    current = job
                    var accepted = false
                    do {
                        try await command("MAIL FROM:<\(job.sender)>", expect: 250)
                        accepted = true
                        try await command("RCPT TO:<\(job.recipient)>", expect: 250)
                        try await command("DATA", expect: 354)
                        try await command(job.message + "\r\n.", expect: 250)
                        current = nil
                        job.done.resume()
                    } catch let refusal as SMTPRefusal {
                        // The relay refused this message; the session is fine once reset.
                        current = nil
                        job.done.resume(
                            throwing: refusal.code >= 500
                                ? DeliveryError.permanent(refusal.text) : DeliveryError.transient(refusal.text))
                        try await command("RSET", expect: 250)
                    } catch  where !accepted {
                        current = nil
                        job.done.resume(throwing: Stale())
                        throw error
                    }
                }
                try? await command("QUIT", expect: 221)
            }
        } catch {
            if !greeted {
                let refusal = (error as? SMTPRefusal).map { DeliveryError.transient($0.text) }
                ready.resume(throwing: refusal ?? error)
            }
            current?.done.resume(throwing: DeliveryError.transient("the SMTP connection failed: \(error)"))
        }
        usable.store(false, ordering: .relaxed)
        self.jobs.finish()
        // Messages yielded after the connection ended are refused as stale, to be sent on another session.
        for await job in jobs { job.done.resume(throwing: Stale()) }
    }
}

/// A reply code other than the one expected.
struct SMTPRefusal: Error {
    var code: Int
    var text: String
}

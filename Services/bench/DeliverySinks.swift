import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// Receivers for `bench sends` that cost next to nothing, so the benchmark measures outreach-service rather than a
/// Python sink: an SMTP server that accepts every message (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) and an HTTP
/// server that answers 200 to every request, each counting what it received.
final class DeliverySinks: Sendable {
    let smtpPort: Int
    let httpPort: Int
    private let channels: [any Channel]
    private let counters: Counters

    final class Counters: Sendable {
        let emails = Atomic<Int>(0)
        let requests = Atomic<Int>(0)
        let connections = Atomic<Int>(0)
    }

    var emails: Int { counters.emails.load(ordering: .relaxed) }
    var requests: Int { counters.requests.load(ordering: .relaxed) }
    /// SMTP connections opened (fewer than emails when the sender reuses them).
    var smtpConnections: Int { counters.connections.load(ordering: .relaxed) }

    private init(smtp: any Channel, http: any Channel, counters: Counters) {
        self.channels = [smtp, http]
        self.smtpPort = smtp.localAddress?.port ?? 0
        self.httpPort = http.localAddress?.port ?? 0
        self.counters = counters
    }

    static func start() async throws -> DeliverySinks {
        let counters = Counters()
        let group = MultiThreadedEventLoopGroup.singleton
        let smtp = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                counters.connections.add(1, ordering: .relaxed)
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(LineDecoder()), SMTPSinkHandler(counters: counters),
                    ])
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let http = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(HTTPSinkHandler(counters: counters))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return DeliverySinks(smtp: smtp, http: http, counters: counters)
    }

    func stop() async {
        for channel in channels { try? await channel.close() }
    }
}

/// Splits the byte stream into CRLF-terminated lines (without the CRLF).
private struct LineDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else { return .needMoreData }
        let length = newline - buffer.readerIndex
        var line = buffer.readSlice(length: length)!
        buffer.moveReaderIndex(forwardBy: 1)
        if line.readableBytesView.last == UInt8(ascii: "\r") {
            line = line.getSlice(at: line.readerIndex, length: line.readableBytes - 1)!
        }
        context.fireChannelRead(Self.wrapInboundOut(line))
        return .continue
    }
}

private final class SMTPSinkHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let counters: DeliverySinks.Counters
    var inData = false

    init(counters: DeliverySinks.Counters) {
        self.counters = counters
    }

    func channelActive(context: ChannelHandlerContext) {
        reply(context, "220 bench-sink ESMTP")
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let line = Self.unwrapInboundIn(data)
        if inData {
            if line.readableBytes == 1, line.readableBytesView.first == UInt8(ascii: ".") {
                inData = false
                counters.emails.add(1, ordering: .relaxed)
                reply(context, "250 OK queued")
            }
            return
        }
        let verb = (line.getString(at: line.readerIndex, length: min(4, line.readableBytes)) ?? "").uppercased()
        switch verb {
        case "EHLO", "HELO": reply(context, "250 bench-sink")
        case "DATA":
            inData = true
            reply(context, "354 end with <CRLF>.<CRLF>")
        case "QUIT":
            context.writeAndFlush(Self.wrapOutboundOut(ByteBuffer(string: "221 bye\r\n"))).assumeIsolated().whenComplete
            { _ in
                context.close(promise: nil)
            }
        default: reply(context, "250 OK")
        }
    }

    private func reply(_ context: ChannelHandlerContext, _ text: String) {
        context.writeAndFlush(Self.wrapOutboundOut(ByteBuffer(string: text + "\r\n")), promise: nil)
    }
}

private final class HTTPSinkHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    let counters: DeliverySinks.Counters
    var keepAlive = true

    init(counters: DeliverySinks.Counters) {
        self.counters = counters
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case .head(let head):
            keepAlive = head.isKeepAlive
        case .body:
            break
        case .end:
            counters.requests.add(1, ordering: .relaxed)
            var headers = HTTPHeaders([("content-length", "0")])
            if !keepAlive { headers.add(name: "connection", value: "close") }
            context.write(
                Self.wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))),
                promise: nil)
            let keep = keepAlive
            context.writeAndFlush(Self.wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
                if !keep { context.close(promise: nil) }
            }
        }
    }
}

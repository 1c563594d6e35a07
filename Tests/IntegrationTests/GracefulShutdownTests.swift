import C360Clients
import C360Contracts
import C360TestSupport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

private typealias HealthStatus = Grpc_Health_V1_HealthCheckResponse.ServingStatus

/// How long a process may take to exit after SIGTERM. A clean exit takes well under a second; the bound only tells a
/// hang (a process that needs SIGKILL) from a slow machine, it is no timing requirement. 5 s was once too short in the
/// full suite on two cores (feedback-service, draining an export, exited later); it stays under the services' own
/// 20 s graceful-shutdown limit, so a member that never stops still shows as a hang.
private let exitBound: Duration = .seconds(15)

/// A peer address where nothing listens, for the peers a test does not use: calls to it fail at once.
private let nowhere = "127.0.0.1:1"

/// The executables that serve gRPC, each with the arguments it needs to run on its own (peers it will not call point
/// nowhere; the gateway's HTTP API takes a free port).
private let soloArguments: [String: [String]] = [
    "profile-service": [],
    "interaction-service": ["--profile-addr", nowhere],
    "feedback-service": ["--profile-addr", nowhere],
    "success-service": ["--profile-addr", nowhere, "--interaction-addr", nowhere, "--feedback-addr", nowhere],
    "gateway": gatewayArguments(),
]

/// The gateway's arguments: the given peers, the others nowhere, and a free HTTP port.
private func gatewayArguments(interaction: String = nowhere, success: String = nowhere) -> [String] {
    [
        "--profile-addr", nowhere, "--interaction-addr", interaction, "--feedback-addr", nowhere,
        "--success-addr", success, "--http-port", "0",
    ]
}

/// How a stream the test held open ended.
private enum StreamEnd: Equatable, Sendable, CustomStringConvertible {
    /// The server finished it with OK.
    case completed
    /// It ended with this status.
    case failed(RPCError.Code)

    var description: String {
        switch self {
        case .completed: "OK"
        case .failed(let code): "\(code)"
        }
    }
}

/// SIGTERM for one process, sent at most once from wherever the test learns that its stream is open, and the exit it
/// leads to.
private final class Termination: Sendable {
    private let process: ServiceProcess
    private let sent = Mutex<Task<ProcessExit, any Error>?>(nil)

    init(of process: ServiceProcess) {
        self.process = process
    }

    /// Sends SIGTERM (the first time only) and starts waiting for the exit.
    func send() {
        sent.withLock { task in
            guard task == nil else { return }
            task = Task { [process] in try await process.terminate(timeout: exitBound) }
        }
    }

    /// How the process exited; throws when it was still running `exitBound` after SIGTERM (it was killed then), or
    /// when SIGTERM was never sent.
    func exit() async throws -> ProcessExit {
        guard let task = sent.withLock({ $0 }) else {
            throw GatewayTestFailure(description: "the stream never opened, so SIGTERM was not sent")
        }
        return try await task.value
    }
}

/// Something that happened, or not yet, told across tasks.
private final class Flag: Sendable {
    private let value = Mutex(false)

    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}

/// Opens a stream with `open`, sends SIGTERM to `process` as soon as `open` reports the server's answer (its response
/// headers: the handler runs), reads the stream to its end, and reports how it ended and how the process exited.
private func terminate(
    _ process: ServiceProcess, whileStreaming open: (_ opened: @escaping @Sendable () -> Void) async throws -> Void
) async throws -> (stream: StreamEnd, exit: ProcessExit) {
    let termination = Termination(of: process)
    let end: StreamEnd
    do {
        try await open { termination.send() }
        end = .completed
    } catch let error as RPCError {
        end = .failed(error.code)
    }
    return (end, try await termination.exit())
}

/// Starts profile-service with one customer, then `executable` pointed at it, and runs `body` with the customer's id.
private func withProfileAnd(
    _ executable: String, _ body: (ServiceProcess, GRPCClient<HTTP2ClientTransport.Posix>, String) async throws -> Void
) async throws {
    try await withService("profile-service") { profile, profileClient in
        let ada = try await Customer360_V1_ProfileService.Client(wrapping: profileClient)
            .createCustomer(.with { $0.givenName = "Ada" }).customerID
        var arguments = soloArguments[executable] ?? []
        if let index = arguments.firstIndex(of: "--profile-addr") { arguments[index + 1] = "\(profile.address)" }
        try await withService(executable, arguments: arguments) { process, client in
            try await body(process, client, ada)
        }
    }
}

/// The two ways to watch alerts through the gateway: its own `GatewayService.WatchAlerts`, and success-service's
/// `SuccessService.WatchAlerts`, which the gateway forwards on the same port.
enum GatewayWatch: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case gatewayService, forwardedSuccessService

    var testDescription: String { rawValue }

    /// Opens the watch, calls `opened` once the gateway answered, and reads it to its end.
    func open(
        _ client: GRPCClient<HTTP2ClientTransport.Posix>, metadata: Metadata, options: CallOptions,
        _ opened: @escaping @Sendable () -> Void
    ) async throws {
        switch self {
        case .gatewayService:
            try await GatewayClient(wrapping: client).watchAlerts(.init(), metadata: metadata, options: options) {
                response in
                opened()
                for try await _ in response.messages {}
            }
        case .forwardedSuccessService:
            try await Customer360_V1_SuccessService.Client(wrapping: client)
                .watchAlerts(.init(), metadata: metadata, options: options) { response in
                    opened()
                    for try await _ in response.messages {}
                }
        }
    }
}

/// One server-streaming export of one service.
enum ExportStream: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case interactionExportTimeline, interactionExportCustomerData, feedbackExportCustomerData, successExportCustomerData

    var testDescription: String { rawValue }

    var executable: String {
        switch self {
        case .interactionExportTimeline, .interactionExportCustomerData: "interaction-service"
        case .feedbackExportCustomerData: "feedback-service"
        case .successExportCustomerData: "success-service"
        }
    }

    /// Opens the export of `customerID`, calls `opened` once the server answered, and reads it to its end.
    func open(
        _ client: GRPCClient<HTTP2ClientTransport.Posix>, _ customerID: String, _ opened: @escaping @Sendable () -> Void
    ) async throws {
        switch self {
        case .interactionExportTimeline:
            try await Customer360_V1_InteractionService.Client(wrapping: client)
                .exportTimeline(.with { $0.customerID = customerID }) { response in
                    opened()
                    for try await _ in response.messages {}
                }
        case .interactionExportCustomerData:
            try await Customer360_V1_InteractionService.Client(wrapping: client)
                .exportCustomerData(.with { $0.customerID = customerID }) { response in
                    opened()
                    for try await _ in response.messages {}
                }
        case .feedbackExportCustomerData:
            try await Customer360_V1_FeedbackService.Client(wrapping: client)
                .exportCustomerData(.with { $0.customerID = customerID }) { response in
                    opened()
                    for try await _ in response.messages {}
                }
        case .successExportCustomerData:
            try await Customer360_V1_SuccessService.Client(wrapping: client)
                .exportCustomerData(.with { $0.customerID = customerID }) { response in
                    opened()
                    for try await _ in response.messages {}
                }
        }
    }
}

/// Issue 19, items 4 and 5: on SIGTERM health says NOT_SERVING first, then the process drains — unary calls and client
/// streams in flight finish, server streams end with UNAVAILABLE so their clients reconnect elsewhere — and exits 0
/// promptly whatever streams were opened or abandoned. Every test sends SIGTERM and must see exit code 0 within
/// `exitBound`. The suite's time limit only catches a hang, on a CI machine running every suite's processes at once.
@Suite("Graceful shutdown: health first, then the drain", .timeLimit(.minutes(5)))
struct GracefulShutdownTests {
    // MARK: - Health first

    @Test("on SIGTERM the gateway says NOT_SERVING while a call is in flight, then lets the call finish and exits 0")
    func healthTurnsNotServingBeforeTheDrain() async throws {
        let interactionArguments = soloArguments["interaction-service"] ?? []
        try await withService("interaction-service", arguments: interactionArguments) { interaction, _ in
            let arguments = gatewayArguments(interaction: "\(interaction.address)")
            try await withService("gateway", arguments: arguments) { gateway, client in
                let admin = bearer(try await bootstrapSecret(of: gateway))
                // Given a call in flight that only the test can end: a RecordTouchpoints stream it has not closed.
                let (opened, open) = AsyncStream<Void>.makeStream()
                let (release, released) = AsyncStream<Void>.makeStream()
                let call = Task {
                    try await GatewayClient(wrapping: client).recordTouchpoints(metadata: admin) { _ in
                        open.finish()
                        for await _ in release {}
                    }
                }
                for await _ in opened {}
                // Answered on the same connection after the call's headers were sent, so the gateway has the call.
                try await waitUntilServing(client)

                // When SIGTERM arrives (sent once the health watch is open)
                let termination = Termination(of: gateway)
                let heard = try await Grpc_Health_V1_Health.Client(wrapping: client).watch(.init()) { response in
                    var statuses: [HealthStatus] = []
                    do {
                        for try await message in response.messages {
                            statuses.append(message.status)
                            if message.status == .serving { termination.send() }
                            if message.status == .notServing { break }
                        }
                    } catch {
                        // The watch ended first (the process was killed): `statuses` says what it heard until then.
                    }
                    return statuses
                }

                // Then NOT_SERVING came while the call was still open, the call then completes, and the gateway exits.
                #expect(
                    heard == [.serving, .notServing], "health must turn NOT_SERVING before the in-flight call ends")
                released.finish()
                let answer = try await call.value
                #expect(answer.stored == 0 && answer.rejected == 0)
                #expect(try await termination.exit() == .exited(0))
            }
        }
    }

    @Test(
        "a health Watch hears NOT_SERVING after SIGTERM, then ends with UNAVAILABLE, and the process exits 0",
        arguments: ["profile-service", "interaction-service", "feedback-service", "success-service", "gateway"])
    func healthWatchEndsWithUnavailable(_ executable: String) async throws {
        try await withService(executable, arguments: soloArguments[executable] ?? []) { process, client in
            let termination = Termination(of: process)
            let (statuses, end) = try await Grpc_Health_V1_Health.Client(wrapping: client).watch(.init()) { response in
                var statuses: [HealthStatus] = []
                do {
                    for try await message in response.messages {
                        statuses.append(message.status)
                        termination.send()
                    }
                    return (statuses, StreamEnd.completed)
                } catch let error as RPCError {
                    return (statuses, StreamEnd.failed(error.code))
                }
            }
            #expect(statuses == [.serving, .notServing])
            #expect(end == .failed(.unavailable))
            #expect(try await termination.exit() == .exited(0))
        }
    }

    // MARK: - WatchAlerts

    @Test(
        "the gateway exits 0 promptly on SIGTERM after a client gave up on WatchAlerts at its deadline",
        arguments: GatewayWatch.allCases)
    func abandonedWatchThroughTheGateway(_ route: GatewayWatch) async throws {
        try await withService("success-service", arguments: soloArguments["success-service"] ?? []) { success, _ in
            let arguments = gatewayArguments(success: "\(success.address)")
            try await withService("gateway", arguments: arguments) { gateway, client in
                let admin = bearer(try await bootstrapSecret(of: gateway))
                // Given a client that opened WatchAlerts through the gateway and gave up at its deadline
                let opened = Flag()
                let error = await #expect(throws: RPCError.self) {
                    try await route.open(client, metadata: admin, options: .deadline(.seconds(1))) { opened.set() }
                }
                #expect(error?.code == .deadlineExceeded)
                #expect(opened.isSet, "the gateway never answered the call")

                // When SIGTERM arrives, then the gateway exits 0 without being killed.
                #expect(try await gateway.terminate(timeout: exitBound) == .exited(0))
            }
        }
    }

    @Test(
        "the gateway exits 0 promptly on SIGTERM after a client cancelled its WatchAlerts",
        arguments: GatewayWatch.allCases)
    func cancelledWatchThroughTheGateway(_ route: GatewayWatch) async throws {
        try await withService("success-service", arguments: soloArguments["success-service"] ?? []) { success, _ in
            let arguments = gatewayArguments(success: "\(success.address)")
            try await withService("gateway", arguments: arguments) { gateway, client in
                let admin = bearer(try await bootstrapSecret(of: gateway))
                // Given a client that opened WatchAlerts through the gateway (no deadline) and then cancelled it
                let (opened, open) = AsyncStream<Void>.makeStream()
                let watching = Task {
                    try await route.open(client, metadata: admin, options: .defaults) { open.finish() }
                }
                for await _ in opened {}
                watching.cancel()
                await #expect(throws: (any Error).self) { try await watching.value }

                // When SIGTERM arrives, then the gateway exits 0 without being killed.
                #expect(try await gateway.terminate(timeout: exitBound) == .exited(0))
            }
        }
    }

    @Test(
        "a WatchAlerts stream open through the gateway ends with UNAVAILABLE on its SIGTERM, and the gateway exits 0",
        arguments: GatewayWatch.allCases)
    func liveWatchThroughTheGateway(_ route: GatewayWatch) async throws {
        try await withService("success-service", arguments: soloArguments["success-service"] ?? []) { success, _ in
            let arguments = gatewayArguments(success: "\(success.address)")
            try await withService("gateway", arguments: arguments) { gateway, client in
                let admin = bearer(try await bootstrapSecret(of: gateway))
                let (end, exit) = try await terminate(gateway) { opened in
                    try await route.open(client, metadata: admin, options: .defaults, opened)
                }
                #expect(end == .failed(.unavailable))
                #expect(exit == .exited(0))
            }
        }
    }

    @Test("a WatchAlerts stream open on success-service ends with UNAVAILABLE on its SIGTERM, and it exits 0")
    func liveWatchOnSuccessService() async throws {
        try await withService("success-service", arguments: soloArguments["success-service"] ?? []) { success, client in
            let (end, exit) = try await terminate(success) { opened in
                try await Customer360_V1_SuccessService.Client(wrapping: client).watchAlerts(.init()) { response in
                    opened()
                    for try await _ in response.messages {}
                }
            }
            #expect(end == .failed(.unavailable))
            #expect(exit == .exited(0))
        }
    }

    // MARK: - Exports

    @Test(
        "an export stream open at SIGTERM ends — whole, or cut with UNAVAILABLE — and its process exits 0",
        arguments: ExportStream.allCases)
    func exportAtShutdown(_ export: ExportStream) async throws {
        try await withProfileAnd(export.executable) { process, client, ada in
            let (end, exit) = try await terminate(process) { opened in
                try await export.open(client, ada, opened)
            }
            // A small export may be whole before SIGTERM lands; one still streaming is cut, never left hanging.
            #expect(end == .completed || end == .failed(.unavailable), "ended with \(end)")
            #expect(exit == .exited(0))
        }
    }

    @Test("an ExportCustomerData stream open through the gateway at SIGTERM ends whole or with UNAVAILABLE; it exits 0")
    func exportThroughTheGatewayAtShutdown() async throws {
        try await withGatewayStack { stack in
            let admin = bearer(stack.adminSecret)
            let ada = try await stack.gateway.createCustomer(.with { $0.givenName = "Ada" }, metadata: admin).customerID
            let (end, exit) = try await terminate(stack.gatewayProcess) { opened in
                try await stack.gateway.exportCustomerData(.with { $0.customerID = ada }, metadata: admin) { response in
                    opened()
                    for try await _ in response.messages {}
                }
            }
            #expect(end == .completed || end == .failed(.unavailable), "ended with \(end)")
            #expect(exit == .exited(0))
        }
    }
}

extension GracefulShutdownTests {
    @Test(
        """
        a client that opened an HTTP/2 connection and then neither reads nor closes it does not hold the drain open: \
        the process exits 0 on SIGTERM
        """)
    func silentConnectionDoesNotHoldTheDrain() async throws {
        try await withService("profile-service") { profile, _ in
            // The connection preface and an empty SETTINGS frame, then silence: the server's GOAWAY and its ping are
            // never read, so the ping is never acknowledged, which is what starts the transport's own grace timer.
            let silent = try SilentConnection(port: profile.address.port)
            defer { silent.close() }
            try silent.send(Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8) + [0, 0, 0, 4, 0, 0, 0, 0, 0])
            #expect(try await profile.terminate(timeout: exitBound) == .exited(0))
        }
    }
}

/// A TCP connection held open without reading, through the C socket API (no event loop that would read for us).
private struct SilentConnection {
    let descriptor: Int32

    init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw POSIXError(.EMFILE) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
    }

    func send(_ bytes: [UInt8]) throws {
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw POSIXError(.EIO) }
    }

    func close() { _ = Glibc.close(descriptor) }
}

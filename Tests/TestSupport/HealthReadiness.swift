import C360Clients
import C360Contracts
public import GRPCCore
public import GRPCNIOTransportHTTP2

/// Asks the standard health service every 20 ms until it answers SERVING for `service`.
///
/// The port file appears the moment the server is bound, a hair before the server marks itself SERVING; tests that
/// need a ready server wait here instead of sleeping.
///
/// - Parameters:
///   - client: A client connected to the service.
///   - service: The fully qualified service name, or "" for the server as a whole.
///   - timeout: How long to keep asking: a guard for a server that never becomes ready, not a wait — the loop returns
///     at the first SERVING. Generous, as the start-up timeout is: CI runs many stacks of six processes at once on
///     two cores, where a debug-built gateway can take several seconds to answer its first call.
/// - Throws: `ServiceProcessError.notServing` with the last answer or error when `timeout` passes.
public func waitUntilServing(
    _ client: GRPCClient<HTTP2ClientTransport.Posix>,
    service: String = "",
    timeout: Duration = .seconds(30)
) async throws {
    let health = Grpc_Health_V1_Health.Client(wrapping: client)
    var request = Grpc_Health_V1_HealthCheckRequest()
    request.service = service
    let deadline = ContinuousClock.now + timeout
    var lastAnswer = "none"
    while true {
        do {
            let response = try await health.check(request, options: .deadline(.seconds(2)))
            if response.status == .serving { return }
            lastAnswer = "\(response.status)"
        } catch let error as RPCError {
            lastAnswer = "\(error.code): \(error.message)"
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            lastAnswer = "\(error)"
        }
        if ContinuousClock.now >= deadline {
            throw ServiceProcessError.notServing(service: service, timeout: timeout, lastAnswer: lastAnswer)
        }
        try await Task.sleep(for: .milliseconds(20))
    }
}

/// Waits until `process` answers SERVING as a whole: over `client` first, then, if that connection has not answered
/// within 10 s, over a fresh connection every 5 s, so one connection whose handshake stalled on a loaded machine does
/// not make a healthy process look stuck. A process that ends, or never serves within `timeout`, fails the wait with
/// its executable and the tail of its log, which say whether it was slow, stuck or failing.
public func waitUntilServing(
    _ client: GRPCClient<HTTP2ClientTransport.Posix>,
    process: ServiceProcess,
    security: HTTP2ClientTransport.Posix.TransportSecurity = .plaintext,
    timeout: Duration = .seconds(60)
) async throws {
    let deadline = ContinuousClock.now + timeout
    var lastAnswer: String
    do {
        return try await waitUntilServing(client, timeout: .seconds(10))
    } catch ServiceProcessError.notServing(_, _, let answer) {
        lastAnswer = answer
    }
    while ContinuousClock.now < deadline, process.isRunning {
        do {
            return try await withConnectedClient(to: process.address, security: security) { fresh in
                try await waitUntilServing(fresh, timeout: .seconds(5))
            }
        } catch ServiceProcessError.notServing(_, _, let answer) {
            lastAnswer = answer
        }
    }
    throw ServiceProcessError.processNotServing(
        executable: process.executable, timeout: timeout,
        lastAnswer: process.isRunning ? lastAnswer : "the process ended; last answer: \(lastAnswer)",
        logTail: process.logTail())
}

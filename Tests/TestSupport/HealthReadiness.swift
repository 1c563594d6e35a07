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

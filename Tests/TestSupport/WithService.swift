public import Foundation
public import GRPCCore
public import GRPCNIOTransportHTTP2

/// Starts `executable`, waits until its health service answers SERVING, and runs `body` with the process and a
/// connected client; then closes the client, stops the process with SIGTERM and removes its temporary directories —
/// also when `body` throws.
///
/// When `body` leaves the process running, a shutdown that does not end in exit code 0 fails the call with
/// `ServiceProcessError.uncleanShutdown`: every test that uses this also checks graceful shutdown.
///
/// - Parameters:
///   - executable: The name of a built executable, e.g. `profile-service`.
///   - arguments: Extra command-line arguments (see `ServiceProcess.start`).
///   - dataDirectory: A data directory to reuse (left in place afterwards); `nil` for a fresh temporary one.
///   - environment: Variables added to the test process's environment.
///   - body: The test, given the running process and a client connected to it.
public func withService<T: Sendable>(
    _ executable: String,
    arguments: [String] = [],
    dataDirectory: URL? = nil,
    environment: [String: String] = [:],
    security: HTTP2ClientTransport.Posix.TransportSecurity = .plaintext,
    isolation: isolated (any Actor)? = #isolation,
    _ body: (ServiceProcess, GRPCClient<HTTP2ClientTransport.Posix>) async throws -> T
) async throws -> T {
    let service = try await ServiceProcess.start(
        executable, arguments: arguments, dataDirectory: dataDirectory, environment: environment)
    let result: T
    do {
        result = try await withConnectedClient(to: service.address, security: security, isolation: isolation) {
            client in
            try await waitUntilServing(client, process: service, security: security)
            return try await body(service, client)
        }
    } catch {
        // The process's log is deleted with it: `C360_TEST_LOGS=1` prints its end first when the body throws, to see
        // what a failed call met on the server's side.
        if ProcessInfo.processInfo.environment["C360_TEST_LOGS"] == "1" {
            print("--- the last lines of \(executable)'s log\n" + service.logTail(lines: 60))
        }
        await service.cleanup()
        throw error
    }

    guard service.isRunning else {
        await service.cleanup()
        return result
    }
    let outcome: ProcessExit
    do {
        outcome = try await service.terminate()
    } catch {
        await service.cleanup()
        throw error
    }
    let logTail = service.logTail()
    await service.cleanup()
    guard outcome.isSuccess else {
        throw ServiceProcessError.uncleanShutdown(executable: service.executable, outcome: outcome, logTail: logTail)
    }
    return result
}

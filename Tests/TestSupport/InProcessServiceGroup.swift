public import C360Clients
public import C360ServerKit
public import Foundation
public import GRPCCore
public import GRPCNIOTransportHTTP2
public import ServiceLifecycle

/// A whole service assembled by its `make…ServiceGroup` builder and run inside the test process: what the executable
/// runs, without the process. The group listens on a free port over TCP with a fresh data directory.
public enum InProcessServiceGroup {
    /// How long a test waits for an in-process server's first SERVING. It answers on the test process's cooperative
    /// threads, which it shares with every test running beside it: in a full run on two cores, its first answer has
    /// waited behind the others for 47–61 s, and in one fresh-clone CI for more than 90. The wait returns at the first
    /// SERVING, so this bounds a hang; it is not a timing.
    public static let firstAnswerTimeout = Duration.seconds(240)

    /// A server configuration on 127.0.0.1, port 0, writing its port to a file in `directory` and its data there too.
    /// Logs only errors: logging is bootstrapped once per process, and the test runner's output is not a service log.
    public static func serverConfiguration(in directory: URL) -> ServerConfiguration {
        ServerConfiguration(
            host: "127.0.0.1", port: 0, portFile: directory.appendingPathComponent("port").path,
            dataDirectory: directory.appendingPathComponent("data").path, logLevel: .error)
    }

    /// Runs `group` (built over `serverConfiguration(in: directory)`), waits until it serves, runs `body` with a
    /// connected client, then shuts the group down gracefully and waits for it to end — also when `body` throws.
    public static func run<T: Sendable>(
        _ group: ServiceGroup, in directory: URL,
        _ body: @escaping @Sendable (PeerAddress, GRPCClient<HTTP2ClientTransport.Posix>) async throws -> T
    ) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { tasks in
            tasks.addTask {
                try await group.run()
                return nil
            }
            tasks.addTask {
                do {
                    let address = try await boundAddress(portFile: directory.appendingPathComponent("port"))
                    let result = try await withConnectedClient(to: address) { client in
                        try await waitUntilServing(client, timeout: firstAnswerTimeout)
                        return try await body(address, client)
                    }
                    await group.triggerGracefulShutdown()
                    return result
                } catch {
                    await group.triggerGracefulShutdown()
                    throw error
                }
            }
            var result: T?
            for try await finished in tasks {
                if let finished { result = finished }
            }
            guard let result else { throw CancellationError() }
            return result
        }
    }

    /// The address in the port file once the server has written it (it is renamed into place whole).
    static func boundAddress(portFile: URL, timeout: Duration = .seconds(30)) async throws -> PeerAddress {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let port = PortFile.read(at: portFile) { return PeerAddress(host: "127.0.0.1", port: port) }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw ServiceProcessError.notServing(
            service: "", timeout: timeout, lastAnswer: "no port file at \(portFile.path)")
    }
}

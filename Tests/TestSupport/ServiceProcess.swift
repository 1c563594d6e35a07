public import C360Clients
import C360ServerKit
public import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// One built service executable running as a child process of the test, listening on a free port.
///
/// `start` runs it with `--host 127.0.0.1 --port 0 --port-file <work>/port --data-dir <data>` and returns once the
/// port file holds the bound port — the service's readiness signal, so there are no sleeps. Its stdout and stderr go
/// to `logFile`; failures quote the log's tail.
///
/// The work directory (port file, log and, unless one was given, the data directory) is a fresh temporary directory.
/// Stop the process with `terminate()` (SIGTERM; a service must drain and exit 0) or `kill()`, and call `cleanup()`
/// when done. For a restart test, start a second process with `dataDirectory: first.dataDirectory` and clean up the
/// first one only after the second: the first one's cleanup removes the data directory it created.
public final class ServiceProcess: Sendable {
    /// The executable's name, e.g. `profile-service`.
    public let executable: String
    /// The gRPC port the process bound, read from its port file.
    public let port: Int
    /// The directory passed as `--data-dir`.
    public let dataDirectory: URL
    /// The file receiving the process's stdout and stderr.
    public let logFile: URL
    /// The temporary directory created for this process: port file, log and (unless given) the data directory.
    public let workDirectory: URL

    private let process: Process
    private let monitor: ExitMonitor

    /// Where to reach the process's gRPC server.
    public var address: PeerAddress {
        PeerAddress(host: "127.0.0.1", port: port)
    }

    /// The operating system's id of the process.
    public var processIdentifier: Int32 {
        process.processIdentifier
    }

    /// Whether the process has not ended yet.
    public var isRunning: Bool {
        monitor.outcome == nil
    }

    /// How the process ended, or `nil` while it runs.
    public var outcome: ProcessExit? {
        monitor.outcome
    }

    private init(
        executable: String, port: Int, dataDirectory: URL, logFile: URL, workDirectory: URL, process: Process,
        monitor: ExitMonitor
    ) {
        self.executable = executable
        self.port = port
        self.dataDirectory = dataDirectory
        self.logFile = logFile
        self.workDirectory = workDirectory
        self.process = process
        self.monitor = monitor
    }

    /// A last resort for a test that forgot `cleanup()`: never leave a service running after the test process.
    deinit {
        if monitor.outcome == nil {
            sendSignal(SIGKILL, to: process.processIdentifier)
        }
    }

    /// Starts `executable` and waits until it has written its bound port.
    ///
    /// - Parameters:
    ///   - executable: The name of a built executable (found by `ServiceBinaries`), or a path containing `/`.
    ///   - arguments: Extra arguments, after the host, port, port-file and data-dir ones (e.g. `["--log-level",
    ///     "debug"]`).
    ///   - dataDirectory: The data directory to use (kept by `cleanup()`); `nil` creates `<work>/data`.
    ///   - environment: Variables added to (or replacing those of) the test process's environment.
    ///   - startupTimeout: How long to wait for the port file before killing the process.
    /// - Throws: `ServiceBinariesError` when the executable is not built; `ServiceProcessError` when the process
    ///   ends or stays silent before writing its port, with the tail of its log. The process is killed first.
    public static func start(
        _ executable: String,
        arguments: [String] = [],
        dataDirectory: URL? = nil,
        environment: [String: String] = [:],
        startupTimeout: Duration = .seconds(30)
    ) async throws -> ServiceProcess {
        let binary =
            try executable.contains("/") ? URL(fileURLWithPath: executable) : ServiceBinaries.url(of: executable)
        let name = binary.lastPathComponent
        let fileManager = FileManager.default
        let workDirectory = fileManager.temporaryDirectory
            .appendingPathComponent("c360-\(name)-\(UUID().uuidString)", isDirectory: true)
        let data = dataDirectory ?? workDirectory.appendingPathComponent("data", isDirectory: true)
        let portFile = workDirectory.appendingPathComponent("port")
        let logFile = workDirectory.appendingPathComponent("\(name).log")
        try fileManager.createDirectory(at: workDirectory, withIntermediateDirectories: true)
        try fileManager.createDirectory(at: data, withIntermediateDirectories: true)

        let process = Process()
        let monitor = ExitMonitor()
        do {
            try Data().write(to: logFile)
            let log = try FileHandle(forWritingTo: logFile)
            defer { try? log.close() }
            process.executableURL = binary
            process.arguments =
                [
                    "--host", "127.0.0.1", "--port", "0", "--port-file", portFile.path, "--data-dir", data.path,
                ] + Self.freeHTTPPort(name, arguments) + arguments
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, given in given }
            process.currentDirectoryURL = workDirectory
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = log
            process.standardError = log
            try monitor.run(process)
        } catch {
            try? fileManager.removeItem(at: workDirectory)
            throw error
        }

        do {
            let port = try await waitForPort(
                in: portFile, of: name, monitor: monitor, logFile: logFile, timeout: startupTimeout)
            return ServiceProcess(
                executable: name, port: port, dataDirectory: data, logFile: logFile, workDirectory: workDirectory,
                process: process, monitor: monitor)
        } catch {
            // The work directory stays for a look at the full log; the error names it.
            if monitor.outcome == nil {
                sendSignal(SIGKILL, to: process.processIdentifier)
                _ = try? await monitor.waitForExit(timeout: .seconds(5))
            }
            throw error
        }
    }

    /// Polls the port file every 20 ms until it holds a port followed by a newline (the service writes it
    /// atomically), failing early when the process ends.
    private static func waitForPort(
        in portFile: URL, of executable: String, monitor: ExitMonitor, logFile: URL, timeout: Duration
    ) async throws -> Int {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let port = PortFile.read(at: portFile) { return port }
            if let outcome = monitor.outcome {
                throw ServiceProcessError.exitedBeforeListening(
                    executable: executable, outcome: outcome, logFile: logFile,
                    logTail: tail(of: logFile, lines: 40))
            }
            if ContinuousClock.now >= deadline {
                throw ServiceProcessError.notListening(
                    executable: executable, timeout: timeout, logFile: logFile,
                    logTail: tail(of: logFile, lines: 40))
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Sends SIGTERM and waits for the process to drain and exit.
    ///
    /// - Returns: How the process ended (`.exited(0)` for a clean shutdown), at once if it had already ended.
    /// - Throws: `ServiceProcessError.didNotExit` when it is still running after `timeout`; it is then killed.
    @discardableResult
    public func terminate(timeout: Duration = .seconds(30)) async throws -> ProcessExit {
        try await stop(with: SIGTERM, named: "SIGTERM", timeout: timeout)
    }

    /// Sends SIGKILL (a crash, as far as the service can tell) and waits for the process to end.
    ///
    /// - Returns: How the process ended (`.signaled(9)` unless it had already ended).
    @discardableResult
    public func kill(timeout: Duration = .seconds(15)) async throws -> ProcessExit {
        try await stop(with: SIGKILL, named: "SIGKILL", timeout: timeout)
    }

    /// Waits for the process to end on its own.
    ///
    /// - Returns: How it ended, or `nil` when it is still running after `timeout`.
    public func waitForExit(timeout: Duration = .seconds(15)) async throws -> ProcessExit? {
        try await monitor.waitForExit(timeout: timeout)
    }

    private func stop(with signal: Int32, named signalName: String, timeout: Duration) async throws -> ProcessExit {
        if let outcome = monitor.outcome { return outcome }
        sendSignal(signal, to: process.processIdentifier)
        if let outcome = try await monitor.waitForExit(timeout: timeout) { return outcome }
        sendSignal(SIGKILL, to: process.processIdentifier)
        _ = try await monitor.waitForExit(timeout: .seconds(5))
        throw ServiceProcessError.didNotExit(
            executable: executable, signal: signalName, timeout: timeout, logTail: logTail())
    }

    /// Kills the process if it is still running and removes the work directory — with the data directory when
    /// `start` created it, never a data directory the caller passed in.
    public func cleanup() async {
        if monitor.outcome == nil {
            _ = try? await kill()
        }
        try? FileManager.default.removeItem(at: workDirectory)
    }

    /// The last `lines` lines the process wrote to stdout and stderr.
    public func logTail(lines: Int = 40) -> String {
        Self.tail(of: logFile, lines: lines)
    }

    /// Everything the process has written to stdout and stderr so far.
    public func logText() -> String {
        String(decoding: (try? Data(contentsOf: logFile)) ?? Data(), as: UTF8.self)
    }

    static func tail(of file: URL, lines count: Int) -> String {
        guard let data = try? Data(contentsOf: file) else { return "(no log at \(file.path))" }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        let tail = lines.suffix(count + 1).joined(separator: "\n")
        return tail.isEmpty ? "(the log is empty)" : tail
    }
}

/// Sends `signal` to the process `pid`; a free function so it does not collide with `ServiceProcess.kill()`.
private func sendSignal(_ signal: Int32, to pid: Int32) {
    guard pid > 0 else { return }
    #if canImport(Glibc)
        _ = Glibc.kill(pid, signal)
    #elseif canImport(Musl)
        _ = Musl.kill(pid, signal)
    #elseif canImport(Darwin)
        _ = Darwin.kill(pid, signal)
    #endif
}

extension ServiceProcess {
    /// A gateway's HTTP port is a free one unless the test names one (`--http-port`): its default, 8080, is taken by
    /// whichever of the tests running in parallel started a gateway first, and the others would exit on the bind.
    static func freeHTTPPort(_ executable: String, _ arguments: [String]) -> [String] {
        executable == "gateway" && !arguments.contains("--http-port") ? ["--http-port", "0"] : []
    }
}

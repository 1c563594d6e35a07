import C360ServerKit
public import Foundation

/// A real peer the product talks to, run from `Tests/Peers/` with Python: the SMTP server (aiosmtpd) email is
/// delivered to, the webhook receiver SMS and push go to. Each listens on an ephemeral port it writes to a port
/// file (the readiness signal) and appends every message it receives as one JSON line to `received`.
///
/// The interpreter is `C360_TEST_PYTHON` (set by `make test` to the venv `scripts/test-peers-venv.sh` builds), else
/// `.venv-test-peers/bin/python` in the package, else `python3`.
public final class PythonPeer {
    public let port: Int
    /// The JSON-lines file of what the peer received.
    public let received: URL
    private let process: Process
    private let monitor: ExitMonitor
    private let directory: URL

    public var address: String { "127.0.0.1:\(port)" }

    /// Starts `script` (a file in `Tests/Peers/`) with `arguments` after `--port-file` and `--out`.
    public static func start(_ script: String, arguments: [String] = []) async throws -> PythonPeer {
        let root = packageRoot()
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("c360-peer-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let portFile = directory.appendingPathComponent("port")
        let received = directory.appendingPathComponent("received.jsonl")
        let log = directory.appendingPathComponent("peer.log")
        try Data().write(to: received)
        try Data().write(to: log)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python(root: root))
        process.arguments =
            [
                root.appendingPathComponent("Tests/Peers/\(script)").path,
                "--port-file", portFile.path, "--out", received.path,
            ] + arguments
        let logHandle = try FileHandle(forWritingTo: log)
        defer { try? logHandle.close() }
        process.standardOutput = logHandle
        process.standardError = logHandle
        process.standardInput = FileHandle.nullDevice
        let monitor = ExitMonitor()
        try monitor.run(process)
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            if let port = PortFile.read(at: portFile) {
                return PythonPeer(
                    port: port, received: received, process: process, monitor: monitor, directory: directory)
            }
            guard monitor.outcome == nil else { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        process.terminate()
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        throw ServiceProcessError.uncleanShutdown(
            executable: script, outcome: monitor.outcome ?? .exited(-1), logTail: output)
    }

    private init(port: Int, received: URL, process: Process, monitor: ExitMonitor, directory: URL) {
        self.port = port
        self.received = received
        self.process = process
        self.monitor = monitor
        self.directory = directory
    }

    /// Every message received so far, as JSON objects.
    public func messages() throws -> [[String: Any]] {
        let text = try String(contentsOf: received, encoding: .utf8)
        return text.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    /// Waits until at least `count` messages arrived (polling the file every 20 ms), then answers them.
    public func waitForMessages(_ count: Int, timeout: Duration = .seconds(15)) async throws -> [[String: Any]] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let messages = try messages()
            if messages.count >= count || ContinuousClock.now >= deadline { return messages }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Stops the peer (SIGTERM, then SIGKILL after five seconds) and removes its files. Polls with `Task.sleep`
    /// rather than `waitUntilExit()` (which spins a run loop and never returns if the signal is lost) or `usleep`
    /// (which would hold one of the few cooperative threads every other test's tasks run on).
    public func stopWaiting() async {
        if monitor.outcome == nil {
            process.terminate()
            if (try? await monitor.waitForExit(timeout: .seconds(5))) == nil {
                kill(process.processIdentifier, SIGKILL)
            }
        }
        try? FileManager.default.removeItem(at: directory)
    }

    static func python(root: URL) -> String {
        if let configured = ProcessInfo.processInfo.environment["C360_TEST_PYTHON"], !configured.isEmpty {
            return configured
        }
        let venv = root.appendingPathComponent(".venv-test-peers/bin/python").path
        return FileManager.default.isExecutableFile(atPath: venv) ? venv : "/usr/bin/python3"
    }

    /// The directory holding Package.swift, found from this source file.
    static func packageRoot() -> URL {
        var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while directory.path != "/" {
            if FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path) {
                return directory
            }
            directory.deleteLastPathComponent()
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    }
}

/// Runs `body` with a started peer and stops it afterwards, also when `body` throws.
public func withPythonPeer<T>(
    _ script: String, arguments: [String] = [], isolation: isolated (any Actor)? = #isolation,
    _ body: (PythonPeer) async throws -> T
) async throws -> T {
    let peer = try await PythonPeer.start(script, arguments: arguments)
    do {
        let result = try await body(peer)
        await peer.stopWaiting()
        return result
    } catch {
        await peer.stopWaiting()
        throw error
    }
}

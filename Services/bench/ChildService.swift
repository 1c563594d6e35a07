import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One service executable (`profile-service`, `interaction-service`) run by the benchmark as a child process on a
/// free port, the way the test harness runs it.
///
/// `start` runs `<bin>/<name> --host 127.0.0.1 --port 0 --port-file <dir>/<name>.port --data-dir <dir>/<name>
/// --log-level warning <extra>` and returns once the port file holds the bound port (the service's readiness
/// signal). Output goes to `<dir>/<name>.log`; a failure quotes its tail. `stop()` sends SIGTERM and waits for the
/// service to drain and exit.
final class ChildService {
    /// The executable's name, e.g. `interaction-service`.
    let name: String
    /// The gRPC port it bound.
    let port: Int
    /// Its stdout and stderr.
    let logFile: URL

    private let process: Process
    private let exitRecord: ExitRecord

    private init(name: String, port: Int, logFile: URL, process: Process, exitRecord: ExitRecord) {
        self.name = name
        self.port = port
        self.logFile = logFile
        self.process = process
        self.exitRecord = exitRecord
    }

    /// Starts `<binDirectory>/<name>` with its files in `directory` and waits for its port.
    ///
    /// - Throws: `BenchError` when the executable is missing, or the process ends or stays silent for 30 s before
    ///   writing its port (it is killed then).
    static func start(
        _ name: String, binDirectory: URL, directory: URL, extraArguments: [String] = []
    ) async throws -> ChildService {
        let binary = binDirectory.appendingPathComponent(name)
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw BenchError(
                "no executable '\(name)' in \(binDirectory.path): build every product in the same configuration as "
                    + "bench (swift build -c release), or pass --bin-dir / set C360_BIN_DIR")
        }
        let portFile = directory.appendingPathComponent("\(name).port")
        let dataDirectory = directory.appendingPathComponent(name, isDirectory: true)
        let logFile = directory.appendingPathComponent("\(name).log")
        try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
        try Data().write(to: logFile)
        let log = try FileHandle(forWritingTo: logFile)
        defer { try? log.close() }

        let process = Process()
        let exitRecord = ExitRecord()
        process.executableURL = binary
        process.arguments = [
            "--host", "127.0.0.1", "--port", "0", "--port-file", portFile.path, "--data-dir", dataDirectory.path,
            "--log-level", "warning",
        ] + extraArguments
        process.currentDirectoryURL = directory
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = log
        process.standardError = log
        process.terminationHandler = { finished in
            exitRecord.record(finished.terminationStatus)
        }
        try process.run()

        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            if let data = try? Data(contentsOf: portFile) {
                let text = String(decoding: data, as: UTF8.self)
                if text.hasSuffix("\n"), let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)),
                    (1...65535).contains(port)
                {
                    return ChildService(
                        name: name, port: port, logFile: logFile, process: process, exitRecord: exitRecord)
                }
            }
            if let status = exitRecord.status {
                throw BenchError("\(name) exited with status \(status) before listening:\n\(tail(of: logFile))")
            }
            if ContinuousClock.now >= deadline {
                sendSignal(SIGKILL, to: process.processIdentifier)
                throw BenchError("\(name) wrote no port within 30 s (killed):\n\(tail(of: logFile))")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Sends SIGTERM and waits up to 15 s for a clean exit, then SIGKILL. Reports an unclean end, never throws: the
    /// benchmark's numbers are already printed.
    func stop() async {
        if exitRecord.status == nil {
            sendSignal(SIGTERM, to: process.processIdentifier)
        }
        let deadline = ContinuousClock.now + .seconds(15)
        while exitRecord.status == nil, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        guard let status = exitRecord.status else {
            sendSignal(SIGKILL, to: process.processIdentifier)
            say("warning: \(name) did not exit within 15 s of SIGTERM and was killed")
            return
        }
        if status != 0 {
            say("warning: \(name) exited with status \(status) after SIGTERM:\n\(Self.tail(of: logFile))")
        }
    }

    /// The last lines the process wrote, for error messages.
    func logTail() -> String {
        Self.tail(of: logFile)
    }

    private static func tail(of file: URL, lines count: Int = 30) -> String {
        guard let data = try? Data(contentsOf: file) else { return "(no log at \(file.path))" }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        let tail = lines.suffix(count).joined(separator: "\n")
        return tail.isEmpty ? "(the log \(file.path) is empty)" : tail
    }
}

/// How a child process ended, recorded by `Process.terminationHandler` on a Foundation thread and read by the
/// benchmark's task.
final class ExitRecord: Sendable {
    private let state = Mutex<Int32?>(nil)

    /// The exit status (or terminating signal), `nil` while the process runs.
    var status: Int32? {
        state.withLock { $0 }
    }

    /// Called once when the process has ended.
    func record(_ status: Int32) {
        state.withLock { $0 = status }
    }
}

/// Sends `signal` to the process `pid`.
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

public import Foundation
import Synchronization

/// A helper program running beside a test until the test kills it with SIGKILL, as when a machine or an operator's
/// job dies: `litestream replicate`, or a resharding mover killed part-way. Its output goes to a file the test can
/// read while it runs.
public final class KillableProcess: @unchecked Sendable {
    /// Kept for the life of the run: Foundation watches (and reaps) the child through it.
    private let process = Process()
    /// How it ended, heard without blocking a thread of the cooperative pool.
    private let monitor = ExitMonitor()
    private let killed = Mutex(false)
    /// Standard output and error, interleaved; nil when discarded.
    public let outputFile: URL?

    public init(executable: URL, arguments: [String], environment: [String: String] = [:], outputFile: URL? = nil)
        throws
    {
        self.outputFile = outputFile
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        if let outputFile {
            try Data().write(to: outputFile)
            let handle = try FileHandle(forWritingTo: outputFile)
            process.standardOutput = handle
            process.standardError = handle
        } else {
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
        }
        try monitor.run(process)
    }

    /// What it has written so far.
    public var output: String {
        outputFile.flatMap { try? String(contentsOf: $0, encoding: .utf8) } ?? ""
    }

    /// Whether it still runs.
    public var isRunning: Bool { monitor.outcome == nil }

    /// SIGKILL, once; returns when it has died.
    public func kill() async {
        guard
            killed.withLock({ killed in
                defer { killed = true }
                return !killed
            })
        else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        _ = try? await monitor.waitForExit(timeout: .seconds(10))
    }
}

public import Foundation

/// A program a test runs to completion — a script, a command of an executable, a browser dumping a page — without
/// holding a thread of Swift's cooperative pool while it runs.
///
/// The pool has one thread per core, two in CI, where every suite runs at once: a test blocked in `waitUntilExit()`
/// or a pipe's `readDataToEndOfFile()` for the seconds a script takes stalls every other test's async code, health
/// checks and timers included. Output goes to files rather than pipes, so nothing has to read while the program runs
/// (a full pipe would block it) and no libdispatch read source is involved: tearing those down while other threads
/// create them crashes libdispatch's event loop on Linux (swift-corelibs-libdispatch#949), which once took the whole
/// test process down.
public enum ChildProcess {
    /// How a program ended and what it printed.
    public struct Run: Sendable, CustomStringConvertible {
        /// How the program ended.
        public var exit: ProcessExit
        /// Its standard output; with `mergingErrors`, its standard error too, interleaved as written.
        public var output: String
        /// Its standard error, unless merged into `output`.
        public var errors: String

        /// The exit code, or 128 plus the signal that ended the program, as a shell reports it.
        public var status: Int32 {
            switch exit {
            case .exited(let code): code
            case .signaled(let signal): 128 + signal
            }
        }

        public var description: String {
            "ended with \(exit)\n--- output\n\(output)" + (errors.isEmpty ? "" : "--- errors\n\(errors)")
        }
    }

    /// Runs `executable` with `arguments` and waits until it ends.
    ///
    /// - Parameters:
    ///   - environment: Variables to set (or, with `nil` values, remove) on top of this process's environment.
    ///   - mergingErrors: Whether standard error goes into `output`, interleaved with standard output.
    ///   - timeout: How long it may run; then it is killed and the run fails.
    public static func run(
        _ executable: URL, _ arguments: [String], environment: [String: String?] = [:], mergingErrors: Bool = true,
        timeout: Duration = .seconds(300)
    ) async throws -> Run {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("c360-run-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let outputFile = directory.appendingPathComponent("stdout")
        let errorFile = directory.appendingPathComponent("stderr")
        try Data().write(to: outputFile)
        try Data().write(to: errorFile)

        let process = Process()
        let monitor = ExitMonitor()
        do {
            let output = try FileHandle(forWritingTo: outputFile)
            defer { try? output.close() }
            let errors = try FileHandle(forWritingTo: errorFile)
            defer { try? errors.close() }
            process.executableURL = executable
            process.arguments = arguments
            var variables = ProcessInfo.processInfo.environment
            for (name, value) in environment { variables[name] = value }
            process.environment = variables
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = output
            process.standardError = mergingErrors ? output : errors
            try monitor.run(process)
        }
        guard let exit = try await monitor.waitForExit(timeout: timeout) else {
            process.terminate()
            throw ChildProcessTimedOut(
                description:
                    "\(executable.lastPathComponent) \(arguments.joined(separator: " ")) still ran after \(timeout)")
        }
        return Run(
            exit: exit, output: String(decoding: try Data(contentsOf: outputFile), as: UTF8.self),
            errors: String(decoding: try Data(contentsOf: errorFile), as: UTF8.self))
    }
}

/// A program run by `ChildProcess.run` that did not end in time.
public struct ChildProcessTimedOut: Error, CustomStringConvertible {
    public var description: String
}

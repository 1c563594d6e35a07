public import Foundation

/// Finds the executables `swift build` produced, so integration tests run the real processes.
///
/// `swift test` builds test targets and what they depend on, not the executables: run `swift build` (same
/// configuration) before the tests. The directory is looked up once per test run, in this order:
///
/// 1. the `C360_BIN_DIR` environment variable (the Makefile sets it from `swift build --show-bin-path`);
/// 2. the directory of the running test binary, when it lies inside this package's `.build` (how `swift test`
///    runs tests on Linux), so no second SwiftPM has to start while `swift test` holds the `.build` lock;
/// 3. `swift build --show-bin-path --ignore-lock`, run in the package root (found by walking up from this source
///    file to the directory holding `Package.swift`). It only prints the path; it never compiles.
public enum ServiceBinaries {
    /// The environment variable that names the directory holding the built executables.
    public static let environmentVariable = "C360_BIN_DIR"

    /// The built executable called `name` (e.g. `profile-service`).
    ///
    /// - Throws: `ServiceBinariesError` when the directory cannot be found or holds no such executable, telling
    ///   to run `swift build` first.
    public static func url(of name: String) throws -> URL {
        let directory = try binDirectory()
        let executable = directory.appendingPathComponent(name)
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw ServiceBinariesError(
                "no executable '\(name)' in \(directory.path): run `swift build` first (the same configuration as "
                    + "the tests), or set \(environmentVariable) to the directory `swift build --show-bin-path` prints"
            )
        }
        return executable
    }

    /// The directory holding the built executables: `C360_BIN_DIR` when set, otherwise the one discovered once.
    public static func binDirectory() throws -> URL {
        if let configured = ProcessInfo.processInfo.environment[environmentVariable], !configured.isEmpty {
            return URL(fileURLWithPath: configured, isDirectory: true)
        }
        return try discovered.get()
    }

    /// The package root: the nearest directory above this source file that holds `Package.swift`.
    public static func packageRoot() throws -> URL {
        var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        for _ in 0..<32 {
            if FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path) {
                return directory
            }
            let parent = directory.deletingLastPathComponent()
            if parent.standardizedFileURL.path == directory.standardizedFileURL.path { break }
            directory = parent
        }
        throw ServiceBinariesError("found no Package.swift above \(#filePath)")
    }

    /// Looked up once per test process; a failure is remembered too, so every test reports the same clear error.
    private static let discovered: Result<URL, ServiceBinariesError> = {
        do {
            let root = try packageRoot()
            if let beside = testBinaryDirectory(inside: root) { return .success(beside) }
            return .success(try askSwiftPM(in: root))
        } catch let error as ServiceBinariesError {
            return .failure(error)
        } catch {
            return .failure(ServiceBinariesError("cannot find the built executables: \(error)"))
        }
    }()

    /// The directory of the running test binary when it lies under `<root>/.build/` (SwiftPM's bin directory).
    private static func testBinaryDirectory(inside root: URL) -> URL? {
        guard let executable = Bundle.main.executableURL?.resolvingSymlinksInPath() else { return nil }
        let directory = executable.deletingLastPathComponent()
        let buildDirectory = root.appendingPathComponent(".build").resolvingSymlinksInPath().path + "/"
        return directory.path.hasPrefix(buildDirectory) ? directory : nil
    }

    /// Runs `swift build --show-bin-path --ignore-lock` in `root` and returns the path it prints last.
    ///
    /// `--ignore-lock` matters when this runs inside `swift test`, which holds the `.build` lock until it ends.
    private static func askSwiftPM(in root: URL) throws -> URL {
        let output = FileManager.default.temporaryDirectory
            .appendingPathComponent("c360-bin-path-\(UUID().uuidString).txt")
        guard FileManager.default.createFile(atPath: output.path, contents: nil) else {
            throw ServiceBinariesError("cannot create \(output.path)")
        }
        defer { try? FileManager.default.removeItem(at: output) }
        let handle = try FileHandle(forWritingTo: output)
        defer { try? handle.close() }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["swift", "build", "--show-bin-path", "--ignore-lock"]
        process.currentDirectoryURL = root
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = handle
        process.standardError = handle
        let monitor = ExitMonitor()
        try monitor.run(process)

        // This runs once, synchronously, while the lazily initialised `discovered` is computed.
        let deadline = Date().addingTimeInterval(300)
        while monitor.outcome == nil, Date() < deadline {
            Thread.sleep(forTimeInterval: 0.02)
        }
        let text = String(decoding: (try? Data(contentsOf: output)) ?? Data(), as: UTF8.self)
        guard let outcome = monitor.outcome else {
            process.terminate()
            throw ServiceBinariesError("`swift build --show-bin-path` did not answer within 300 s in \(root.path)")
        }
        let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        guard outcome.isSuccess, let path = lines.last(where: { $0.hasPrefix("/") }) else {
            throw ServiceBinariesError(
                "`swift build --show-bin-path` failed in \(root.path) (\(outcome)): \(text); "
                    + "set \(environmentVariable) to the directory holding the built executables")
        }
        return URL(fileURLWithPath: path, isDirectory: true)
    }
}

/// Why the built executables could not be found; the message says what to do.
public struct ServiceBinariesError: Error, CustomStringConvertible {
    /// A sentence a person can act on, e.g. "run `swift build` first".
    public let message: String

    /// Wraps `message`.
    public init(_ message: String) {
        self.message = message
    }

    public var description: String {
        message
    }
}

import C360ServerKit
import C360TestSupport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2

/// Writes one line to stdout at once.
///
/// `print` is block-buffered when stdout is a file or a pipe (`bench … | tee`), so progress lines of a long run would
/// appear minutes late; every line of the benchmark goes through here instead, in order.
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// Why a benchmark could not run or its result cannot be trusted; the message says what to do.
struct BenchError: Error, CustomStringConvertible {
    /// A sentence a person can act on.
    let message: String

    /// Wraps `message`.
    init(_ message: String) {
        self.message = message
    }

    var description: String {
        message
    }
}

extension Duration {
    /// The duration in seconds, as a floating-point number for rates and printing.
    var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    /// The duration in milliseconds.
    var inMilliseconds: Double {
        Double(components.seconds) * 1e3 + Double(components.attoseconds) / 1e15
    }
}

/// Number formatting for the benchmark's output.
enum Format {
    /// `value` with `digits` decimals.
    static func decimal(_ value: Double, _ digits: Int = 1) -> String {
        String(format: "%.\(digits)f", value)
    }

    /// A whole number, e.g. an events-per-second rate.
    static func whole(_ value: Double) -> String {
        value.isFinite ? String(Int(value.rounded())) : "∞"
    }

    /// `text` padded with spaces on the right to `width` characters (left-aligned column).
    static func left(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    /// `text` padded with spaces on the left to `width` characters (right-aligned column).
    static func right(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
    }

    /// A byte count in MiB.
    static func megabytes(_ bytes: Int64) -> String {
        "\(decimal(Double(bytes) / 1_048_576)) MiB"
    }
}

/// Latency samples of one query, summarised by percentiles.
struct LatencySamples {
    /// Milliseconds per run, in the order measured.
    private(set) var milliseconds: [Double] = []

    /// Adds one run.
    mutating func record(_ duration: Duration) {
        milliseconds.append(duration.inMilliseconds)
    }

    /// Adds another set's runs (concurrent callers each timing their own).
    mutating func merge(_ other: LatencySamples) {
        milliseconds += other.milliseconds
    }

    /// The nearest-rank percentile `fraction` (0.5 for p50, 0.99 for p99) in milliseconds; 0 without samples.
    func percentile(_ fraction: Double) -> Double {
        guard !milliseconds.isEmpty else { return 0 }
        let sorted = milliseconds.sorted()
        let rank = Int((fraction * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank - 1, 0), sorted.count - 1)]
    }
}

/// A fresh directory under the system's temporary directory for one benchmark run, removed by `remove()`.
struct ScratchDirectory {
    /// The directory itself.
    let url: URL

    /// Creates `<tmp>/c360-bench-<label>-<uuid>`.
    init(label: String) throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("c360-bench-\(label)-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// `<directory>/<name>`.
    func child(_ name: String) -> URL {
        url.appendingPathComponent(name)
    }

    /// Removes the directory and everything in it; failures are reported, not thrown (the numbers are already out).
    func remove() {
        do {
            try FileManager.default.removeItem(at: url)
        } catch {
            say("warning: could not remove \(url.path): \(error)")
        }
    }
}

/// The size of a SQLite database on disk: the file plus its -wal and -shm files.
func databaseSize(directory: URL, fileName: String) -> Int64 {
    [fileName, fileName + "-wal", fileName + "-shm"].reduce(Int64(0)) { total, name in
        let values = try? directory.appendingPathComponent(name).resourceValues(forKeys: [.fileSizeKey])
        return total + Int64(values?.fileSize ?? 0)
    }
}

/// One client on its own HTTP/2 connection to a local executable's `port`, flushing each message at once (no
/// coalescing delay), for benchmarks that time one call at a time.
func withClient<Result: Sendable>(
    port: Int, _ body: (GRPCClient<HTTP2ClientTransport.Posix>) async throws -> Result
) async throws -> Result {
    try await withGRPCClient(
        transport: try .http2NIOPosix(
            target: .dns(host: "127.0.0.1", port: port), transportSecurity: .plaintext,
            config: .defaults { $0.connection.flushCoalescing = nil })
    ) { client in try await body(client) }
}

/// CPU time and memory of the processes a benchmark starts, from /proc.
enum ProcessStats {
    /// VmRSS of a process; 0 when it cannot be read.
    static func residentBytes(of pid: Int32) -> Int64 { statusBytes("VmRSS", of: pid) }

    /// The anonymous part of the resident set (heap, stacks): the memory the process itself made, as opposed to
    /// pages of its executable and shared libraries, which are clean, shared and dropped under pressure.
    static func anonymousBytes(of pid: Int32) -> Int64 { statusBytes("RssAnon", of: pid) }

    /// A "<field>: N kB" line of /proc/<pid>/status in bytes; 0 when it cannot be read.
    private static func statusBytes(_ field: String, of pid: Int32) -> Int64 {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("\(field):") }),
            let kilobytes = Int64(line.split(separator: " ").dropFirst().first ?? "")
        else { return 0 }
        return kilobytes * 1024
    }

    /// User plus system CPU time a process has used so far, from /proc/<pid>/stat (fields 14 and 15, in clock ticks).
    static func cpuSeconds(of pid: Int32) throws -> Double {
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        // The command name (field 2) may hold spaces; the fields after it start past the last ')'.
        guard let close = stat.lastIndex(of: ")") else { throw BenchError("unreadable /proc/\(pid)/stat") }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else {
            throw BenchError("unreadable /proc/\(pid)/stat")
        }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Waits until `processes` together have used under 5% of a core for two seconds running, or `limit` passed.
    ///
    /// After a fill the services still work through it: change-feed consumers apply every event, success-service
    /// re-scores, interaction-service refreshes counters. Measured then, a call times that backlog (a profile-service
    /// GetCustomer took 9.4 ms at one client right after a 10k-customer fill, 2.5 ms once it was done).
    static func settle(_ processes: [Int32], limit: Duration = .seconds(300)) async throws {
        say("waiting for the services to finish the fill's background work (change feeds, scores)…")
        let start = ContinuousClock.now
        func total() throws -> Double { try processes.reduce(0) { $0 + (try cpuSeconds(of: $1)) } }
        var last = try total()
        var quietSeconds = 0
        while quietSeconds < 2 {
            guard ContinuousClock.now - start < limit else {
                say("  still busy after \(Format.decimal(limit.inSeconds, 0)) s; measuring anyway")
                return
            }
            try await Task.sleep(for: .seconds(1))
            let now = try total()
            quietSeconds = now - last < 0.05 ? quietSeconds + 1 : 0
            last = now
        }
        say("  settled after \(Format.decimal((ContinuousClock.now - start).inSeconds)) s")
    }
}

/// The service processes one benchmark run starts, from `bin`: every one is stopped (SIGTERM, the last started first)
/// and its directories removed when the run ends, also when it fails, so no benchmark leaves processes behind.
final class BenchProcesses {
    let bin: URL
    /// Added to each process's arguments, by executable name (the TLS flags of `bench view --tls on`).
    private let extraArguments: (String) -> [String]
    /// Added to each process's environment.
    private let environment: [String: String]
    /// What `start` started, in order.
    private(set) var started: [ServiceProcess] = []

    private init(bin: URL, extraArguments: @escaping (String) -> [String], environment: [String: String]) {
        self.bin = bin
        self.extraArguments = extraArguments
        self.environment = environment
    }

    /// Starts the executable `name` at warning log level and waits until it listens.
    func start(_ name: String, _ arguments: [String] = [], dataDirectory: URL? = nil) async throws -> ServiceProcess {
        let process = try await ServiceProcess.start(
            bin.appendingPathComponent(name).path,
            arguments: ["--log-level", "warning"] + arguments + extraArguments(name), dataDirectory: dataDirectory,
            environment: environment)
        started.append(process)
        return process
    }

    /// The four data services a gateway's view needs, wired as in production: profile-service, interaction- and
    /// feedback-service pointed at it, success-service at all three.
    struct Backends {
        var profile: ServiceProcess
        var interaction: ServiceProcess
        /// The flags pointing a gateway at all four.
        var gatewayPeers: [String]
    }

    /// Starts `Backends`, each once it listens.
    func startBackends() async throws -> Backends {
        let profile = try await start(ServiceIdentity.profile.name)
        let peer = ["--profile-addr", "127.0.0.1:\(profile.port)"]
        let interaction = try await start(ServiceIdentity.interaction.name, peer)
        let feedback = try await start(ServiceIdentity.feedback.name, peer)
        let peers =
            peer + [
                "--interaction-addr", "127.0.0.1:\(interaction.port)", "--feedback-addr", "127.0.0.1:\(feedback.port)",
            ]
        let success = try await start(ServiceIdentity.success.name, peers)
        return Backends(
            profile: profile, interaction: interaction,
            gatewayPeers: peers + ["--success-addr", "127.0.0.1:\(success.port)"])
    }

    /// Waits until the processes started use less than a tenth of one core together for two half-second windows in a
    /// row (what the previous step set going in the background is done), or until `limit`; answers the seconds waited.
    func waitUntilQuiet(within limit: Duration) async throws -> Double {
        let clock = ContinuousClock()
        let start = clock.now
        let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
        func cpuTicks() -> Double {
            started.reduce(0) { total, process in
                guard
                    let stat = try? String(
                        contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8),
                    let close = stat.lastIndex(of: ")")
                else { return total }
                // After "pid (comm)": field 3 is the state; utime and stime are fields 14 and 15.
                let fields = stat[stat.index(after: close)...].split(separator: " ")
                guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else {
                    return total
                }
                return total + user + system
            }
        }
        var quietWindows = 0
        var last = cpuTicks()
        while quietWindows < 2, clock.now - start < limit {
            try await Task.sleep(for: .milliseconds(500))
            let now = cpuTicks()
            quietWindows = (now - last) / ticksPerSecond < 0.05 ? quietWindows + 1 : 0
            last = now
        }
        let waited = clock.now - start
        return Double(waited.components.seconds) + Double(waited.components.attoseconds) / 1e18
    }

    /// Runs `body`, then stops what it started; `body`'s error, if any, after that.
    static func run<Result>(
        bin: URL, extraArguments: @escaping (String) -> [String] = { _ in [] }, environment: [String: String] = [:],
        _ body: (BenchProcesses) async throws -> Result
    ) async throws -> Result {
        let processes = BenchProcesses(bin: bin, extraArguments: extraArguments, environment: environment)
        let outcome: Swift.Result<Result, any Error>
        do {
            outcome = .success(try await body(processes))
        } catch {
            outcome = .failure(error)
        }
        for process in processes.started.reversed() {
            _ = try? await process.terminate()
            await process.cleanup()
        }
        return try outcome.get()
    }
}

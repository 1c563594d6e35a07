public import Foundation

/// What went wrong while starting, waiting for or stopping a service process. Each message names the executable and
/// carries the tail of its log, so a failing test shows why without opening files.
public enum ServiceProcessError: Error, CustomStringConvertible {
    /// The process ended before it wrote its port file.
    case exitedBeforeListening(executable: String, outcome: ProcessExit, logFile: URL, logTail: String)
    /// The port file did not appear within the start-up timeout; the process was killed.
    case notListening(executable: String, timeout: Duration, logFile: URL, logTail: String)
    /// The process was still running `timeout` after `signal`; it was killed.
    case didNotExit(executable: String, signal: String, timeout: Duration, logTail: String)
    /// The health service did not answer SERVING for `service` ("" is the whole server) within `timeout`.
    case notServing(service: String, timeout: Duration, lastAnswer: String)
    /// `executable` did not answer SERVING within `timeout` of writing its port file.
    case processNotServing(executable: String, timeout: Duration, lastAnswer: String, logTail: String)
    /// The process did not exit with code 0 when asked to stop with SIGTERM.
    case uncleanShutdown(executable: String, outcome: ProcessExit, logTail: String)

    public var description: String {
        switch self {
        case .exitedBeforeListening(let executable, let outcome, let logFile, let logTail):
            "\(executable) ended (\(outcome)) before writing its port file; log \(logFile.path):\n\(logTail)"
        case .notListening(let executable, let timeout, let logFile, let logTail):
            "\(executable) wrote no port within \(timeout) and was killed; log \(logFile.path):\n\(logTail)"
        case .didNotExit(let executable, let signal, let timeout, let logTail):
            "\(executable) was still running \(timeout) after \(signal) and was killed; log tail:\n\(logTail)"
        case .notServing(let service, let timeout, let lastAnswer):
            "health check for '\(service)' did not answer SERVING within \(timeout); last answer: \(lastAnswer)"
        case .processNotServing(let executable, let timeout, let lastAnswer, let logTail):
            "\(executable) did not answer SERVING within \(timeout) of binding its port; last answer: \(lastAnswer); "
                + "log tail:\n\(logTail)"
        case .uncleanShutdown(let executable, let outcome, let logTail):
            "\(executable) ended with \(outcome) instead of exit code 0 after SIGTERM; log tail:\n\(logTail)"
        }
    }
}

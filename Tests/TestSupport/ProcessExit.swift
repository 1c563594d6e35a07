/// How a child process ended: the exit code it returned, or the signal that stopped it.
///
/// A service that drains and exits cleanly on SIGTERM reports `.exited(0)`; one that had to be killed reports
/// `.signaled(9)`.
public enum ProcessExit: Sendable, Hashable, CustomStringConvertible {
    /// The process returned from `main` or called `exit` with this code.
    case exited(Int32)
    /// The process was ended by this signal (e.g. 9 for SIGKILL, 15 for an unhandled SIGTERM).
    case signaled(Int32)

    /// Whether the process exited on its own with code 0.
    public var isSuccess: Bool {
        self == .exited(0)
    }

    public var description: String {
        switch self {
        case .exited(let code): "exit code \(code)"
        case .signaled(let signal): "signal \(signal)"
        }
    }
}

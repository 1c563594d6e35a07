import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Remembers how a child process ended, so async code can wait for it without blocking a thread of the cooperative
/// pool.
///
/// It asks the kernel as well as waiting for `Process.terminationHandler`: Foundation on Linux learns that a child
/// ended when a socket the child inherited reaches end of file, and a process spawned by another thread at the same
/// moment can inherit that socket too — then the handler runs only when *that* process ends, which for a service
/// started by a parallel test is minutes later. (A stack member that had logged its last member stopped was reported
/// "still running 30 s after SIGTERM" that way.) `waitid` with `WNOWAIT` reads the exit of the zombie without reaping
/// it, leaving the reaping to Foundation; until Foundation reaps it, the pid cannot be reused.
final class ExitMonitor: Sendable {
    private struct State {
        var outcome: ProcessExit?
        var pid: pid_t?
    }

    private let state = Mutex(State())

    /// How the process ended, or `nil` while it is still running.
    var outcome: ProcessExit? {
        if let known = state.withLock({ $0.outcome }) { return known }
        guard let pid = state.withLock({ $0.pid }), let ended = Self.exit(of: pid) else { return nil }
        record(ended)
        return ended
    }

    /// Runs `process` with this monitor hearing its end: from its termination handler (which this sets) and from the
    /// kernel.
    func run(_ process: Process) throws {
        process.terminationHandler = { [self] process in
            let status = process.terminationStatus
            record(process.terminationReason == .uncaughtSignal ? .signaled(status) : .exited(status))
        }
        try process.run()
        watch(pid: process.processIdentifier)
    }

    /// The process to ask the kernel about, once it has been spawned.
    func watch(pid: pid_t) {
        state.withLock { $0.pid = pid }
    }

    /// Called from the termination handler (and by `outcome`); the first report wins.
    func record(_ outcome: ProcessExit) {
        state.withLock { state in
            if state.outcome == nil { state.outcome = outcome }
        }
    }

    /// How the child `pid` ended, if it has, read without reaping it; `nil` while it runs, or once it was reaped.
    private static func exit(of pid: pid_t) -> ProcessExit? {
        #if os(Linux)
            var info = siginfo_t()
            guard waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0,
                info._sifields._sigchld.si_pid == pid
            else { return nil }
            let status = info._sifields._sigchld.si_status
            return info.si_code == CLD_EXITED ? .exited(status) : .signaled(status)
        #else
            return nil
        #endif
    }

    /// Waits, checking every 20 ms, until the process has ended or `timeout` has passed.
    ///
    /// - Returns: How the process ended, or `nil` when it is still running after `timeout`.
    /// - Throws: `CancellationError` when the waiting task is cancelled.
    func waitForExit(timeout: Duration) async throws -> ProcessExit? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let outcome = self.outcome { return outcome }
            if ContinuousClock.now >= deadline { return nil }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

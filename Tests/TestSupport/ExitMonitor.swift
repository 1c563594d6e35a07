import Synchronization

/// Remembers how a child process ended, as reported by `Process.terminationHandler` on a Foundation thread, so async
/// code can wait for it without blocking a thread of the cooperative pool.
final class ExitMonitor: Sendable {
    private let state = Mutex<ProcessExit?>(nil)

    /// How the process ended, or `nil` while it is still running.
    var outcome: ProcessExit? {
        state.withLock { $0 }
    }

    /// Called once from the termination handler.
    func record(_ outcome: ProcessExit) {
        state.withLock { $0 = outcome }
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

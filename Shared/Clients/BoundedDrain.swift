import ServiceLifecycle

/// Runs `body` — a client's or server's run loop — until it returns. On graceful shutdown calls `beginShutdown` (which
/// makes `body` return once the work in flight is done) and gives it `limit` to do so before cancelling it.
///
/// For the members of a service group that stop after the servers drained (peer connections, the gateway's
/// in-process bridge): whatever is still in flight then has no caller waiting, and must not hold the process until
/// the group's own limit crashes it (`fatalError`, after a backtrace that takes seconds) instead of letting it exit 0.
/// A cancelled `GRPCClient.runConnections()` returns without waiting for its open streams; the process then exits.
///
/// - Returns: Whether `limit` passed and `body` was cancelled.
public func runWithBoundedDrain(
    limit: Duration, _ body: @escaping @Sendable () async throws -> Void,
    beginShutdown: @escaping @Sendable () -> Void
) async throws -> Bool {
    try await withThrowingTaskGroup(of: DrainEnd.self) { group in
        group.addTask {
            try await body()
            return .finished
        }
        group.addTask {
            // Returns on graceful shutdown; throws when the service group cancels this member, which cancels `body`
            // too.
            guard (try? await gracefulShutdown()) != nil else { return .cancelled }
            beginShutdown()
            guard (try? await Task.sleep(for: limit)) != nil else { return .cancelled }
            return .limitPassed
        }
        defer { group.cancelAll() }
        return try await group.next() == .limitPassed
    }
}

/// Which of `runWithBoundedDrain`'s two tasks ended first.
private enum DrainEnd {
    case finished, cancelled, limitPassed
}

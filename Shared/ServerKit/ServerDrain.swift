public import GRPCCore
import Synchronization

/// The moment this process starts to drain: SIGTERM or SIGINT arrived and health already says NOT_SERVING. From then
/// on every server stream still open ends with UNAVAILABLE, so its client reconnects to another instance, while
/// unary calls and client streams in flight are left to finish.
///
/// Server streams need telling: a watch (`WatchAlerts`) never ends by itself, and an export ends when its data does,
/// however long a slow reader takes — either would hold graceful shutdown open. One drain per process, begun by the
/// first member of the service group to hear the signal (`ServiceHost`), before any server stops. The servers bind
/// it as a task-local (`ServerDrain.current`) around `serve()`, the way gRPC hands handlers their cancellation
/// handle, so handlers reach it through `serverStream(context:_:)` without taking it as a dependency.
public final class ServerDrain: Sendable {
    private struct State {
        var begun = false
        var nextWaiter = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Mutex(State())

    /// The drain of the server running the current handler; `nil` outside a server (then streams end only with their
    /// client).
    @TaskLocal public static var current: ServerDrain?

    /// The status a server stream ends with when the drain cuts it: the client should reconnect elsewhere.
    public static let shuttingDown = RPCError(code: .unavailable, message: "server is shutting down; reconnect")

    public init() {}

    /// Whether the drain has begun.
    public var hasBegun: Bool {
        state.withLock { $0.begun }
    }

    /// Begins the drain (once; later calls do nothing) and wakes every stream waiting for it.
    public func begin() {
        let waiters = state.withLock { state in
            state.begun = true
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        // Resumed outside the lock: a resumed waiter may take it again.
        for waiter in waiters { waiter.resume() }
    }

    /// Returns when the drain begins, or at once when the calling task is cancelled.
    func waitUntilBegun() async {
        let id = state.withLock { state in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state in
                    if state.begun || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }

    /// Runs the body of a server-streaming handler until it returns, its client goes away (cancels, passes its
    /// deadline, loses the connection) or the server drains — whichever comes first; the other two cancel `body`'s
    /// task, which ends waits on async sequences and on calls to peers.
    ///
    /// gRPC tells a handler that its client went away through `context.cancellation`, not by cancelling the
    /// handler's task (TOOLCHAIN.md): a handler relaying a peer's stream or waiting on a feed would otherwise outlive
    /// its client, keep the peer's stream open and hold graceful shutdown open for good.
    ///
    /// - Throws: `shuttingDown` (UNAVAILABLE) when the drain ended the stream or had begun before it; CANCELLED when
    ///   the client went away; otherwise what `body` throws.
    public static func serverStream<Result: Sendable>(
        context: ServerContext, _ body: @escaping @Sendable () async throws -> Result
    ) async throws -> Result {
        let drain = current
        if drain?.hasBegun == true { throw shuttingDown }
        return try await withThrowingTaskGroup(of: StreamEnd<Result>.self) { group in
            group.addTask { .finished(try await body()) }
            group.addTask {
                // Also cancelled when the gRPC server itself begins to shut down.
                try await context.cancellation.cancelled
                return .clientGone
            }
            if let drain {
                group.addTask {
                    await drain.waitUntilBegun()
                    return .draining
                }
            }
            defer { group.cancelAll() }
            switch try await group.next() {
            case .finished(let result):
                return result
            case .draining, nil:
                throw shuttingDown
            case .clientGone:
                if drain?.hasBegun == true { throw shuttingDown }
                throw RPCError(code: .cancelled, message: "the client cancelled the call or its deadline passed")
            }
        }
    }

    /// How the first of a stream's three racers ended.
    private enum StreamEnd<Result: Sendable>: Sendable {
        case finished(Result)
        case clientGone
        case draining
    }
}

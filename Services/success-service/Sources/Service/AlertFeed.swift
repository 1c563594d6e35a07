import Foundation
public import ServiceLifecycle
import Synchronization

/// Delivers alert events to live watchers (the `WatchAlerts` streams), and refuses new ones once stopped.
///
/// Runs as a lifecycle `Service` the gRPC handlers use, so it is stopped after the server has drained; the drain
/// itself has ended the open watches by then (`ServerDrain`), and `shutDown()` ends any left.
public final class AlertFeed: Service, Sendable {
    private struct State {
        var watchers: [UUID: AsyncStream<AlertEvent>.Continuation] = [:]
        var shutDown = false
    }

    private let state = Mutex(State())

    /// Events a slow watcher may fall behind by before the oldest are dropped (it can replay them by event id).
    static let buffer = 1_000

    public init() {}

    /// A stream of the events published from now on, until the watcher cancels or the server shuts down.
    public func subscribe() -> AsyncStream<AlertEvent> {
        let id = UUID()
        let (stream, continuation) = AsyncStream<AlertEvent>.makeStream(bufferingPolicy: .bufferingNewest(Self.buffer))
        let accepted = state.withLock { state in
            guard !state.shutDown else { return false }
            state.watchers[id] = continuation
            return true
        }
        if !accepted { continuation.finish() }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.watchers.removeValue(forKey: id) }
        }
        return stream
    }

    /// Hands an event to every live watcher.
    public func publish(_ event: AlertEvent) {
        let watchers = state.withLock { Array($0.watchers.values) }
        for watcher in watchers { watcher.yield(event) }
    }

    /// How many watchers are connected.
    public var watcherCount: Int { state.withLock { $0.watchers.count } }

    public func run() async throws {
        try await gracefulShutdown()
        shutDown()
    }

    /// Ends every watch and refuses new ones.
    public func shutDown() {
        let watchers = state.withLock { state in
            state.shutDown = true
            defer { state.watchers.removeAll() }
            return Array(state.watchers.values)
        }
        // Finished outside the lock: finishing runs `onTermination`, which takes the lock itself.
        for watcher in watchers { watcher.finish() }
    }
}

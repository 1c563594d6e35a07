public import C360Contracts
import Foundation
import Synchronization

/// The serving status of each gRPC service in this process, and the watchers waiting to hear when it changes.
///
/// "" stands for the server as a whole. The server kit marks everything SERVING once the port is bound, NOT_SERVING
/// for good the moment SIGTERM starts the drain (watchers hear it at once and stay connected), and ends every open
/// `Watch` stream when the gRPC server itself stops.
public final class HealthStatusBoard: Sendable {
    public typealias Status = Grpc_Health_V1_HealthCheckResponse.ServingStatus

    private struct State {
        var statuses: [String: Status] = [:]
        var watchers: [UUID: (service: String, continuation: AsyncStream<Status>.Continuation)] = [:]
        /// Set by `drain()`: nothing turns SERVING again.
        var draining = false
        var shutDown = false
    }

    private let state = Mutex(State())

    public init(services: [String]) {
        state.withLock { state in
            for service in services + [""] { state.statuses[service] = .notServing }
        }
    }

    /// The status of `service`, or `nil` when it is not served here.
    public func status(of service: String) -> Status? {
        state.withLock { $0.statuses[service] }
    }

    /// Whether `shutDown()` ended the watches: a watch that ends now ends because the server stops.
    public var isShutDown: Bool {
        state.withLock { $0.shutDown }
    }

    /// Sets every known service to `status` and tells their watchers; does nothing once draining, so a server that
    /// finishes binding after SIGTERM arrived does not report SERVING.
    public func setAll(_ status: Status) {
        state.withLock { state in
            guard !state.draining else { return }
            for service in state.statuses.keys { state.statuses[service] = status }
            for watcher in state.watchers.values { watcher.continuation.yield(status) }
        }
    }

    /// Marks everything NOT_SERVING for good and tells the watchers at once, before any call is drained, so load
    /// balancers stop sending new calls while the in-flight ones finish. Watches stay open until `shutDown()`.
    public func drain() {
        state.withLock { state in
            guard !state.draining else { return }
            state.draining = true
            for service in state.statuses.keys { state.statuses[service] = .notServing }
            for watcher in state.watchers.values { watcher.continuation.yield(.notServing) }
        }
    }

    /// Marks everything NOT_SERVING and ends every watch, so graceful shutdown is not held up by open streams.
    public func shutDown() {
        let (watchers, drained) = state.withLock { state in
            let drained = state.draining
            state.draining = true
            state.shutDown = true
            for service in state.statuses.keys { state.statuses[service] = .notServing }
            defer { state.watchers.removeAll() }
            return (state.watchers.values.map(\.continuation), drained)
        }
        // Finished outside the lock: finishing runs `onTermination`, which takes the lock itself. After `drain()` the
        // watchers have heard NOT_SERVING already; a watch reports changes only.
        for continuation in watchers {
            if !drained { continuation.yield(.notServing) }
            continuation.finish()
        }
    }

    /// A stream that starts with the current status of `service` (SERVICE_UNKNOWN if not served) and yields every
    /// change until the watcher cancels or the server shuts down.
    public func watch(_ service: String) -> AsyncStream<Status> {
        let id = UUID()
        let (stream, continuation) = AsyncStream<Status>.makeStream(bufferingPolicy: .bufferingNewest(8))
        state.withLock { state in
            continuation.yield(state.statuses[service] ?? .serviceUnknown)
            if state.shutDown {
                continuation.finish()
            } else {
                state.watchers[id] = (service, continuation)
            }
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.watchers.removeValue(forKey: id) }
        }
        return stream
    }
}

public import C360Contracts
import Foundation
import Synchronization

/// The serving status of each gRPC service in this process, and the watchers waiting to hear when it changes.
///
/// "" stands for the server as a whole. The server kit marks everything SERVING once the port is bound and
/// NOT_SERVING when graceful shutdown begins, which also ends every open `Watch` stream.
public final class HealthStatusBoard: Sendable {
    public typealias Status = Grpc_Health_V1_HealthCheckResponse.ServingStatus

    private struct State {
        var statuses: [String: Status] = [:]
        var watchers: [UUID: (service: String, continuation: AsyncStream<Status>.Continuation)] = [:]
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

    /// Sets every known service to `status` and tells their watchers.
    public func setAll(_ status: Status) {
        state.withLock { state in
            for service in state.statuses.keys { state.statuses[service] = status }
            for watcher in state.watchers.values { watcher.continuation.yield(status) }
        }
    }

    /// Marks everything NOT_SERVING and ends every watch, so graceful shutdown is not held up by open streams.
    public func shutDown() {
        let watchers = state.withLock { state in
            state.shutDown = true
            for service in state.statuses.keys { state.statuses[service] = .notServing }
            defer { state.watchers.removeAll() }
            return state.watchers.values.map(\.continuation)
        }
        // Finished outside the lock: finishing runs `onTermination`, which takes the lock itself.
        for continuation in watchers {
            continuation.yield(.notServing)
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

public import Logging
import ServiceLifecycle

/// Background work done every so often until the service group shuts down (a pruner, a clock, a completer): one tick
/// now or after the first interval, then one per interval, each failure logged and left to the next tick. A graceful
/// shutdown cancels the tick in progress and ends the loop, so the work must be safe to cut short, as a transaction is.
public enum Periodic {
    /// - Parameters:
    ///   - interval: The pause after each tick (a slow tick does not make the next one come sooner).
    ///   - waitFirst: Pause before the first tick too: for work the process's start-up has just done, or that needs
    ///     the service's peers up first.
    ///   - failure: What the log says when a tick throws; the error goes in its metadata.
    public static func run(
        every interval: Duration, waitFirst: Bool = false, logger: Logger, failure: Logger.Message,
        _ tick: @escaping @Sendable () async throws -> Void
    ) async {
        await cancelWhenGracefulShutdown {
            if waitFirst { try? await Task.sleep(for: interval) }
            while !Task.isCancelled {
                do {
                    try await tick()
                } catch {
                    if !Task.isCancelled { logger.warning(failure, metadata: ["error": "\(error)"]) }
                }
                try? await Task.sleep(for: interval)
            }
        }
    }
}

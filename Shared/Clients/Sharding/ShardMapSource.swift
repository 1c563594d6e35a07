import Foundation
public import Logging
public import ServiceLifecycle
import Synchronization

/// The shard map a process routes and checks with, read from its file and read again when the file changes: a
/// Kubernetes ConfigMap volume swaps the file in place when the map is edited, and a caller refused by a shard with
/// a newer epoch asks for a reload at once (`reload()`). A file that no longer parses or checks is logged and
/// ignored: the process keeps the last good map rather than losing its routes.
public final class ShardMapSource: Service, Sendable, CustomStringConvertible {
    public let path: String
    /// How often the file is looked at while running.
    public let pollInterval: Duration
    private let state: Mutex<(map: ShardMap, bytes: Data)>
    private let logger: Logger

    /// Reads and checks the map at `path`.
    ///
    /// - Throws: `ShardMap.Invalid` saying why the file cannot be used.
    public init(path: String, pollInterval: Duration = .seconds(2), logger: Logger = Logger(label: "shard-map"))
        throws(ShardMap.Invalid)
    {
        guard let bytes = FileManager.default.contents(atPath: path) else {
            throw ShardMap.Invalid(description: "the shard map \(path) cannot be read")
        }
        self.path = path
        self.pollInterval = pollInterval
        self.logger = logger
        self.state = Mutex((try ShardMap(json: bytes), bytes))
    }

    /// A source holding `map` itself, for tests and tools that build the map in memory; `reload()` then reads
    /// nothing.
    public init(map: ShardMap, logger: Logger = Logger(label: "shard-map")) {
        self.path = ""
        self.pollInterval = .seconds(3_600)
        self.logger = logger
        self.state = Mutex((map, Data()))
    }

    /// The map in force.
    public var current: ShardMap { state.withLock { $0.map } }

    public var description: String { "shard map \(path) (epoch \(current.epoch))" }

    /// Reads the file again and takes its map if it changed, parses, checks and is not older than the one in force.
    /// Returns the map in force afterwards.
    @discardableResult
    public func reload() -> ShardMap {
        guard !path.isEmpty, let bytes = FileManager.default.contents(atPath: path) else { return current }
        if state.withLock({ $0.bytes == bytes }) { return current }
        let next: ShardMap
        do {
            next = try ShardMap(json: bytes)
        } catch {
            logger.error(
                "shard map file changed but cannot be used; keeping the map in force",
                metadata: ["path": "\(path)", "error": "\(error)", "epoch": "\(current.epoch)"])
            return current
        }
        return state.withLock { state in
            guard next.epoch >= state.map.epoch else {
                logger.error(
                    "shard map file has an older epoch than the map in force; ignoring it",
                    metadata: ["path": "\(path)", "file_epoch": "\(next.epoch)", "epoch": "\(state.map.epoch)"])
                state.bytes = bytes
                return state.map
            }
            if next != state.map {
                logger.notice(
                    "shard map reloaded",
                    metadata: ["path": "\(path)", "epoch": "\(next.epoch)", "was": "\(state.map.epoch)"])
            }
            state = (next, bytes)
            return next
        }
    }

    /// Looks at the file every `pollInterval` until shutdown.
    public func run() async throws {
        guard !path.isEmpty else { return }
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: self.pollInterval)
                self.reload()
            }
        }
    }
}

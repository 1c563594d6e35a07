public import ArgumentParser
public import C360ServerKit
public import GRDB
public import Logging

/// The change-feed flags every data service takes (`@OptionGroup var changeFeed: ChangeFeedOptions`).
public struct ChangeFeedOptions: ParsableArguments, Sendable {
    @Option(
        help:
            "Keep change-feed events this many hours; a consumer further behind resynchronises. [env: C360_<SERVICE>_CHANGE_RETENTION_HOURS] (default: 168, a week)"
    )
    public var changeRetentionHours: Int?

    public init() {}

    /// The flag, else `C360_<SERVICE>_CHANGE_RETENTION_HOURS`, else a week.
    ///
    /// - Throws: `ValidationError` for a retention below one hour or above ten years.
    public func resolve(_ environment: EnvironmentReader) throws -> ChangeFeedConfiguration {
        let hours: Int = try changeRetentionHours ?? environment.value("CHANGE_RETENTION_HOURS") ?? 168
        guard (1...87_600).contains(hours) else {
            throw ValidationError("--change-retention-hours must be between 1 and 87600, not \(hours)")
        }
        return ChangeFeedConfiguration(retention: .seconds(hours * 3_600))
    }
}

/// How long a service keeps its change-feed events (see `ChangeFeedOptions`).
public struct ChangeFeedConfiguration: Sendable {
    /// A consumer further behind than this resynchronises instead of reading the events it missed.
    public var retention: Duration

    public init(retention: Duration = .seconds(168 * 3_600)) {
        self.retention = retention
    }

    /// The service's feed over `writer`, announced in the start-up lines.
    public func feed(writer: any DatabaseWriter, logger: Logger) -> ChangeFeed {
        logger.notice("change feed", metadata: ["retention_hours": "\(retention.components.seconds / 3_600)"])
        return ChangeFeed(writer: writer, retention: retention, logger: logger)
    }
}

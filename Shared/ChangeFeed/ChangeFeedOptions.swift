public import ArgumentParser
public import C360ServerKit
public import GRDB
public import Logging

/// The change-feed flags every data service takes (`@OptionGroup var changeFeed: ChangeFeedOptions`).
public struct ChangeFeedOptions: ParsableArguments, Sendable {
    @Option(help: "Keep change-feed events this many hours; a consumer further behind resynchronises. [env: C360_<SERVICE>_CHANGE_RETENTION_HOURS] (default: 168, a week)")
    public var changeRetentionHours: Int?

    public init() {}

    /// The service's feed over `writer`, with the retention from the flag, `C360_<SERVICE>_CHANGE_RETENTION_HOURS`
    /// or a week.
    ///
    /// - Throws: `ValidationError` for a retention below one hour or above ten years.
    public func feed(writer: any DatabaseWriter, identity: ServiceIdentity, environment: EnvironmentReader, logger: Logger)
        throws -> ChangeFeed {
        let hours: Int = try changeRetentionHours ?? environment.value("CHANGE_RETENTION_HOURS") ?? 168
        guard (1...87_600).contains(hours) else {
            throw ValidationError("--change-retention-hours must be between 1 and 87600, not \(hours)")
        }
        logger.notice("change feed", metadata: ["retention_hours": "\(hours)"])
        return ChangeFeed(writer: writer, retention: .seconds(hours * 3_600), logger: logger)
    }
}

import C360ServerKit
import C360StoreKit
import Foundation
public import GRDB
public import Logging
public import ServiceLifecycle

/// Prunes a store's touch log (`SlotTouchLog`) every hour, keeping `retention` of touches: a move catches up within
/// that time of its copy, or is refused and starts again from the copy, as with a change feed's retention.
public struct SlotTouchPruner: Service {
    let writer: any DatabaseWriter
    let retention: Duration
    let logger: Logger

    public init(writer: any DatabaseWriter, retention: Duration = .seconds(24 * 3_600), logger: Logger) {
        self.writer = writer
        self.retention = retention
        self.logger = logger
    }

    public func run() async {
        await Periodic.run(every: .seconds(3_600), logger: logger, failure: "touch log not pruned") {
            let cutoff = Date().addingTimeInterval(-Double(retention.components.seconds))
            let deleted = try await writer.write { db in try SlotTouchLog.prune(db, before: cutoff) }
            if deleted > 0 { logger.info("pruned touch log", metadata: ["touches": "\(deleted)"]) }
        }
    }
}

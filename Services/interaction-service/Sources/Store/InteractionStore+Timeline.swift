public import C360ServerKit
public import C360StoreKit
public import Foundation
public import GRDB

/// Which touchpoints of one customer a timeline shows; every part is optional and they combine with AND.
public struct TimelineFilter: Sendable, Hashable {
    public var from: Date?
    public var until: Date?
    public var channels: Set<Channel> = []
    public var kinds: Set<TouchpointKind> = []
    public var ticketID = ""

    public init() {}

    /// Identifies the filter (with its customer) inside page tokens.
    public func fingerprint(customerID: String) -> String {
        [
            customerID, from.map { "\($0.unixMillis)" } ?? "", until.map { "\($0.unixMillis)" } ?? "",
            channels.map(\.rawValue).sorted().joined(separator: ","),
            kinds.map(\.rawValue).sorted().joined(separator: ","),
            ticketID,
        ].joined(separator: "\u{1F}")
    }
}

/// Where a timeline page continues: after this (occurred-at, insertion sequence) position.
public typealias TimelinePosition = KeysetPosition<Int64, Int64>

extension InteractionStore {
    /// One customer's touchpoints newest first, one page after `position`.
    ///
    /// Positions are (occurred-at, insertion sequence), so a page continues correctly while new events arrive:
    /// events newer than the first page never shift later pages.
    public func timeline(
        customer customerID: String, filter: TimelineFilter, after position: TimelinePosition?, limit: Int
    ) async throws -> Page<(touchpoint: Touchpoint, position: TimelinePosition)> {
        try await writer.read { db in
            try timeline(db, customer: customerID, filter: filter, after: position, limit: limit)
        }
    }

    func timeline(
        _ db: Database, customer customerID: String, filter: TimelineFilter, after position: TimelinePosition?,
        limit: Int
    ) throws -> Page<(touchpoint: Touchpoint, position: TimelinePosition)> {
        let request = touchpoints(of: customerID, filter: filter)
            .page(TouchpointRecord.timelineOrder, after: position, limit: limit)
        // The usual timeline (every channel and kind, or one of each) is prepared once; each longer list of
        // channels or kinds would be a statement text of its own in the never-evicted cache.
        let records =
            filter.channels.count <= 1 && filter.kinds.count <= 1
            ? try request.preparedOnce.fetchAll(db) : try request.fetchAll(db)
        return try Page(fetched: records, limit: limit).map { record in
            (try record.domain(keyring: keyring), record.timelinePosition)
        }
    }

    /// Every touchpoint of one customer matching `filter`, oldest first, handed to `deliver` in chunks of
    /// `chunkSize`; each chunk is read in its own short transaction so a slow reader never holds the database.
    public func exportTimeline(
        customer customerID: String, filter: TimelineFilter, chunkSize: Int = 500,
        deliver: ([Touchpoint]) async throws -> Void
    ) async throws {
        var position: TimelinePosition?
        while true {
            let start = position
            let chunk = try await writer.read { db -> [(Touchpoint, TimelinePosition)] in
                let records = try touchpoints(of: customerID, filter: filter)
                    .ordered(
                        .ascending(TouchpointRecord.Columns.occurredAt, tie: TouchpointRecord.Columns.seq), after: start
                    )
                    .limit(chunkSize).fetchAll(db)
                return try records.map { record in
                    (try record.domain(keyring: keyring), record.timelinePosition)
                }
            }
            guard let last = chunk.last else { return }
            try await deliver(chunk.map(\.0))
            position = last.1
            if chunk.count < chunkSize { return }
        }
    }

    /// The touchpoints of `customerID` that `filter` selects, in no particular order.
    private func touchpoints(of customerID: String, filter: TimelineFilter) -> QueryInterfaceRequest<TouchpointRecord> {
        typealias Columns = TouchpointRecord.Columns
        var request = TouchpointRecord.filter(Columns.customerId == customerID)
            .filter(Columns.occurredAt, from: filter.from, until: filter.until)
            .filter(Columns.channel, anyOf: filter.channels.map(\.rawValue))
            .filter(Columns.kind, anyOf: filter.kinds.map(\.rawValue))
        if !filter.ticketID.isEmpty { request = request.filter(Columns.ticketId == filter.ticketID) }
        return request
    }
}

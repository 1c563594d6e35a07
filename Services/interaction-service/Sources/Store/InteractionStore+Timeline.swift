public import C360ServerKit
public import C360StoreKit
public import Foundation
import GRDB

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

/// Where a timeline page continues: after this (occurred-at, sequence) position.
public struct TimelinePosition: Codable, Sendable, Equatable {
    public var occurredAt: Int64
    public var seq: Int64
}

extension InteractionStore {
    /// One customer's touchpoints newest first, one page after `position`.
    ///
    /// Positions are (occurred-at, insertion sequence), so a page continues correctly while new events arrive:
    /// events newer than the first page never shift later pages.
    public func timeline(
        customer customerID: String, filter: TimelineFilter, after position: TimelinePosition?, limit: Int
    ) async throws -> Page<(touchpoint: Touchpoint, position: TimelinePosition)> {
        try await writer.read { db in
            var (sql, arguments) = filteredQuery(customerID: customerID, filter: filter)
            if let position {
                sql += " AND (occurredAt < ? OR (occurredAt = ? AND seq < ?))"
                _ = arguments.append(contentsOf: [position.occurredAt, position.occurredAt, position.seq])
            }
            sql += " ORDER BY occurredAt DESC, seq DESC LIMIT ?"
            _ = arguments.append(contentsOf: [limit + 1])
            let records = try TouchpointRecord.fetchAll(db, sql: sql, arguments: arguments)
            return try Page(fetched: records, limit: limit).map { record in
                (try record.domain(keyring: keyring), record.timelinePosition)
            }
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
                var (sql, arguments) = filteredQuery(customerID: customerID, filter: filter)
                if let position = start {
                    sql += " AND (occurredAt > ? OR (occurredAt = ? AND seq > ?))"
                    _ = arguments.append(contentsOf: [position.occurredAt, position.occurredAt, position.seq])
                }
                sql += " ORDER BY occurredAt, seq LIMIT ?"
                _ = arguments.append(contentsOf: [chunkSize])
                return try TouchpointRecord.fetchAll(db, sql: sql, arguments: arguments).map { record in
                    (try record.domain(keyring: keyring), record.timelinePosition)
                }
            }
            guard let last = chunk.last else { return }
            try await deliver(chunk.map(\.0))
            position = last.1
            if chunk.count < chunkSize { return }
        }
    }

    private func filteredQuery(customerID: String, filter: TimelineFilter) -> (String, StatementArguments) {
        var sql = "SELECT * FROM touchpoint WHERE customerId = ?"
        var arguments: StatementArguments = [customerID]
        if let from = filter.from {
            sql += " AND occurredAt >= ?"
            _ = arguments.append(contentsOf: [from.unixMillis])
        }
        if let until = filter.until {
            sql += " AND occurredAt < ?"
            _ = arguments.append(contentsOf: [until.unixMillis])
        }
        if !filter.channels.isEmpty {
            sql += " AND channel IN (\(databaseQuestionMarks(count: filter.channels.count)))"
            _ = arguments.append(contentsOf: StatementArguments(filter.channels.map(\.rawValue).sorted()))
        }
        if !filter.kinds.isEmpty {
            sql += " AND kind IN (\(databaseQuestionMarks(count: filter.kinds.count)))"
            _ = arguments.append(contentsOf: StatementArguments(filter.kinds.map(\.rawValue).sorted()))
        }
        if !filter.ticketID.isEmpty {
            sql += " AND ticketId = ?"
            _ = arguments.append(contentsOf: [filter.ticketID])
        }
        return (sql, arguments)
    }
}

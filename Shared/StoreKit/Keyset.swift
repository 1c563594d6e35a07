public import Foundation
public import GRDB

/// Where a keyset-paged list goes on: the sort key of the last row returned and the unique column that breaks ties
/// between rows with the same key. It travels inside the page token (`PageToken`), so a page continues on any replica
/// and stays stable while rows are added, where an offset would skip or repeat them.
public struct KeysetPosition<Key, Tie>: Codable, Sendable, Equatable
where
    Key: Codable & Sendable & Equatable & DatabaseValueConvertible,
    Tie: Codable & Sendable & Equatable & DatabaseValueConvertible
{
    public var key: Key
    public var tie: Tie

    public init(key: Key, tie: Tie) {
        self.key = key
        self.tie = tie
    }
}

/// Where a list ordered by an instant (Unix milliseconds), then a row's id, continues — the order of most lists.
public typealias InstantPosition = KeysetPosition<Int64, String>

/// The order of a keyset-paged list: a sort key, then a unique column breaking its ties, both ascending or both
/// descending — an index on `(key, tie)` serves every page of it.
public struct KeysetOrder: Sendable {
    public var key: SQLExpression
    public var tie: SQLExpression
    public var descending: Bool

    public static func ascending(_ key: some SQLExpressible, tie: some SQLExpressible) -> KeysetOrder {
        KeysetOrder(key: key.sqlExpression, tie: tie.sqlExpression, descending: false)
    }

    public static func descending(_ key: some SQLExpressible, tie: some SQLExpressible) -> KeysetOrder {
        KeysetOrder(key: key.sqlExpression, tie: tie.sqlExpression, descending: true)
    }
}

extension QueryInterfaceRequest {
    /// One page of this request in `order`: the rows after `position` (from the first when `nil`), at most
    /// `limit + 1` of them — the extra row only tells `Page(fetched:limit:)` that another page follows.
    public func page<Key, Tie>(_ order: KeysetOrder, after position: KeysetPosition<Key, Tie>?, limit: Int) -> Self {
        ordered(order, after: position).limit(limit + 1)
    }

    /// This request in `order`, from the row after `position` (from the first when `nil`): what a page reads, for
    /// a reader that walks every row in chunks (an export).
    public func ordered<Key, Tie>(_ order: KeysetOrder, after position: KeysetPosition<Key, Tie>?) -> Self {
        var request = self
        if let position {
            let key = position.key.databaseValue
            let tie = position.tie.databaseValue
            request =
                order.descending
                ? request.filter(order.key < key || (order.key == key && order.tie < tie))
                : request.filter(order.key > key || (order.key == key && order.tie > tie))
        }
        return request.order(order.descending ? [order.key.desc, order.tie.desc] : [order.key.asc, order.tie.asc])
    }

    /// The rows whose instant `column` (Unix milliseconds) lies in `[from, until)`; an end that is `nil` is open.
    public func filter(_ column: some SQLSpecificExpressible, from: Date?, until: Date?) -> Self {
        from == nil && until == nil ? self : filter(column.isWithin(from: from, until: until))
    }

    /// The rows whose `column` is one of `values`; every row when `values` is empty (no filter asked for).
    public func filter(_ column: Column, anyOf values: some Collection<some SQLExpressible>) -> Self {
        values.isEmpty ? self : filter(values.contains(column))
    }
}

extension SQLSpecificExpressible {
    /// Whether this instant (Unix milliseconds) lies in `[from, until)`; an end that is `nil` is open, and with
    /// neither the condition is `true`.
    public func isWithin(from: Date?, until: Date?) -> SQLExpression {
        var conditions: [SQLExpression] = []
        if let from { conditions.append(self >= from.unixMillis) }
        if let until { conditions.append(self < until.unixMillis) }
        return conditions.joined(operator: .and)
    }
}

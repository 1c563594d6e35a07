/// One page of a keyset-paged list: the rows to return and whether more follow.
///
/// Stores fetch `limit + 1` rows and hand them to `init(fetched:limit:)`; the extra row only tells that another
/// page exists. Handlers turn the last row into the next page token with `nextToken(filter:position:)`.
public struct Page<Item> {
    public var items: [Item]
    public var hasMore: Bool

    public init(items: [Item], hasMore: Bool) {
        self.items = items
        self.hasMore = hasMore
    }

    /// Keeps the first `limit` of `fetched` (queried with `LIMIT limit + 1`).
    public init(fetched: [Item], limit: Int) {
        self.init(items: Array(fetched.prefix(limit)), hasMore: fetched.count > limit)
    }

    /// The same page with every item transformed.
    public func map<Other>(_ transform: (Item) throws -> Other) rethrows -> Page<Other> {
        Page<Other>(items: try items.map(transform), hasMore: hasMore)
    }

    /// The token that continues after the last item, or "" on the last page.
    public func nextToken<Position: Codable & Sendable & Equatable>(
        filter: String, position: (Item) -> Position
    ) -> String {
        guard hasMore, let last = items.last else { return "" }
        return PageToken(position: position(last), filter: filter).encoded()
    }
}

extension Page: Sendable where Item: Sendable {}

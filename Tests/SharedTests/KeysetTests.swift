import C360StoreKit
import Foundation
import GRDB
import Testing

/// A row of a list: a sort key with ties, a unique id, and an instant.
private struct Item: Codable, FetchableRecord, PersistableRecord, Equatable {
    static let databaseTableName = "item"
    var id: String
    var rank: Int64
    var at: Int64
    var color: String

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let rank = Column(CodingKeys.rank)
        static let at = Column(CodingKeys.at)
        static let color = Column(CodingKeys.color)
    }

}

/// 40 items with ranks 0...9, four items per rank (ties), ids i00...i39, instants 1000, 2000, … and three colors.
private func database() throws -> DatabaseQueue {
    let database = try DatabaseQueue()
    try database.write { db in
        try db.create(table: "item") { table in
            table.primaryKey("id", .text)
            table.column("rank", .integer).notNull()
            table.column("at", .integer).notNull()
            table.column("color", .text).notNull()
        }
        for index in 0..<40 {
            try Item(
                id: String(format: "i%02d", index), rank: Int64(index % 10), at: Int64(1000 * (index + 1)),
                color: ["red", "green", "blue"][index % 3]
            ).insert(db)
        }
    }
    return database
}

/// Every page of `request` in `order` (by `key`, then the id), `limit` at a time, followed as a client follows page
/// tokens.
private func walk(
    _ database: DatabaseQueue, _ request: QueryInterfaceRequest<Item>, _ order: KeysetOrder, key: (Item) -> Int64,
    limit: Int
) throws -> [[Item]] {
    var pages: [[Item]] = []
    var position: KeysetPosition<Int64, String>?
    while true {
        let page = try database.read { db in
            Page(fetched: try request.page(order, after: position, limit: limit).fetchAll(db), limit: limit)
        }
        pages.append(page.items)
        guard page.hasMore, let last = page.items.last else { return pages }
        guard page.items.count == limit, pages.count <= 40 else {
            Issue.record("a page of \(page.items.count) rows said more follow; \(pages.count) pages so far")
            return pages
        }
        position = KeysetPosition(key: key(last), tie: last.id)
    }
}

@Suite("Keyset paging (StoreKit)")
struct KeysetTests {
    @Test(
        "pages in either direction hold every row once, in order, with ties broken by the id, across page ends",
        arguments: [false, true], [1, 3, 4, 7, 40, 500])
    func walksEveryRowOnce(descending: Bool, limit: Int) throws {
        let database = try database()
        let order =
            descending
            ? KeysetOrder.descending(Item.Columns.rank, tie: Item.Columns.id)
            : KeysetOrder.ascending(Item.Columns.rank, tie: Item.Columns.id)
        let pages = try walk(database, Item.all(), order, key: \.rank, limit: limit)
        let expected = try database.read { db in try Item.fetchAll(db) }.sorted {
            descending ? ($0.rank, $0.id) > ($1.rank, $1.id) : ($0.rank, $0.id) < ($1.rank, $1.id)
        }
        #expect(pages.flatMap { $0 } == expected)
        #expect(pages.count == max(1, (40 + limit - 1) / limit))
    }

    @Test("filters combine with paging: an instant window is half-open, a set of values narrows, an empty set does not")
    func filters() throws {
        let database = try database()
        let order = KeysetOrder.ascending(Item.Columns.at, tie: Item.Columns.id)
        let window = Item.all().filter(
            Item.Columns.at, from: Date(unixMillis: 5000), until: Date(unixMillis: 9000))
        #expect(
            try walk(database, window, order, key: \.at, limit: 2).flatMap { $0 }.map(\.at) == [5000, 6000, 7000, 8000])

        let open = Item.all().filter(Item.Columns.at, from: Date(unixMillis: 38_000), until: nil)
        #expect(
            try walk(database, open, order, key: \.at, limit: 2).flatMap { $0 }.map(\.at) == [38_000, 39_000, 40_000])

        let colors = Item.all().filter(Item.Columns.color, anyOf: ["red", "blue"])
        #expect(
            try walk(database, colors, order, key: \.at, limit: 5).flatMap { $0 }.allSatisfy { $0.color != "green" })
        #expect(try walk(database, colors, order, key: \.at, limit: 5).flatMap { $0 }.count == 27)

        let everything = Item.all().filter(Item.Columns.color, anyOf: [String]())
        #expect(try walk(database, everything, order, key: \.at, limit: 50).flatMap { $0 }.count == 40)
    }

    @Test("a position travels in a page token and comes back equal")
    func positionInToken() throws {
        let position = KeysetPosition<Int64, String>(key: -3, tie: "i07")
        let token = PageToken(position: position, filter: "f").encoded()
        #expect(try PageToken<KeysetPosition<Int64, String>>.decode(token, filter: "f")?.position == position)
    }
}

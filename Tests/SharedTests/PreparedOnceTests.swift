import C360StoreKit
import C360TestSupport
import GRDB
import Testing

@Suite("Requests prepared once")
struct PreparedOnceTests {
    struct Item: Codable, FetchableRecord, PersistableRecord {
        static let databaseTableName = "item"
        var owner: String
        var rank: Int
        enum Columns {
            static let owner = Column(CodingKeys.owner)
            static let rank = Column(CodingKeys.rank)
        }
    }

    private func database() throws -> DatabaseQueue {
        let (queue, _) = try SQLiteWork.inMemory()
        try queue.write { db in
            try db.create(table: "item") { table in
                table.column("owner", .text).notNull()
                table.column("rank", .integer).notNull()
            }
            for (owner, rank) in [("ann", 2), ("ann", 1), ("bob", 3), ("cy", 4)] {
                try Item(owner: owner, rank: rank).insert(db)
            }
        }
        return queue
    }

    private func ofOwner(_ owner: String) -> QueryInterfaceRequest<Item> {
        Item.filter(Item.Columns.owner == owner).order(Item.Columns.rank)
    }

    @Test("answers what the request answers, with each call's own arguments bound")
    func sameRows() throws {
        try database().read { db in
            for owner in ["ann", "bob", "ann", "nobody", "cy"] {
                let cached = try ofOwner(owner).preparedOnce.fetchAll(db)
                let plain = try ofOwner(owner).fetchAll(db)
                #expect(cached.map(\.rank) == plain.map(\.rank), "owner \(owner)")
            }
            #expect(try ofOwner("ann").preparedOnce.fetchAll(db).map(\.rank) == [1, 2])
        }
    }

    @Test("compiles one statement per text and keeps it, where the plain request compiles one per call")
    func oneStatementPerText() throws {
        try database().read { db in
            let before = SQLiteWork.liveStatements(db)
            _ = try ofOwner("ann").fetchAll(db)
            #expect(SQLiteWork.liveStatements(db) == before)

            _ = try ofOwner("ann").preparedOnce.fetchAll(db)
            let kept = SQLiteWork.liveStatements(db)
            #expect(kept == before + 1)
            for owner in ["bob", "cy", "ann"] { _ = try ofOwner(owner).preparedOnce.fetchAll(db) }
            #expect(SQLiteWork.liveStatements(db) == kept)

            // Another shape is another text, so another statement.
            _ = try ofOwner("ann").limit(1).preparedOnce.fetchAll(db)
            #expect(SQLiteWork.liveStatements(db) == kept + 1)
        }
    }
}

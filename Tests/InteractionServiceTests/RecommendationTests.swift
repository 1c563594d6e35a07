import C360ServerKit
import C360StoreKit
import C360TestSupport
import Foundation
import GRDB
import Testing

@testable import C360Interaction

@Suite("Item-to-item recommendations")
struct RecommendationTests {
    /// A purchase of `skus` (names "Name of <sku>") by `customer`.
    func order(_ id: String, _ customer: String, _ skus: [String], at date: Date) -> Touchpoint {
        touchpoint(
            id, customer: customer, at: date, kind: .purchase,
            purchase: Purchase(
                orderID: "order-\(id)", amount: Money(1_000, "USD"),
                items: skus.map {
                    PurchaseItem(sku: $0, quantity: 1, unitPrice: Money(1_000, "USD"), name: "Name of \($0)")
                }))
    }

    @Test(
        "products bought by customers who bought the same ones, best first, with what suggests each and nothing already bought"
    )
    func coBought() async throws {
        let clock = TestClock()
        let store = try makeInteractionStore(clock: clock)
        let start = clock.now()
        // Three customers bought a camera; two of them a tripod, one a bag; the bag buyer also bought film.
        _ = try await store.ingest([
            order("1", "c1", ["camera", "tripod"], at: start),
            order("2", "c2", ["camera"], at: start),
            order("3", "c2", ["tripod"], at: start.addingTimeInterval(60)),
            order("4", "c3", ["camera", "bag"], at: start),
            order("5", "c4", ["film", "bag"], at: start),
            order("6", "c1", ["camera"], at: start.addingTimeInterval(120)), // a repeat buy counts once
        ])

        // Ada bought a camera only
        _ = try await store.ingest([order("7", Customers.ada, ["camera"], at: start)])
        let found = try await store.recommendations(for: Customers.ada, limit: 5)

        // Then tripod (two co-buyers of a camera) ranks above bag (one); film, bought only with a bag, is not offered
        #expect(found.map(\.sku) == ["tripod", "bag"])
        #expect(found.first?.becauseSku == "camera" && found.first?.becauseName == "Name of camera")
        #expect(found.first?.name == "Name of tripod" && found.first?.buyers == 2)
        // camera: 4 buyers, tripod: 2, both: 2 → 2 / √8
        #expect(abs((found.first?.score ?? 0) - 2 / 8.0.squareRoot()) < 1e-9)

        // A customer who bought everything gets nothing; one without purchases gets nothing
        #expect(try await store.recommendations(for: "c1", limit: 5).map(\.sku) == ["bag"])
        #expect(try await store.recommendations(for: Customers.sara, limit: 5).isEmpty)
    }
}

@Suite("Item-to-item counts across a merge")
struct RecommendationMergeTests {
    /// buyers of each product and of each ordered pair, as stored.
    private func counts(_ store: InteractionStore) async throws -> (items: [String: Int], pairs: [String: Int]) {
        try await store.writer.read { db in
            let items = try Row.fetchAll(db, sql: "SELECT sku, buyers FROM item")
            let pairs = try Row.fetchAll(db, sql: "SELECT sku, other, buyers FROM item_pair")
            return (
                Dictionary(uniqueKeysWithValues: items.map { ($0["sku"] as String, $0["buyers"] as Int) }),
                Dictionary(
                    uniqueKeysWithValues: pairs.map {
                        ("\($0["sku"] as String)+\($0["other"] as String)", $0["buyers"] as Int)
                    })
            )
        }
    }

    @Test("merging two buyers counts the survivor's combined basket once; unmerging restores the counts")
    func mergeAndUnmerge() async throws {
        let clock = TestClock()
        let store = try makeInteractionStore(clock: clock)
        let tests = RecommendationTests()
        _ = try await store.ingest([
            tests.order("1", "c1", ["camera", "tripod"], at: clock.now()),
            tests.order("2", "c2", ["camera", "bag"], at: clock.now()),
        ])
        let before = try await counts(store)
        #expect(before.items == ["camera": 2, "tripod": 1, "bag": 1])
        #expect(before.pairs["tripod+bag"] == nil)

        try await store.writer.write { db in try store.rekey(db, merged: "c2", survivor: "c1") }
        let merged = try await counts(store)
        #expect(merged.items == ["camera": 1, "tripod": 1, "bag": 1])
        #expect(
            merged.pairs == [
                "camera+tripod": 1, "tripod+camera": 1, "camera+bag": 1, "bag+camera": 1,
                "tripod+bag": 1, "bag+tripod": 1,
            ])

        try await store.writer.write { db in try store.unrekey(db, merged: "c2", survivor: "c1") }
        let restored = try await counts(store)
        #expect(restored.items == before.items && restored.pairs == before.pairs)
        let names = try await store.writer.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM item ORDER BY sku")
        }
        #expect(names == ["Name of bag", "Name of camera", "Name of tripod"])
    }
}

import C360StoreKit
import Foundation
public import GRDB

/// One product recommended to a customer, as the store computes it.
public struct ProductRecommendation: Decodable, FetchableRecord, Sendable, Equatable {
    public var sku: String
    public var name: String
    public var score: Double
    public var becauseSku: String
    public var becauseName: String
    public var buyers: Int64
}

/// Item-to-item recommendations (Linden, Smith and York, "Amazon.com recommendations: item-to-item collaborative
/// filtering", 2003): for every pair of products, how many customers bought both, kept up to date as purchases are
/// ingested; a customer's recommendations are the products most similar (cosine of buyer sets) to the ones they
/// bought. The tables hold counts only, no customer ids, so erasure leaves them alone; a merge makes two buyers one
/// (`moveAffinity`, undone by an unmerge). A customer's own products are read from their purchases, which merges
/// and erasure already move or remove.
extension InteractionStore {
    /// The migration that adds the affinity tables and fills them from the purchases already stored.
    static func registerItemAffinity(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v2: item affinity for recommendations") { db in
            try db.execute(
                sql: """
                    CREATE TABLE item (
                        sku TEXT PRIMARY KEY,
                        name TEXT NOT NULL,
                        buyers INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    CREATE TABLE item_pair (
                        sku TEXT NOT NULL,
                        other TEXT NOT NULL,
                        buyers INTEGER NOT NULL,
                        PRIMARY KEY (sku, other)
                    ) WITHOUT ROWID;
                    CREATE TEMP TABLE bought AS
                        SELECT DISTINCT t.customerId AS customerId, json_extract(i.value, '$.sku') AS sku
                        FROM touchpoint t, json_each(t.purchase, '$.items') i
                        WHERE t.kind = 'purchase' AND json_extract(i.value, '$.sku') <> '';
                    INSERT INTO item (sku, name, buyers)
                        SELECT b.sku, COALESCE((SELECT json_extract(i.value, '$.name') FROM touchpoint t, json_each(t.purchase, '$.items') i
                            WHERE t.kind = 'purchase' AND json_extract(i.value, '$.sku') = b.sku LIMIT 1), ''), COUNT(*)
                        FROM bought b GROUP BY b.sku;
                    INSERT INTO item_pair (sku, other, buyers)
                        SELECT a.sku, b.sku, COUNT(*) FROM bought a JOIN bought b ON a.customerId = b.customerId AND a.sku <> b.sku
                        GROUP BY a.sku, b.sku;
                    DROP TABLE bought;
                    """)
        }
    }

    /// The SKUs `customerID` bought, from their stored purchases (optionally leaving one event out).
    static func skus(_ db: Database, of customerID: String, excluding eventID: String = "") throws -> Set<String> {
        Set(
            try String.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT DISTINCT json_extract(i.value, '$.sku') FROM touchpoint t, json_each(t.purchase, '$.items') i
                        WHERE t.customerId = ? AND t.kind = 'purchase' AND t.eventId <> ?
                        """), arguments: [customerID, eventID]
            ).filter { !$0.isEmpty })
    }

    /// Counts a stored purchase into the affinity tables: each product new to the customer gains a buyer, and a
    /// co-buyer with every other product the customer has bought.
    func recordAffinity(_ db: Database, purchase touchpoint: Touchpoint) throws {
        guard touchpoint.kind == .purchase, let items = touchpoint.purchase?.items, !items.isEmpty else { return }
        let prior = try Self.skus(db, of: touchpoint.customerID, excluding: touchpoint.eventID)
        var names: [String: String] = [:]
        for item in items where !item.sku.isEmpty { names[item.sku] = item.name }
        let new = Set(names.keys).subtracting(prior).sorted()
        guard !new.isEmpty else { return }
        let addItem = try db.cachedStatement(
            sql: """
                INSERT INTO item (sku, name, buyers) VALUES (?, ?, 1)
                ON CONFLICT (sku) DO UPDATE SET buyers = buyers + 1, name = CASE WHEN excluded.name <> '' THEN excluded.name ELSE name END
                """)
        let addPair = try db.cachedStatement(
            sql: """
                INSERT INTO item_pair (sku, other, buyers) VALUES (?, ?, 1)
                ON CONFLICT (sku, other) DO UPDATE SET buyers = buyers + 1
                """)
        for (index, sku) in new.enumerated() {
            try addItem.execute(arguments: [sku, names[sku] ?? ""])
            // Pairs with what was bought before, and with the new products after this one (each unordered pair once).
            for other in prior.sorted() + new[(index + 1)...] {
                try addPair.execute(arguments: [sku, other])
                try addPair.execute(arguments: [other, sku])
            }
        }
    }

    /// Up to `limit` products for `customerID`, best first.
    public func recommendations(for customerID: String, limit: Int) async throws -> [ProductRecommendation] {
        try await writer.read { db in
            try ProductRecommendation.fetchAll(
                db,
                sql: """
                    WITH mine AS (
                        SELECT DISTINCT json_extract(i.value, '$.sku') AS sku FROM touchpoint t, json_each(t.purchase, '$.items') i
                        WHERE t.customerId = ?1 AND t.kind = 'purchase'
                    ), candidate AS (
                        SELECT p.other AS sku, p.sku AS because, p.buyers / sqrt(a.buyers * b.buyers * 1.0) AS similarity
                        FROM item_pair p JOIN mine m ON m.sku = p.sku
                        JOIN item a ON a.sku = p.sku JOIN item b ON b.sku = p.other
                        WHERE p.other NOT IN (SELECT sku FROM mine)
                    ), ranked AS (
                        SELECT sku, SUM(similarity) AS score,
                               (SELECT c2.because FROM candidate c2 WHERE c2.sku = c.sku ORDER BY c2.similarity DESC, c2.because LIMIT 1) AS because
                        FROM candidate c GROUP BY sku
                    )
                    SELECT r.sku AS sku, i.name AS name, r.score AS score, r.because AS becauseSku,
                           COALESCE(w.name, '') AS becauseName, i.buyers AS buyers
                    FROM ranked r JOIN item i ON i.sku = r.sku LEFT JOIN item w ON w.sku = r.because
                    ORDER BY r.score DESC, r.sku LIMIT ?2
                    """, arguments: [customerID, limit])
        }
    }
}

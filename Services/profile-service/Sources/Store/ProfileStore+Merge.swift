import C360ChangeFeed
import Foundation
import GRDB

extension ProfileStore {
    /// Merges `mergedID` into `survivorID` in one transaction.
    ///
    /// The survivor keeps the union of identifiers, tags and attributes (its own attribute wins a conflict), the
    /// newest value of each trait, every consent decision (so the newest decision wins), the merged loyalty points,
    /// and any demographics it lacked. The merged-away row keeps only its id and a pointer to the survivor, and ids
    /// merged into it earlier are re-pointed, so every old id resolves in one hop. Merging again is a no-op.
    public func mergeCustomers(survivor survivorID: String, merged mergedID: String) async throws -> CustomerProfile {
        try await writer.write { db in
            let (survivorRow, resolvedFrom) = try activeRow(db, resolving: survivorID)
            var survivor = survivorRow
            let merged = try resolvedRow(db, mergedID)
            if merged.id == survivor.id {
                return try profile(db, row: survivor, resolvedFrom: resolvedFrom)
            }
            guard merged.state == .active else {
                throw ProfileError.customerNotActive(merged.id, state: merged.state.rawValue)
            }
            let ids: StatementArguments = [survivor.id, merged.id]
            try db.execute(sql: "UPDATE customer_identifier SET customerId = ? WHERE customerId = ?", arguments: ids)
            try db.execute(sql: "UPDATE consent_decision SET customerId = ? WHERE customerId = ?", arguments: ids)
            try db.execute(sql: "UPDATE loyalty_transaction SET customerId = ? WHERE customerId = ?", arguments: ids)
            try db.execute(sql: """
                INSERT OR IGNORE INTO customer_tag (customerId, tag)
                SELECT ?, tag FROM customer_tag WHERE customerId = ?
                """, arguments: ids)
            try db.execute(sql: """
                INSERT OR IGNORE INTO customer_attribute (customerId, key, value)
                SELECT ?, key, value FROM customer_attribute WHERE customerId = ?
                """, arguments: ids)
            try db.execute(sql: """
                INSERT INTO customer_trait (customerId, key, value, updatedAt)
                SELECT ?, key, value, updatedAt FROM customer_trait WHERE customerId = ? AND true
                ON CONFLICT (customerId, key) DO UPDATE SET value = excluded.value, updatedAt = excluded.updatedAt
                WHERE excluded.updatedAt > customer_trait.updatedAt
                """, arguments: ids)
            for table in ["customer_tag", "customer_attribute", "customer_trait"] {
                try db.execute(sql: "DELETE FROM \(table) WHERE customerId = ?", arguments: [merged.id])
            }
            try db.execute(sql: "UPDATE customer SET mergedInto = ? WHERE mergedInto = ?", arguments: ids)

            survivor.fillBlanks(from: merged)
            survivor.loyaltyBalance += merged.loyaltyBalance
            survivor.loyaltyLifetime += merged.loyaltyLifetime
            let timestamp = now()
            survivor.updatedAt = timestamp
            try survivor.update(db)

            var mergedAway = merged
            mergedAway.state = .merged
            mergedAway.mergedInto = survivor.id
            mergedAway.updatedAt = timestamp
            mergedAway.clearPersonalData()
            try mergedAway.update(db)
            try ChangeLog.append(db, .customerMerged, customer: merged.id, related: survivor.id, at: timestamp)
            return try profile(db, row: survivor, resolvedFrom: resolvedFrom)
        }
    }
}

extension CustomerRecord {
    /// Takes each demographic and preference the survivor lacks from the merged profile.
    mutating func fillBlanks(from other: CustomerRecord) {
        if givenName.isEmpty { givenName = other.givenName }
        if familyName.isEmpty { familyName = other.familyName }
        if birthYear == nil { birthYear = other.birthYear }
        if city.isEmpty { city = other.city }
        if countryCode.isEmpty { countryCode = other.countryCode }
        if language.isEmpty { language = other.language }
        if company.isEmpty { company = other.company }
        if preferredChannel == nil { preferredChannel = other.preferredChannel }
        if preferredLanguage.isEmpty { preferredLanguage = other.preferredLanguage }
        if quietHours == nil { quietHours = other.quietHours }
        if lifecycleStage == nil { lifecycleStage = other.lifecycleStage }
        refreshSearchKeys()
    }
}

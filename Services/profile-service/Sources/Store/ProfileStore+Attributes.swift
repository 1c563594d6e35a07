import Foundation
import GRDB

extension ProfileStore {
    /// Adds tags (already normalised); tags the customer has are ignored.
    ///
    /// - Throws: `ProfileError.tooManyTags` when the customer would exceed `maxTags`; nothing is stored then.
    public func addTags(_ tags: [String], to id: String) async throws -> CustomerProfile {
        try await writer.write { db in
            let (row, resolvedFrom) = try activeRow(db, resolving: id)
            for tag in tags {
                try TagRecord(customerId: row.id, tag: tag).insert(db, onConflict: .ignore)
            }
            let count = try TagRecord.filter(TagRecord.Columns.customerId == row.id).fetchCount(db)
            guard count <= Self.maxTags else { throw ProfileError.tooManyTags(customer: row.id, limit: Self.maxTags) }
            try touch(db, row.id)
            return try profile(db, resolving: row.id).with(resolvedFrom: resolvedFrom)
        }
    }

    /// Removes tags; tags the customer does not have are ignored.
    public func removeTags(_ tags: [String], from id: String) async throws -> CustomerProfile {
        try await writer.write { db in
            let (row, resolvedFrom) = try activeRow(db, resolving: id)
            try TagRecord.filter(TagRecord.Columns.customerId == row.id)
                .filter(tags.contains(TagRecord.Columns.tag)).deleteAll(db)
            try touch(db, row.id)
            return try profile(db, resolving: row.id).with(resolvedFrom: resolvedFrom)
        }
    }

    /// Sets custom attributes; an empty value removes the key.
    ///
    /// - Throws: `ProfileError.tooManyAttributes` when the customer would exceed `maxAttributes`.
    public func setAttributes(_ attributes: [String: String], on id: String) async throws -> CustomerProfile {
        try await writer.write { db in
            let (row, resolvedFrom) = try activeRow(db, resolving: id)
            for (key, value) in attributes {
                if value.isEmpty {
                    try AttributeRecord.deleteOne(db, key: ["customerId": row.id, "key": key])
                } else {
                    try AttributeRecord(customerId: row.id, key: key, value: keyring.seal(value, for: row.id)).upsert(
                        db)
                }
            }
            let count = try AttributeRecord.filter(AttributeRecord.Columns.customerId == row.id).fetchCount(db)
            guard count <= Self.maxAttributes else {
                throw ProfileError.tooManyAttributes(customer: row.id, limit: Self.maxAttributes)
            }
            try touch(db, row.id)
            return try profile(db, resolving: row.id).with(resolvedFrom: resolvedFrom)
        }
    }

    /// Upserts traits under `namespace` (the writing service): `<namespace>.<name>` keys, stamped now.
    public func upsertTraits(_ traits: [String: TraitValue], namespace: String, on id: String) async throws
        -> CustomerProfile
    {
        try await writer.write { db in
            let (row, resolvedFrom) = try activeRow(db, resolving: id)
            let timestamp = now()
            for (name, value) in traits {
                try TraitRecord(customerId: row.id, key: "\(namespace).\(name)", value: value, updatedAt: timestamp)
                    .upsert(db)
            }
            try touch(db, row.id)
            return try profile(db, resolving: row.id).with(resolvedFrom: resolvedFrom)
        }
    }
}

extension CustomerProfile {
    func with(resolvedFrom: String?) -> CustomerProfile {
        var copy = self
        copy.resolvedFrom = resolvedFrom
        return copy
    }
}

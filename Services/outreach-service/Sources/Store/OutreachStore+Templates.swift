public import C360StoreKit
import Foundation
import GRDB

extension OutreachStore {
    /// Creates or replaces a template, keeping its creation time.
    public func putTemplate(_ template: TemplateRecord) async throws -> TemplateRecord {
        try await writer.write { db in
            var template = template
            if let stored = try TemplateRecord.fetchOne(db, key: template.templateId) {
                template.createdAt = stored.createdAt
            }
            try template.upsert(db)
            return template
        }
    }

    /// The templates of `ids` that exist, by id, in one read.
    public func templates(ids: Set<String>) async throws -> [String: TemplateRecord] {
        try await writer.read { db in
            Dictionary(
                uniqueKeysWithValues: try TemplateRecord.fetchAll(db, keys: Array(ids)).map { ($0.templateId, $0) })
        }
    }

    public func template(id: String) async throws -> TemplateRecord {
        try await writer.read { db in
            guard let template = try TemplateRecord.fetchOne(db, key: id) else {
                throw OutreachError.templateNotFound(id)
            }
            return template
        }
    }

    /// Templates by id after `after`.
    public func templates(after: String?, limit: Int) async throws -> Page<TemplateRecord> {
        try await writer.read { db in
            var request = TemplateRecord.order(TemplateRecord.Columns.templateId)
            if let after { request = request.filter(TemplateRecord.Columns.templateId > after) }
            return Page(fetched: try request.limit(limit + 1).fetchAll(db), limit: limit)
        }
    }
}

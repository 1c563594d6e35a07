import C360ChangeFeed
import C360Contracts
import C360ServerKit
public import C360StoreKit
public import Foundation
import GRDB
import SwiftProtobuf

extension SegmentRecord {
    /// The stored rule compiled for `now`.
    func query(now: Date) throws -> SegmentQuery {
        try SegmentQuery(Customer360_V1_SegmentRule(serializedBytes: rule), now: now)
    }

    static func touch(_ db: Database, _ segmentID: String, at now: Date) throws {
        try SegmentRecord.filter(Columns.segmentId == segmentID)
            .updateAll(db, Column("updatedAt").set(to: now.unixMillis))
    }
}

/// What a preview or the statistics read of a segment's members.
public struct SegmentStatsRow: Sendable, Equatable {
    public var size = 0
    public var promoters = 0
    public var detractors = 0
    public var npsRespondents = 0
    public var csatSum = 0.0
    public var csatRespondents = 0
    public var churned = 0
    public var atRisk = 0
    public var clvSum = 0.0
    public var clvCustomers = 0
    public var green = 0
    public var yellow = 0
    public var red = 0
}

extension OutreachStore {
    /// Saves a new segment and computes its members; the same id with the same definition answers the stored one.
    ///
    /// - Throws: `OutreachError.segmentExists` for the same id with another definition.
    public func createSegment(_ segment: SegmentRecord, now: Date) async throws -> (SegmentRecord, size: Int) {
        try await writer.write { db in
            if let stored = try SegmentRecord.fetchOne(db, key: segment.segmentId) {
                guard stored.name == segment.name, stored.description == segment.description,
                    stored.rule == segment.rule
                else { throw OutreachError.segmentExists(segment.segmentId) }
                return (stored, try memberCount(db, stored.segmentId))
            }
            try segment.insert(db)
            try Self.recompute(db, segment, now: now, acting: try workable(db))
            return (segment, try memberCount(db, segment.segmentId))
        }
    }

    public func segment(id: String) async throws -> (SegmentRecord, size: Int) {
        try await writer.read { db in
            guard let segment = try SegmentRecord.fetchOne(db, key: id) else { throw OutreachError.segmentNotFound(id) }
            return (segment, try memberCount(db, id))
        }
    }

    /// Segments by id after `after`, with their sizes.
    public func segments(after: String?, limit: Int) async throws -> Page<(SegmentRecord, size: Int)> {
        try await writer.read { db in
            var request = SegmentRecord.order(SegmentRecord.Columns.segmentId)
            if let after { request = request.filter(SegmentRecord.Columns.segmentId > after) }
            let rows = try request.limit(limit + 1).fetchAll(db)
            return Page(fetched: try rows.map { ($0, size: try memberCount(db, $0.segmentId)) }, limit: limit)
        }
    }

    /// Deletes a segment and its memberships.
    ///
    /// - Throws: `OutreachError.segmentInUse` while a campaign is still queueing its members.
    public func deleteSegment(id: String) async throws -> Bool {
        try await writer.write { db in
            if let campaign = try CampaignRecord.filter(CampaignRecord.Columns.segmentId == id)
                .filter(CampaignRecord.Columns.queueing == true).fetchOne(db)
            {
                throw OutreachError.segmentInUse(segment: id, campaign: campaign.campaignId)
            }
            try SegmentMembership.filter(SegmentMembership.Columns.segmentId == id).deleteAll(db)
            return try SegmentRecord.deleteOne(db, key: id)
        }
    }

    /// How many customers `query` selects now, the first `sample` of them, and the read model's size.
    public func preview(_ query: SegmentQuery, sample: Int) async throws -> (
        size: Int, sample: [String], customers: Int
    ) {
        try await writer.read { db in
            let owned = CustomerFacts.filter(
                try ownership.slots.expression(db, customer: CustomerFacts.Columns.customerId))
            let selected = owned.filter(query.condition)
            let size = try selected.fetchCount(db)
            let ids = try String.fetchAll(
                db,
                selected.select(CustomerFacts.Columns.customerId).order(CustomerFacts.Columns.customerId).limit(sample))
            return (size, ids, try owned.fetchCount(db))
        }
    }

    /// Members of a segment by customer id after `after`.
    public func members(segmentID: String, after: String?, limit: Int) async throws -> Page<SegmentMembership> {
        try await writer.read { db in
            guard try SegmentRecord.exists(db, key: segmentID) else { throw OutreachError.segmentNotFound(segmentID) }
            var request = SegmentMembership.filter(SegmentMembership.Columns.segmentId == segmentID)
                .filter(try ownership.slots.expression(db, customer: SegmentMembership.Columns.customerId))
                .order(SegmentMembership.Columns.customerId)
            if let after { request = request.filter(SegmentMembership.Columns.customerId > after) }
            return Page(fetched: try request.limit(limit + 1).fetchAll(db), limit: limit)
        }
    }

    /// The members together: the facts segment statistics need, summed in SQL.
    public func stats(segmentID: String) async throws -> SegmentStatsRow {
        try await writer.read { db in
            guard try SegmentRecord.exists(db, key: segmentID) else { throw OutreachError.segmentNotFound(segmentID) }
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT COUNT(*),
                           COALESCE(SUM(f.npsCategory = 'promoter'), 0), COALESCE(SUM(f.npsCategory = 'detractor'), 0),
                           COALESCE(SUM(f.npsCategory <> ''), 0),
                           COALESCE(SUM(f.latestCsat), 0), COUNT(f.latestCsat),
                           COALESCE(SUM(f.lifecycleStage = 'churned'), 0),
                           COALESCE(SUM(f.churnRisk OR f.healthBand = 'red'), 0),
                           COALESCE(SUM(CASE WHEN f.orders > 0 THEN f.clvMinor END), 0), COALESCE(SUM(f.orders > 0), 0),
                           COALESCE(SUM(f.healthBand = 'green'), 0), COALESCE(SUM(f.healthBand = 'yellow'), 0),
                           COALESCE(SUM(f.healthBand = 'red'), 0)
                    FROM segment_member m JOIN customer_fact f ON f.customerId = m.customerId
                    WHERE m.segmentId = ? AND \(try ownership.slots.predicate(db, customer: "m.customerId"))
                    """, arguments: [segmentID])
            guard let row else { return SegmentStatsRow() }
            // Positional reads of one aggregate row (no record type has these columns).
            return SegmentStatsRow(
                size: row[0], promoters: row[1], detractors: row[2], npsRespondents: row[3], csatSum: row[4],
                csatRespondents: row[5], churned: row[6], atRisk: row[7], clvSum: row[8], clvCustomers: row[9],
                green: row[10], yellow: row[11], red: row[12])
        }
    }

    /// Re-evaluates every segment over the whole read model (time windows move as time passes), recording entries
    /// and exits. Answers how many memberships changed.
    public func recomputeSegments(now: Date) async throws -> Int {
        let ids = try await writer.read { db in
            try String.fetchAll(db, SegmentRecord.select(SegmentRecord.Columns.segmentId))
        }
        var changed = 0
        for id in ids {
            changed += try await writer.write { db in
                guard let segment = try SegmentRecord.fetchOne(db, key: id) else { return 0 }
                return try Self.recompute(db, segment, now: now, acting: try workable(db))
            }
        }
        return changed
    }

    /// The segment's size: its members this shard owns (a move's copies are another shard's count).
    func memberCount(_ db: Database, _ segmentID: String) throws -> Int {
        try SegmentMembership.filter(SegmentMembership.Columns.segmentId == segmentID)
            .filter(try ownership.slots.expression(db, customer: SegmentMembership.Columns.customerId)).fetchCount(db)
    }

    /// Brings one segment's members in line with its rule: set differences in SQL, one event per change. Answers
    /// how many customers entered or left.
    ///
    /// - Parameter acting: The customers whose membership may change here now (`workable`): a move's copy is
    ///   evaluated once the map gives it here (its arrival's refresh), and a customer fenced here by the shard taking
    ///   them.
    @discardableResult
    static func recompute(
        _ db: Database, _ segment: SegmentRecord, now: Date, acting: (String) -> Bool = { _ in true }
    ) throws -> Int {
        let query = try segment.query(now: now)
        let selected = CustomerFacts.filter(query.condition).select(CustomerFacts.Columns.customerId)
        let members = SegmentMembership.filter(SegmentMembership.Columns.segmentId == segment.segmentId)
        var entering = try String.fetchAll(
            db,
            selected.filter(
                !members.select(SegmentMembership.Columns.customerId).contains(CustomerFacts.Columns.customerId)))
        var leaving = try String.fetchAll(
            db,
            members.select(SegmentMembership.Columns.customerId)
                .filter(!selected.contains(SegmentMembership.Columns.customerId)))
        entering.removeAll { !acting($0) }
        leaving.removeAll { !acting($0) }
        for id in entering {
            try SegmentMembership(segmentId: segment.segmentId, customerId: id, enteredAt: now.unixMillis).insert(db)
            try ChangeLog.append(db, .segmentEntered, customer: id, subject: segment.segmentId, at: now)
            try enroll(db, .segment(segment.segmentId), customerID: id, now: now)
        }
        for id in leaving {
            try SegmentMembership.deleteOne(db, key: ["segmentId": segment.segmentId, "customerId": id])
            try ChangeLog.append(db, .segmentLeft, customer: id, subject: segment.segmentId, at: now)
        }
        if !entering.isEmpty || !leaving.isEmpty { try SegmentRecord.touch(db, segment.segmentId, at: now) }
        return entering.count + leaving.count
    }
}

import C360ChangeFeed
public import C360Contracts
import C360ServerKit
public import C360StoreKit
public import Foundation
public import GRDB
import SwiftProtobuf

/// A journey: its definition (the `PutJourneyRequest` as protobuf bytes) and the trigger columns enrolment looks up.
public struct JourneyRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "journey"
    public var journeyId: String
    public var definition: Data
    public var active: Bool
    /// The segment whose entries enrol, or "".
    public var triggerSegment: String
    /// The `ChangeKind` number whose events enrol, or 0.
    public var triggerEvent: Int
    public var allowReentry: Bool
    public var createdAt: Int64
    public var updatedAt: Int64

    public enum Columns {
        static let journeyId = Column(CodingKeys.journeyId)
        static let active = Column(CodingKeys.active)
        static let triggerSegment = Column(CodingKeys.triggerSegment)
        static let triggerEvent = Column(CodingKeys.triggerEvent)
    }

    public var proto: Customer360_V1_PutJourneyRequest {
        (try? Customer360_V1_PutJourneyRequest(serializedBytes: definition)) ?? .init()
    }
}

public enum JourneyRunState: String, Codable, Sendable, DatabaseValueConvertible {
    case waiting, completed, exited
}

/// One customer's walk through one journey: the step to run next and when.
public struct JourneyRunRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "journey_run"
    public var runId: String
    public var journeyId: String
    public var customerId: String
    public var step: Int
    public var state: JourneyRunState
    public var dueAt: Int64
    public var enteredAt: Int64
    public var updatedAt: Int64
    public var reason: String
    /// What the triggering event was about (its subject id, e.g. the feature request that shipped); empty for a
    /// segment trigger.
    public var triggerSubject = ""

    public enum Columns {
        static let runId = Column(CodingKeys.runId)
        static let journeyId = Column(CodingKeys.journeyId)
        static let customerId = Column(CodingKeys.customerId)
        static let state = Column(CodingKeys.state)
        static let dueAt = Column(CodingKeys.dueAt)
        static let enteredAt = Column(CodingKeys.enteredAt)
    }
}

/// What enrols a customer.
enum JourneyTriggerMatch {
    case segment(String)
    /// A feed event, with the id of what it is about.
    case event(Customer360_V1_ChangeKind, subject: String)
}

extension OutreachStore {
    /// The migration that adds journeys; registered after the first.
    static func registerJourneys(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v2: journeys") { db in
            try db.create(table: JourneyRecord.databaseTableName) { t in
                t.primaryKey("journeyId", .text)
                t.column("definition", .blob).notNull()
                t.column("active", .boolean).notNull()
                t.column("triggerSegment", .text).notNull()
                t.column("triggerEvent", .integer).notNull()
                t.column("allowReentry", .boolean).notNull()
                t.column("createdAt", .integer).notNull()
                t.column("updatedAt", .integer).notNull()
            }
            try db.create(table: JourneyRunRecord.databaseTableName) { t in
                t.primaryKey("runId", .text)
                t.column("journeyId", .text).notNull()
                t.column("customerId", .text).notNull()
                t.column("step", .integer).notNull()
                t.column("state", .text).notNull()
                t.column("dueAt", .integer).notNull()
                t.column("enteredAt", .integer).notNull()
                t.column("updatedAt", .integer).notNull()
                t.column("reason", .text).notNull()
            }
            try db.create(
                index: "journey_run_due", on: JourneyRunRecord.databaseTableName, columns: ["dueAt"],
                condition: Column("state") == JourneyRunState.waiting.rawValue)
            try db.create(
                index: "journey_run_by_journey", on: JourneyRunRecord.databaseTableName,
                columns: ["journeyId", "customerId"])
            try db.create(
                index: "journey_run_by_customer", on: JourneyRunRecord.databaseTableName,
                columns: ["customerId", "enteredAt"])
        }
    }

    /// Enrols `customerID` in every active journey `trigger` starts, inside the transaction that saw the trigger: a
    /// journey without re-entry takes each customer once ever, one with re-entry once per trigger while not already
    /// walking it.
    static func enroll(_ db: Database, _ trigger: JourneyTriggerMatch, customerID: String, now: Date) throws {
        var journeys = JourneyRecord.filter(JourneyRecord.Columns.active == true)
        switch trigger {
        case .segment(let id): journeys = journeys.filter(JourneyRecord.Columns.triggerSegment == id)
        case .event(let kind, _): journeys = journeys.filter(JourneyRecord.Columns.triggerEvent == kind.rawValue)
        }
        let subject = if case .event(_, let subject) = trigger { subject } else { "" }
        for journey in try journeys.fetchAll(db) {
            var existing = JourneyRunRecord.filter(JourneyRunRecord.Columns.journeyId == journey.journeyId)
                .filter(JourneyRunRecord.Columns.customerId == customerID)
            if journey.allowReentry {
                existing = existing.filter(JourneyRunRecord.Columns.state == JourneyRunState.waiting.rawValue)
            }
            guard try existing.fetchCount(db) == 0 else { continue }
            try JourneyRunRecord(
                runId: EntityID.generate(), journeyId: journey.journeyId, customerId: customerID, step: 0,
                state: .waiting, dueAt: now.unixMillis, enteredAt: now.unixMillis, updatedAt: now.unixMillis,
                reason: "",
                triggerSubject: subject
            ).insert(db)
        }
    }

    /// Creates or replaces a journey, keeping its creation time and its customers' places.
    public func putJourney(_ journey: JourneyRecord) async throws -> (JourneyRecord, running: Int, completed: Int) {
        try await writer.write { db in
            var journey = journey
            if let stored = try JourneyRecord.fetchOne(db, key: journey.journeyId) {
                journey.createdAt = stored.createdAt
            }
            try journey.upsert(db)
            let counts = try runCounts(db, journey.journeyId)
            return (journey, counts.running, counts.completed)
        }
    }

    public func journey(id: String) async throws -> (JourneyRecord, running: Int, completed: Int) {
        try await writer.read { db in
            guard let journey = try JourneyRecord.fetchOne(db, key: id) else { throw OutreachError.journeyNotFound(id) }
            let counts = try runCounts(db, id)
            return (journey, counts.running, counts.completed)
        }
    }

    public func journeys(after: String?, limit: Int) async throws -> Page<(JourneyRecord, running: Int, completed: Int)>
    {
        try await writer.read { db in
            var request = JourneyRecord.order(JourneyRecord.Columns.journeyId)
            if let after { request = request.filter(JourneyRecord.Columns.journeyId > after) }
            let rows = try request.limit(limit + 1).fetchAll(db)
            return Page(
                fetched: try rows.map { journey in
                    let counts = try runCounts(db, journey.journeyId)
                    return (journey, counts.running, counts.completed)
                }, limit: limit)
        }
    }

    /// The journey's runs waiting and completed: those of customers this shard owns (a move's copies are another
    /// shard's).
    func runCounts(_ db: Database, _ journeyID: String) throws -> (running: Int, completed: Int) {
        let runs = JourneyRunRecord.filter(JourneyRunRecord.Columns.journeyId == journeyID)
            .filter(try ownership.slots.expression(db, customer: JourneyRunRecord.Columns.customerId))
        return (
            try runs.filter(JourneyRunRecord.Columns.state == JourneyRunState.waiting.rawValue).fetchCount(db),
            try runs.filter(JourneyRunRecord.Columns.state == JourneyRunState.completed.rawValue).fetchCount(db)
        )
    }

    /// Runs of one journey by customer id after `after`.
    public func runs(journeyID: String, after: String?, limit: Int) async throws -> Page<JourneyRunRecord> {
        try await writer.read { db in
            var request = JourneyRunRecord.filter(JourneyRunRecord.Columns.journeyId == journeyID)
                .filter(try ownership.slots.expression(db, customer: JourneyRunRecord.Columns.customerId))
            if let after { request = request.filter(JourneyRunRecord.Columns.runId > after) }
            return Page(
                fetched: try request.order(JourneyRunRecord.Columns.runId).limit(limit + 1).fetchAll(db), limit: limit)
        }
    }

    /// Runs of one customer by run id (creation order) after `after`.
    public func runs(customerID: String, after: String?, limit: Int) async throws -> Page<JourneyRunRecord> {
        try await writer.read { db in
            var request = JourneyRunRecord.filter(JourneyRunRecord.Columns.customerId == customerID)
            if let after { request = request.filter(JourneyRunRecord.Columns.runId > after) }
            return Page(
                fetched: try request.order(JourneyRunRecord.Columns.runId).limit(limit + 1).fetchAll(db), limit: limit)
        }
    }

    /// Waiting runs of active journeys due by `now`, earliest first, and when the next of the rest falls due.
    public func dueRuns(at now: Date, limit: Int) async throws -> (due: [JourneyRunRecord], next: Date?) {
        try await writer.read { db in
            let active = JourneyRecord.filter(JourneyRecord.Columns.active == true)
                .select(JourneyRecord.Columns.journeyId)
            let waiting = JourneyRunRecord.filter(JourneyRunRecord.Columns.state == JourneyRunState.waiting.rawValue)
                .filter(active.contains(JourneyRunRecord.Columns.journeyId))
            let due = try workableRows(
                db,
                waiting.filter(JourneyRunRecord.Columns.dueAt <= now.unixMillis).order(JourneyRunRecord.Columns.dueAt),
                customer: \.customerId, limit: limit)
            let next = try Int64.fetchOne(db, waiting.select(min(JourneyRunRecord.Columns.dueAt)))
            return (due, Self.nextDue(next, due: due.isEmpty, now: now))
        }
    }

    /// Moves a run on, in one transaction with `effect` (a queued message, a branch's evaluation), unless the run
    /// moved meanwhile (it is then left as it is: the step already happened).
    public func advance(
        _ run: JourneyRunRecord, now: Date,
        _ effect:
            @escaping @Sendable (Database) throws -> (step: Int, dueAt: Date?, state: JourneyRunState, reason: String)
    ) async throws {
        try await writer.write { db in
            guard var current = try JourneyRunRecord.fetchOne(db, key: run.runId), current.state == .waiting,
                current.step == run.step
            else { return }
            let next = try effect(db)
            current.step = next.step
            current.state = next.state
            current.reason = next.reason
            current.dueAt = (next.dueAt ?? now).unixMillis
            current.updatedAt = now.unixMillis
            try current.update(db)
        }
    }

    /// Holds a run at its step until `until` (a peer could not be reached).
    public func postpone(_ run: JourneyRunRecord, until: Date) async throws {
        _ = try await writer.write { db in
            try JourneyRunRecord.filter(JourneyRunRecord.Columns.runId == run.runId)
                .filter(JourneyRunRecord.Columns.state == JourneyRunState.waiting.rawValue)
                .updateAll(db, JourneyRunRecord.Columns.dueAt.set(to: until.unixMillis))
        }
    }

    /// Whether the customer matches `query` in the read model now.
    static func matches(_ db: Database, customerID: String, _ query: SegmentQuery) throws -> Bool {
        try CustomerFacts.filter(CustomerFacts.Columns.customerId == customerID).filter(query.condition).fetchCount(db)
            > 0
    }

    /// Ends the runs of a customer who left the read model (merged away, deleted, erased).
    static func exitRuns(_ db: Database, customerID: String, reason: String, now: Date) throws {
        try JourneyRunRecord.filter(JourneyRunRecord.Columns.customerId == customerID)
            .filter(JourneyRunRecord.Columns.state == JourneyRunState.waiting.rawValue)
            .updateAll(
                db,
                [
                    JourneyRunRecord.Columns.state.set(to: JourneyRunState.exited.rawValue),
                    Column("reason").set(to: reason), Column("updatedAt").set(to: now.unixMillis),
                ])
    }
}

extension OutreachStore {
    /// Everything held about one customer, for a privacy export: messages (oldest first), journey runs, memberships.
    public func export(customerID: String) async throws
        -> (messages: [MessageRecord], runs: [JourneyRunRecord], memberships: [SegmentMembership])
    {
        try await writer.read { db in
            (
                try MessageRecord.filter(MessageRecord.Columns.customerId == customerID)
                    .order(MessageRecord.Columns.createdAt, MessageRecord.Columns.messageId).fetchAll(db),
                try JourneyRunRecord.filter(JourneyRunRecord.Columns.customerId == customerID)
                    .order(JourneyRunRecord.Columns.runId).fetchAll(db),
                try SegmentMembership.filter(SegmentMembership.Columns.customerId == customerID)
                    .order(SegmentMembership.Columns.segmentId).fetchAll(db)
            )
        }
    }
}

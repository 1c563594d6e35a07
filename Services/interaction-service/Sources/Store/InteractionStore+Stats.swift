import C360ChangeFeed
public import C360StoreKit
public import Foundation
import GRDB

/// One row of the customer activity list.
public struct CustomerActivity: Sendable, Equatable {
    public var customerID: String
    public var totals: ActivityTotals
    public var orders: Int64
    public var openTickets: Int64
}

/// What the support calculator needs for one customer or for everyone.
public struct SupportInputs: Sendable {
    public var tickets: [Ticket]
    public var selfService: [SelfServiceSession]
    public var ticketOpenings: [(customerID: String, at: Date)]
}

/// Everything `GetCustomerStats` reads about one customer, from one snapshot of the database.
public struct CustomerStatisticsInputs: Sendable {
    public var totals: (activity: ActivityTotals, commerce: CommerceTotals)?
    /// Every touchpoint's time, channel and direction: best contact reads them all, engagement its windows.
    public var activity: [ActivityEvent]
    public var support: SupportInputs
    /// Open or awaiting the customer, newest first.
    public var openTickets: [Ticket]
    /// Newest first.
    public var recentTouchpoints: [Touchpoint]
}

extension InteractionStore {
    /// The inputs of every statistic `GetCustomerStats` answers, in one read transaction: the answer's parts agree
    /// with one another (a touchpoint stored mid-call is in all of them or none), and the call opens one snapshot
    /// instead of seven, reading the customer's activity once for both engagement and best contact.
    public func customerStatistics(
        customer customerID: String, support: (from: Date?, until: Date?), deflectionWindow: TimeInterval,
        openTicketLimit: Int, recentTouchpoints: Int
    ) async throws -> CustomerStatisticsInputs {
        try await writer.read { db in
            CustomerStatisticsInputs(
                totals: try totals(db, customer: customerID),
                activity: try activityEvents(db, customer: customerID, from: nil, until: nil),
                support: try supportInputs(
                    db, customer: customerID, from: support.from, until: support.until,
                    deflectionWindow: deflectionWindow),
                openTickets: try TicketRecord.fetchAll(
                    db.cachedStatement(sql: Self.newestOpenTickets),
                    arguments: [
                        customerID, TicketStatus.open.rawValue, TicketStatus.awaitingCustomer.rawValue,
                        openTicketLimit,
                    ]
                ).map { try $0.domain(keyring: keyring) },
                recentTouchpoints: try TouchpointRecord.fetchAll(
                    db.cachedStatement(sql: Self.newestTouchpoints), arguments: [customerID, recentTouchpoints]
                ).map { try $0.domain(keyring: keyring) })
        }
    }

    /// The first page of `tickets(customer:statuses: [.open, .awaitingCustomer] …)` and of `timeline` with no filter,
    /// in fixed SQL: the query interface writes a request's SQL on every call even when its statement is cached
    /// (`preparedOnce`), and for these two pages that was a sixth of interaction-service's CPU under GetCustomerStats.
    /// Same order, same index; a test holds them to the paged reads.
    static let newestOpenTickets = """
        SELECT * FROM ticket WHERE customerId = ? AND status IN (?, ?) ORDER BY openedAt DESC, ticketId DESC LIMIT ?
        """
    static let newestTouchpoints =
        "SELECT * FROM touchpoint WHERE customerId = ? ORDER BY occurredAt DESC, seq DESC LIMIT ?"

    /// The customer's lifetime counters, or nil when this service has nothing about them.
    public func totals(customer customerID: String) async throws -> (
        activity: ActivityTotals, commerce: CommerceTotals
    )? {
        try await writer.read { db in try totals(db, customer: customerID) }
    }

    func totals(_ db: Database, customer customerID: String) throws -> (
        activity: ActivityTotals, commerce: CommerceTotals
    )? {
        guard
            let summary = try CustomerSummaryRecord.fetchOne(
                db.cachedStatement(sql: "SELECT * FROM customer_summary WHERE customerId = ?"),
                arguments: [customerID])
        else { return nil }
        return (summary.activityTotals, summary.commerceTotals)
    }

    /// The customer's touchpoints in [from, until), as the engagement and best-contact calculators see them.
    public func activityEvents(customer customerID: String, from: Date?, until: Date?) async throws -> [ActivityEvent] {
        try await writer.read { db in try activityEvents(db, customer: customerID, from: from, until: until) }
    }

    func activityEvents(_ db: Database, customer customerID: String, from: Date?, until: Date?) throws
        -> [ActivityEvent]
    {
        try ActivityEventRow.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT occurredAt, channel, direction FROM touchpoint
                    WHERE customerId = ? AND occurredAt >= ? AND occurredAt < ?
                    """), arguments: [customerID, from?.unixMillis ?? Int64.min, until?.unixMillis ?? Int64.max]
        )
        .compactMap(\.activityEvent)
    }

    /// Recency, frequency and monetary inputs of every customer with a purchase in the reporting currency.
    public func rfmInputs() async throws -> [RfmInput] {
        try await writer.read { db in
            try RfmInputRow.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT lastPurchaseAt, orders, grossMinor - refundedMinor AS netMinor FROM customer_summary
                        WHERE orders > 0 AND lastPurchaseAt IS NOT NULL AND \(try owned.predicate(db, customer: "customerId"))
                        """)
            ).map(\.rfmInput)
        }
    }

    /// Tickets opened in [from, until), self-service sessions in that window, and ticket openings up to
    /// `deflectionWindow` after it; for one customer, or for everyone when `customerID` is nil.
    public func supportInputs(
        customer customerID: String?, from: Date?, until: Date?, deflectionWindow: TimeInterval
    ) async throws -> SupportInputs {
        try await writer.read { db in
            try supportInputs(
                db, customer: customerID, from: from, until: until, deflectionWindow: deflectionWindow)
        }
    }

    func supportInputs(
        _ db: Database, customer customerID: String?, from: Date?, until: Date?, deflectionWindow: TimeInterval
    ) throws -> SupportInputs {
        let lower = from?.unixMillis ?? Int64.min
        let upper = until?.unixMillis ?? Int64.max
        let openingsUpper = until.map { $0.addingTimeInterval(deflectionWindow).unixMillis } ?? Int64.max
        let customerClause =
            customerID == nil ? " AND \(try owned.predicate(db, customer: "customerId"))" : " AND customerId = ?"
        func arguments(_ values: [any DatabaseValueConvertible]) -> StatementArguments {
            StatementArguments(values + (customerID.map { [$0] } ?? []))
        }
        let tickets = try TicketRecord.fetchAll(
            db.cachedStatement(sql: "SELECT * FROM ticket WHERE openedAt >= ? AND openedAt < ?\(customerClause)"),
            arguments: arguments([lower, upper])
        ).map(\.statisticsDomain)
        let sessions = try SelfServiceRow.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT customerId, occurredAt FROM touchpoint
                    WHERE kind = 'self_service' AND occurredAt >= ? AND occurredAt < ?\(customerClause)
                    """), arguments: arguments([lower, upper])
        ).map(\.session)
        let openings = try TicketOpeningRow.fetchAll(
            db.cachedStatement(
                sql: "SELECT customerId, openedAt FROM ticket WHERE openedAt >= ? AND openedAt < ?\(customerClause)"
            ),
            arguments: arguments([lower, openingsUpper])
        ).map(\.opening)
        return SupportInputs(tickets: tickets, selfService: sessions, ticketOpenings: openings)
    }

    /// Every customer this service has data about, by id, one page after `afterID`.
    public func customerActivity(after afterID: String?, activeSince: Date?, limit: Int) async throws -> Page<
        CustomerActivity
    > {
        try await writer.read { db in
            let summaries = try CustomerSummaryRecord.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT * FROM customer_summary WHERE customerId > ? AND lastSeenAt >= ?
                        AND \(try owned.predicate(db, customer: "customerId")) ORDER BY customerId LIMIT ?
                        """), arguments: [afterID ?? "", activeSince?.unixMillis ?? Int64.min, limit + 1])
            return Page(fetched: summaries, limit: limit).map(\.customerActivity)
        }
    }

    /// How many customers this service has data about.
    public func customerCount() async throws -> Int64 {
        try await writer.read { db in
            try Int64.fetchOne(
                db.cachedStatement(
                    sql:
                        "SELECT COUNT(*) FROM customer_summary WHERE \(try owned.predicate(db, customer: "customerId"))"
                )) ?? 0
        }
    }

    /// The commerce counters of every customer with a purchase in the reporting currency.
    public func commerceTotalsOfBuyers() async throws -> [CommerceTotals] {
        try await writer.read { db in
            try CustomerSummaryRecord.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT * FROM customer_summary WHERE orders > 0 \
                        AND \(try owned.predicate(db, customer: "customerId"))
                        """)
            )
            .map(\.commerceTotals)
        }
    }

    /// Every ticket of one customer, oldest first (for exports).
    public func allTickets(customer customerID: String) async throws -> [Ticket] {
        try await writer.read { db in
            try TicketRecord.fetchAll(
                db.cachedStatement(sql: "SELECT * FROM ticket WHERE customerId = ? ORDER BY openedAt"),
                arguments: [customerID]
            ).map { try $0.domain(keyring: keyring) }
        }
    }

    /// Deletes everything this service holds about one customer; idempotent. After the commit it shreds every key
    /// that sealed the deleted rows — the customer's own and those of customers merged into them (a merge moves rows
    /// as they are) — so the copies of those rows in backups can no longer be opened, and purges the deleted pages
    /// from the WAL (`purgeDeletedData()`), so no file keeps them.
    public func eraseCustomer(_ customerID: String) async throws -> (touchpoints: Int, tickets: Int) {
        let (erased, owners) = try await writer.write { db in
            let owners = try MergeJournal.keyOwners(
                db, of: customerID,
                sealedValues: [
                    "SELECT body FROM touchpoint WHERE customerId = ?",
                    "SELECT attributes FROM touchpoint WHERE customerId = ? AND attributes IS NOT NULL",
                    "SELECT subject FROM ticket WHERE customerId = ?",
                ])
            try db.execute(sql: "DELETE FROM touchpoint WHERE customerId = ?", arguments: [customerID])
            let touchpoints = db.changesCount
            try db.execute(sql: "DELETE FROM ticket WHERE customerId = ?", arguments: [customerID])
            let tickets = db.changesCount
            try db.execute(sql: "DELETE FROM customer_summary WHERE customerId = ?", arguments: [customerID])
            try ChangeLog.forget(db, customer: customerID)
            try CustomerAlias.forget(db, customer: customerID)
            try ChangeLog.append(db, .customerDataErased, customer: customerID)
            return ((touchpoints: touchpoints, tickets: tickets), owners)
        }
        try keyring.shred(owners)
        await writer.purgeDeletedData()
        return erased
    }
}

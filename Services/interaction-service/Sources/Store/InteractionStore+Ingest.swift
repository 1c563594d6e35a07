import C360ChangeFeed
import C360StoreKit
import Foundation
import GRDB

/// What became of one event handed to `InteractionStore.ingest`.
public enum IngestOutcome: Equatable, Sendable {
    /// Stored now, as returned.
    case stored(Touchpoint)
    /// Its event id was already stored; nothing was written. Carries the touchpoint as first stored.
    case duplicate(Touchpoint)
    /// Refused by the ticket state machine; nothing was written for it.
    case rejected(InteractionError)
}

extension InteractionStore {
    /// Stores validated touchpoints (customer ids already resolved) in one transaction. Each event is stored whole
    /// (row, counters, ticket) or not at all; a duplicate or a rejected event does not stop the others.
    public func ingest(_ touchpoints: [Touchpoint]) async throws -> [IngestOutcome] {
        try await writer.write { db in try ingest(touchpoints, in: db) }
    }

    /// The same, inside a transaction the caller owns.
    func ingest(_ touchpoints: [Touchpoint], in db: Database) throws -> [IngestOutcome] {
        let recordedAt = now()
        var outcomes: [IngestOutcome] = []
        outcomes.reserveCapacity(touchpoints.count)
        // Hand-written and prepared once per connection on purpose, not `TouchpointRecord.insert`: a record's
        // persistence methods build their statement on every call, and this runs for every ingested event.
        let insert = try db.cachedStatement(
            sql: """
                INSERT INTO touchpoint (\(Touchpoint.columns)) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)
                ON CONFLICT (eventId) DO NOTHING
                """)
        // A batch names the same customers many times, and no merge can run inside this transaction.
        var survivors: [String: String] = [:]
        for var touchpoint in touchpoints {
            // Resolved before a merge this service has since applied: store it under the survivor.
            let requested = touchpoint.customerID
            touchpoint.customerID =
                try survivors[requested] ?? CustomerAlias.survivor(db, ofWrite: requested, handOver: handOver)
            survivors[requested] = touchpoint.customerID
            var ticketChange: (before: Ticket?, after: Ticket)?
            if touchpoint.kind.isTicketEvent {
                // A retried ticket event must not run the state machine again.
                if let existing = try storedTouchpoint(db, eventID: touchpoint.eventID) {
                    outcomes.append(.duplicate(existing))
                    continue
                }
                let before = try ticket(db, id: touchpoint.ticketID)
                do {
                    ticketChange = (before, try TicketTransitions.apply(touchpoint, to: before, now: recordedAt))
                } catch {
                    outcomes.append(.rejected(error))
                    continue
                }
            }
            // Insert first and look for the original only when the event id was taken: duplicates are rare, so the
            // common path costs one statement, not two.
            try insert.execute(arguments: touchpoint.insertArguments(recordedAt: recordedAt, keyring: keyring))
            guard db.changesCount == 1 else {
                outcomes.append(.duplicate(try storedTouchpoint(db, eventID: touchpoint.eventID) ?? touchpoint))
                continue
            }
            try updateSummary(db, with: touchpoint)
            try recordAffinity(db, purchase: touchpoint)
            if let ticketChange {
                try save(db, ticket: ticketChange.after)
            }
            try ChangeLog.append(
                db, touchpoint.kind.change, customer: touchpoint.customerID,
                subject: touchpoint.eventID, at: recordedAt)
            var stored = touchpoint
            stored.recordedAt = Date(unixMillis: recordedAt.unixMillis)
            stored.occurredAt = Date(unixMillis: touchpoint.occurredAt.unixMillis)
            outcomes.append(.stored(stored))
        }
        return outcomes
    }

    func storedTouchpoint(_ db: Database, eventID: String) throws -> Touchpoint? {
        try TouchpointRecord.fetchOne(
            db.cachedStatement(sql: "SELECT * FROM touchpoint WHERE eventId = ?"),
            arguments: [eventID]
        )
        .map { try $0.domain(keyring: keyring) }
    }

    /// Folds one stored touchpoint into its customer's counters.
    func updateSummary(_ db: Database, with touchpoint: Touchpoint) throws {
        let at = touchpoint.occurredAt.unixMillis
        let inbound: Int64? = touchpoint.direction == .inbound ? at : nil
        var orders: Int64 = 0
        var refunds: Int64 = 0
        var gross: Int64 = 0
        var refunded: Int64 = 0
        var discounted: Int64 = 0
        var otherCurrency: Int64 = 0
        var purchaseAt: Int64?
        if let purchase = touchpoint.purchase {
            let inCurrency = purchase.amount.currency == currency
            switch touchpoint.kind {
            case .purchase where inCurrency:
                orders = 1
                gross = purchase.amount.amountMinor
                discounted = purchase.discountCode.isEmpty ? 0 : 1
                purchaseAt = at
            case .purchase:
                otherCurrency = 1
            case .refund where inCurrency:
                refunds = 1
                refunded = purchase.amount.amountMinor
            default:
                break
            }
        }
        let openTicketsDelta: Int64 =
            switch touchpoint.kind {
            case .ticketOpened, .ticketReopened: 1
            case .ticketResolved: -1
            default: 0
            }
        try db.cachedStatement(sql: Self.summaryUpsert).execute(arguments: [
            touchpoint.customerID, at, at, inbound, orders, refunds, gross, refunded, discounted,
            purchaseAt, purchaseAt, otherCurrency, openTicketsDelta,
        ])
    }

    /// The columns of `customer_summary`, the customer id first.
    static let summaryColumns = """
        customerId, touchpoints, firstSeenAt, lastSeenAt, lastInboundAt, orders, refunds, grossMinor, refundedMinor,
        discountedOrders, firstPurchaseAt, lastPurchaseAt, otherCurrencyOrders, openTickets
        """

    /// One touchpoint folded into its customer's counters. Built once: the statement cache is keyed by this text,
    /// and interpolating it for each ingested event was a tenth of the upsert's cost.
    private static let summaryUpsert = """
        INSERT INTO customer_summary (\(summaryColumns))
        VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        \(summaryCombination)
        """

    /// How a customer's summary absorbs another summary (`excluded`): one new touchpoint's, or a merged-away
    /// customer's whole summary. Every counter is a sum, a minimum or a maximum, so combining is exact.
    static let summaryCombination = """
            ON CONFLICT (customerId) DO UPDATE SET
                touchpoints = touchpoints + excluded.touchpoints,
                firstSeenAt = min(firstSeenAt, excluded.firstSeenAt),
                lastSeenAt = max(lastSeenAt, excluded.lastSeenAt),
                lastInboundAt = max(coalesce(lastInboundAt, excluded.lastInboundAt), coalesce(excluded.lastInboundAt, lastInboundAt)),
                orders = orders + excluded.orders,
                refunds = refunds + excluded.refunds,
                grossMinor = grossMinor + excluded.grossMinor,
                refundedMinor = refundedMinor + excluded.refundedMinor,
                discountedOrders = discountedOrders + excluded.discountedOrders,
                firstPurchaseAt = coalesce(min(firstPurchaseAt, excluded.firstPurchaseAt), firstPurchaseAt, excluded.firstPurchaseAt),
                lastPurchaseAt = coalesce(max(lastPurchaseAt, excluded.lastPurchaseAt), lastPurchaseAt, excluded.lastPurchaseAt),
                otherCurrencyOrders = otherCurrencyOrders + excluded.otherCurrencyOrders,
                openTickets = openTickets + excluded.openTickets
        """

    func ticket(_ db: Database, id: String) throws -> Ticket? {
        try TicketRecord.fetchOne(db.cachedStatement(sql: "SELECT * FROM ticket WHERE ticketId = ?"), arguments: [id])
            .map { try $0.domain(keyring: keyring) }
    }

    /// Through a cached statement rather than `TicketRecord.save`, for the same reason as the touchpoint insert.
    private func save(_ db: Database, ticket: Ticket) throws {
        try db.cachedStatement(
            sql: "INSERT OR REPLACE INTO ticket (\(Ticket.columns)) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
        )
        .execute(arguments: ticket.arguments(keyring: keyring))
    }
}

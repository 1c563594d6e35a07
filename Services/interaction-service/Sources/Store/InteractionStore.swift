import C360ChangeFeed
public import C360ServerKit
import C360StoreKit
public import Foundation
public import GRDB

/// interaction-service's database: touchpoints, support tickets, and per-customer counters kept up to date on
/// ingest so statistics never scan a customer's whole history.
///
/// Instants are stored as Unix milliseconds (integers keep the 1M-row indexes small and comparisons cheap).
/// Every write is one transaction: an event is stored whole with its counters and ticket update, or not at all.
public struct InteractionStore: Sendable {
    let writer: any DatabaseWriter
    let now: @Sendable () -> Date
    /// Sums are kept in this ISO-4217 currency; purchases in others are counted but not summed.
    public let currency: String

    public init(writer: any DatabaseWriter, currency: String = "USD", now: @escaping @Sendable () -> Date = Date.init)
        throws {
        self.writer = writer
        self.currency = currency
        self.now = now
        try DatabaseSchema.migrate(writer, with: Self.schema)
    }

    public static var schema: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: touchpoints, tickets, customer summaries") { db in
            try db.execute(sql: """
                CREATE TABLE touchpoint (
                    seq INTEGER PRIMARY KEY,
                    eventId TEXT NOT NULL UNIQUE,
                    customerId TEXT NOT NULL,
                    occurredAt INTEGER NOT NULL,
                    recordedAt INTEGER NOT NULL,
                    channel TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    direction TEXT NOT NULL,
                    agentId TEXT NOT NULL DEFAULT '',
                    ticketId TEXT NOT NULL DEFAULT '',
                    campaignId TEXT NOT NULL DEFAULT '',
                    durationMs INTEGER,
                    purchase TEXT,
                    attributes TEXT,
                    body TEXT NOT NULL DEFAULT ''
                );
                CREATE INDEX touchpoint_timeline ON touchpoint(customerId, occurredAt, seq);
                CREATE INDEX touchpoint_ticket ON touchpoint(ticketId, occurredAt) WHERE ticketId <> '';
                CREATE INDEX touchpoint_self_service ON touchpoint(occurredAt) WHERE kind = 'self_service';

                CREATE TABLE ticket (
                    ticketId TEXT PRIMARY KEY,
                    customerId TEXT NOT NULL,
                    subject TEXT NOT NULL,
                    status TEXT NOT NULL,
                    priority TEXT NOT NULL,
                    channel TEXT NOT NULL,
                    openedAt INTEGER NOT NULL,
                    firstResponseAt INTEGER,
                    resolvedAt INTEGER,
                    agentReplyCount INTEGER NOT NULL DEFAULT 0,
                    customerReplyCount INTEGER NOT NULL DEFAULT 0,
                    reopenCount INTEGER NOT NULL DEFAULT 0,
                    assignedAgentId TEXT NOT NULL DEFAULT '',
                    openedEventId TEXT NOT NULL,
                    updatedAt INTEGER NOT NULL
                );
                CREATE INDEX ticket_by_customer ON ticket(customerId, openedAt);
                CREATE INDEX ticket_by_opened ON ticket(openedAt);

                CREATE TABLE customer_summary (
                    customerId TEXT PRIMARY KEY,
                    touchpoints INTEGER NOT NULL,
                    firstSeenAt INTEGER NOT NULL,
                    lastSeenAt INTEGER NOT NULL,
                    lastInboundAt INTEGER,
                    orders INTEGER NOT NULL DEFAULT 0,
                    refunds INTEGER NOT NULL DEFAULT 0,
                    grossMinor INTEGER NOT NULL DEFAULT 0,
                    refundedMinor INTEGER NOT NULL DEFAULT 0,
                    discountedOrders INTEGER NOT NULL DEFAULT 0,
                    firstPurchaseAt INTEGER,
                    lastPurchaseAt INTEGER,
                    otherCurrencyOrders INTEGER NOT NULL DEFAULT 0,
                    openTickets INTEGER NOT NULL DEFAULT 0
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerChangeFeed()
        migrator.registerMergeJournal()
        registerItemAffinity(&migrator)
        return migrator
    }
}

/// Whose database this is, for the shared `backup` and `restore` subcommands.
extension InteractionStore: ServiceStore {
    public static var identity: ServiceIdentity { .interaction }
}

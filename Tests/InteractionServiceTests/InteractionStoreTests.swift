import C360ServerKit
import C360TestSupport
import Foundation
import GRDB
import Testing

@testable import C360Interaction

@Suite("Interaction store: idempotent ingest and the counters it keeps")
struct InteractionStoreIngestTests {
    @Test("touchpoint, summary and ticket rows are read by position in their tables' column order, as stored")
    func columnOrder() async throws {
        let clock = TestClock()
        let store = try makeInteractionStore(clock: clock)
        let (columns, summaryColumns, ticketColumns) = try await store.writer.read { db in
            (
                try db.columns(in: TouchpointRecord.databaseTableName),
                try db.columns(in: CustomerSummaryRecord.databaseTableName),
                try db.columns(in: TicketRecord.databaseTableName)
            )
        }
        #expect(ticketColumns.map(\.name) == TicketRecord.tableColumns)
        #expect(columns.map(\.name) == TouchpointRecord.tableColumns)
        #expect(summaryColumns.map(\.name) == CustomerSummaryRecord.tableColumns)
        var event = touchpoint(
            "o1", at: clock.now().addingTimeInterval(-60), channel: .email, kind: .purchase,
            purchase: Purchase(orderID: "A", amount: Money(5_000, "USD")))
        event.direction = .outbound
        event.agentID = "agent-7"
        event.campaignID = "spring"
        event.duration = 12.5
        event.attributes = ["utm": "mail", "quote": "\"x\""]
        event.body = "thanks for your order"
        guard case .stored(let stored) = try await store.ingest([event])[0] else {
            Issue.record("not stored")
            return
        }
        let read = try await store.timeline(customer: Customers.ada, filter: TimelineFilter(), after: nil, limit: 5)
        #expect(read.items.map(\.touchpoint) == [stored])
        let totals = try #require(try await store.totals(customer: Customers.ada))
        #expect(totals.activity.touchpoints == 1)
        #expect(totals.activity.lastInboundAt == nil)
        #expect(totals.commerce.orders == 1)
        #expect(totals.commerce.grossMinor == 5_000)
        let activity = try await store.activityEvents(customer: Customers.ada, from: nil, until: nil)
        #expect(activity.map(\.channel) == [.email])
        #expect(activity.map(\.direction) == [.outbound])
    }

    @Test("an event id is stored once; sending it again answers the original and writes nothing")
    func idempotent() async throws {
        let clock = TestClock()
        let store = try makeInteractionStore(clock: clock)
        let first = touchpoint("evt-1", at: clock.now().addingTimeInterval(-60))
        let outcomes = try await store.ingest([first])
        guard case .stored(let stored) = outcomes[0] else {
            Issue.record("not stored: \(outcomes)")
            return
        }
        var changed = first
        changed.channel = .email
        #expect(try await store.ingest([changed]) == [.duplicate(stored)])
        #expect(try await store.totals(customer: Customers.ada)?.activity.touchpoints == 1)
    }

    @Test("purchases and refunds in the reporting currency are summed; other currencies are only counted")
    func commerceCounters() async throws {
        let clock = TestClock()
        let store = try makeInteractionStore(clock: clock)
        let day: TimeInterval = 86_400
        let start = clock.now().addingTimeInterval(-30 * day)
        _ = try await store.ingest([
            touchpoint("o1", at: start, kind: .purchase, purchase: Purchase(orderID: "A", amount: Money(5_000, "USD"))),
            touchpoint(
                "o2", at: start.addingTimeInterval(10 * day), kind: .purchase,
                purchase: Purchase(orderID: "B", amount: Money(3_000, "USD"), discountCode: "WELCOME")),
            touchpoint(
                "o3", at: start.addingTimeInterval(20 * day), kind: .purchase,
                purchase: Purchase(orderID: "C", amount: Money(900_000, "IRR"))),
            touchpoint(
                "r1", at: start.addingTimeInterval(21 * day), kind: .refund,
                purchase: Purchase(orderID: "A", amount: Money(1_000, "USD"))),
        ])
        let totals = try #require(try await store.totals(customer: Customers.ada)).commerce
        // Two USD orders (5,000 + 3,000 = 8,000 gross), one refund of 1,000: net 7,000; the IRR order only counted.
        #expect(totals.orders == 2 && totals.grossMinor == 8_000 && totals.refundedMinor == 1_000)
        #expect(totals.netMinor == 7_000 && totals.discountedOrders == 1 && totals.otherCurrencyOrders == 1)
        #expect(totals.firstPurchaseAt == start && totals.lastPurchaseAt == start.addingTimeInterval(10 * day))
    }

    @Test("late events keep first and last seen right")
    func seenRange() async throws {
        let clock = TestClock()
        let store = try makeInteractionStore(clock: clock)
        let now = clock.now()
        _ = try await store.ingest([touchpoint("b", at: now.addingTimeInterval(-100), direction: .outbound)])
        _ = try await store.ingest([touchpoint("a", at: now.addingTimeInterval(-500))])
        _ = try await store.ingest([touchpoint("c", at: now.addingTimeInterval(-50), direction: .outbound)])
        let activity = try #require(try await store.totals(customer: Customers.ada)).activity
        #expect(activity.touchpoints == 3)
        #expect(activity.firstSeenAt == now.addingTimeInterval(-500))
        #expect(activity.lastSeenAt == now.addingTimeInterval(-50))
        #expect(activity.lastInboundAt == now.addingTimeInterval(-500))
    }

    @Test("ticket events drive the ticket: first response, reopen, resolution; a reply to a resolved ticket is refused")
    func ticketStateMachine() async throws {
        let clock = TestClock()
        let store = try makeInteractionStore(clock: clock)
        let opened = clock.now().addingTimeInterval(-7_200)
        _ = try await store.ingest([
            touchpoint(
                "t-open", at: opened, channel: .chat, kind: .ticketOpened, ticketID: "T1",
                attributes: ["subject": "Cannot log in"]),
            touchpoint(
                "t-agent", at: opened.addingTimeInterval(600), channel: .chat, kind: .ticketReply,
                direction: .outbound, ticketID: "T1", agentID: "agent-7"),
            touchpoint(
                "t-resolve", at: opened.addingTimeInterval(1_200), channel: .chat, kind: .ticketResolved,
                direction: .outbound, ticketID: "T1", agentID: "agent-7"),
        ])
        var ticket = try await store.ticket("T1", customer: Customers.ada)
        // First response 600 s after opening; resolved after 1,200 s with one agent reply: first-contact resolution.
        #expect(ticket.subject == "Cannot log in" && ticket.status == .resolved)
        #expect(ticket.firstResponseTime == 600 && ticket.resolutionTime == 1_200)
        #expect(ticket.firstContactResolution == true && ticket.assignedAgentID == "agent-7")

        let late = try await store.ingest([
            touchpoint(
                "t-late", at: opened.addingTimeInterval(1_300), kind: .ticketReply,
                ticketID: "T1")
        ])
        #expect(late == [.rejected(.ticketResolved("T1"))])
        _ = try await store.ingest([
            touchpoint(
                "t-reopen", at: opened.addingTimeInterval(1_800), kind: .ticketReopened,
                ticketID: "T1")
        ])
        ticket = try await store.ticket("T1", customer: Customers.ada)
        #expect(ticket.status == .open && ticket.reopenCount == 1 && ticket.resolvedAt == nil)
        #expect(ticket.firstContactResolution == nil)
        // the refused reply stored nothing
        #expect(try await store.totals(customer: Customers.ada)?.activity.touchpoints == 4)
        #expect(
            try await store.ingest([touchpoint("t-other", at: opened, kind: .ticketReply, ticketID: "T404")])
                == [.rejected(.ticketNotFound("T404"))])
    }
}

@Suite("Interaction store: timeline paging, filters, export and erasure")
struct InteractionStoreTimelineTests {
    @Test("the timeline is newest first and pages stay correct while events arrive")
    func pagingUnderInserts() async throws {
        let clock = TestClock()
        let store = try makeInteractionStore(clock: clock)
        let base = clock.now().addingTimeInterval(-10_000)
        _ = try await store.ingest((0..<5).map { touchpoint("e\($0)", at: base.addingTimeInterval(Double($0) * 60)) })
        let first = try await store.timeline(customer: Customers.ada, filter: TimelineFilter(), after: nil, limit: 2)
        #expect(first.items.map(\.touchpoint.eventID) == ["e4", "e3"] && first.hasMore)
        // A newer event and a late-arriving older one come in between two page reads.
        _ = try await store.ingest([
            touchpoint("new", at: base.addingTimeInterval(9_000)),
            touchpoint("late", at: base.addingTimeInterval(30)),
        ])
        var seen = first.items.map(\.touchpoint.eventID)
        var position = first.items.last?.position
        while let current = position {
            let page = try await store.timeline(
                customer: Customers.ada, filter: TimelineFilter(), after: current, limit: 2)
            seen += page.items.map(\.touchpoint.eventID)
            position = page.hasMore ? page.items.last?.position : nil
        }
        #expect(seen == ["e4", "e3", "e2", "e1", "late", "e0"])
    }

    @Test(
        """
        the statistics' newest touchpoints and open tickets, read by fixed SQL, are the first pages of the timeline and \
        of the open-ticket list: newest first, ties of instants broken the same way
        """)
    func statisticsPagesMatchThePagedReads() async throws {
        let clock = TestClock()
        let store = try makeInteractionStore(clock: clock)
        let base = clock.now().addingTimeInterval(-10_000)
        func opened(_ id: String, at offset: TimeInterval) -> Touchpoint {
            touchpoint(
                "open-\(id)", at: base.addingTimeInterval(offset), channel: .chat, kind: .ticketOpened, ticketID: id)
        }
        _ = try await store.ingest([
            touchpoint("a", at: base), touchpoint("b", at: base.addingTimeInterval(60)),
            touchpoint("c", at: base.addingTimeInterval(60)), touchpoint("d", at: base.addingTimeInterval(120)),
            touchpoint("other", customer: Customers.sara, at: base.addingTimeInterval(900)),
            opened("T1", at: 10), opened("T2", at: 20), opened("T3", at: 30), opened("T4", at: 30),
            opened("T5", at: 40),
        ])
        _ = try await store.ingest([
            touchpoint(
                "reply-T3", at: base.addingTimeInterval(200), channel: .chat, kind: .ticketReply, direction: .outbound,
                ticketID: "T3", agentID: "agent-7"),
            touchpoint(
                "resolve-T5", at: base.addingTimeInterval(300), channel: .chat, kind: .ticketResolved,
                direction: .outbound, ticketID: "T5", agentID: "agent-7"),
        ])
        let statistics = try await store.customerStatistics(
            customer: Customers.ada, support: (nil, nil), deflectionWindow: 86_400, openTicketLimit: 3,
            recentTouchpoints: 4)
        let timeline = try await store.timeline(customer: Customers.ada, filter: TimelineFilter(), after: nil, limit: 4)
        let open = try await store.tickets(
            customer: Customers.ada, statuses: [.open, .awaitingCustomer], openedFrom: nil, openedUntil: nil,
            after: nil, limit: 3)
        #expect(
            statistics.recentTouchpoints.map(\.eventID) == ["resolve-T5", "reply-T3", "d", "c"],
            "c after b at one instant")
        #expect(statistics.recentTouchpoints.map(\.eventID) == timeline.items.map(\.touchpoint.eventID))
        #expect(statistics.openTickets.map(\.ticketID) == ["T4", "T3", "T2"], "T5 resolved; T3 awaits the customer")
        #expect(statistics.openTickets.map(\.ticketID) == open.items.map(\.ticketID))
        #expect(statistics.openTickets.map(\.status) == [.open, .awaitingCustomer, .open])
        let none = try await store.customerStatistics(
            customer: Customers.ada, support: (nil, nil), deflectionWindow: 86_400, openTicketLimit: 0,
            recentTouchpoints: 0)
        #expect(none.recentTouchpoints.isEmpty && none.openTickets.isEmpty)
    }

    @Test("filters by time range, channel, kind and ticket combine")
    func filters() async throws {
        let clock = TestClock()
        let store = try makeInteractionStore(clock: clock)
        let base = clock.now().addingTimeInterval(-1_000)
        _ = try await store.ingest([
            touchpoint("w", at: base, channel: .web),
            touchpoint("m", at: base.addingTimeInterval(10), channel: .email, kind: .message),
            touchpoint("l", at: base.addingTimeInterval(20), channel: .app, kind: .login),
            touchpoint("s", customer: Customers.sara, at: base.addingTimeInterval(30), channel: .email, kind: .message),
        ])
        var filter = TimelineFilter()
        filter.channels = [.email, .app]
        let ids = { (filter: TimelineFilter) in
            try await store.timeline(customer: Customers.ada, filter: filter, after: nil, limit: 10).items
                .map(\.touchpoint.eventID)
        }
        #expect(try await ids(filter) == ["l", "m"])
        filter.kinds = [.message]
        #expect(try await ids(filter) == ["m"])
        var range = TimelineFilter()
        range.from = base.addingTimeInterval(5)
        range.until = base.addingTimeInterval(20)
        #expect(try await ids(range) == ["m"])
    }

    @Test("export streams everything oldest first in chunks; erasure removes it all and is idempotent")
    func exportAndErase() async throws {
        let clock = TestClock()
        let store = try makeInteractionStore(clock: clock)
        let base = clock.now().addingTimeInterval(-10_000)
        _ = try await store.ingest((0..<7).map { touchpoint("x\($0)", at: base.addingTimeInterval(Double($0))) })
        _ = try await store.ingest([touchpoint("t", at: base, kind: .ticketOpened, ticketID: "T9")])
        var chunks: [[String]] = []
        try await store.exportTimeline(customer: Customers.ada, filter: TimelineFilter(), chunkSize: 3) { chunk in
            chunks.append(chunk.map(\.eventID))
        }
        #expect(chunks.flatMap { $0 }.count == 8 && chunks.map(\.count) == [3, 3, 2])
        #expect(chunks[0].first == "x0" || chunks[0].first == "t")
        let erased = try await store.eraseCustomer(Customers.ada)
        #expect(erased.touchpoints == 8 && erased.tickets == 1)
        #expect(try await store.totals(customer: Customers.ada) == nil)
        let again = try await store.eraseCustomer(Customers.ada)
        #expect(again.touchpoints == 0 && again.tickets == 0)
    }
}

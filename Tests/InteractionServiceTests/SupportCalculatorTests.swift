import C360ServerKit
import Foundation
import Testing

@testable import C360Interaction

/// Tickets and sessions for the support tests, from 2026-06-01T00:00:00Z.
private enum SupportFixture {
    static let start = Date(timeIntervalSince1970: 1_780_272_000)
    static let day: TimeInterval = 86_400

    static func at(_ seconds: TimeInterval) -> Date {
        start.addingTimeInterval(seconds)
    }

    /// A ticket opened `openedAfter` seconds after `start`; response and resolution are offsets from its opening.
    static func ticket(
        _ id: String, customer: String = "c1", status: TicketStatus, openedAfter: TimeInterval = 0,
        firstResponseAfter: TimeInterval? = nil, resolvedAfter: TimeInterval? = nil, agentReplies: Int = 0,
        reopens: Int = 0
    ) -> Ticket {
        let openedAt = at(openedAfter)
        return Ticket(
            ticketID: id, customerID: customer, subject: "Ticket \(id)", status: status, priority: .normal,
            channel: .email, openedAt: openedAt,
            firstResponseAt: firstResponseAfter.map { openedAt.addingTimeInterval($0) },
            resolvedAt: resolvedAfter.map { openedAt.addingTimeInterval($0) }, agentReplyCount: agentReplies,
            reopenCount: reopens, openedEventID: "ev-\(id)", updatedAt: openedAt
        )
    }

    /// Open tickets whose only difference is their first response time.
    static func responded(after times: [TimeInterval]) -> [Ticket] {
        times.enumerated().map { index, time in
            ticket("r\(index)", status: .awaitingCustomer, firstResponseAfter: time, agentReplies: 1)
        }
    }

    static func stats(_ tickets: [Ticket]) -> SupportStats {
        SupportCalculator.support(tickets: tickets, selfService: [], ticketOpenings: [])
    }
}

@Suite("SupportCalculator: ticket counts and first-contact resolution")
struct SupportCalculatorResolutionTests {
    private typealias F = SupportFixture

    @Test("no tickets and no sessions give zero counts, no rates and an empty histogram")
    func nothing() {
        let stats = F.stats([])

        #expect(stats.ticketsOpened == 0 && stats.ticketsOpen == 0 && stats.ticketsResolved == 0)
        #expect(stats.firstContactResolutionRate == nil)
        #expect(stats.firstResponseCount == 0 && stats.firstResponseTotal == 0)
        #expect(stats.meanFirstResponseTime == nil && stats.medianFirstResponseTime == nil)
        #expect(stats.meanResolutionTime == nil && stats.resolutionTotal == 0)
        #expect(stats.firstResponseHistogram == [0, 0, 0, 0, 0, 0, 0])
        #expect(stats.selfServiceSessions == 0 && stats.deflectedSessions == 0 && stats.deflectionRate == nil)
        #expect(stats.lastTicketAt == nil)
    }

    @Test("a reopened ticket or one needing two agent replies is resolved but not at first contact")
    func firstContactResolution() {
        let tickets = [
            F.ticket("t1", status: .resolved, firstResponseAfter: 600, resolvedAfter: 3_600, agentReplies: 1),
            F.ticket(
                "t2", status: .resolved, firstResponseAfter: 1_200, resolvedAfter: 7_200, agentReplies: 1, reopens: 1
            ),
            F.ticket("t3", status: .resolved, firstResponseAfter: 60, resolvedAfter: 86_400, agentReplies: 2),
            F.ticket("t4", status: .open),
            F.ticket("t5", status: .awaitingCustomer, firstResponseAfter: 300, agentReplies: 1),
        ]
        let stats = F.stats(tickets)

        // 5 opened; t4 (open) and t5 (awaiting customer) are not resolved → 2 open, 3 resolved.
        // Only t1 is first contact (t2 reopened, t3 two replies): FCR = 1/3. Reopens: 1.
        #expect(stats.ticketsOpened == 5)
        #expect(stats.ticketsOpen == 2)
        #expect(stats.ticketsResolved == 3)
        #expect(stats.ticketsResolvedFirstContact == 1)
        #expect(stats.firstContactResolutionRate == 1.0 / 3.0)
        #expect(stats.reopens == 1)
        // Resolution times of the 3 resolved: 3600 + 7200 + 86400 = 97200, mean 32400.
        #expect(stats.resolutionTotal == 97_200)
        #expect(stats.meanResolutionTime == 32_400)
        // First responses of t1, t2, t3, t5: 600 + 1200 + 60 + 300 = 2160 over 4, mean 540.
        #expect(stats.firstResponseCount == 4)
        #expect(stats.firstResponseTotal == 2_160)
        #expect(stats.meanFirstResponseTime == 540)
    }

    @Test("the last ticket time is the latest opening, whatever the order")
    func lastTicket() {
        let tickets = [
            F.ticket("a", status: .open, openedAfter: 0),
            F.ticket("b", status: .open, openedAfter: 5 * F.day),
            F.ticket("c", status: .resolved, openedAfter: 2 * F.day),
        ]

        // Openings at +0, +5 d, +2 d → +5 d.
        #expect(F.stats(tickets).lastTicketAt == F.at(5 * F.day))
    }
}

@Suite("SupportCalculator: first response times")
struct SupportCalculatorResponseTimeTests {
    private typealias F = SupportFixture

    @Test("the median of an even count is the mean of the two middle values")
    func evenMedian() {
        // Sorted 60, 300, 600, 1200 → (300 + 600) / 2 = 450.
        #expect(F.stats(F.responded(after: [600, 1_200, 60, 300])).medianFirstResponseTime == 450)
    }

    @Test("the median of an odd count is the middle value")
    func oddMedian() {
        // Sorted 60, 300, 7200 → 300; mean (60 + 300 + 7200) / 3 = 2520.
        let stats = F.stats(F.responded(after: [60, 7_200, 300]))
        #expect(stats.medianFirstResponseTime == 300)
        #expect(stats.meanFirstResponseTime == 2_520)
    }

    @Test("a time equal to a bucket bound falls in that bucket; one just above goes to the next")
    func histogramBounds() {
        // Bounds 300, 900, 3600, 14400, 86400, 259200, then "above".
        // 300 → 0; 300.5 and 900 → 1; 3600 → 2; 14400 → 3; 86400 → 4; 259200 → 5; 259201 → 6.
        let times: [TimeInterval] = [300, 300.5, 900, 3_600, 14_400, 86_400, 259_200, 259_201]
        let stats = F.stats(F.responded(after: times))
        #expect(stats.firstResponseHistogram == [1, 2, 1, 1, 1, 1, 1])
        #expect(stats.firstResponseHistogram.count == SupportStats.histogramBounds.count + 1)
    }

    @Test("tickets without an agent reply stay out of response times")
    func unanswered() {
        let tickets = [
            F.ticket("x", status: .open),
            F.ticket("y", status: .open, firstResponseAfter: 120, agentReplies: 1),
        ]

        // Only y responded: count 1, total 120, median 120, histogram bucket 0 (≤ 300).
        let stats = F.stats(tickets)
        #expect(stats.firstResponseCount == 1)
        #expect(stats.firstResponseTotal == 120)
        #expect(stats.medianFirstResponseTime == 120)
        #expect(stats.firstResponseHistogram == [1, 0, 0, 0, 0, 0, 0])
    }
}

@Suite("SupportCalculator: self-service deflection")
struct SupportCalculatorDeflectionTests {
    private typealias F = SupportFixture

    let sessions = [
        SelfServiceSession(customerID: "c1", at: F.at(0)), // s1
        SelfServiceSession(customerID: "c1", at: F.at(10 * F.day)), // s2
        SelfServiceSession(customerID: "c2", at: F.at(0)), // s3
        SelfServiceSession(customerID: "c2", at: F.at(20 * F.day)), // s4
        SelfServiceSession(customerID: "c4", at: F.at(30 * F.day)), // s5
    ]
    let openings: [(customerID: String, at: Date)] = [
        (customerID: "c1", at: F.at(1 * F.day)), // exactly 24 h after s1: inside its window
        (customerID: "c1", at: F.at(11 * F.day + 1)), // 24 h + 1 s after s2: outside
        (customerID: "c3", at: F.at(3_600)), // another customer, 1 h after s3: does not count for c2
        (customerID: "c2", at: F.at(20 * F.day - 1)), // 1 s before s4: before the session, does not count
        (customerID: "c4", at: F.at(30 * F.day)), // the same instant as s5: inside
    ]

    @Test("a session is deflected unless the same customer opens a ticket within the next 24 hours, ends included")
    func defaultWindow() {
        let stats = SupportCalculator.support(tickets: [], selfService: sessions, ticketOpenings: openings)

        // s1 followed (at +24 h exactly), s5 followed (same instant); s2, s3, s4 deflected: 3 of 5 = 0.6.
        #expect(stats.selfServiceSessions == 5)
        #expect(stats.deflectedSessions == 3)
        #expect(stats.deflectionRate == 0.6)
    }

    @Test("a shorter deflection window lets a ticket a day later count as deflected")
    func shorterWindow() {
        let stats = SupportCalculator.support(
            tickets: [], selfService: sessions, ticketOpenings: openings, deflectionWindow: 3_600
        )

        // With 1 h, s1's ticket a day later no longer follows it: s1, s2, s3, s4 deflected = 4 of 5 = 0.8.
        #expect(stats.deflectedSessions == 4)
        #expect(stats.deflectionRate == 0.8)
    }
}

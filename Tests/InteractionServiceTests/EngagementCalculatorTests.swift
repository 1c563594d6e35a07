import C360ServerKit
import Foundation
import Testing

@testable import C360Interaction

/// Fixed instants for the engagement tests.
private enum EngagementFixture {
    /// 2026-06-01T12:00:00Z.
    static let asOf = Date(timeIntervalSince1970: 1_780_315_200)
    static let day: TimeInterval = 86_400

    /// An event `secondsBefore` seconds before `asOf` (negative means after it).
    static func event(
        _ secondsBefore: TimeInterval, _ channel: Channel, _ direction: TouchpointDirection = .inbound
    ) -> ActivityEvent {
        ActivityEvent(occurredAt: asOf.addingTimeInterval(-secondsBefore), channel: channel, direction: direction)
    }
}

@Suite("EngagementCalculator: which touchpoints fall into the 7, 30 and 90 day windows")
struct EngagementCalculatorWindowTests {
    private typealias F = EngagementFixture

    @Test("a customer without touchpoints gets three empty windows and keeps their lifetime totals")
    func noEvents() {
        let totals = ActivityTotals(touchpoints: 12, firstSeenAt: F.asOf.addingTimeInterval(-400 * F.day))
        let stats = EngagementCalculator.engagement(events: [], totals: totals, asOf: F.asOf)

        // Default windows, in order; nothing counted anywhere.
        #expect(stats.asOf == F.asOf)
        #expect(stats.totals == totals)
        #expect(stats.windows.map(\.days) == [7, 30, 90])
        for window in stats.windows {
            #expect(window.touchpoints == 0 && window.inbound == 0 && window.outbound == 0)
            #expect(window.activeDays == 0)
            #expect(window.byChannel.isEmpty)
        }
    }

    @Test("an event exactly a window's length old has left that window; one at asOf is inside")
    func windowEdges() {
        let events = [
            F.event(0, .email), // at asOf: in 7, 30, 90
            F.event(7 * F.day, .sms), // exactly 7 days old: out of 7, in 30 and 90
            F.event(30 * F.day, .web), // exactly 30 days old: in 90 only
            F.event(90 * F.day, .chat), // exactly 90 days old: in none
        ]
        let stats = EngagementCalculator.engagement(events: events, totals: ActivityTotals(), asOf: F.asOf)

        // 7 days: 1 (asOf); 30 days: 2 (asOf, 7 d); 90 days: 3 (asOf, 7 d, 30 d).
        #expect(stats.windows.map(\.touchpoints) == [1, 2, 3])
        #expect(stats.windows[0].byChannel == [.email: 1])
        #expect(stats.windows[2].byChannel == [.email: 1, .sms: 1, .web: 1])
    }

    @Test("events after asOf and before the longest window are ignored")
    func outsideEveryWindow() {
        let events = [
            F.event(-1, .email), // one second after asOf
            F.event(91 * F.day, .web), // 91 days old
        ]
        let stats = EngagementCalculator.engagement(events: events, totals: ActivityTotals(), asOf: F.asOf)

        // Neither counts in any window.
        #expect(stats.windows.map(\.touchpoints) == [0, 0, 0])
        #expect(stats.windows.map(\.activeDays) == [0, 0, 0])
    }

    @Test("window lengths the caller chooses come back in the order asked")
    func customWindows() {
        let events = [F.event(2 * F.day, .app)]
        let stats = EngagementCalculator.engagement(
            events: events, totals: ActivityTotals(), asOf: F.asOf, windowDays: [1, 14]
        )

        // A 2-day-old event: not in the 1-day window, in the 14-day window.
        #expect(stats.windows.map(\.days) == [1, 14])
        #expect(stats.windows.map(\.touchpoints) == [0, 1])
    }
}

@Suite("EngagementCalculator: what a window counts")
struct EngagementCalculatorCountingTests {
    private typealias F = EngagementFixture

    @Test("touchpoints split by direction and by channel, leaving out channels without events")
    func directionAndChannel() {
        let events = [
            F.event(1 * F.day, .email, .inbound),
            F.event(2 * F.day, .email, .outbound),
            F.event(3 * F.day, .chat, .inbound),
        ]
        let window = EngagementCalculator.engagement(events: events, totals: ActivityTotals(), asOf: F.asOf).windows[0]

        // 3 touchpoints in 7 days: 2 inbound, 1 outbound; email 2, chat 1, no other channel keys.
        #expect(window.touchpoints == 3)
        #expect(window.inbound == 2)
        #expect(window.outbound == 1)
        #expect(window.byChannel == [.email: 2, .chat: 1])
    }

    @Test("active days are distinct UTC calendar days, not 24-hour spans")
    func activeDaysAreUTCDates() {
        // asOf is 2026-06-01T12:00:00Z.
        let events = [
            F.event(1 * 3_600, .web), // 2026-06-01T11:00:00Z
            F.event(12 * 3_600, .web), // 2026-06-01T00:00:00Z: same UTC day as the one above
            F.event(12 * 3_600 + 1, .web), // 2026-05-31T23:59:59Z: one second earlier, previous day
            F.event(36 * 3_600, .web), // 2026-05-31T00:00:00Z: same day as the one above
        ]
        let window = EngagementCalculator.engagement(events: events, totals: ActivityTotals(), asOf: F.asOf).windows[0]

        // 4 touchpoints on 2 UTC dates: 2026-06-01 and 2026-05-31.
        #expect(window.touchpoints == 4)
        #expect(window.activeDays == 2)
    }
}

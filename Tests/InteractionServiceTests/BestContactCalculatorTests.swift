import C360ServerKit
import Foundation
import Testing

@testable import C360Interaction

/// Instants around Monday 2026-11-23 for the best-contact tests.
private enum BestContactFixture {
    /// Monday 2026-11-23T00:00:00Z.
    static let mondayUTC: TimeInterval = 1_795_392_000

    /// An event at `mondayUTC + seconds`.
    static func event(
        _ seconds: TimeInterval, _ channel: Channel, _ direction: TouchpointDirection = .inbound
    ) -> ActivityEvent {
        ActivityEvent(
            occurredAt: Date(timeIntervalSince1970: mondayUTC + seconds), channel: channel, direction: direction
        )
    }

    static func tehran() throws -> TimeZone {
        try #require(TimeZone(identifier: "Asia/Tehran"))
    }

    static func utc() throws -> TimeZone {
        try #require(TimeZone(identifier: "UTC"))
    }
}

@Suite("BestContactCalculator: the customer's best channel and hour")
struct BestContactCalculatorTehranTests {
    private typealias F = BestContactFixture

    @Test("in Tehran (UTC+3:30) inbound replies pick the channel and the local hour of the week; outbound are ignored")
    func tehranWeek() throws {
        let hour: TimeInterval = 3_600
        let events = [
            // Mon 06:00, 06:10, 06:20 UTC = Mon 09:30, 09:40, 09:50 Tehran → hour of week 0·24 + 9 = 9.
            F.event(6 * hour, .email),
            F.event(6 * hour + 600, .email),
            F.event(6 * hour + 1_200, .email),
            // Sun 2026-11-22 20:29 UTC = Sun 23:59 Tehran → 6·24 + 23 = 167.
            F.event(-(3 * hour + 31 * 60), .chat),
            // Sun 2026-11-22 20:30 UTC = Mon 00:00 Tehran → 0.
            F.event(-(3 * hour + 30 * 60), .chat),
            // Wed 2026-11-25 10:45 UTC = Wed 14:15 Tehran → 2·24 + 14 = 62.
            F.event(2 * 24 * hour + 10 * hour + 45 * 60, .phone),
            // Four outbound SMS: they would outnumber email if counted.
            F.event(30 * hour, .sms, .outbound),
            F.event(30 * hour + 60, .sms, .outbound),
            F.event(30 * hour + 120, .sms, .outbound),
            F.event(30 * hour + 180, .sms, .outbound),
        ]
        let tehran = try F.tehran()
        let best = BestContactCalculator.bestContact(events: events, timeZone: tehran)

        // 6 inbound: email 3 (3/6), chat 2 (2/6), phone 1 (1/6). Hours: 9 ×3; 0, 62, 167 ×1 each (ties by hour).
        #expect(best.sampleSize == 6)
        #expect(best.timeZone == "Asia/Tehran")
        #expect(best.bestChannel == .email)
        #expect(
            best.channels == [
                ChannelReach(channel: .email, interactions: 3, score: 3.0 / 6.0),
                ChannelReach(channel: .chat, interactions: 2, score: 2.0 / 6.0),
                ChannelReach(channel: .phone, interactions: 1, score: 1.0 / 6.0),
            ])
        #expect(best.bestHourOfWeek == 9)
        #expect(best.topHours.map { $0.hourOfWeek } == [9, 0, 62, 167])
        #expect(best.topHours.map { $0.interactions } == [3, 1, 1, 1])
    }

    @Test("the half-hour offset moves Sunday 20:30 UTC into Monday's first hour in Tehran")
    func halfHourOffset() throws {
        // Sun 20:29 UTC = Sun 23:59 Tehran → 167; Sun 20:30 UTC = Mon 00:00 Tehran → 0.
        let tehran = try F.tehran()
        let sundayLate = F.event(-(3 * 3_600 + 31 * 60), .app)
        let mondayEarly = F.event(-(3 * 3_600 + 30 * 60), .app)
        let before = BestContactCalculator.bestContact(events: [sundayLate], timeZone: tehran)
        let after = BestContactCalculator.bestContact(events: [mondayEarly], timeZone: tehran)
        #expect(before.bestHourOfWeek == 167)
        #expect(after.bestHourOfWeek == 0)
    }
}

@Suite("BestContactCalculator: ties, limits and no replies")
struct BestContactCalculatorOrderingTests {
    private typealias F = BestContactFixture

    @Test("channels tied on interactions follow Channel.allCases order; tied hours go to the lowest")
    func ties() throws {
        let events = [
            F.event(2 * 86_400 + 10 * 3_600, .phone), // Wed 10:00 UTC → 58
            F.event(23 * 3_600, .web), // Mon 23:00 UTC → 23
            F.event(6 * 86_400, .email), // Sun 00:00 UTC → 144
        ]
        let utc = try F.utc()
        let best = BestContactCalculator.bestContact(events: events, timeZone: utc)

        // One each: allCases order web, …, email, …, phone. Hours 23, 58, 144 with one each → best 23.
        #expect(best.channels.map(\.channel) == [.web, .email, .phone])
        #expect(best.bestChannel == .web)
        #expect(best.bestHourOfWeek == 23)
        #expect(best.topHours.map { $0.hourOfWeek } == [23, 58, 144])
    }

    @Test("only the five busiest hours are listed, most first")
    func topFive() throws {
        // Monday hours 0…6 UTC with 1…7 interactions: the top five are hours 6, 5, 4, 3, 2 with 7, 6, 5, 4, 3.
        let events = (0...6).flatMap { hour in
            Array(repeating: F.event(TimeInterval(hour * 3_600), .chat), count: hour + 1)
        }
        let utc = try F.utc()
        let best = BestContactCalculator.bestContact(events: events, timeZone: utc)

        #expect(best.sampleSize == 28)
        #expect(best.topHours.map { $0.hourOfWeek } == [6, 5, 4, 3, 2])
        #expect(best.topHours.map { $0.interactions } == [7, 6, 5, 4, 3])
        #expect(best.bestHourOfWeek == 6)
    }

    @Test("a customer who never replied has no best channel or hour")
    func noInbound() throws {
        let events = [F.event(0, .email, .outbound), F.event(3_600, .sms, .outbound)]
        let tehran = try F.tehran()
        let best = BestContactCalculator.bestContact(events: events, timeZone: tehran)

        // 0 inbound: nothing to rank.
        #expect(best.sampleSize == 0)
        #expect(best.bestChannel == nil)
        #expect(best.bestHourOfWeek == nil)
        #expect(best.channels.isEmpty)
        #expect(best.topHours.isEmpty)
        #expect(best.timeZone == "Asia/Tehran")
    }
}

@Suite("BestContactCalculator: the hour of the week is the Gregorian calendar's, in the customer's zone")
struct HourOfWeekTests {
    @Test(
        "weekday and hour agree with Calendar across daylight saving, half-hour offsets and instants before 1970",
        arguments: ["UTC", "America/New_York", "Europe/London", "Asia/Tehran", "Australia/Lord_Howe", "Asia/Kathmandu"])
    func agreesWithCalendar(zone: String) throws {
        let timeZone = try #require(TimeZone(identifier: zone))
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        // Every 7,919 s (a prime, so minutes and hours drift) over 1969–2027, and the seconds around 2026's changes.
        var instants = stride(from: -31_536_000.0, to: 1_830_000_000.0, by: 7_919_000.0).map { $0 }
        instants += stride(from: 1_772_000_000.0, to: 1_804_000_000.0, by: 7_919.5).map { $0 }
        for instant in instants {
            let date = Date(timeIntervalSince1970: instant)
            let expected =
                (calendar.component(.weekday, from: date) + 5) % 7 * 24 + calendar.component(.hour, from: date)
            #expect(BestContactCalculator.hourOfWeek(of: date, in: timeZone) == expected, "\(zone) at \(instant)")
        }
    }
}

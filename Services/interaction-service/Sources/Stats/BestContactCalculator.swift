import C360ServerKit
public import Foundation

/// Finds the channel and the hour of the week at which a customer is most likely to answer. It looks only at
/// inbound touchpoints, because those are the ones where the customer responded. Campaigns and journeys use the
/// result to time and route outreach.
public enum BestContactCalculator {
    /// Computes the best contact time from a customer's touchpoints.
    ///
    /// - Channels are sorted by inbound interactions, most first, with ties in `Channel.allCases` order. Each
    ///   channel's score is its share of all inbound interactions.
    /// - Hour of the week = weekday · 24 + hour in `timeZone` (Gregorian calendar, Monday = 0 … Sunday = 6), so
    ///   0…167. Offsets that are not whole hours, such as Asia/Tehran's +03:30, are honoured.
    /// - Top hours: up to five, most interactions first, ties to the lower hour. The best hour is the first of them.
    /// - Parameters:
    ///   - events: the customer's touchpoints in the period the caller chose. Outbound ones are ignored.
    ///   - timeZone: the customer's time zone, so that "9 in the morning" means their morning.
    public static func bestContact(events: [ActivityEvent], timeZone: TimeZone) -> BestContactTime {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        var byChannel: [Channel: Int64] = [:]
        var byHour: [Int: Int64] = [:]
        var sampleSize: Int64 = 0
        for event in events where event.direction == .inbound {
            sampleSize += 1
            byChannel[event.channel, default: 0] += 1
            byHour[hourOfWeek(of: event.occurredAt, in: calendar), default: 0] += 1
        }
        let total = Double(sampleSize)
        let channels =
            byChannel
            .map { ChannelReach(channel: $0.key, interactions: $0.value, score: Double($0.value) / total) }
            .sorted { lhs, rhs in
                lhs.interactions != rhs.interactions
                    ? lhs.interactions > rhs.interactions : rank(of: lhs.channel) < rank(of: rhs.channel)
            }
        let topHours: [(hourOfWeek: Int, interactions: Int64)] =
            byHour
            .sorted { lhs, rhs in lhs.value != rhs.value ? lhs.value > rhs.value : lhs.key < rhs.key }
            .prefix(5)
            .map { (hourOfWeek: $0.key, interactions: $0.value) }
        return BestContactTime(
            bestChannel: channels.first?.channel,
            bestHourOfWeek: topHours.first?.hourOfWeek,
            timeZone: timeZone.identifier,
            sampleSize: sampleSize,
            channels: channels,
            topHours: topHours
        )
    }

    /// Returns the hour of the week of `date` in `calendar`'s time zone: 0 = Monday 00:00–00:59 … 167 = Sunday
    /// 23:00–23:59.
    static func hourOfWeek(of date: Date, in calendar: Calendar) -> Int {
        // Calendar weekdays run 1 = Sunday … 7 = Saturday; shift so that Monday is 0 and Sunday 6.
        let dayOfWeek = (calendar.component(.weekday, from: date) + 5) % 7
        return dayOfWeek * 24 + calendar.component(.hour, from: date)
    }

    /// Returns a channel's position in `Channel.allCases`, which breaks ties so that the order is the same on every
    /// call.
    static func rank(of channel: Channel) -> Int {
        Channel.allCases.firstIndex(of: channel) ?? Int.max
    }
}

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
        var byChannel: [Channel: Int64] = [:]
        var byHour: [Int: Int64] = [:]
        var sampleSize: Int64 = 0
        for event in events where event.direction == .inbound {
            sampleSize += 1
            byChannel[event.channel, default: 0] += 1
            byHour[hourOfWeek(of: event.occurredAt, in: timeZone), default: 0] += 1
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

    /// Returns the hour of the week of `date` in `timeZone`: 0 = Monday 00:00–00:59 … 167 = Sunday 23:00–23:59.
    ///
    /// Arithmetic on the local Unix time (the instant shifted by the zone's offset at that instant, so daylight saving
    /// and offsets such as +03:30 count) rather than `Calendar.component`, which costs a full date decomposition per
    /// call: two per inbound touchpoint were a third of GetCustomerStats' own CPU. Days since 1970-01-01 (a Thursday)
    /// give the weekday, as they do in the Gregorian calendar for every date a touchpoint can carry.
    static func hourOfWeek(of date: Date, in timeZone: TimeZone) -> Int {
        let local = Int64(date.timeIntervalSince1970.rounded(.down)) + Int64(timeZone.secondsFromGMT(for: date))
        let (days, second) = local.floorDivided(by: 86_400)
        let dayOfWeek = Int((days + 3).floorDivided(by: 7).remainder)
        return dayOfWeek * 24 + Int(second / 3_600)
    }

    /// Returns a channel's position in `Channel.allCases`, which breaks ties so that the order is the same on every
    /// call.
    static func rank(of channel: Channel) -> Int {
        Channel.allCases.firstIndex(of: channel) ?? Int.max
    }
}

extension Int64 {
    /// The quotient rounded towards minus infinity and the remainder that goes with it (never negative for a positive
    /// divisor), for instants before 1970 as well as after.
    fileprivate func floorDivided(by divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        let (quotient, remainder) = quotientAndRemainder(dividingBy: divisor)
        return remainder < 0 ? (quotient - 1, remainder + divisor) : (quotient, remainder)
    }
}

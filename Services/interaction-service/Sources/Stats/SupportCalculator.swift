public import Foundation

/// Summarises tickets and self-service sessions into the support KPIs: open and resolved counts, first-contact
/// resolution, response and resolution times, and deflection. The same function serves one customer's profile and
/// the global KPIs, because only the tickets passed in differ.
public enum SupportCalculator {
    /// Computes the support KPIs of `tickets` and `selfService`.
    ///
    /// - FCR rate = tickets resolved at first contact (`Ticket.firstContactResolution`: one agent reply, never
    ///   reopened) ÷ resolved tickets.
    /// - First response times come from every ticket that has a first response, whether it is resolved or not.
    ///   With an even count, the median is the mean of the two middle values.
    /// - Resolution times come from resolved tickets only.
    /// - The histogram puts a time in the first bucket whose bound (`SupportStats.histogramBounds`) it does not
    ///   exceed. The extra last bucket holds everything above the last bound.
    /// - A self-service session is deflected when the same customer opened no ticket in
    ///   [session, session + `deflectionWindow`], both ends included.
    /// - Parameters:
    ///   - tickets: the tickets opened in the window the caller chose.
    ///   - selfService: the self-service sessions in that window.
    ///   - ticketOpenings: every ticket opening that could follow one of those sessions. This may include tickets
    ///     opened after the window ends.
    ///   - deflectionWindow: how long after a session a ticket still counts as the session having failed.
    public static func support(
        tickets: [Ticket], selfService: [SelfServiceSession], ticketOpenings: [(customerID: String, at: Date)],
        deflectionWindow: TimeInterval = 86_400
    ) -> SupportStats {
        let resolved = tickets.filter { $0.status == .resolved }
        let firstContact = resolved.count(where: { $0.firstContactResolution == true })
        let responseTimes = tickets.compactMap { $0.firstResponseTime }
        let resolutionTimes = resolved.compactMap { $0.resolutionTime }
        let responseTotal = responseTimes.reduce(0, +)
        let resolutionTotal = resolutionTimes.reduce(0, +)
        let deflected = deflectedCount(selfService, openings: ticketOpenings, window: deflectionWindow)
        return SupportStats(
            ticketsOpened: Int64(tickets.count),
            ticketsOpen: Int64(tickets.count - resolved.count),
            ticketsResolved: Int64(resolved.count),
            ticketsResolvedFirstContact: Int64(firstContact),
            firstContactResolutionRate: resolved.isEmpty ? nil : Double(firstContact) / Double(resolved.count),
            reopens: tickets.reduce(Int64(0)) { $0 + Int64($1.reopenCount) },
            firstResponseCount: Int64(responseTimes.count),
            firstResponseTotal: responseTotal,
            resolutionTotal: resolutionTotal,
            meanFirstResponseTime: responseTimes.isEmpty ? nil : responseTotal / Double(responseTimes.count),
            medianFirstResponseTime: median(responseTimes),
            meanResolutionTime: resolutionTimes.isEmpty ? nil : resolutionTotal / Double(resolutionTimes.count),
            firstResponseHistogram: histogram(responseTimes, bounds: SupportStats.histogramBounds),
            selfServiceSessions: Int64(selfService.count),
            deflectedSessions: Int64(deflected),
            deflectionRate: selfService.isEmpty ? nil : Double(deflected) / Double(selfService.count),
            lastTicketAt: tickets.map { $0.openedAt }.max()
        )
    }

    /// Returns the median of `values`: the middle value, or the mean of the two middle values for an even count. It
    /// is nil for no values.
    static func median(_ values: [TimeInterval]) -> TimeInterval? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count.isMultiple(of: 2) ? (sorted[middle - 1] + sorted[middle]) / 2 : sorted[middle]
    }

    /// Counts `values` into buckets with ascending upper `bounds`. A value equal to a bound goes into that bound's
    /// bucket. The result has `bounds.count + 1` entries, and the last one counts values above every bound.
    static func histogram(_ values: [TimeInterval], bounds: [TimeInterval]) -> [Int64] {
        var counts = [Int64](repeating: 0, count: bounds.count + 1)
        for value in values {
            counts[bounds.firstIndex(where: { value <= $0 }) ?? bounds.count] += 1
        }
        return counts
    }

    /// Counts the sessions whose customer opened no ticket within [session, session + window]. A ticket from another
    /// customer, or one opened before the session, does not undo a deflection.
    static func deflectedCount(
        _ sessions: [SelfServiceSession], openings: [(customerID: String, at: Date)], window: TimeInterval
    ) -> Int {
        var openedAt: [String: [Date]] = [:]
        for opening in openings {
            openedAt[opening.customerID, default: []].append(opening.at)
        }
        return sessions.count(where: { session in
            let end = session.at.addingTimeInterval(window)
            let followed = openedAt[session.customerID, default: []].contains { $0 >= session.at && $0 <= end }
            return !followed
        })
    }
}

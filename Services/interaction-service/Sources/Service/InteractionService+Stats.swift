public import C360Contracts
import C360ServerKit
import C360StoreKit
import Foundation
public import GRPCCore
import SwiftProtobuf

extension InteractionService {
    /// The windows engagement is reported over, in days.
    static let engagementWindows = [7, 30, 90]
    /// A self-service session counts as deflected when no ticket follows within this time.
    static let deflectionWindow: TimeInterval = 86_400
    /// The most recent touchpoints `GetCustomerStats` returns beside the statistics.
    static let maximumRecentTouchpoints = 100

    public func getEngagementStats(
        request: Customer360_V1_GetEngagementStatsRequest, context: ServerContext
    ) async throws -> Customer360_V1_EngagementStats {
        let asOf = try Validate.timestamp(request.asOf, isSet: request.hasAsOf, field: "as_of") ?? now()
        let customerID = try await readableCustomer(request.customerID)
        return try await engagement(customerID, asOf: asOf).proto(customerID: customerID)
    }

    public func getCommerceStats(
        request: Customer360_V1_GetCommerceStatsRequest, context: ServerContext
    ) async throws -> Customer360_V1_CommerceStats {
        let asOf = try Validate.timestamp(request.asOf, isSet: request.hasAsOf, field: "as_of") ?? now()
        let customerID = try await readableCustomer(request.customerID)
        return try await commerce(customerID, asOf: asOf).proto(customerID: customerID)
    }

    public func getSupportStats(
        request: Customer360_V1_GetSupportStatsRequest, context: ServerContext
    ) async throws -> Customer360_V1_SupportStats {
        let window = request.hasWindow ? request.window : nil
        let bounds = try Validate.window(window, field: "window")
        let customerID = try await readableCustomer(request.customerID)
        return try await support(customerID, window: bounds).proto(customerID: customerID, window: window)
    }

    public func getBestContactTime(
        request: Customer360_V1_GetBestContactTimeRequest, context: ServerContext
    ) async throws -> Customer360_V1_BestContactTime {
        let timeZone = try Self.timeZone(request.timeZone, field: "time_zone")
        let bounds = try Validate.window(request.window, isSet: request.hasWindow, field: "window")
        let customerID = try await readableCustomer(request.customerID)
        return try await bestContact(customerID, timeZone: timeZone, window: bounds)
            .proto(customerID: customerID)
    }

    public func getCustomerStats(
        request: Customer360_V1_GetCustomerStatsRequest, context: ServerContext
    ) async throws -> Customer360_V1_GetCustomerStatsResponse {
        let asOf = try Validate.timestamp(request.asOf, isSet: request.hasAsOf, field: "as_of") ?? now()
        let customerID = try await readableCustomer(request.customerID)
        let timeZone = try Self.timeZone(request.timeZone, field: "time_zone")
        let window = request.hasSupportWindow ? request.supportWindow : nil
        let supportBounds = try Validate.window(window, field: "support_window")
        let recentCount = try Validate.count(
            request.recentTouchpoints, field: "recent_touchpoints",
            maximum: Self.maximumRecentTouchpoints)
        let inputs = try await store.customerStatistics(
            customer: customerID, support: supportBounds, deflectionWindow: Self.deflectionWindow,
            openTicketLimit: 50, recentTouchpoints: recentCount)
        // The same bounds, in the same millisecond units, as the engagement RPC's own query.
        let engagementWindow = Self.engagementWindow(asOf: asOf)
        let (lower, upper) = (engagementWindow.lowerBound.unixMillis, engagementWindow.upperBound.unixMillis)
        let e = Self.engagement(
            events: inputs.activity.filter { (lower..<upper).contains($0.occurredAt.unixMillis) },
            totals: inputs.totals?.activity, asOf: asOf)
        let c = try await commerce(inputs.totals?.commerce, asOf: asOf)
        let s = Self.support(inputs.support)
        let b = BestContactCalculator.bestContact(events: inputs.activity, timeZone: timeZone)
        let (o, r) = (inputs.openTickets, inputs.recentTouchpoints)
        return .with {
            $0.customerID = customerID
            $0.engagement = e.proto(customerID: customerID)
            $0.commerce = c.proto(customerID: customerID)
            $0.support = s.proto(customerID: customerID, window: window)
            $0.bestContact = b.proto(customerID: customerID)
            $0.openTickets = o.map(\.proto)
            $0.recentTouchpoints = r.map(\.proto)
        }
    }

    public func getRfmSegments(
        request: Customer360_V1_GetRfmSegmentsRequest, context: ServerContext
    ) async throws -> Customer360_V1_GetRfmSegmentsResponse {
        let asOf = try Validate.timestamp(request.asOf, isSet: request.hasAsOf, field: "as_of") ?? now()
        // One read of every buyer's counters serves both the RFM scores and the CLV sums.
        let summary = RfmBaseCalculator.summarize(
            try await store.commerceTotalsOfBuyers(), asOf: asOf,
            settings: settings)
        let activity = try await store.customerCount()
        return .with { message in
            message.asOf = Google_Protobuf_Timestamp(date: asOf)
            message.segments = RfmSegment.allCases.compactMap { segment in
                summary.segments[segment].map { size in
                    .with {
                        $0.segment = segment.proto
                        $0.customers = size.customers
                        $0.orders = size.orders
                        $0.netRevenue = Money(size.netMinor, settings.currency).proto
                    }
                }
            }
            message.customers = activity
            message.customersWithPurchases = summary.customersWithPurchases
            message.customersWithRepeatPurchases = summary.customersWithRepeatPurchases
            message.historicClvSum = Money(summary.historicCLVMinor, settings.currency).proto
            message.predictiveClvSum = Money(summary.predictiveCLVMinor, settings.currency).proto
            if let cutPoints = summary.cutPoints {
                message.cutPoints = .with {
                    $0.recencyDays = cutPoints.recencyDays
                    $0.frequency = cutPoints.frequency
                    $0.monetaryMinor = cutPoints.monetaryMinor
                }
            }
        }
    }

    public func getSupportKpis(
        request: Customer360_V1_GetSupportKpisRequest, context: ServerContext
    ) async throws -> Customer360_V1_SupportKpis {
        let window = request.hasWindow ? request.window : nil
        let bounds = try Validate.window(window, field: "window")
        let inputs = try await store.supportInputs(
            customer: nil, from: bounds.from, until: bounds.until, deflectionWindow: Self.deflectionWindow)
        return SupportCalculator.support(
            tickets: inputs.tickets, selfService: inputs.selfService,
            ticketOpenings: inputs.ticketOpenings, deflectionWindow: Self.deflectionWindow
        )
        .kpis(window: window)
    }

    public func listCustomerActivity(
        request: Customer360_V1_ListCustomerActivityRequest, context: ServerContext
    ) async throws -> Customer360_V1_ListCustomerActivityResponse {
        let limit = try Validate.pageSize(request.page.pageSize)
        let since = try Validate.timestamp(request.activeSince, isSet: request.hasActiveSince, field: "active_since")
        let fingerprint = "activity|\(since?.timeIntervalSince1970 ?? 0)"
        let token: PageToken<String>? = try Validate.pageToken(request.page.pageToken, filter: fingerprint)
        let page = try await store.customerActivity(after: token?.position, activeSince: since, limit: limit)
        return .with { message in
            message.customers = page.items.map { item in
                .with {
                    $0.customerID = item.customerID
                    $0.firstSeenAt = Google_Protobuf_Timestamp(item.totals.firstSeenAt)
                    $0.lastSeenAt = Google_Protobuf_Timestamp(item.totals.lastSeenAt)
                    $0.touchpoints = item.totals.touchpoints
                    $0.orders = item.orders
                    $0.openTickets = item.openTickets
                }
            }
            message.page.nextPageToken = page.nextToken(filter: fingerprint) { $0.customerID }
        }
    }

    // MARK: - Shared by the RPCs above

    /// The touchpoints engagement counts: the longest window up to and including `asOf`.
    static func engagementWindow(asOf: Date) -> Range<Date> {
        let longest = TimeInterval(engagementWindows.max() ?? 90) * 86_400
        return asOf.addingTimeInterval(-longest)..<asOf.addingTimeInterval(0.001)
    }

    func engagement(_ customerID: String, asOf: Date) async throws -> EngagementStats {
        let window = Self.engagementWindow(asOf: asOf)
        let events = try await store.activityEvents(
            customer: customerID, from: window.lowerBound, until: window.upperBound)
        return Self.engagement(
            events: events, totals: try await store.totals(customer: customerID)?.activity, asOf: asOf)
    }

    /// Engagement from the events inside `engagementWindow(asOf:)` and the lifetime counters (none: a customer this
    /// service knows nothing about).
    static func engagement(events: [ActivityEvent], totals: ActivityTotals?, asOf: Date) -> EngagementStats {
        EngagementCalculator.engagement(
            events: events, totals: totals ?? ActivityTotals(), asOf: asOf, windowDays: engagementWindows)
    }

    func commerce(_ customerID: String, asOf: Date) async throws -> CommerceStats {
        try await commerce(try await store.totals(customer: customerID)?.commerce, asOf: asOf)
    }

    /// Commerce from the lifetime counters (none: no purchases here); the RFM cut points are read only for a buyer.
    func commerce(_ totals: CommerceTotals?, asOf: Date) async throws -> CommerceStats {
        let totals = totals ?? CommerceTotals()
        let cutPoints = totals.orders > 0 ? try await rfmCutPoints.cutPoints(asOf: asOf) : nil
        return CommerceCalculator.commerce(totals: totals, asOf: asOf, settings: settings, cutPoints: cutPoints)
    }

    func support(_ customerID: String, window: (from: Date?, until: Date?)) async throws -> SupportStats {
        Self.support(
            try await store.supportInputs(
                customer: customerID, from: window.from, until: window.until, deflectionWindow: Self.deflectionWindow))
    }

    static func support(_ inputs: SupportInputs) -> SupportStats {
        SupportCalculator.support(
            tickets: inputs.tickets, selfService: inputs.selfService,
            ticketOpenings: inputs.ticketOpenings, deflectionWindow: deflectionWindow)
    }

    func bestContact(_ customerID: String, timeZone: TimeZone, window: (from: Date?, until: Date?)) async throws
        -> BestContactTime
    {
        let events = try await store.activityEvents(customer: customerID, from: window.from, until: window.until)
        return BestContactCalculator.bestContact(events: events, timeZone: timeZone)
    }

    static func timeZone(_ identifier: String, field: String) throws(InvalidArgument) -> TimeZone {
        guard !identifier.isEmpty else { return TimeZone(identifier: "UTC")! }
        guard let zone = TimeZone(identifier: identifier) else {
            throw InvalidArgument(field, "'\(identifier.prefix(64))' is not an IANA time zone (e.g. Asia/Tehran)")
        }
        return zone
    }
}

extension InteractionService {
    public func recommendProducts(
        request: Customer360_V1_RecommendProductsRequest, context: ServerContext
    ) async throws -> Customer360_V1_RecommendProductsResponse {
        let customerID = try await readableCustomer(request.customerID)
        let limit = request.limit == 0 ? 5 : try Validate.count(request.limit, field: "limit", maximum: 50)
        let found = try await store.recommendations(for: customerID, limit: limit)
        return .with {
            $0.customerID = customerID
            $0.recommendations = found.map { item in
                .with {
                    $0.sku = item.sku
                    $0.name = item.name
                    $0.score = item.score
                    $0.becauseSku = item.becauseSku
                    $0.becauseName = item.becauseName
                    $0.buyers = item.buyers
                }
            }
        }
    }
}

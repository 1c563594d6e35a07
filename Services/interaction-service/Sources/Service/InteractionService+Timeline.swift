public import C360Contracts
import C360ServerKit
import C360StoreKit
public import GRPCCore

extension InteractionService {
    public func listTimeline(
        request: Customer360_V1_ListTimelineRequest, context: ServerContext
    ) async throws -> Customer360_V1_ListTimelineResponse {
        let customerID = try await readableCustomer(request.customerID)
        let filter = try InteractionRequests.filter(
            range: request.hasTimeRange ? request.timeRange : nil, channels: request.channels, kinds: request.kinds,
            ticketID: request.ticketID)
        let limit = try Validate.pageSize(request.page.pageSize)
        let fingerprint = filter.fingerprint(customerID: customerID)
        let token: PageToken<TimelinePosition>? = try Validate.pageToken(request.page.pageToken, filter: fingerprint)
        let page = try await store.timeline(customer: customerID, filter: filter, after: token?.position, limit: limit)
        return .with {
            $0.touchpoints = page.items.map(\.touchpoint.proto)
            $0.page.nextPageToken = page.nextToken(filter: fingerprint) { $0.position }
        }
    }

    public func exportTimeline(
        request: Customer360_V1_ExportTimelineRequest,
        response: RPCWriter<Customer360_V1_ExportTimelineResponse>,
        context: ServerContext
    ) async throws {
        try await ServerDrain.serverStream(context: context) {
            let customerID = try await readableCustomer(request.customerID)
            let filter = try InteractionRequests.filter(
                range: request.hasTimeRange ? request.timeRange : nil, channels: request.channels, kinds: request.kinds,
                ticketID: request.ticketID)
            try await store.exportTimeline(customer: customerID, filter: filter) { chunk in
                try await response.write(.with { $0.touchpoints = chunk.map(\.proto) })
            }
        }
    }
}

public import C360ChangeFeed
public import C360Clients
public import C360Contracts
import C360ServerKit
import C360StoreKit
public import Foundation
public import GRPCCore
import SwiftProtobuf

/// The `customer360.v1.OutreachService` RPCs: validate, call the store and the planner, answer in protobuf.
///
/// Split by aspect: segments here, `+Templates`, `+Messages`.
public struct OutreachService: Customer360_V1_OutreachService.SimpleServiceProtocol {
    let store: OutreachStore
    let customers: any CustomerDirectory
    let planner: SendPlanner?
    /// This service's change feed, served by `WatchChanges`.
    let changes: ChangeFeed
    let now: @Sendable () -> Date

    /// - Parameters:
    ///   - planner: Plans previews; `nil` in tests without profile-service (PreviewMessage then answers UNAVAILABLE).
    ///   - changes: The feed over the store's database; a new one when `nil` (tests).
    public init(
        store: OutreachStore, customers: any CustomerDirectory, planner: SendPlanner?, changes: ChangeFeed? = nil,
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.store = store
        self.customers = customers
        self.planner = planner
        self.changes = changes ?? ChangeFeed(writer: store.writer, logger: .init(label: "outreach-service.changes"))
        self.now = now
    }

    public func watchChanges(
        request: Customer360_V1_WatchChangesRequest, response: RPCWriter<Customer360_V1_WatchChangesResponse>,
        context: ServerContext
    ) async throws {
        try await changes.watch(request, response: response, context: context)
    }

    // MARK: Segments

    public func createSegment(
        request: Customer360_V1_CreateSegmentRequest, context: ServerContext
    ) async throws -> Customer360_V1_Segment {
        let id =
            request.segmentID.isEmpty
            ? EntityID.generate() : try Validate.clientID(request.segmentID, field: "segment_id")
        let name = try Validate.text(request.name, field: "name", maxLength: 200, required: true)
        let description = try Validate.text(request.description_p, field: "description", maxLength: 2_000)
        guard request.hasRule else {
            throw InvalidArgument("rule", "is required: a condition, or all/any/not of rules")
        }
        let now = now()
        _ = try SegmentQuery(request.rule, now: now)
        let stamp = now.unixMillis
        let record = SegmentRecord(
            segmentId: id, name: name, description: description,
            rule: try request.rule.serializedBytes(), createdAt: stamp, updatedAt: stamp)
        let (segment, size) = try await store.createSegment(record, now: now)
        return segment.proto(size: size)
    }

    public func getSegment(
        request: Customer360_V1_GetSegmentRequest, context: ServerContext
    ) async throws -> Customer360_V1_Segment {
        let (segment, size) = try await store.segment(id: try Validate.clientID(request.segmentID, field: "segment_id"))
        return segment.proto(size: size)
    }

    public func listSegments(
        request: Customer360_V1_ListSegmentsRequest, context: ServerContext
    ) async throws -> Customer360_V1_ListSegmentsResponse {
        let limit = try Validate.pageSize(request.page.pageSize)
        let token: PageToken<String>? = try Validate.pageToken(request.page.pageToken, filter: "segments")
        let page = try await store.segments(after: token?.position, limit: limit)
        return .with {
            $0.segments = page.items.map { $0.0.proto(size: $0.size) }
            $0.page.nextPageToken = page.nextToken(filter: "segments") { $0.0.segmentId }
        }
    }

    public func deleteSegment(
        request: Customer360_V1_DeleteSegmentRequest, context: ServerContext
    ) async throws -> Customer360_V1_DeleteSegmentResponse {
        let deleted = try await store.deleteSegment(id: try Validate.clientID(request.segmentID, field: "segment_id"))
        return .with { $0.deleted = deleted }
    }

    public func previewSegment(
        request: Customer360_V1_PreviewSegmentRequest, context: ServerContext
    ) async throws -> Customer360_V1_PreviewSegmentResponse {
        guard request.hasRule else {
            throw InvalidArgument("rule", "is required: a condition, or all/any/not of rules")
        }
        let sample =
            request.sampleSize == 0 ? 10 : try Validate.count(request.sampleSize, field: "sample_size", maximum: 100)
        let query = try SegmentQuery(request.rule, now: now())
        let preview = try await store.preview(query, sample: sample)
        return .with {
            $0.size = Int64(preview.size)
            $0.sample = preview.sample.map { id in .with { $0.customerID = id } }
            $0.customers = Int64(preview.customers)
        }
    }

    public func listSegmentMembers(
        request: Customer360_V1_ListSegmentMembersRequest, context: ServerContext
    ) async throws -> Customer360_V1_ListSegmentMembersResponse {
        let segmentID = try Validate.clientID(request.segmentID, field: "segment_id")
        let limit = try Validate.pageSize(request.page.pageSize)
        let filter = "members:\(segmentID)"
        let token: PageToken<String>? = try Validate.pageToken(request.page.pageToken, filter: filter)
        let page = try await store.members(segmentID: segmentID, after: token?.position, limit: limit)
        return .with {
            $0.members = page.items.map(\.proto)
            $0.page.nextPageToken = page.nextToken(filter: filter) { $0.customerId }
        }
    }

    public func exportSegmentMembers(
        request: Customer360_V1_ExportSegmentMembersRequest,
        response: RPCWriter<Customer360_V1_ExportSegmentMembersResponse>, context: ServerContext
    ) async throws {
        let segmentID = try Validate.clientID(request.segmentID, field: "segment_id")
        var after: String?
        repeat {
            let page = try await store.members(segmentID: segmentID, after: after, limit: 1_000)
            try await response.write(.with { $0.members = page.items.map(\.proto) })
            after = page.hasMore ? page.items.last?.customerId : nil
        } while after != nil
    }

    public func getSegmentStats(
        request: Customer360_V1_GetSegmentStatsRequest, context: ServerContext
    ) async throws -> Customer360_V1_SegmentStats {
        let segmentID = try Validate.clientID(request.segmentID, field: "segment_id")
        let row = try await store.stats(segmentID: segmentID)
        return row.proto(segmentID: segmentID, asOf: now())
    }
}

extension SegmentMembership {
    var proto: Customer360_V1_SegmentMember {
        .with {
            $0.customerID = customerId
            $0.enteredAt = .init(unixMillis: enteredAt)
        }
    }
}

extension SegmentStatsRow {
    func proto(segmentID: String, asOf: Date) -> Customer360_V1_SegmentStats {
        .with {
            $0.segmentID = segmentID
            $0.size = Int64(size)
            if npsRespondents > 0 { $0.nps = Double(promoters - detractors) * 100 / Double(npsRespondents) }
            $0.npsRespondents = Int64(npsRespondents)
            if csatRespondents > 0 { $0.meanCsat = csatSum / Double(csatRespondents) }
            $0.csatRespondents = Int64(csatRespondents)
            $0.churnRate = size > 0 ? Double(churned) / Double(size) : 0
            $0.atRiskRate = size > 0 ? Double(atRisk) / Double(size) : 0
            if clvCustomers > 0 { $0.meanClvMinor = clvSum / Double(clvCustomers) }
            $0.clvCustomers = Int64(clvCustomers)
            $0.green = Int64(green)
            $0.yellow = Int64(yellow)
            $0.red = Int64(red)
            $0.unscored = Int64(size - green - yellow - red)
            $0.asOf = .init(date: asOf)
        }
    }
}

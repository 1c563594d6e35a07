public import C360Contracts
import C360StoreKit
import Foundation
import GRPCCore
import SwiftProtobuf

/// outreach-service across shards. Segments, templates, journeys and campaigns are definitions every shard holds
/// alike, so their writes are broadcast to every shard under one id (each is idempotent by it) and reads of a template
/// ask any shard. What a definition counts — a segment's members, a journey's runs, a campaign's messages — each shard
/// counts over its own customers, so those answers are the shards' added. Members, messages and runs live on their
/// customer's shard: lists across customers are merged in their order, a segment export is every shard's interleaved.
/// A campaign started on every shard sends, on each, to that shard's members.
enum OutreachAcrossShards {
    typealias Service = Customer360_V1_OutreachService

    static let spread: [String: ShardSpreadCall] = [
        Service.Method.CreateSegment.descriptor.fullyQualifiedMethod: FeedbackAcrossShards.broadcast(
            Customer360_V1_CreateSegmentRequest.self, id: \Customer360_V1_CreateSegmentRequest.segmentID,
            generated: true,
            naming: "segment_id", Customer360_V1_Segment.self, merge: Customer360_V1_Segment.merged),
        Service.Method.DeleteSegment.descriptor.fullyQualifiedMethod: FeedbackAcrossShards.broadcast(
            Customer360_V1_DeleteSegmentRequest.self, id: \Customer360_V1_DeleteSegmentRequest.segmentID,
            generated: false,
            naming: "segment_id",
            Customer360_V1_DeleteSegmentResponse.self
        ) { answers in .with { $0.deleted = answers.contains(where: \.deleted) } },
        // Required ids (the service refuses a request without one, on every shard alike).
        Service.Method.PutTemplate.descriptor.fullyQualifiedMethod: FeedbackAcrossShards.broadcast(
            Customer360_V1_PutTemplateRequest.self, id: \Customer360_V1_PutTemplateRequest.templateID, generated: false,
            naming: "template_id",
            Customer360_V1_MessageTemplate.self
        ) { $0[0] },
        Service.Method.PutJourney.descriptor.fullyQualifiedMethod: FeedbackAcrossShards.broadcast(
            Customer360_V1_PutJourneyRequest.self, id: \Customer360_V1_PutJourneyRequest.journeyID, generated: false,
            naming: "journey_id", Customer360_V1_Journey.self,
            merge: Customer360_V1_Journey.merged),
        Service.Method.StartCampaign.descriptor.fullyQualifiedMethod: FeedbackAcrossShards.broadcast(
            Customer360_V1_StartCampaignRequest.self, id: \Customer360_V1_StartCampaignRequest.campaignID,
            generated: true, naming: "campaign_id", Customer360_V1_Campaign.self, merge: Customer360_V1_Campaign.merged),
        Service.Method.GetTemplate.descriptor.fullyQualifiedMethod: FeedbackAcrossShards.anyShard,
        Service.Method.ListTemplates.descriptor.fullyQualifiedMethod: FeedbackAcrossShards.anyShard,
        // A message id says nothing of its customer: the shard that has it answers, the others NOT_FOUND.
        Service.Method.GetMessage.descriptor.fullyQualifiedMethod: ProfileAcrossShards.shardHaving,
        Service.Method.ListSegments.descriptor.fullyQualifiedMethod: sameList(
            Customer360_V1_ListSegmentsResponse.self, \.segments, id: \.segmentID
        ) { $0.size += $1.size },
        Service.Method.ListJourneys.descriptor.fullyQualifiedMethod: sameList(
            Customer360_V1_ListJourneysResponse.self, \.journeys, id: \.journeyID
        ) {
            $0.running += $1.running
            $0.completed += $1.completed
        },
        // By customer id, as each shard lists them.
        Service.Method.ListSegmentMembers.descriptor.fullyQualifiedMethod: ShardMergedPages.merged(
            Customer360_V1_ListSegmentMembersRequest.self, \.page, Customer360_V1_ListSegmentMembersResponse.self,
            \.page, \.members
        ) { $0.customerID < $1.customerID },
        // A campaign's messages, by customer id (a customer's own are on their shard: routed by `customer_id`).
        Service.Method.ListMessages.descriptor.fullyQualifiedMethod: ShardMergedPages.merged(
            Customer360_V1_ListMessagesRequest.self, \.page, Customer360_V1_ListMessagesResponse.self, \.page,
            \.messages
        ) { $0.customerID < $1.customerID },
        // A journey's runs, by run id.
        Service.Method.ListJourneyRuns.descriptor.fullyQualifiedMethod: ShardMergedPages.merged(
            Customer360_V1_ListJourneyRunsRequest.self, \.page, Customer360_V1_ListJourneyRunsResponse.self, \.page,
            \.runs
        ) { $0.runID < $1.runID },
    ]

    static let merged: [String: ShardReadMerge] = [
        Service.Method.GetSegment.descriptor.fullyQualifiedMethod: ShardReadMerges.decoding(
            Customer360_V1_Segment.self),
        Service.Method.GetSegmentStats.descriptor.fullyQualifiedMethod: ShardReadMerges.decoding(
            Customer360_V1_SegmentStats.self),
        Service.Method.GetCampaign.descriptor.fullyQualifiedMethod: ShardReadMerges.decoding(
            Customer360_V1_Campaign.self),
        Service.Method.GetJourney.descriptor.fullyQualifiedMethod: ShardReadMerges.decoding(
            Customer360_V1_Journey.self),
        // The sample is the first members by customer id of all (the service's default 10 when unset).
        Service.Method.PreviewSegment.descriptor.fullyQualifiedMethod: { request, answers in
            let size = try Customer360_V1_PreviewSegmentRequest(serializedBytes: request).sampleSize
            let parts = try answers.map { try Customer360_V1_PreviewSegmentResponse(serializedBytes: $0) }
            return try Customer360_V1_PreviewSegmentResponse.with { merged in
                merged.size = parts.reduce(0) { $0 + $1.size }
                merged.customers = parts.reduce(0) { $0 + $1.customers }
                merged.sample = Array(
                    parts.flatMap(\.sample).sorted { $0.customerID < $1.customerID }.prefix(size > 0 ? Int(size) : 10))
            }.serializedBytes()
        },
    ]

    /// Every member of a segment, each shard's stream passed on as it comes.
    static let interleaved: Set<String> = [Service.Method.ExportSegmentMembers.descriptor.fullyQualifiedMethod]

    /// A page of definitions every shard lists alike (same ids, same order, same page tokens), with what each shard
    /// counts of its own customers added: the first shard's page, its counts summed over the shards that answered.
    /// A shard that cannot be reached is left out when the caller allows partial answers, and named.
    static func sameList<Response: SwiftProtobuf.Message, Item: SwiftProtobuf.Message>(
        _: Response.Type, _ items: any WritableKeyPath<Response, [Item]> & Sendable,
        id: any KeyPath<Item, String> & Sendable, add: @escaping @Sendable (inout Item, Item) -> Void
    ) -> ShardSpreadCall {
        { request, shards, ask in
            let outcome = await ShardFanOut.call(shards: shards) { pin in
                try Response(serializedBytes: try await ask(request, pin))
            }
            var pages = try outcome.answers(leavingOutThrough: ask)
            guard !pages.isEmpty else { throw RPCError(code: .unavailable, message: "no shard answered") }
            var merged = pages.removeFirst()
            let positions = Dictionary(
                merged[keyPath: items].enumerated().map { ($1[keyPath: id], $0) },
                uniquingKeysWith: { first, _ in first }
            )
            for page in pages {
                for item in page[keyPath: items] {
                    if let position = positions[item[keyPath: id]] { add(&merged[keyPath: items][position], item) }
                }
            }
            return try merged.serializedBytes()
        }
    }
}

extension Customer360_V1_Segment: ShardMergeable {
    /// The definition as the first shard holds it; its members are every shard's.
    public static func merged(_ parts: [Self]) -> Self {
        guard var merged = parts.first else { return Self() }
        merged.size = parts.reduce(0) { $0 + $1.size }
        if let latest = parts.map(\.updatedAt).max(by: earlier) {
            merged.updatedAt = latest
        }
        return merged
    }
}

extension Customer360_V1_Journey: ShardMergeable {
    /// The definition as the first shard holds it; its runs are every shard's.
    public static func merged(_ parts: [Self]) -> Self {
        guard var merged = parts.first else { return Self() }
        merged.running = parts.reduce(0) { $0 + $1.running }
        merged.completed = parts.reduce(0) { $0 + $1.completed }
        return merged
    }
}

extension Customer360_V1_Campaign: ShardMergeable {
    /// Every shard's messages counted; queueing while any shard queues, completed once every shard has, started
    /// when the first shard started and completed when the last one did.
    public static func merged(_ parts: [Self]) -> Self {
        guard var merged = parts.first else { return Self() }
        merged.total = parts.reduce(0) { $0 + $1.total }
        merged.queued = parts.reduce(0) { $0 + $1.queued }
        merged.deferred = parts.reduce(0) { $0 + $1.deferred }
        merged.sent = parts.reduce(0) { $0 + $1.sent }
        merged.suppressed = parts.reduce(0) { $0 + $1.suppressed }
        merged.failed = parts.reduce(0) { $0 + $1.failed }
        let order: [Customer360_V1_CampaignStatus] = [.queueing, .sending, .completed]
        merged.status =
            parts.map(\.status).min { (order.firstIndex(of: $0) ?? -1) < (order.firstIndex(of: $1) ?? -1) }
            ?? merged.status
        let started = parts.filter(\.hasStartedAt).map(\.startedAt)
        if let first = started.min(by: earlier) {
            merged.startedAt = first
        }
        if merged.status == .completed,
            let last = parts.map(\.completedAt).max(by: earlier)
        {
            merged.completedAt = last
        } else {
            merged.clearCompletedAt()
        }
        return merged
    }
}

extension Customer360_V1_SegmentStats: ShardMergeable {
    /// The members of every shard together. Each shard's means and rates are over counts it states (NPS and CSAT
    /// respondents, members, members with a CLV), so the merged ones are those means weighted by those counts: the
    /// figures one unsharded service would have computed.
    public static func merged(_ parts: [Self]) -> Self {
        guard var merged = parts.first else { return Self() }
        func sum(_ value: (Self) -> Int64) -> Int64 { parts.reduce(0) { $0 + value($1) } }
        /// The mean of `value` over `weight`, nil when nothing is weighed.
        func weighted(_ value: (Self) -> Double?, by weight: (Self) -> Int64) -> Double? {
            let total = sum(weight)
            guard total > 0 else { return nil }
            return parts.reduce(0.0) { $0 + (value($1) ?? 0) * Double(weight($1)) } / Double(total)
        }
        merged.size = sum(\.size)
        merged.npsRespondents = sum(\.npsRespondents)
        merged.csatRespondents = sum(\.csatRespondents)
        merged.clvCustomers = sum(\.clvCustomers)
        merged.green = sum(\.green)
        merged.yellow = sum(\.yellow)
        merged.red = sum(\.red)
        merged.unscored = sum(\.unscored)
        if let nps = weighted({ $0.hasNps ? $0.nps : nil }, by: \.npsRespondents) {
            merged.nps = nps
        } else {
            merged.clearNps()
        }
        if let csat = weighted({ $0.hasMeanCsat ? $0.meanCsat : nil }, by: \.csatRespondents) {
            merged.meanCsat = csat
        } else {
            merged.clearMeanCsat()
        }
        if let clv = weighted({ $0.hasMeanClvMinor ? $0.meanClvMinor : nil }, by: \.clvCustomers) {
            merged.meanClvMinor = clv
        } else {
            merged.clearMeanClvMinor()
        }
        merged.churnRate = weighted(\.churnRate, by: \.size) ?? 0
        merged.atRiskRate = weighted(\.atRiskRate, by: \.size) ?? 0
        if let oldest = parts.map(\.asOf).min(by: earlier) {
            merged.asOf = oldest
        }
        return merged
    }
}

/// Whether `first` is before `second`, to the nanosecond.
private func earlier(_ first: Google_Protobuf_Timestamp, _ second: Google_Protobuf_Timestamp) -> Bool {
    (first.seconds, first.nanos) < (second.seconds, second.nanos)
}

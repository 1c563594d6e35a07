public import C360Contracts
import C360StoreKit
import Foundation
import GRPCCore
import SwiftProtobuf

/// feedback-service across shards. Its contract says how: surveys and feature requests are small reference data every
/// shard holds, so their writes are broadcast to every shard under one id and their reads ask any one shard;
/// responses, votes and churn reasons live on the customer's shard, so a feature request's votes are the shards'
/// votes added, and scores, churn tallies and themes are merged as counts.
enum FeedbackAcrossShards {
    typealias Service = Customer360_V1_FeedbackService

    static let spread: [String: ShardSpreadCall] = [
        Service.Method.CreateSurvey.descriptor.fullyQualifiedMethod: broadcast(
            Customer360_V1_CreateSurveyRequest.self, id: \Customer360_V1_CreateSurveyRequest.surveyID, generated: true,
            naming: "survey_id",
            Customer360_V1_Survey.self
        ) { $0[0] },
        Service.Method.RetireSurvey.descriptor.fullyQualifiedMethod: broadcast(
            Customer360_V1_RetireSurveyRequest.self, id: \Customer360_V1_RetireSurveyRequest.surveyID, generated: false,
            naming: "survey_id", Customer360_V1_Survey.self
        ) { $0[0] },
        Service.Method.UpdateFeatureRequestStatus.descriptor.fullyQualifiedMethod: broadcast(
            Customer360_V1_UpdateFeatureRequestStatusRequest.self,
            id: \Customer360_V1_UpdateFeatureRequestStatusRequest.featureRequestID, generated: false,
            naming: "feature_request_id",
            Customer360_V1_FeatureRequest.self, merge: Customer360_V1_FeatureRequest.merged),
        Service.Method.CreateFeatureRequest.descriptor.fullyQualifiedMethod: createFeatureRequest,
        Service.Method.VoteFeatureRequest.descriptor.fullyQualifiedMethod: voteFeatureRequest,
        Service.Method.ListFeatureRequests.descriptor.fullyQualifiedMethod: listFeatureRequests,
        Service.Method.GetSurvey.descriptor.fullyQualifiedMethod: anyShard,
        Service.Method.ListSurveys.descriptor.fullyQualifiedMethod: anyShard,
        Service.Method.AnalyzeSentiment.descriptor.fullyQualifiedMethod: anyShard,
        // Newest answered first, ties by response id descending, as every shard lists them (compared as SQLite
        // compares text: by UTF-8 bytes).
        Service.Method.ListResponses.descriptor.fullyQualifiedMethod: ShardMergedPages.merged(
            Customer360_V1_ListResponsesRequest.self, \.page, Customer360_V1_ListResponsesResponse.self, \.page,
            \.responses
        ) { first, second in
            let (a, b) = (first.answeredAt, second.answeredAt)
            guard (a.seconds, a.nanos) == (b.seconds, b.nanos) else {
                return (b.seconds, b.nanos) < (a.seconds, a.nanos)
            }
            return second.responseID.utf8.lexicographicallyPrecedes(first.responseID.utf8)
        },
    ]

    /// The calls spread over the shards even when their request names a customer: the customer's vote goes to their
    /// shard, the request itself or its tally to every shard.
    static let evenForOneCustomer: Set<String> = [
        Service.Method.CreateFeatureRequest.descriptor.fullyQualifiedMethod,
        Service.Method.VoteFeatureRequest.descriptor.fullyQualifiedMethod,
        Service.Method.ListFeatureRequests.descriptor.fullyQualifiedMethod,
    ]

    static let merged: [String: ShardReadMerge] = [
        Service.Method.GetScores.descriptor.fullyQualifiedMethod: ShardReadMerges.decoding(
            Customer360_V1_GetScoresResponse.self),
        Service.Method.GetChurnReasonTally.descriptor.fullyQualifiedMethod: ShardReadMerges.decoding(
            Customer360_V1_GetChurnReasonTallyResponse.self),
        // The top `limit` of the terms every shard counted (the service's default 10 when unset).
        Service.Method.GetTopThemes.descriptor.fullyQualifiedMethod: { request, answers in
            let limit = try Customer360_V1_GetTopThemesRequest(serializedBytes: request).limit
            return try Customer360_V1_GetTopThemesResponse.merged(
                answers.map { try Customer360_V1_GetTopThemesResponse(serializedBytes: $0) },
                limit: limit > 0 ? Int(limit) : 10
            ).serializedBytes()
        },
    ]

    // MARK: - Reference data

    /// A write every shard must take: sent to all under one id, answered once all have taken it. Each write is
    /// idempotent by that id, so a write some shard missed is finished by sending it again: the refusal names the id
    /// to send. With `generated`, a request without an id gets one here, so every shard stores the same one; without,
    /// the id is the caller's to give (a shard refuses a request without one, as every shard does alike).
    static func broadcast<Request: SwiftProtobuf.Message, Answer: SwiftProtobuf.Message>(
        _: Request.Type, id: any WritableKeyPath<Request, String> & Sendable, generated: Bool, naming field: String,
        _: Answer.Type, merge: @escaping @Sendable ([Answer]) -> Answer
    ) -> ShardSpreadCall {
        { request, shards, ask in
            var message = try Request(serializedBytes: request)
            if generated, message[keyPath: id].isEmpty { message[keyPath: id] = EntityID.generate() }
            let bytes: [UInt8] = try message.serializedBytes()
            let value = message[keyPath: id]
            let answers = try await ShardFanOut.everyShard(shards, naming: value.isEmpty ? nil : (field, value)) {
                pin in
                try Answer(serializedBytes: try await ask(bytes, pin))
            }
            return try merge(answers).serializedBytes()
        }
    }

    /// A read of what every shard holds alike (surveys; a sentiment computed from the request): the first shard in map
    /// order that answers. A shard that cannot be reached passes the call to the next; any other answer is the one.
    static let anyShard: ShardSpreadCall = { request, shards, ask in
        var lastError: (any Error)?
        for shard in shards {
            do {
                return try await ask(request, [WrongShard.pinKey: .string(shard)])
            } catch let error as RPCError where [.unavailable, .deadlineExceeded, .cancelled].contains(error.code) {
                lastError = error
            }
        }
        throw lastError ?? RPCError(code: .unavailable, message: "no shard answered")
    }

    // MARK: - Feature requests

    /// The request on every shard under one id; the asking customer's vote on their shard only, which goes first, so
    /// a customer that does not exist stores nothing anywhere. Answered with the votes of every shard.
    static let createFeatureRequest: ShardSpreadCall = { request, shards, ask in
        var message = try Customer360_V1_CreateFeatureRequestRequest(serializedBytes: request)
        if message.featureRequestID.isEmpty { message.featureRequestID = EntityID.generate() }
        if !message.customerID.isEmpty {
            _ = try await ask(try message.serializedBytes(), [:])
            message.customerID = ""
        }
        // Every shard, the voter's too (idempotent by id: it stores nothing more there), answering its own votes.
        let bytes: [UInt8] = try message.serializedBytes()
        let answers = try await ShardFanOut.everyShard(shards, naming: ("feature_request_id", message.featureRequestID))
        { pin in
            try Customer360_V1_FeatureRequest(serializedBytes: try await ask(bytes, pin))
        }
        return try Customer360_V1_FeatureRequest.merged(answers).serializedBytes()
    }

    /// The vote on the customer's shard; the answer's tally is every shard's.
    static let voteFeatureRequest: ShardSpreadCall = { request, shards, ask in
        // Without a voter the request is the service's to refuse, as one shard does.
        guard !(try Customer360_V1_VoteFeatureRequestRequest(serializedBytes: request)).customerID.isEmpty else {
            return try await anyShard(request, shards, ask)
        }
        let voted = try Customer360_V1_FeatureRequest(serializedBytes: try await ask(request, [:]))
        let tallies: [String: Customer360_V1_FeatureRequestTally]
        do {
            tallies = try await Self.tallies(shards, ask: ask).tallies
        } catch let error as RPCError {
            throw RPCError(
                code: error.code,
                message: """
                    the vote is recorded, but its tally could not be read: \(error.message) (voting again records \
                    nothing more and answers the tally)
                    """)
        }
        return try (tallies[voted.featureRequestID]?.featureRequest ?? voted).serializedBytes()
    }

    /// Every feature request with its votes added over the shards, by id: each shard holds every request and counts
    /// its own customers' votes. Feature requests are reference data, few enough to read whole.
    ///
    /// - Parameter partial: Go on without a shard that cannot be reached, naming it, when the caller allows partial
    ///   answers (`ShardAsk.leaveOut`): its customers' votes are then missing from the counts. Otherwise every shard
    ///   must answer.
    static func tallies(
        _ shards: [String], filter: Customer360_V1_ListFeatureRequestsRequest = .init(), ask: ShardAsk,
        partial: Bool = false
    ) async throws -> (tallies: [String: Customer360_V1_FeatureRequestTally], missing: [String]) {
        let list = Service.Method.ListFeatureRequests.descriptor
        var everyone = filter
        everyone.customerID = ""
        let asked = everyone
        let read: @Sendable (Metadata) async throws -> [Customer360_V1_FeatureRequestTally] = { pin in
            try await allFeatureRequests(asked, pin: pin, method: list, ask: ask)
        }
        let parts: [[Customer360_V1_FeatureRequestTally]]
        var missing: [String] = []
        if partial {
            let outcome = await ShardFanOut.call(shards: shards, read)
            parts = try outcome.answers(leavingOutThrough: ask)
            missing = outcome.failures.map(\.shard)
        } else {
            parts = try await ShardFanOut.everyShard(shards, naming: nil, read)
        }
        var merged: [String: Customer360_V1_FeatureRequestTally] = [:]
        for part in parts {
            for tally in part {
                let id = tally.featureRequest.featureRequestID
                guard var sum = merged[id] else {
                    merged[id] = tally
                    continue
                }
                sum.featureRequest = .merged([sum.featureRequest, tally.featureRequest])
                sum.windowVotes += tally.windowVotes
                merged[id] = sum
            }
        }
        return (merged, missing)
    }

    /// Every page of one shard's list (or, unpinned, of the customer's shard).
    static func allFeatureRequests(
        _ filter: Customer360_V1_ListFeatureRequestsRequest, pin: Metadata, method: MethodDescriptor, ask: ShardAsk
    ) async throws -> [Customer360_V1_FeatureRequestTally] {
        var asking = filter
        asking.page = .with { $0.pageSize = Int32(PageSize.maximum) }
        var all: [Customer360_V1_FeatureRequestTally] = []
        repeat {
            let page = try Customer360_V1_ListFeatureRequestsResponse(
                serializedBytes: try await ask(method, try asking.serializedBytes(), pin))
            all += page.featureRequests
            asking.page.pageToken = page.page.nextPageToken
        } while !asking.page.pageToken.isEmpty
        return all
    }

    /// FNV-1a of `bytes`, in hex: names a filter inside a page token, stably across processes.
    static func fingerprint(_ bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0100_0000_01b3 }
        return String(hash, radix: 16)
    }

    /// Where a merged feature request list continues: after this request in the list's order.
    struct FeaturePosition: Codable, Equatable, Sendable {
        var key: Int64
        var created: Int64
        var id: String
    }

    /// The list with every shard's votes added, ordered and paged here: the order is by the added votes, which no
    /// shard knows. With `customer_id`, the requests that customer voted for (from their shard).
    static let listFeatureRequests: ShardSpreadCall = { request, shards, ask in
        let message = try Customer360_V1_ListFeatureRequestsRequest(serializedBytes: request)
        guard let size = PageSize.resolve(message.page.pageSize) else {
            throw RPCError(
                code: .invalidArgument,
                message: """
                    page.page_size: must be between 0 (default \(PageSize.default)) and \(PageSize.maximum), \
                    not \(message.page.pageSize)
                    """)
        }
        let order = message.orderBy == .unspecified ? .votes : message.orderBy
        // A token is for the filter it was issued under: statuses, window, customer and order, not the page.
        var filtered = message
        filtered.page = .init()
        var filter = message
        filter.page = .init()
        // Partial when a shard is down and the caller allows it (named in the trailer): its customers' votes are
        // missing from the counts.
        var (tallies, missing) = try await tallies(shards, filter: filter, ask: ask, partial: true)
        // A token is also for the shards that answered: the order is by their votes, so a page read without a shard
        // does not continue one read with it, or the other way round (an item could be skipped or listed twice).
        let without = missing.sorted().joined(separator: ",")
        let filterName =
            "feature requests across \(shards.count) shards \(fingerprint(try filtered.serializedBytes()))"
            + (missing.isEmpty ? "" : " without \(without)")
        let token: PageToken<FeaturePosition>?
        do throws(PageTokenError) {
            token = try PageToken<FeaturePosition>.decode(message.page.pageToken, filter: filterName)
        } catch {
            let now = missing.isEmpty ? "every shard answers now" : "shards \(without) do not answer now"
            throw RPCError(
                code: .invalidArgument,
                message:
                    "page.page_token: '\(message.page.pageToken)' \(error.reason) (\(now); the page may have been read with others)"
            )
        }
        let after = token?.position
        if !message.customerID.isEmpty {
            // Asked of the customer's shard, which checks the customer and holds their votes.
            let voted = try await allFeatureRequests(
                filter, pin: [:], method: Service.Method.ListFeatureRequests.descriptor, ask: ask)
            let ids = Set(voted.map(\.featureRequest.featureRequestID))
            tallies = tallies.filter { ids.contains($0.key) }
        }
        func position(_ tally: Customer360_V1_FeatureRequestTally) -> FeaturePosition {
            let request = tally.featureRequest
            let created = Int64(request.createdAt.seconds) * 1_000 + Int64(request.createdAt.nanos / 1_000_000)
            let key =
                switch order {
                case .windowVotes: tally.windowVotes
                case .newest: created
                default: request.votes
                }
            return FeaturePosition(key: key, created: created, id: request.featureRequestID)
        }
        // Most first, then newest, then by id: descending on all three.
        func precedes(_ a: FeaturePosition, _ b: FeaturePosition) -> Bool {
            (a.key, a.created, a.id) > (b.key, b.created, b.id)
        }
        let ordered = tallies.values.map { ($0, position($0)) }
            .filter { item in after.map { precedes($0, item.1) } ?? true }
            .sorted { precedes($0.1, $1.1) }
        let page = ordered.prefix(size)
        var answer = Customer360_V1_ListFeatureRequestsResponse()
        answer.featureRequests = page.map(\.0)
        if ordered.count > size, let last = page.last {
            answer.page.nextPageToken = PageToken(position: last.1, filter: filterName).encoded()
        }
        return try answer.serializedBytes()
    }
}

extension Customer360_V1_FeatureRequest {
    /// One feature request as several shards hold it: the votes added (each shard counts its own customers'), the
    /// latest update; the rest is the same on every shard.
    static func merged(_ parts: [Self]) -> Self {
        guard var merged = parts.first else { return Self() }
        for part in parts.dropFirst() {
            merged.votes += part.votes
            if part.updatedAt.date > merged.updatedAt.date { merged.updatedAt = part.updatedAt }
        }
        return merged
    }
}

extension Customer360_V1_GetScoresResponse: ShardMergeable {
    /// The shards' responses together: the overall aggregate and each group's (same survey, channel and language)
    /// added, the derived scores computed again; groups in key order.
    public static func merged(_ parts: [Self]) -> Self {
        guard parts.count > 1 else { return parts.first ?? Self() }
        var merged = Self()
        if parts[0].hasWindow { merged.window = parts[0].window }
        merged.overall = .merged(parts.map(\.overall))
        var groups: [String: [Customer360_V1_ScoreGroup]] = [:]
        for group in parts.flatMap(\.groups) {
            groups["\(group.surveyID)\u{0}\(group.channel.rawValue)\u{0}\(group.language)", default: []].append(group)
        }
        merged.groups = groups.values.map { same in
            var group = same[0]
            group.aggregate = .merged(same.map(\.aggregate))
            return group
        }.sorted { ($0.surveyID, $0.channel.rawValue, $0.language) < ($1.surveyID, $1.channel.rawValue, $1.language) }
        return merged
    }
}

extension Customer360_V1_ScoreAggregate {
    /// Counts and sums added; NPS, CSAT %, CES mean and mean sentiment computed again, unset without responses.
    static func merged(_ parts: [Self]) -> Self {
        var merged = Self()
        for part in parts {
            merged.responses += part.responses
            merged.customResponses += part.customResponses
            merged.nps.responses += part.nps.responses
            merged.nps.promoters += part.nps.promoters
            merged.nps.passives += part.nps.passives
            merged.nps.detractors += part.nps.detractors
            merged.csat.responses += part.csat.responses
            merged.csat.satisfied += part.csat.satisfied
            merged.ces.responses += part.ces.responses
            merged.ces.scoreSum += part.ces.scoreSum
            merged.sentiment.comments += part.sentiment.comments
            merged.sentiment.positive += part.sentiment.positive
            merged.sentiment.neutral += part.sentiment.neutral
            merged.sentiment.negative += part.sentiment.negative
            merged.sentiment.scoreSum += part.sentiment.scoreSum
        }
        if merged.nps.responses > 0 {
            merged.nps.nps = Double(merged.nps.promoters - merged.nps.detractors) / Double(merged.nps.responses) * 100
        }
        if merged.csat.responses > 0 {
            merged.csat.csatPercent = Double(merged.csat.satisfied) / Double(merged.csat.responses) * 100
        }
        if merged.ces.responses > 0 { merged.ces.cesMean = Double(merged.ces.scoreSum) / Double(merged.ces.responses) }
        if merged.sentiment.comments > 0 {
            merged.sentiment.meanScore = merged.sentiment.scoreSum / Double(merged.sentiment.comments)
        }
        return merged
    }
}

extension Customer360_V1_GetChurnReasonTallyResponse: ShardMergeable {
    /// Reasons and churned customers added (a customer lives on one shard, so no one is counted twice), categories
    /// added and ordered most first.
    public static func merged(_ parts: [Self]) -> Self {
        guard parts.count > 1 else { return parts.first ?? Self() }
        var merged = Self()
        if parts[0].hasWindow { merged.window = parts[0].window }
        var categories: [Customer360_V1_ChurnReasonCategory: Customer360_V1_ChurnReasonCount] = [:]
        for part in parts {
            merged.reasons += part.reasons
            merged.churnedCustomers += part.churnedCustomers
            for count in part.categories {
                var sum = categories[count.category] ?? .with { $0.category = count.category }
                sum.reasons += count.reasons
                sum.customers += count.customers
                categories[count.category] = sum
            }
        }
        merged.categories = categories.values.sorted {
            ($1.reasons, $0.category.rawValue) < ($0.reasons, $1.category.rawValue)
        }
        return merged
    }
}

extension Customer360_V1_GetTopThemesResponse {
    /// Per period (every shard cuts the same window the same way): comments added, the counts of the same term added
    /// (a term is named by its most frequent form on each shard, so forms differing in case are taken as one, named
    /// as the shard with most of its comments names it) and their samples pooled, the top `limit` kept (approximate
    /// at the margin, as the contract says of any top-k).
    static func merged(_ parts: [Self], limit: Int) -> Self {
        guard parts.count > 1 else { return parts.first ?? Self() }
        var merged = parts[0]
        for (index, period) in merged.periods.enumerated() {
            let same = parts.compactMap { $0.periods.indices.contains(index) ? $0.periods[index] : nil }
            var themes: [String: (theme: Customer360_V1_FeedbackTheme, most: Int64)] = [:]
            for theme in same.flatMap(\.themes) {
                let key = theme.term.lowercased()
                var sum = themes[key] ?? (.with { $0.term = theme.term }, 0)
                if theme.comments > sum.most { (sum.theme.term, sum.most) = (theme.term, theme.comments) }
                sum.theme.comments += theme.comments
                sum.theme.sampleResponseIds = Array((sum.theme.sampleResponseIds + theme.sampleResponseIds).prefix(3))
                themes[key] = sum
            }
            var result = period
            result.comments = same.map(\.comments).reduce(0, +)
            result.themes = Array(
                themes.values.map(\.theme).sorted { ($1.comments, $0.term) < ($0.comments, $1.term) }.prefix(limit))
            merged.periods[index] = result
        }
        return merged
    }
}

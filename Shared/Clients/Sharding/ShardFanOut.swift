public import C360Contracts
import Foundation
public import GRPCCore
public import SwiftProtobuf
import Synchronization

/// Asks every shard of a peer the same question across customers and keeps each shard's answer or failure, so the
/// caller merges what came and names what did not: the contracts' answers across customers are mergeable counts,
/// sums and histograms for this.
public enum ShardFanOut {
    /// The answers by shard name, and the shards that failed with why.
    public struct Outcome<Answer: Sendable>: Sendable {
        public var answers: [(shard: String, answer: Answer)]
        public var failures: [(shard: String, error: any Error)]
    }

    /// Calls `body` once per shard in `shards`, concurrently, with metadata pinning the call to it
    /// (`WrongShard.pinKey`); when `shards` is empty (the peer is not sharded), once without a pin, keyed "".
    public static func call<Answer: Sendable>(
        shards: [String], _ body: @escaping @Sendable (_ pin: Metadata) async throws -> Answer
    ) async -> Outcome<Answer> {
        let targets = shards.isEmpty ? [""] : shards
        let results = await withTaskGroup(of: (String, Result<Answer, any Error>).self) { group in
            for shard in targets {
                group.addTask {
                    let pin: Metadata = shard.isEmpty ? [:] : [WrongShard.pinKey: .string(shard)]
                    do {
                        return (shard, .success(try await body(pin)))
                    } catch {
                        return (shard, .failure(error))
                    }
                }
            }
            var results: [String: Result<Answer, any Error>] = [:]
            for await (shard, result) in group { results[shard] = result }
            return results
        }
        var outcome = Outcome<Answer>(answers: [], failures: [])
        for shard in targets {
            switch results[shard] {
            case .success(let answer)?: outcome.answers.append((shard, answer))
            case .failure(let error)?: outcome.failures.append((shard, error))
            case nil: break
            }
        }
        return outcome
    }
}

extension ShardFanOut.Outcome {
    /// The answers of a read across shards that may go on without the shards that could not be reached
    /// (`ShardMergedPages.isUnanswered`), each left out through `ask` (which names it, or throws when the caller takes
    /// no partial answers). A shard refusing the caller's map is thrown before anything else, so the caller reloads it
    /// and asks again (`WrongShard`); then any other failure; and when shards were asked but none answered, the first
    /// failure.
    func answers(leavingOutThrough ask: ShardAsk) throws -> [Answer] {
        let errors = failures.map(\.error)
        if let stale = errors.lazy.compactMap({ $0 as? RPCError }).first(where: WrongShard.isRefusal) { throw stale }
        if let other = errors.first(where: { !(($0 as? RPCError).map(ShardMergedPages.isUnanswered) ?? false) }) {
            throw other
        }
        if answers.isEmpty, let first = errors.first { throw first }
        for (shard, error) in failures {
            if let lost = error as? RPCError { try ask.leaveOut(shard, failing: lost) }
        }
        return answers.map(\.answer)
    }
}

extension ShardFanOut {
    /// Runs `body` on every shard; all answers, or the failure that tells the caller how to finish the write: which
    /// shards took it, and the id to send again.
    public static func everyShard<Answer: Sendable>(
        _ shards: [String], naming id: (field: String, value: String)?,
        _ body: @escaping @Sendable (Metadata) async throws -> Answer
    ) async throws -> [Answer] {
        let outcome = await call(shards: shards, body)
        guard let failure = outcome.failures.first else { return outcome.answers.map(\.answer) }
        // A shard with a newer map: the caller reloads and asks again (`WrongShard`).
        if let stale = outcome.failures.lazy.compactMap({ $0.error as? RPCError }).first(where: WrongShard.isRefusal) {
            throw stale
        }
        // Refused by every shard alike (bad input, not found): the service's own answer.
        guard !outcome.answers.isEmpty else { throw failure.error }
        let error = failure.error as? RPCError
        let missing = outcome.failures.map(\.shard).joined(separator: ", ")
        let reason = error?.message ?? "\(failure.error)"
        guard let id else {
            throw RPCError(
                code: error?.code ?? .unavailable,
                message: "shards \(missing) did not answer (\(reason)); the answer needs every shard, try again")
        }
        throw RPCError(
            code: error?.code ?? .unavailable,
            message: """
                taken by shards \(outcome.answers.map(\.shard).joined(separator: ", ")) but not by \(missing): \
                \(reason) (send it again with \(id.field) '\(id.value)'); it is for every shard
                """)
    }
}

/// How a call across customers to a sharded service is answered: every shard asked and the answers merged
/// (`ShardReadMerges`), or the call spread over the shards by its own rule (`ShardSpreadCalls`: a list merged in its
/// order, a batch started on every shard). Both the transport (`ShardedClientTransport`, for generated clients) and the gateway's byte forwarder use it.
public enum AcrossShards: Sendable {
    case merged(ShardReadMerge)
    case spread(ShardSpreadCall)

    /// The trailer naming the shards a merged answer is missing (comma-separated): the answer holds the others' part.
    public static let missingShardsKey = "c360-missing-shards"

    /// How `method` is answered across shards; nil for an RPC about one customer, one not answered this way, or a
    /// request naming one customer in its `customer_id` (the KPIs, alerts or tasks of one customer), which goes to
    /// that customer's shard.
    public init?(_ method: String, request: [UInt8]?, routing: ShardRouting, evenForOneCustomer: Bool = true) {
        if !(evenForOneCustomer && ShardSpreadCalls.evenForOneCustomer.contains(method)),
            let field = routing.routes[method]?.customerField, let request,
            let customerID = ProtobufWire.string(field: field, in: request), !customerID.isEmpty
        {
            return nil
        }
        if let merge = ShardReadMerges.all[method] {
            self = .merged(merge)
        } else if let call = ShardSpreadCalls.all[method] {
            self = .spread(call)
        } else {
            return nil
        }
    }

    /// Whether `method` is one the shards answer together (merged, spread or interleaved), whatever its request says.
    public static func answers(_ method: String) -> Bool {
        ShardReadMerges.all[method] != nil || ShardSpreadCalls.all[method] != nil || interleaved.contains(method)
    }

    /// Server streams across customers that are every shard's streams interleaved, each message passed on as it
    /// comes: a live feed whose events each belong to one shard. `WatchAlerts`: its replay position `after_event_id`
    /// is a time-ordered id, so every shard resumes after the last event the client saw, whichever shard sent it.
    /// An export of a segment's members: each shard streams its own.
    public static let interleaved: Set<String> = OutreachAcrossShards.interleaved.union([
        Customer360_V1_SuccessService.Method.WatchAlerts.descriptor.fullyQualifiedMethod
    ])

    /// The answer to `request` from `shards`, asking one shard through `ask`, and the shards a merged answer lacks.
    /// When no shard answers, or a spread call's shard fails, the first failure is the call's.
    ///
    /// When a shard refuses the caller's map as older than its own (`WrongShard`), the shards are asked once more as
    /// `reloadedShards` names them: the map read again, which may name a shard the caller did not know.
    ///
    /// - Parameter partial: Whether a list may go on without a shard that cannot be reached, naming it in `missing`
    ///   (the caller must pass that on: the gateway's forwarder puts it in the `c360-missing-shards` trailer). Off,
    ///   such a shard fails the list, as callers that would not notice a partial list need (a batch paging through
    ///   every customer). Merged counts name missing shards either way.
    ///
    /// - Parameter owner: The shard owning a customer in the caller's map (`ShardAsk.owner`), if it knows the map.
    public func answer(
        _ request: [UInt8], shards: [String], reloadedShards: @Sendable () -> [String], partial: Bool = false,
        owner: (@Sendable (String) -> String?)? = nil, ask body: @escaping ShardAsk.Body
    ) async throws -> (answer: [UInt8], missing: [String]) {
        do {
            return try await answer(request, shards: shards, ask: ShardAsk(body, partial: partial, owner: owner))
        } catch let error as RPCError where WrongShard.isRefusal(error) {
            let reloaded = reloadedShards()
            guard !reloaded.isEmpty else { throw error }
            return try await answer(request, shards: reloaded, ask: ShardAsk(body, partial: partial, owner: owner))
        }
    }

    private func answer(
        _ request: [UInt8], shards: [String], ask: ShardAsk
    ) async throws -> (answer: [UInt8], missing: [String]) {
        switch self {
        case .spread(let call):
            let answer = try await call(request, shards, ask)
            return (answer, ask.missing)
        case .merged(let merge):
            let outcome = await ShardFanOut.call(shards: shards) { pin in try await ask(request, pin) }
            // A shard with a newer map than the caller's: the answer could lack shards the caller does not know, so
            // the caller reloads its map and asks again rather than merge a part as if whole.
            if let stale = outcome.failures.lazy.compactMap({ $0.error as? RPCError }).first(
                where: WrongShard.isRefusal)
            {
                throw stale
            }
            guard !outcome.answers.isEmpty else {
                throw outcome.failures.first?.error ?? RPCError(code: .unavailable, message: "no shard answered")
            }
            return (try merge(request, outcome.answers.map(\.answer)), outcome.failures.map(\.shard))
        }
    }
}

/// Merges the encoded answers of every shard to a read across customers into the answer one unsharded service would
/// have given; the request says what the answer holds (how many of a top list).
public typealias ShardReadMerge = @Sendable (_ request: [UInt8], _ answers: [[UInt8]]) throws -> [UInt8]

/// The reads across customers that are asked of every shard and merged (by the transport, and by the gateway's byte
/// forwarder), by fully qualified method; each merge decodes the answers into the contract's type and merges them as
/// the contract says.
public enum ShardReadMerges {
    public static let all: [String: ShardReadMerge] = own.merging(FeedbackAcrossShards.merged) { $1 }
        .merging(OutreachAcrossShards.merged) { $1 }

    private static let own: [String: ShardReadMerge] = [
        Customer360_V1_InteractionService.Method.GetSupportKpis.descriptor.fullyQualifiedMethod:
            decoding(Customer360_V1_SupportKpis.self),
        Customer360_V1_InteractionService.Method.GetRfmSegments.descriptor.fullyQualifiedMethod:
            decoding(Customer360_V1_GetRfmSegmentsResponse.self),
        Customer360_V1_SuccessService.Method.GetHealthSummary.descriptor.fullyQualifiedMethod:
            decoding(Customer360_V1_HealthSummary.self),
        Customer360_V1_SuccessService.Method.GetSuccessKpis.descriptor.fullyQualifiedMethod:
            decoding(Customer360_V1_SuccessKpis.self),
        // A batch runs on every shard under one id (`ShardSpreadCalls` gives it one), each over its own customers.
        Customer360_V1_SuccessService.Method.GetBatchStatus.descriptor.fullyQualifiedMethod:
            decoding(Customer360_V1_HealthBatch.self),
    ]

    /// The merge of answers of contract type `Answer`: each decoded, merged as the contract says, encoded again.
    static func decoding<Answer: ShardMergeable>(_: Answer.Type) -> ShardReadMerge {
        { _, answers in try Answer.merged(answers.map { try Answer(serializedBytes: $0) }).serializedBytes() }
    }
}

/// A contract answer that the answers of several shards merge into, as the contract says (counts and sums added,
/// derived values computed again from them).
public protocol ShardMergeable: SwiftProtobuf.Message {
    static func merged(_ parts: [Self]) -> Self
}

extension Customer360_V1_SupportKpis: ShardMergeable {}
extension Customer360_V1_GetRfmSegmentsResponse: ShardMergeable {}
extension Customer360_V1_HealthSummary: ShardMergeable {}
extension Customer360_V1_SuccessKpis: ShardMergeable {}
extension Customer360_V1_HealthBatch: ShardMergeable {}

/// Calls across customers spread over a sharded service's shards by the caller itself (`AcrossShards`), by fully
/// qualified method: given the request, the shards, and how to ask one shard. Lists are read from every shard at once
/// and merged in their order (`ShardMergedPages`); a batch is started on every shard under one id.
public typealias ShardSpreadCall =
    @Sendable (_ request: [UInt8], _ shards: [String], _ ask: ShardAsk) async throws -> [UInt8]

/// How a call answered across shards asks one shard: with its own method, or another method of the same service (a
/// write whose answer is completed by a read), pinned to a shard (`WrongShard.pinKey`) or, without a pin, sent to the
/// shard of the request's customer.
public struct ShardAsk: Sendable {
    public typealias Body =
        @Sendable (_ method: MethodDescriptor?, _ request: [UInt8], _ pin: Metadata) async throws -> [UInt8]
    let body: Body
    /// The shards a partial answer goes without (`leaveOut`), for the `c360-missing-shards` trailer; shared by the
    /// copies of this handle one call passes around.
    private let left = LeftOut()

    private final class LeftOut: Sendable {
        let shards = Mutex<[String]>([])
    }

    /// Whether the caller takes a list without a shard that cannot be reached (`AcrossShards.answer(partial:)`).
    let allowsPartial: Bool
    /// The shard owning a customer in the caller's map, when the caller knows the map: a read of many customers by
    /// id asks only their owners.
    let owner: (@Sendable (String) -> String?)?

    public init(_ body: @escaping Body, partial: Bool = false, owner: (@Sendable (String) -> String?)? = nil) {
        self.body = body
        self.allowsPartial = partial
        self.owner = owner
    }

    /// Notes that the answer goes on without `shard`, which did not answer, when the caller allows it
    /// (`allowsPartial`): the call's answer is then partial and names it. Otherwise throws `error`.
    func leaveOut(_ shard: String, failing error: RPCError) throws(RPCError) {
        guard allowsPartial else { throw error }
        left.shards.withLock { if !$0.contains(shard) { $0.append(shard) } }
    }

    /// The shards the answer went without, in the order they were left out.
    var missing: [String] { left.shards.withLock { $0 } }

    /// The call's own method.
    public func callAsFunction(_ request: [UInt8], _ pin: Metadata) async throws -> [UInt8] {
        try await body(nil, request, pin)
    }

    /// Another method of the service.
    public func callAsFunction(_ method: MethodDescriptor, _ request: [UInt8], _ pin: Metadata) async throws -> [UInt8]
    {
        try await body(method, request, pin)
    }
}

public enum ShardSpreadCalls {
    public static let all: [String: ShardSpreadCall] = own.merging(FeedbackAcrossShards.spread) { $1 }
        .merging(ProfileAcrossShards.spread) { $1 }
        .merging(OutreachAcrossShards.spread) { $1 }

    private static let own: [String: ShardSpreadCall] = [
        Customer360_V1_InteractionService.Method.ListCustomerActivity.descriptor.fullyQualifiedMethod:
            ShardMergedPages.merged(
                Customer360_V1_ListCustomerActivityRequest.self, \.page,
                Customer360_V1_ListCustomerActivityResponse.self, \.page, \.customers
            ) { $0.customerID < $1.customerID },
        // Lowest latest score first, then by customer.
        Customer360_V1_SuccessService.Method.ListAtRisk.descriptor.fullyQualifiedMethod: ShardMergedPages.merged(
            Customer360_V1_ListAtRiskRequest.self, \.page, Customer360_V1_ListAtRiskResponse.self, \.page,
            \.customers
        ) { ($0.latest.score, $0.customerID) < ($1.latest.score, $1.customerID) },
        // Newest raised first, then by alert id, descending too.
        Customer360_V1_SuccessService.Method.ListAlerts.descriptor.fullyQualifiedMethod: ShardMergedPages.merged(
            Customer360_V1_ListAlertsRequest.self, \.page, Customer360_V1_ListAlertsResponse.self, \.page, \.alerts
        ) {
            ($1.raisedAt.seconds, $1.raisedAt.nanos, $1.alertID) < ($0.raisedAt.seconds, $0.raisedAt.nanos, $0.alertID)
        },
        // Earliest due first, then by task id.
        Customer360_V1_SuccessService.Method.ListTasks.descriptor.fullyQualifiedMethod: ShardMergedPages.merged(
            Customer360_V1_ListTasksRequest.self, \.page, Customer360_V1_ListTasksResponse.self, \.page, \.tasks
        ) { ($0.dueAt.seconds, $0.dueAt.nanos, $0.taskID) < ($1.dueAt.seconds, $1.dueAt.nanos, $1.taskID) },
        // By customer, each customer's newest plan first.
        Customer360_V1_SuccessService.Method.ListSuccessPlans.descriptor.fullyQualifiedMethod: ShardMergedPages.merged(
            Customer360_V1_ListSuccessPlansRequest.self, \.page, Customer360_V1_ListSuccessPlansResponse.self, \.page,
            \.plans
        ) {
            ($0.customerID, $1.createdAt.seconds, $1.createdAt.nanos) < (
                $1.customerID, $0.createdAt.seconds, $0.createdAt.nanos
            )
        },
        Customer360_V1_SuccessService.Method.StartBatchRecompute.descriptor.fullyQualifiedMethod: {
            request, shards, ask in
            // Every shard must run the batch under the same id, so GetBatchStatus can ask them all for it.
            var message = try Customer360_V1_StartBatchRecomputeRequest(serializedBytes: request)
            if message.batchID.isEmpty { message.batchID = UUID().uuidString.lowercased() }
            let bytes: [UInt8] = try message.serializedBytes()
            // A shard that did not start it is named with the id to start it under again (which resumes it where
            // it started).
            let answers = try await ShardFanOut.everyShard(shards, naming: ("batch_id", message.batchID)) { pin in
                try await ask(bytes, pin)
            }
            return try ShardReadMerges.decoding(Customer360_V1_HealthBatch.self)(bytes, answers)
        },
    ]

    /// Calls spread even when their request names a customer (a vote goes to the voter's shard, its tally is every
    /// shard's).
    public static let evenForOneCustomer = FeedbackAcrossShards.evenForOneCustomer
}

extension Customer360_V1_HealthSummary {
    /// The shards' customers together: every count and the score sum added, open alerts added kind by kind.
    public static func merged(_ parts: [Self]) -> Self {
        guard parts.count > 1 else { return parts.first ?? Self() }
        var merged = Self()
        var alerts: [Customer360_V1_AlertKind: Int64] = [:]
        var order: [Customer360_V1_AlertKind] = []
        for part in parts {
            merged.customersScored += part.customersScored
            merged.green += part.green
            merged.yellow += part.yellow
            merged.red += part.red
            merged.scoreSum += part.scoreSum
            merged.overdueTasks += part.overdueTasks
            for open in part.openAlerts {
                if alerts[open.kind] == nil { order.append(open.kind) }
                alerts[open.kind, default: 0] += open.count
            }
        }
        // In the contract's kind order, as one service lists them.
        merged.openAlerts = order.sorted { $0.rawValue < $1.rawValue }.map { kind in
            .with {
                $0.kind = kind
                $0.count = alerts[kind] ?? 0
            }
        }
        return merged
    }
}

extension Customer360_V1_SuccessKpis {
    /// The shards' goals and plans together: counts and the time-to-goal total added, the rate and mean computed again
    /// from them.
    public static func merged(_ parts: [Self]) -> Self {
        guard parts.count > 1 else { return parts.first ?? Self() }
        var merged = Self()
        if parts[0].hasWindow { merged.window = parts[0].window }
        var total = Duration.zero
        for part in parts {
            merged.goals += part.goals
            merged.goalsAchieved += part.goalsAchieved
            merged.goalsMissed += part.goalsMissed
            merged.goalsOverdue += part.goalsOverdue
            merged.plansActive += part.plansActive
            total += duration(part.timeToGoalTotal)
        }
        merged.timeToGoalTotal = protoDuration(total)
        if merged.goalsAchieved + merged.goalsMissed > 0 {
            merged.goalAchievementRate =
                Double(merged.goalsAchieved) / Double(merged.goalsAchieved + merged.goalsMissed)
        }
        if merged.goalsAchieved > 0 { merged.meanTimeToGoal = protoDuration(total / Int(merged.goalsAchieved)) }
        return merged
    }
}

extension Customer360_V1_HealthBatch {
    /// One batch run by several shards, each over its own customers: counts added; running while any shard runs it,
    /// then interrupted if any stopped, completed when all did; the earliest start and latest update.
    public static func merged(_ parts: [Self]) -> Self {
        guard parts.count > 1 else { return parts.first ?? Self() }
        var merged = parts[0]
        merged.processed = 0
        merged.scored = 0
        merged.partial = 0
        merged.failed = 0
        merged.alertsRaised = 0
        // Each shard has its own cursor: none of them is the batch's.
        merged.cursorCustomerID = ""
        var errors: [String] = []
        for part in parts {
            merged.processed += part.processed
            merged.scored += part.scored
            merged.partial += part.partial
            merged.failed += part.failed
            merged.alertsRaised += part.alertsRaised
            merged.resumes = max(merged.resumes, part.resumes)
            if part.startedAt.date < merged.startedAt.date { merged.startedAt = part.startedAt }
            if part.updatedAt.date > merged.updatedAt.date { merged.updatedAt = part.updatedAt }
            if !part.lastError.isEmpty { errors.append(part.lastError) }
        }
        let states = Set(parts.map(\.state))
        merged.state =
            states.count == 1
            ? parts[0].state
            : states.contains(.running) ? .running : states.contains(.interrupted) ? .interrupted : parts[0].state
        if merged.state == .completed {
            merged.finishedAt = parts.map(\.finishedAt).max { $0.date < $1.date } ?? merged.finishedAt
        } else {
            merged.clearFinishedAt()
        }
        merged.lastError = errors.joined(separator: "; ")
        return merged
    }
}

extension Customer360_V1_SupportKpis {
    /// The KPIs of the shards' customers together: counts, sums and the histogram added; the derived values computed
    /// again from them (the median from the histogram, as the contract says). One part is returned as it is.
    public static func merged(_ parts: [Self]) -> Self {
        guard parts.count > 1 else { return parts.first ?? Self() }
        var merged = Self()
        merged.window = parts[0].window
        var firstResponseTotal = Duration.zero
        var resolutionTotal = Duration.zero
        for part in parts {
            merged.ticketsOpened += part.ticketsOpened
            merged.ticketsOpen += part.ticketsOpen
            merged.ticketsResolved += part.ticketsResolved
            merged.ticketsResolvedFirstContact += part.ticketsResolvedFirstContact
            merged.reopens += part.reopens
            merged.firstResponseCount += part.firstResponseCount
            merged.selfServiceSessions += part.selfServiceSessions
            merged.deflectedSessions += part.deflectedSessions
            firstResponseTotal += duration(part.firstResponseTotal)
            resolutionTotal += duration(part.resolutionTotal)
            for (index, bucket) in part.firstResponseHistogram.enumerated() {
                if index < merged.firstResponseHistogram.count {
                    merged.firstResponseHistogram[index].count += bucket.count
                } else {
                    merged.firstResponseHistogram.append(bucket)
                }
            }
        }
        merged.firstResponseTotal = protoDuration(firstResponseTotal)
        merged.resolutionTotal = protoDuration(resolutionTotal)
        if merged.ticketsResolved > 0 {
            merged.firstContactResolutionRate =
                Double(merged.ticketsResolvedFirstContact) / Double(merged.ticketsResolved)
        }
        if merged.firstResponseCount > 0 {
            merged.meanFirstResponseTime = protoDuration(firstResponseTotal / Int(merged.firstResponseCount))
            // The bucket holding the middle response; its upper bound is the median's bound (none in the last,
            // unbounded bucket).
            let middle = (merged.firstResponseCount + 1) / 2
            var seen: Int64 = 0
            for bucket in merged.firstResponseHistogram {
                seen += bucket.count
                if seen >= middle {
                    if bucket.hasUpperBound { merged.medianFirstResponseTime = bucket.upperBound }
                    break
                }
            }
        }
        if merged.selfServiceSessions > 0 {
            merged.deflectionRate = Double(merged.deflectedSessions) / Double(merged.selfServiceSessions)
        }
        return merged
    }
}

extension Customer360_V1_GetRfmSegmentsResponse {
    /// The segments of the shards' customers together: sizes, orders and revenue added segment by segment, the
    /// customer counts and CLV sums added. Each shard computes its own cut points from a random sample of the
    /// customers (the hash spreads them), so the merged cut points are the shards' averaged, weighted by their
    /// customers with purchases.
    public static func merged(_ parts: [Self]) -> Self {
        guard parts.count > 1 else { return parts.first ?? Self() }
        var merged = Self()
        merged.asOf = parts[0].asOf
        var segments: [Customer360_V1_RfmSegment: Customer360_V1_RfmSegmentSize] = [:]
        var order: [Customer360_V1_RfmSegment] = []
        let currency =
            parts.lazy.map(\.historicClvSum.currencyCode).first { !$0.isEmpty } ?? ""
        merged.historicClvSum.currencyCode = currency
        merged.predictiveClvSum.currencyCode = currency
        var weights: Double = 0
        var cuts: (recency: [Double], frequency: [Double], monetary: [Double]) = ([], [], [])
        func add(_ values: [Double], weight: Double, to sum: inout [Double]) {
            if sum.count < values.count { sum += Array(repeating: 0, count: values.count - sum.count) }
            for (index, value) in values.enumerated() { sum[index] += value * weight }
        }
        for part in parts {
            merged.customers += part.customers
            merged.customersWithPurchases += part.customersWithPurchases
            merged.customersWithRepeatPurchases += part.customersWithRepeatPurchases
            merged.historicClvSum.amountMinor += part.historicClvSum.amountMinor
            merged.predictiveClvSum.amountMinor += part.predictiveClvSum.amountMinor
            for size in part.segments {
                if var existing = segments[size.segment] {
                    existing.customers += size.customers
                    existing.orders += size.orders
                    existing.netRevenue.amountMinor += size.netRevenue.amountMinor
                    if existing.netRevenue.currencyCode.isEmpty {
                        existing.netRevenue.currencyCode = size.netRevenue.currencyCode
                    }
                    segments[size.segment] = existing
                } else {
                    segments[size.segment] = size
                    order.append(size.segment)
                }
            }
            if part.hasCutPoints, part.customersWithPurchases > 0 {
                let weight = Double(part.customersWithPurchases)
                weights += weight
                add(part.cutPoints.recencyDays, weight: weight, to: &cuts.recency)
                add(part.cutPoints.frequency, weight: weight, to: &cuts.frequency)
                add(part.cutPoints.monetaryMinor, weight: weight, to: &cuts.monetary)
            }
        }
        merged.segments = order.compactMap { segments[$0] }
        if weights > 0 {
            merged.cutPoints = .with {
                $0.recencyDays = cuts.recency.map { $0 / weights }
                $0.frequency = cuts.frequency.map { $0 / weights }
                $0.monetaryMinor = cuts.monetary.map { $0 / weights }
            }
        }
        return merged
    }
}

/// A contract duration as a Swift one, to add them up.
private func duration(_ proto: Google_Protobuf_Duration) -> Duration {
    .seconds(proto.seconds) + .nanoseconds(Int64(proto.nanos))
}

/// A Swift duration as a contract one.
private func protoDuration(_ duration: Duration) -> Google_Protobuf_Duration {
    let (seconds, attoseconds) = duration.components
    return Google_Protobuf_Duration(seconds: seconds, nanos: Int32(attoseconds / 1_000_000_000))
}

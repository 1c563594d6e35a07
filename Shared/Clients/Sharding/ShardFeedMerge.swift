public import C360Contracts
import C360StoreKit
import Foundation
public import GRPCCore
import Synchronization

/// A sharded service's change feed across customers, read as one: every shard's feed interleaved as its batches come,
/// each event naming its shard, and each batch carrying the position of every shard after it (`through_position`),
/// which a client stores and resumes from (`after_position`). Each shard's own sequences stay its own: a feed is
/// ordered within a shard, and across shards only by arrival, as one service's feed orders events by commit.
///
/// A start at the head waits for every shard's first (empty) batch and answers one empty batch naming all their
/// heads, so a position stored after it never starts a shard from its oldest event. A batch is `caught_up` once every
/// shard's latest batch was.
public final class ShardFeedMerge: Sendable {
    /// Every shard's sequence, by shard name, as a position token in the services' own format.
    typealias Positions = [String: UInt64]

    let shards: [String]
    private let request: Customer360_V1_WatchChangesRequest
    private let filter: String
    private let state: Mutex<State>

    private struct State {
        var positions: Positions
        var caughtUp: Set<String> = []
        /// With start_at_head: shards whose head batch came, and what came meanwhile, held until all have.
        var started: Set<String> = []
        var held: [(String, Customer360_V1_WatchChangesResponse)] = []
    }

    /// Whether `method` is a change feed (every data service's `WatchChanges` takes the same request).
    public static func isFeed(_ method: MethodDescriptor) -> Bool { method.method == "WatchChanges" }

    /// - Throws: INVALID_ARGUMENT for an `after_position` that is not one of this service's positions, or
    ///   `after_sequence` given without it (one shard's sequence means nothing to the others).
    public init(_ request: Customer360_V1_WatchChangesRequest, service: String, shards: [String]) throws(RPCError) {
        self.request = request
        self.shards = shards
        filter = "change feed of \(service)"
        var positions: Positions = [:]
        if !request.afterPosition.isEmpty {
            do {
                positions = try PageToken<Positions>.decode(request.afterPosition, filter: filter)?.position ?? [:]
            } catch {
                throw RPCError(
                    code: .invalidArgument,
                    message: """
                        after_position: '\(request.afterPosition)' \(error.reason); pass a through_position this \
                        feed answered
                        """)
            }
        } else if request.afterSequence != 0, !request.startAtHead {
            throw RPCError(
                code: .invalidArgument,
                message: """
                    after_sequence: \(service) runs as \(shards.count) shards, each with its own sequences; resume \
                    with after_position (a batch's through_position) instead
                    """)
        }
        state = Mutex(State(positions: positions.filter { shards.contains($0.key) }))
    }

    /// What `shard` is asked: the caller's request from that shard's own position.
    public func request(for shard: String) -> Customer360_V1_WatchChangesRequest {
        var asked = request
        asked.afterPosition = ""
        asked.afterSequence = request.startAtHead ? 0 : state.withLock { $0.positions[shard] } ?? 0
        return asked
    }

    /// The batches to pass on now that `batch` came from `shard`: itself, its events naming the shard and the whole
    /// position after it; or, at a start at the head, nothing until every shard's head is known.
    public func received(
        _ batch: Customer360_V1_WatchChangesResponse, from shard: String
    ) -> [Customer360_V1_WatchChangesResponse] {
        state.withLock { state in
            if request.startAtHead, state.started.count < shards.count {
                if state.started.insert(shard).inserted {
                    state.positions[shard] = batch.throughSequence
                    if batch.caughtUp { state.caughtUp.insert(shard) } else { state.caughtUp.remove(shard) }
                } else {
                    state.held.append((shard, batch))
                }
                guard state.started.count == shards.count else { return [] }
                // Every head is known: one empty batch names them all, then what came meanwhile.
                var head = Customer360_V1_WatchChangesResponse()
                head.throughPosition = token(state.positions)
                head.caughtUp = state.caughtUp.count == shards.count
                let held = state.held
                state.held = []
                return [head] + held.map { pass($0.1, from: $0.0, &state) }
            }
            return [pass(batch, from: shard, &state)]
        }
    }

    private func pass(
        _ batch: Customer360_V1_WatchChangesResponse, from shard: String, _ state: inout State
    ) -> Customer360_V1_WatchChangesResponse {
        var batch = batch
        for index in batch.events.indices { batch.events[index].shard = shard }
        state.positions[shard] = max(state.positions[shard] ?? 0, batch.throughSequence)
        if batch.caughtUp { state.caughtUp.insert(shard) } else { state.caughtUp.remove(shard) }
        batch.caughtUp = state.caughtUp.count == shards.count
        batch.throughPosition = token(state.positions)
        return batch
    }

    private func token(_ positions: Positions) -> String {
        PageToken(position: positions, filter: filter).encoded()
    }
}

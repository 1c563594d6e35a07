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
    let shards: [String]
    private let request: Customer360_V1_WatchChangesRequest
    private let tokens: ShardPositions<UInt64>
    private let state: Mutex<State>

    private struct State {
        var positions: [String: UInt64]
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
        tokens = ShardPositions(stream: "change feed of \(service)", shards: shards)
        var positions: [String: UInt64] = [:]
        if !request.afterPosition.isEmpty {
            positions = try tokens.parse(
                request.afterPosition, field: "after_position", answered: "a through_position this feed answered")
        } else if request.afterSequence != 0, !request.startAtHead {
            throw RPCError(
                code: .invalidArgument,
                message: """
                    after_sequence: \(service) runs as \(shards.count) shards, each with its own sequences; resume \
                    with after_position (a batch's through_position) instead
                    """)
        }
        state = Mutex(State(positions: positions))
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
        var out: [Customer360_V1_WatchChangesResponse] = []
        received(batch, from: shard) { out.append($0) }
        return out
    }

    /// As `received(_:from:)`, handing each batch to `pass` before the next shard's batch is taken: batches reach the
    /// client in the order their positions were made, so the last one a client holds names every shard's latest
    /// position (passed on after the lock, a batch made earlier could overtake one made later, and a resume from it
    /// would deliver a shard's events again).
    public func received(
        _ batch: Customer360_V1_WatchChangesResponse, from shard: String,
        passing pass: (Customer360_V1_WatchChangesResponse) -> Void
    ) {
        state.withLock { state in
            for each in batches(batch, from: shard, &state) { pass(each) }
        }
    }

    private func batches(
        _ batch: Customer360_V1_WatchChangesResponse, from shard: String, _ state: inout State
    ) -> [Customer360_V1_WatchChangesResponse] {
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
            head.throughPosition = tokens.token(state.positions)
            head.caughtUp = state.caughtUp.count == shards.count
            let held = state.held
            state.held = []
            return [head] + held.map { pass($0.1, from: $0.0, &state) }
        }
        return [pass(batch, from: shard, &state)]
    }

    private func pass(
        _ batch: Customer360_V1_WatchChangesResponse, from shard: String, _ state: inout State
    ) -> Customer360_V1_WatchChangesResponse {
        var batch = batch
        for index in batch.events.indices { batch.events[index].shard = shard }
        state.positions[shard] = max(state.positions[shard] ?? 0, batch.throughSequence)
        if batch.caughtUp { state.caughtUp.insert(shard) } else { state.caughtUp.remove(shard) }
        batch.caughtUp = state.caughtUp.count == shards.count
        batch.throughPosition = tokens.token(state.positions)
        return batch
    }
}

/// Every shard's position in a stream interleaved from all of them (a change feed, the alert feed), as one token in the
/// services' own token format, issued for one stream (a token of another is refused).
struct ShardPositions<Position: Codable & Sendable & Equatable>: Sendable {
    let filter: String
    let shards: [String]

    init(stream: String, shards: [String]) {
        filter = stream
        self.shards = shards
    }

    /// The positions `text` names, of the shards the map has now.
    ///
    /// - Throws: INVALID_ARGUMENT naming `field` when `text` is not a position of this stream.
    func parse(_ text: String, field: String, answered: String) throws(RPCError) -> [String: Position] {
        do {
            let positions = try PageToken<[String: Position]>.decode(text, filter: filter)?.position ?? [:]
            return positions.filter { shards.contains($0.key) }
        } catch {
            throw RPCError(code: .invalidArgument, message: "\(field): '\(text)' \(error.reason); pass \(answered)")
        }
    }

    func token(_ positions: [String: Position]) -> String {
        PageToken(position: positions, filter: filter).encoded()
    }
}

/// The alert feed across success-service's shards (`WatchAlerts` for everyone's alerts), read as one: every shard's
/// events as they come, each carrying every shard's last event (`position`), which a client resumes from
/// (`after_position`), each shard after its own last event. Resuming after one event id instead could skip events
/// another shard had made a moment before and sent a moment after.
public final class ShardAlertFeedMerge: Sendable {
    private let request: Customer360_V1_WatchAlertsRequest
    private let tokens: ShardPositions<String>
    private let positions: Mutex<[String: String]>

    /// Whether `method` is the alert feed.
    public static func isAlertFeed(_ method: MethodDescriptor) -> Bool {
        method.fullyQualifiedMethod == Customer360_V1_SuccessService.Method.WatchAlerts.descriptor.fullyQualifiedMethod
    }

    /// - Throws: INVALID_ARGUMENT for an `after_position` that is not one of this feed's.
    public init(_ request: Customer360_V1_WatchAlertsRequest, shards: [String]) throws(RPCError) {
        self.request = request
        tokens = ShardPositions(stream: "alert feed", shards: shards)
        positions = Mutex(
            request.afterPosition.isEmpty
                ? [:]
                : try tokens.parse(
                    request.afterPosition, field: "after_position", answered: "the position of an event this feed sent")
        )
    }

    /// What `shard` is asked: after its own last event when the request names a position (a shard it does not name:
    /// after the oldest it does), else the caller's request as it is.
    public func request(for shard: String) -> Customer360_V1_WatchAlertsRequest {
        var asked = request
        asked.afterPosition = ""
        guard !request.afterPosition.isEmpty else { return asked }
        let known = positions.withLock { $0 }
        if let last = known[shard] ?? known.values.min() { asked.afterEventID = last }
        return asked
    }

    /// `event` from `shard`, carrying every shard's last event after it.
    public func received(_ event: Customer360_V1_AlertEvent, from shard: String) -> Customer360_V1_AlertEvent {
        var stamped = event
        received(event, from: shard) { stamped = $0 }
        return stamped
    }

    /// As `received(_:from:)`, handing the event to `pass` before the next shard's event is stamped, so events reach
    /// the client in the order of their positions (the last one held names every shard's last event).
    public func received(
        _ event: Customer360_V1_AlertEvent, from shard: String, passing pass: (Customer360_V1_AlertEvent) -> Void
    ) {
        var event = event
        positions.withLock { positions in
            positions[shard] = event.eventID
            event.position = tokens.token(positions)
            pass(event)
        }
    }
}

public import C360ChangeFeed
public import C360Clients
public import C360Contracts
import C360ServerKit
public import Foundation
public import GRPCCore
import Logging

/// The `customer360.v1.InteractionService` RPCs: validate, resolve the customer against profile-service, call the
/// store and the calculators, answer in protobuf.
///
/// Split by aspect: ingest here, `+Timeline`, `+Tickets`, `+Stats`, `+Privacy`.
public struct InteractionService: Customer360_V1_InteractionService.SimpleServiceProtocol {
    let store: InteractionStore
    let customers: any CustomerDirectory
    let settings: CommerceSettings
    let now: @Sendable () -> Date
    let rfmCutPoints: RfmCutPointsCache
    /// This service's change feed, served by `WatchChanges`.
    let changes: ChangeFeed

    /// Events per store transaction on the streaming path.
    static let batchSize = 500
    /// Rejections listed individually in a batch answer; the count covers all of them.
    static let maxListedRejections = 1_000

    /// - Parameter changes: The feed over the store's database; a new one when `nil` (tests).
    public init(
        store: InteractionStore, customers: any CustomerDirectory, settings: CommerceSettings,
        changes: ChangeFeed? = nil, now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.store = store
        self.changes = changes ?? ChangeFeed(writer: store.writer, logger: .init(label: "interaction-service.changes"))
        self.customers = customers
        self.settings = settings
        self.now = now
        self.rfmCutPoints = RfmCutPointsCache(store: store)
    }

    public func watchChanges(
        request: Customer360_V1_WatchChangesRequest, response: RPCWriter<Customer360_V1_WatchChangesResponse>,
        context: ServerContext
    ) async throws {
        try await changes.watch(request, response: response, context: context)
    }

    public func recordTouchpoint(
        request: Customer360_V1_RecordTouchpointRequest, context: ServerContext
    ) async throws -> Customer360_V1_RecordTouchpointResponse {
        var touchpoint = try validate(
            customerID: request.customerID, touchpoint: request.touchpoint,
            present: request.hasTouchpoint)
        touchpoint.customerID = try await customers.resolveForWrite(touchpoint.customerID)
        switch try await store.ingest([touchpoint])[0] {
        case .stored(let stored):
            return .with { $0.touchpoint = stored.proto }
        case .duplicate(let existing):
            try Touchpoint.idempotencyFields.check(
                touchpoint, against: existing, keyField: "event_id",
                key: touchpoint.eventID, prefix: "touchpoint.")
            return .with {
                $0.touchpoint = existing.proto
                $0.duplicate = true
            }
        case .rejected(let error):
            throw error
        }
    }

    /// Reads, validates and resolves the stream in batches while the previous batch is being written, so decoding
    /// and SQLite work at the same time (one batch in flight: memory stays bounded and the stream keeps its
    /// back-pressure). Each batch's customers are resolved with one `ResolveCustomers` call just before it is
    /// written, so a merge is never missed and a batch costs one peer call, not one per event.
    public func recordTouchpoints(
        request: RPCAsyncSequence<Customer360_V1_RecordTouchpointsRequest, any Error>, context: ServerContext
    ) async throws -> Customer360_V1_RecordTouchpointsResponse {
        var response = Customer360_V1_RecordTouchpointsResponse()
        var pending: [PendingEvent] = []
        var inFlight: (events: [PendingEvent], write: Task<[IngestOutcome], any Error>)?
        do {
            for try await message in request {
                let index = response.received
                response.received += 1
                do {
                    let touchpoint = try validate(
                        customerID: message.customerID, touchpoint: message.touchpoint,
                        present: message.hasTouchpoint)
                    pending.append(PendingEvent(index: index, touchpoint: touchpoint))
                } catch {
                    reject(error, index: index, eventID: message.touchpoint.eventID, in: &response)
                }
                if pending.count >= Self.batchSize {
                    let events = await resolveCustomers(of: pending, rejectingInto: &response)
                    if let previous = inFlight {
                        account(previous.events, try await previous.write.value, in: &response)
                    }
                    inFlight = (events, Task { [store] in try await store.ingest(events.map(\.touchpoint)) })
                    pending.removeAll(keepingCapacity: true)
                }
            }
        } catch {
            // What was already handed to the store is committed either way; wait for it before answering.
            _ = try? await inFlight?.write.value
            throw error
        }
        if let previous = inFlight { account(previous.events, try await previous.write.value, in: &response) }
        let last = await resolveCustomers(of: pending, rejectingInto: &response)
        if !last.isEmpty { account(last, try await store.ingest(last.map(\.touchpoint)), in: &response) }
        // Unknown customers are found when their batch is resolved, after later malformed events were refused.
        response.rejections.sort { $0.index < $1.index }
        return response
    }

    /// The events of a batch with their customers resolved for writing in one call; events whose customer is unknown
    /// (or all of them, when profile-service cannot be asked) are rejected into `response` and left out.
    private func resolveCustomers(
        of events: [PendingEvent], rejectingInto response: inout Customer360_V1_RecordTouchpointsResponse
    ) async -> [PendingEvent] {
        guard !events.isEmpty else { return [] }
        let answers: [String: Result<String, CustomerLookupError>]
        do {
            answers = try await customers.resolveForWrite(events.map(\.touchpoint.customerID))
        } catch {
            for event in events { reject(error, index: event.index, eventID: event.touchpoint.eventID, in: &response) }
            return []
        }
        var resolved: [PendingEvent] = []
        resolved.reserveCapacity(events.count)
        for var event in events {
            do {
                guard let answer = answers[event.touchpoint.customerID] else {
                    throw CustomerLookupError.unavailable(
                        "profile-service did not answer for \(event.touchpoint.customerID)")
                }
                event.touchpoint.customerID = try answer.get()
                resolved.append(event)
            } catch {
                reject(error, index: event.index, eventID: event.touchpoint.eventID, in: &response)
            }
        }
        return resolved
    }

    // MARK: - Helpers

    private func validate(
        customerID: String, touchpoint: Customer360_V1_Touchpoint, present: Bool
    ) throws(InvalidArgument) -> Touchpoint {
        let id = try Validate.id(customerID, field: "customer_id")
        guard present else { throw InvalidArgument("touchpoint", "is required") }
        return try InteractionRequests.touchpoint(touchpoint, customerID: id, now: now())
    }

    /// One validated event of a stream and its position in it.
    struct PendingEvent: Sendable {
        var index: Int64
        var touchpoint: Touchpoint
    }

    private func account(
        _ events: [PendingEvent], _ outcomes: [IngestOutcome],
        in response: inout Customer360_V1_RecordTouchpointsResponse
    ) {
        for (event, outcome) in zip(events, outcomes) {
            switch outcome {
            case .stored: response.stored += 1
            case .duplicate(let existing):
                do {
                    try Touchpoint.idempotencyFields.check(
                        event.touchpoint, against: existing, keyField: "event_id",
                        key: event.touchpoint.eventID, prefix: "touchpoint.")
                    response.duplicate += 1
                } catch {
                    reject(error, index: event.index, eventID: event.touchpoint.eventID, in: &response)
                }
            case .rejected(let error):
                reject(error, index: event.index, eventID: event.touchpoint.eventID, in: &response)
            }
        }
    }

    private func reject(
        _ error: any Error, index: Int64, eventID: String, in response: inout Customer360_V1_RecordTouchpointsResponse
    ) {
        response.rejected += 1
        guard response.rejections.count < Self.maxListedRejections else { return }
        let status: RPCError
        if let convertible = error as? any RPCErrorConvertible {
            status = RPCError(convertible)
        } else {
            status = RPCError(code: .internalError, message: "\(error)")
        }
        response.rejections.append(
            .with {
                $0.eventID = eventID
                $0.index = index
                $0.code = status.code.canonicalName
                switch error {
                case let invalid as InvalidArgument:
                    $0.field = invalid.field
                    $0.reason = invalid.reason
                case let conflict as IdempotencyConflict:
                    $0.field = conflict.differingField
                    $0.reason = status.message
                default:
                    $0.reason = status.message
                }
            })
    }

    /// The id a read finds the customer's data under here: the survivor once this service applied their merge
    /// (`MergeAwareCustomerDirectory`, no peer asked); the id itself when the aliases cannot be read. On a shard, a
    /// merged-away id whose survivor another shard holds is refused for the caller to follow
    /// (`OwnedSurvivorsDirectory`).
    func readableCustomer(_ requested: String) async throws -> String {
        try await customers.readable(try Validate.id(requested, field: "customer_id"))
    }
}

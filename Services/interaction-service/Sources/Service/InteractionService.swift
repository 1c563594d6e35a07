public import C360Clients
public import C360Contracts
import C360ServerKit
public import Foundation
public import GRPCCore

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

    /// Events per store transaction on the streaming path.
    static let batchSize = 500
    /// Rejections listed individually in a batch answer; the count covers all of them.
    static let maxListedRejections = 1_000

    public init(store: InteractionStore, customers: any CustomerDirectory, settings: CommerceSettings,
                now: @escaping @Sendable () -> Date = Date.init) {
        self.store = store
        self.customers = customers
        self.settings = settings
        self.now = now
        self.rfmCutPoints = RfmCutPointsCache(store: store)
    }

    public func recordTouchpoint(
        request: Customer360_V1_RecordTouchpointRequest, context: ServerContext
    ) async throws -> Customer360_V1_RecordTouchpointResponse {
        var touchpoint = try validate(customerID: request.customerID, touchpoint: request.touchpoint,
                                      present: request.hasTouchpoint)
        touchpoint.customerID = try await customers.resolve(touchpoint.customerID)
        switch try await store.ingest([touchpoint])[0] {
        case .stored(let stored):
            return .with { $0.touchpoint = stored.proto }
        case .duplicate(let existing):
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
    /// back-pressure).
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
                    var touchpoint = try validate(customerID: message.customerID, touchpoint: message.touchpoint,
                                                  present: message.hasTouchpoint)
                    touchpoint.customerID = try await customers.resolve(touchpoint.customerID)
                    pending.append(PendingEvent(index: index, touchpoint: touchpoint))
                } catch {
                    reject(error, index: index, eventID: message.touchpoint.eventID, in: &response)
                }
                if pending.count >= Self.batchSize {
                    if let previous = inFlight { account(previous.events, try await previous.write.value, in: &response) }
                    let events = pending
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
        if !pending.isEmpty { account(pending, try await store.ingest(pending.map(\.touchpoint)), in: &response) }
        return response
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
        _ events: [PendingEvent], _ outcomes: [IngestOutcome], in response: inout Customer360_V1_RecordTouchpointsResponse
    ) {
        for (event, outcome) in zip(events, outcomes) {
            switch outcome {
            case .stored: response.stored += 1
            case .duplicate: response.duplicate += 1
            case .rejected(let error): reject(error, index: event.index, eventID: event.touchpoint.eventID, in: &response)
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
        response.rejections.append(.with {
            $0.eventID = eventID
            $0.index = index
            $0.code = status.code.canonicalName
            $0.field = (error as? InvalidArgument)?.field ?? ""
            $0.reason = (error as? InvalidArgument)?.reason ?? status.message
        })
    }

    /// The survivor of a customer id for reads; the id itself when profile-service cannot say (reads degrade
    /// rather than fail when a peer is down).
    func readableCustomer(_ requested: String) async throws(InvalidArgument) -> String {
        let id = try Validate.id(requested, field: "customer_id")
        return (try? await customers.resolve(id)) ?? id
    }
}

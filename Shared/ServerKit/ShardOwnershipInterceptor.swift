public import C360Clients
public import GRPCCore
public import Logging
import SwiftProtobuf

extension ShardRouting {
    /// The routes the contracts declare: every RPC whose request has a top-level string `customer_id`.
    public init(catalog: ContractCatalog) {
        var routes: [String: Route] = [:]
        for method in catalog.methods {
            guard
                let field = catalog.messages[method.inputType]?.field.first(where: {
                    $0.name == "customer_id" && $0.type == .string && $0.label != .repeated
                })
            else { continue }
            routes[method.fullyQualifiedMethod] = Route(
                customerField: field.number, clientStreaming: method.clientStreaming)
        }
        self.init(routes: routes)
    }

    /// The routes of the embedded contracts.
    public static let current = ShardRouting(catalog: .current)
}

/// Refuses, on a shard, every request message for a customer this shard does not own in the map in force:
/// FAILED_PRECONDITION naming the owner, with the map's epoch in the `c360-shard-epoch` trailer, so a caller with an
/// older map reloads it and retries (`ShardedClientTransport`). Nothing is stored for such a message: the check runs
/// before the handler sees it. Messages without a customer (reads across customers, which ask each shard) pass. In a
/// service that takes family calls, a call sent here for a merged-away customer's survivor (`WrongShard.familyKey`) is
/// checked for that survivor instead, and its handler runs with `WrongShard.family` set, to answer only for that
/// survivor's family.
public struct ShardOwnershipInterceptor: ServerInterceptor {
    private let source: ShardMapSource
    private let service: String
    private let shard: String
    private let routing: ShardRouting
    private let logger: Logger
    /// Whether the service answers calls for a merged-away customer's survivor (`WrongShard.familyKey`):
    /// profile-service, whose store answers for that family alone, and the services that store a write by a
    /// merged-away id under its survivor (`OwnedSurvivorsDirectory`). Elsewhere the metadata is ignored.
    private let takesFamilyCalls: Bool

    public init(
        source: ShardMapSource, service: String, shard: String, routing: ShardRouting = .current,
        takesFamilyCalls: Bool = false, logger: Logger
    ) {
        self.source = source
        self.service = service
        self.shard = shard
        self.routing = routing
        self.takesFamilyCalls = takesFamilyCalls
        self.logger = logger
    }

    public func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>,
        context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        let method = context.descriptor.fullyQualifiedMethod
        let route = routing.routes[method]
        let pinned = isPinned(request.metadata)
        guard route != nil || pinned else { return try await next(request, context) }
        guard let route, route.clientStreaming else {
            // The one request message is read here, so a refusal is thrown by the interceptor itself and its
            // trailer (the epoch a caller reloads on) reaches the caller. It is read before any refusal: a status
            // sent while the caller is still sending its message closes the stream under that write, which
            // grpc-swift-nio-transport's client treats as unreachable and stops the calling process.
            var messages = request.messages.makeAsyncIterator()
            let message = try await messages.next()
            if pinned { try checkEpoch(of: request.metadata, method: method) }
            guard let message else { return try await next(request, context) }
            let single = StreamingServerRequest(single: ServerRequest(metadata: request.metadata, message: message))
            guard let route else { return try await next(single, context) }
            let customerID = Self.customerID(in: message, field: route.customerField)
            if takesFamilyCalls, let customerID, let survivor = family(in: request.metadata) {
                // Sent here for the survivor whose family the request's customer was merged into: the survivor must be
                // this shard's, and the handler answers only for its family (`WrongShard.family`).
                try check(survivor, method: method)
                let call = WrongShard.FamilyCall(survivor: survivor, customer: customerID)
                return try await WrongShard.$family.withValueWhileResponding(call) { try await next(single, context) }
            }
            guard let customerID else { return try await next(single, context) }
            try check(customerID, method: method)
            guard !pinned else { return try await next(single, context) }
            // Routed here by its customer: a refusal naming a merged-away customer's survivor is followed by the
            // caller's transport (`WrongShard.routedBy`).
            return try await WrongShard.$routedBy.withValueWhileResponding(customerID) {
                try await next(single, context)
            }
        }
        // A client stream is checked message by message as the handler reads it: nothing of a refused message is
        // stored, and what came before it stands, as for any message a handler rejects.
        let checked = request.messages.map { message in
            try check(message, field: route.customerField, method: method)
            return message
        }
        return try await next(
            StreamingServerRequest(metadata: request.metadata, messages: RPCAsyncSequence(wrapping: checked)), context)
    }

    /// Refuses a call pinned to this shard (a read across customers asking every shard) by a caller whose map is older
    /// than this shard's: after a move to a shard the caller does not know yet, its answer would silently lack the
    /// moved customers. The caller reloads its map and asks every shard again.
    func checkEpoch(of metadata: Metadata, method: String) throws(RPCError) {
        guard isPinned(metadata), let sent = metadata[stringValues: WrongShard.epochKey].first(where: { _ in true }),
            let callerEpoch = Int64(sent)
        else { return }
        // A caller with a newer map than this shard's: it was published and this shard has not polled yet. Read it
        // now, so this shard answers for the slots the new map gives it, and no longer for those it gave away, at once
        // (otherwise, just after a move's flip, the caller would add the moved customers' counts of both shards).
        var map = source.current
        if callerEpoch > map.epoch { map = source.reload() }
        guard callerEpoch < map.epoch else { return }
        logger.info(
            "call from a caller with an older shard map refused",
            metadata: ["method": "\(method)", "caller_epoch": "\(callerEpoch)", "epoch": "\(map.epoch)"])
        throw RPCError(
            code: .failedPrecondition,
            message: """
                the caller's shard map (epoch \(callerEpoch)) is older than \(shard)'s (epoch \(map.epoch)): reload \
                the shard map and ask every shard it names again
                """,
            metadata: [WrongShard.epochKey: "\(map.epoch)"])
    }

    /// Whether the caller pinned the call to this shard with its map's epoch (`ShardedClientTransport`).
    func isPinned(_ metadata: Metadata) -> Bool {
        metadata[stringValues: WrongShard.pinKey].contains { _ in true }
            && metadata[stringValues: WrongShard.epochKey].contains { _ in true }
    }

    /// The customer a call was sent here for, in place of its request's (`WrongShard.familyKey`).
    func family(in metadata: Metadata) -> String? {
        metadata[stringValues: WrongShard.familyKey].first { !$0.isEmpty }
    }

    /// Throws the refusal when `message` names a customer another shard owns.
    func check<Input>(_ message: Input, field: Int32, method: String) throws(RPCError) {
        guard let customerID = Self.customerID(in: message, field: field) else { return }
        try check(customerID, method: method)
    }

    /// The customer `message` names in its top-level `customer_id` (field `field`), if any.
    static func customerID<Input>(in message: Input, field: Int32) -> String? {
        guard let message = message as? any SwiftProtobuf.Message,
            let bytes: [UInt8] = try? message.serializedBytes(),
            let customerID = ProtobufWire.string(field: field, in: bytes), !customerID.isEmpty
        else { return nil }
        return customerID
    }

    /// Throws the refusal when another shard owns `customerID`.
    func check(_ customerID: String, method: String) throws(RPCError) {
        let map = source.current
        guard let owner = map.owner(of: customerID, in: service), owner.shard != shard else { return }
        let slot = ShardMap.slot(of: customerID)
        logger.info(
            "call for another shard's customer refused",
            metadata: [
                "method": "\(method)", "customer_id": "\(customerID)", "slot": "\(slot)", "owner": "\(owner.shard)",
                "epoch": "\(map.epoch)",
            ])
        throw RPCError(
            code: .failedPrecondition,
            message: """
                customer \(customerID) (slot \(slot)) belongs to shard \(owner.shard) at \(owner.address), \
                not to \(shard), in shard map epoch \(map.epoch): reload the shard map and call the owner
                """,
            metadata: [WrongShard.epochKey: "\(map.epoch)"])
    }
}

import C360Contracts
public import GRPCCore
public import GRPCNIOTransportHTTP2
import Synchronization

/// How a sharded service's RPCs are routed: for each RPC that names one customer, the field number of its request's
/// top-level `customer_id`. Built from the contracts (`ShardRouting(catalog:)` in ServerKit), never by hand.
public struct ShardRouting: Sendable {
    public struct Route: Sendable {
        /// The request's top-level `customer_id` field.
        public var customerField: Int32
        /// A client stream cannot be replayed on another shard, so it is routed by its first message and not retried.
        public var clientStreaming: Bool

        public init(customerField: Int32, clientStreaming: Bool) {
            self.customerField = customerField
            self.clientStreaming = clientStreaming
        }
    }

    /// By fully qualified method (`package.Service/Method`).
    public var routes: [String: Route]

    public init(routes: [String: Route]) { self.routes = routes }
}

/// What a shard answers a call for a customer it does not own, and what a caller reads from it.
public enum WrongShard {
    /// The trailer carrying the refusing shard's map epoch: a caller whose map is older reloads it and retries once.
    public static let epochKey = "c360-shard-epoch"
    /// Call metadata that sends a call to one named shard of the service, for reads across customers, which ask every
    /// shard (`ShardMap.services[service]`) and merge. The transport sends its map's epoch with it (`epochKey`): a
    /// shard whose map is newer refuses the call, so a read across customers never silently misses a shard the
    /// caller does not know yet.
    public static let pinKey = "c360-shard"

    /// Names, in a refusal's trailers and then in the call sent again, the customer whose shard holds the asked
    /// customer's data: a merged-away id whose survivor lives on another shard than the id's own slot (a merge across
    /// shards, or a move of the survivor's family since). Its own slot's shard keeps only an alias and refuses the
    /// call with `FAILED_PRECONDITION` naming the survivor here and the merged id in `familyMemberKey`; when that is
    /// the request's `customer_id`, the caller sends the same request to the survivor's shard with this metadata.
    /// A service that takes such calls (`ShardOwnershipInterceptor(takesFamilyCalls:)`: profile-service, and the
    /// services whose writes by a merged-away id go to the survivor's shard, `OwnedSurvivorsDirectory`) checks the
    /// survivor in place of the request's `customer_id` and answers only for that survivor's family, so a call by the
    /// merged id is answered as one process would answer it (`ShardedClientTransport`).
    public static let familyKey = "c360-family"
    /// The merged-away id a `familyKey` trailer is about: the call is sent on only when it is the request's customer,
    /// not another id the request names (a merge's `merged_id`).
    public static let familyMemberKey = "c360-family-member"
    /// A chain of merges across shards is followed this far, then the last refusal is the answer.
    public static let maximumFamilyHops = 8

    /// A call sent to a shard for a merged-away customer's survivor (`familyKey`), while the shard's handler runs.
    public struct FamilyCall: Sendable, Equatable {
        /// The survivor whose family the call is for, this shard's.
        public var survivor: String
        /// The request's customer, merged into it.
        public var customer: String

        public init(survivor: String, customer: String) {
            self.survivor = survivor
            self.customer = customer
        }
    }

    /// The family call a shard's handler is answering; `nil` for a call routed by its own `customer_id`. Set by the
    /// shard's ownership check.
    @TaskLocal public static var family: FamilyCall?

    /// The customer a call was routed to this shard by (its request's `customer_id`, not pinned, not a family call),
    /// while the shard's handler runs: a read by that id whose survivor another shard holds is refused for the caller's
    /// transport to follow (`OwnedSurvivorsDirectory.resolve`). A call pinned here (a read asking every shard) is
    /// answered from this shard's rows as they are. Set by the shard's ownership check.
    @TaskLocal public static var routedBy: String?

    /// The trailers of a refusal saying that `member`'s data lives with `survivor`'s, on another shard: what the
    /// caller's transport follows (`family(of:_:_:)`).
    public static func familyTrailers(survivor: String, member: String) -> Metadata {
        [familyKey: .string(survivor), familyMemberKey: .string(member)]
    }

    /// The survivor a refusal names, when it is a shard's answer that `customer`'s data lives with another's.
    public static func family(of customer: String?, _ status: Status, _ trailers: Metadata) -> String? {
        status.code == .failedPrecondition ? family(of: customer, in: trailers) : nil
    }

    /// `family(of:_:_:)` of a call's error.
    public static func family(of customer: String?, _ error: RPCError) -> String? {
        error.code == .failedPrecondition ? family(of: customer, in: error.metadata) : nil
    }

    private static func family(of customer: String?, in trailers: Metadata) -> String? {
        guard let customer, trailers[stringValues: familyMemberKey].contains(where: { $0 == customer }) else {
            return nil
        }
        return trailers[stringValues: familyKey].first { !$0.isEmpty }
    }

    /// Whether a status is a shard's refusal of a customer it does not own.
    public static func isRefusal(_ status: Status, _ trailers: Metadata) -> Bool {
        status.code == .failedPrecondition && trailers[stringValues: epochKey].contains { _ in true }
    }

    /// Whether an error is a shard's refusal of a customer it does not own.
    public static func isRefusal(_ error: RPCError) -> Bool {
        error.code == .failedPrecondition && error.metadata[stringValues: epochKey].contains { _ in true }
    }
}

/// The transport every caller of a peer service uses (`PeerConnection`): one HTTP/2 connection per shard of the
/// service, and each call sent to the shard that owns its customer, so the generated clients above it know nothing
/// of shards.
///
/// - The customer is read from the first request message's `customer_id` (`ShardRouting`), without decoding it.
/// - A call carrying `c360-shard` metadata goes to that shard: that is how a read across customers asks each one.
/// - A call whose whole request is known before it is sent (unary, server-streaming) that a shard refuses as not its
///   own (`WrongShard`) is retried once after the map is read again, if that moved the customer to another shard.
/// - A call for a merged-away customer whose data lives on its survivor's shard (`WrongShard.familyKey`) is sent
///   there, following a chain of such answers up to `WrongShard.maximumFamilyHops`.
/// - A service the shard map does not name is reached at its one address, with no routing cost.
/// - A unary call across customers that the contracts say how to merge or spread (`AcrossShards`: summaries and KPIs
///   merged, lists merged in their order, a batch started on every shard) asks the shards and answers once, a merged
///   answer's missing shards named in the `c360-missing-shards` trailer.
/// - A live feed across customers (`WatchAlerts`) is every shard's feed interleaved.
/// - Any other call across customers without a pin fails with FAILED_PRECONDITION: one shard's answer would look
///   whole while missing the others' customers.
public final class ShardedClientTransport: ClientTransport {
    public typealias Bytes = HTTP2ClientTransport.Posix.Bytes
    public typealias Connect = @Sendable (PeerAddress) throws -> HTTP2ClientTransport.Posix

    /// The executable name the shard map lists the service under, e.g. `interaction-service`.
    public let service: String
    private let single: HTTP2ClientTransport.Posix
    private let source: ShardMapSource?
    let routing: ShardRouting
    private let connectTo: Connect
    private let shards: Mutex<(byAddress: [String: HTTP2ClientTransport.Posix], closed: Bool)>
    private let added: AsyncStream<HTTP2ClientTransport.Posix>
    private let adding: AsyncStream<HTTP2ClientTransport.Posix>.Continuation

    /// A transport to `service` at `address`, or, when `source`'s map names the service, to its shards.
    ///
    /// - Parameter connect: Makes the HTTP/2 transport to one address (the caller's TLS and settings).
    public init(
        service: String, address: PeerAddress, source: ShardMapSource?, routing: ShardRouting,
        connect: @escaping Connect
    ) throws {
        self.service = service
        self.single = try connect(address)
        self.source = source
        self.routing = routing
        self.connectTo = connect
        self.shards = Mutex(([:], false))
        (added, adding) = AsyncStream.makeStream()
        for shard in source?.current.services[service] ?? [] {
            _ = try transport(to: shard.address)
        }
    }

    /// One unsharded connection, for callers that never route (tests, tools pointed at one process).
    public convenience init(single transport: HTTP2ClientTransport.Posix) throws {
        try self.init(
            service: "", address: PeerAddress(host: "127.0.0.1", port: 1), source: nil,
            routing: ShardRouting(routes: [:]),
            connect: { _ in transport })
    }

    public var retryThrottle: RetryThrottle? { single.retryThrottle }

    public func config(forMethod descriptor: MethodDescriptor) -> MethodConfig? {
        single.config(forMethod: descriptor)
    }

    public func connect() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await self.single.connect() }
            for await transport in added {
                group.addTask { try await transport.connect() }
            }
        }
    }

    public func beginGracefulShutdown() {
        let open = shards.withLock { state in
            state.closed = true
            return Array(state.byAddress.values)
        }
        adding.finish()
        single.beginGracefulShutdown()
        for transport in open { transport.beginGracefulShutdown() }
    }

    public func withStream<T: Sendable>(
        descriptor: MethodDescriptor, options: CallOptions,
        _ closure: (_ stream: RPCStream<Inbound, Outbound>, _ context: ClientContext) async throws -> T
    ) async throws -> T {
        guard let map = source?.current, let shards = map.services[service] else {
            return try await single.withStream(descriptor: descriptor, options: options, closure)
        }
        let route = routing.routes[descriptor.fullyQualifiedMethod]
        if let route, route.clientStreaming, shards.count > 1,
            let merge = ShardStreamMerges.all[descriptor.fullyQualifiedMethod]
        {
            let call = SplitStreamCall(
                transport: self, descriptor: descriptor, options: options, route: route, merge: merge)
            return try await run(
                descriptor: descriptor, relay: call.relay, responses: call.responses,
                outbound: RPCWriter.Closable(wrapping: call.writer), closure)
        }
        let call = RoutedCall(
            transport: self, descriptor: descriptor, options: options, route: route)
        return try await run(
            descriptor: descriptor, relay: call.relay, responses: call.responses,
            outbound: RPCWriter.Closable(wrapping: call.writer), closure)
    }

    /// Runs the caller's side of a call against `relay`, which sends it on to the shards; the relay is cancelled
    /// once the caller is done with the call, as a transport's stream is closed when its closure returns.
    private func run<T: Sendable>(
        descriptor: MethodDescriptor, relay: @escaping @Sendable () async -> Void,
        responses: AsyncThrowingStream<RPCResponsePart<Bytes>, any Error>, outbound: Outbound,
        _ closure: (_ stream: RPCStream<Inbound, Outbound>, _ context: ClientContext) async throws -> T
    ) async throws -> T {
        try await withThrowingTaskGroup(of: Void.self, returning: T.self) { group in
            group.addTask { await relay() }
            defer { group.cancelAll() }
            let context = ClientContext(
                descriptor: descriptor, remotePeer: "shards-of:\(service)", localPeer: "unknown")
            return try await closure(
                RPCStream(descriptor: descriptor, inbound: RPCAsyncSequence(wrapping: responses), outbound: outbound),
                context)
        }
    }

    /// The shard of `map` a call goes to: the pinned one, else the owner of the customer.
    func shard(in map: ShardMap, pin: String?, customerID: String?, descriptor: MethodDescriptor) throws(RPCError)
        -> ShardMap.Shard
    {
        if let pin {
            guard let shard = map.shard(named: pin, in: service) else {
                throw RPCError(
                    code: .invalidArgument,
                    message: "\(service) has no shard '\(pin)' in shard map epoch \(map.epoch)")
            }
            return shard
        }
        guard let customerID, !customerID.isEmpty else {
            let count = map.services[service]?.count ?? 0
            throw RPCError(
                code: .failedPrecondition,
                message: """
                    \(descriptor.fullyQualifiedMethod) is not for one customer and \(service) runs as \(count) shards: \
                    ask each shard (\(WrongShard.pinKey) metadata) and merge the answers
                    """)
        }
        guard let shard = map.owner(of: customerID, in: service) else {
            throw RPCError(code: .unavailable, message: "\(service) is not in shard map epoch \(map.epoch)")
        }
        return shard
    }

    /// The connection to one shard, opened on first use.
    func transport(to address: String) throws -> HTTP2ClientTransport.Posix {
        if let open = shards.withLock({ $0.byAddress[address] }) { return open }
        guard let peer = PeerAddress(address) else {
            throw RPCError(code: .internalError, message: "shard address '\(address)' is not host:port")
        }
        let made = try connectTo(peer)
        let (transport, isNew) = try shards.withLock { state throws(RPCError) in
            guard !state.closed else {
                throw RPCError(code: .unavailable, message: "the connection to \(service) is shutting down")
            }
            if let raced = state.byAddress[address] { return (raced, false) }
            state.byAddress[address] = made
            return (made, true)
        }
        if isNew { adding.yield(transport) }
        return transport
    }

    func currentMap() -> ShardMap { source?.current ?? .empty }

    func reloadMap() -> ShardMap { source?.reload() ?? .empty }

    func customerID(in message: Bytes, route: ShardRouting.Route?) -> String? {
        guard let route else { return nil }
        return message.withUnsafeBytes { ProtobufWire.string(field: route.customerField, in: Array($0)) }
    }
}

extension ShardMap {
    /// A map that shards nothing.
    static let empty = try! ShardMap(epoch: 0, services: [:])
}

/// One call through a sharded transport: the writer the caller's stub writes to holds the request's first parts
/// until they say where the call goes (a pin, or the first message's customer); the relay then opens the stream on
/// that shard and passes the answer back.
final class RoutedCall: Sendable {
    typealias Bytes = ShardedClientTransport.Bytes
    typealias Part = RPCRequestPart<Bytes>
    typealias Outbound = RPCWriter<Part>.Closable

    /// Where the request goes, once known.
    enum Decision: Sendable {
        /// The whole request (metadata, one message, end): sent by the relay, which may send it again on another shard.
        case whole([Part], pin: String?, customerID: String?)
        /// A client stream's first parts: the relay opens the stream and hands its writer back for the rest.
        /// `ended`: the caller already finished the request.
        case stream([Part], pin: String?, customerID: String?, ended: Bool)
        /// The caller gave up before the request said where it goes.
        case abandoned(any Error)
    }

    let transport: ShardedClientTransport
    let descriptor: MethodDescriptor
    let options: CallOptions
    let route: ShardRouting.Route?
    let responses: AsyncThrowingStream<RPCResponsePart<Bytes>, any Error>
    let writer: Writer
    private let respond: AsyncThrowingStream<RPCResponsePart<Bytes>, any Error>.Continuation
    private let decisions: AsyncStream<Decision>

    init(
        transport: ShardedClientTransport, descriptor: MethodDescriptor, options: CallOptions,
        route: ShardRouting.Route?
    ) {
        self.transport = transport
        self.descriptor = descriptor
        self.options = options
        self.route = route
        (responses, respond) = AsyncThrowingStream.makeStream()
        let (decisions, decide) = AsyncStream.makeStream(of: Decision.self)
        self.decisions = decisions
        // A method without a customer route is sent as a stream unless it is one the shards answer together (all
        // unary): its whole request is then held, to be asked of every shard.
        let replayable =
            route.map { !$0.clientStreaming } ?? AcrossShards.answers(descriptor.fullyQualifiedMethod)
        self.writer = Writer(decide: decide, replayable: replayable) { message in
            transport.customerID(in: message, route: route)
        }
    }

    /// Waits for the writer's decision, then runs the call on its shard.
    func relay() async {
        var decisions = self.decisions.makeAsyncIterator()
        guard let decision = await decisions.next() else {
            respond.finish(throwing: CancellationError())
            return
        }
        do {
            switch decision {
            case .abandoned(let error):
                respond.finish(throwing: error)
            case .whole(let parts, let pin, let customerID):
                let shards = transport.currentMap().services[transport.service]?.map(\.shard) ?? []
                // A map may list a service under one shard (the first step before moving slots to a second): its
                // reads across customers still need asking pinned, since that one shard refuses them unpinned.
                if pin == nil, !shards.isEmpty, let request = parts.lazy.compactMap(Self.message).first,
                    let across = AcrossShards(
                        descriptor.fullyQualifiedMethod, request: request, routing: transport.routing)
                {
                    try await spread(parts, request: request, across, shards: shards)
                } else if pin == nil, !shards.isEmpty, customerID?.isEmpty ?? true,
                    AcrossShards.interleaved.contains(descriptor.fullyQualifiedMethod)
                {
                    try await interleave(parts, shards: shards)
                } else if pin == nil, !shards.isEmpty, customerID?.isEmpty ?? true, ShardFeedMerge.isFeed(descriptor),
                    let request = parts.lazy.compactMap(Self.message).first
                {
                    try await feed(parts, request: request, shards: shards)
                } else {
                    try await send(parts, pin: pin, customerID: customerID)
                }
                respond.finish()
            case .stream(let head, let pin, let customerID, let ended):
                let shard = try transport.shard(
                    in: transport.currentMap(), pin: pin, customerID: customerID, descriptor: descriptor)
                try await transport.transport(to: shard.address).withStream(descriptor: descriptor, options: options) {
                    stream, _ in
                    try await stream.outbound.write(contentsOf: head)
                    if ended { await stream.outbound.finish() } else { writer.opened(stream.outbound) }
                    for try await part in stream.inbound { respond.yield(part) }
                }
                respond.finish()
            }
        } catch {
            writer.failed(error)
            respond.finish(throwing: error)
        }
    }

    /// The caller's metadata among a whole request's parts, sent again with each shard's part of the call.
    private static func metadata(in parts: [Part]) -> Metadata {
        var metadata: Metadata = [:]
        for case .metadata(let sent) in parts { metadata = sent }
        return metadata
    }

    /// `parts` of a call pinned to one shard, saying so in its metadata with this caller's map epoch, which the shard
    /// checks against its own (`WrongShard.pinKey`).
    static func stamped(_ parts: [Part], pin: String, epoch: Int64) -> [Part] {
        parts.map { part in
            guard case .metadata(var metadata) = part else { return part }
            metadata.replaceOrAddString(pin, forKey: WrongShard.pinKey)
            metadata.replaceOrAddString("\(epoch)", forKey: WrongShard.epochKey)
            return .metadata(metadata)
        }
    }

    private static func message(_ part: Part) -> [UInt8]? {
        if case .message(let bytes) = part { bytes.withUnsafeBytes { Array($0) } } else { nil }
    }

    /// Answers a call across customers from every shard (`AcrossShards`): each shard is asked with the caller's
    /// metadata, and the one answer goes back as if one service had given it.
    private func spread(_ parts: [Part], request: [UInt8], _ across: AcrossShards, shards: [String]) async throws {
        let callerMetadata = Self.metadata(in: parts)
        let transport = self.transport
        // A shard that knows a newer map (a shard added, slots moved) has the map read again and its shards asked.
        let reloaded: @Sendable () -> [String] = {
            transport.reloadMap().services[transport.service]?.map(\.shard) ?? []
        }
        let owner: @Sendable (String) -> String? = { customerID in
            transport.currentMap().owner(of: customerID, in: transport.service)?.shard
        }
        let (answer, missing) = try await across.answer(
            request, shards: shards, reloadedShards: reloaded, owner: owner
        ) { method, bytes, pin in
            let name = pin[stringValues: WrongShard.pinKey].first { _ in true }
            let method = method ?? self.descriptor
            // Unpinned: the customer's shard, as the asked method routes.
            let customerID =
                name == nil
                ? ProtobufWire.string(
                    field: transport.routing.routes[method.fullyQualifiedMethod]?.customerField ?? 0, in: bytes)
                : nil
            var answer: [UInt8]?
            let parts: [Part] = [.metadata(callerMetadata), .message(Bytes(bytes))]
            let asked =
                name == nil
                ? try? transport.shard(in: transport.currentMap(), pin: nil, customerID: customerID, descriptor: method)
                : nil
            func fetch(_ parts: [Part], pin: String?, customerID: String?) async throws {
                try await self.run(parts, method: method, pin: pin, customerID: customerID) { received in
                    answer = received.withUnsafeBytes { Array($0) }
                }
            }
            do {
                try await fetch(parts, pin: name, customerID: customerID)
            } catch let error as RPCError where name == nil {
                if let family = WrongShard.family(of: customerID, error) {
                    // A merged-away customer whose survivor another shard holds (a vote by the merged id): the call
                    // goes to the survivor's shard, saying so, as a routed call follows it.
                    try await fetch(Self.sent(parts, toFamilyOf: family), pin: nil, customerID: family)
                } else if WrongShard.isRefusal(error) {
                    // The customer moved: once more at the owner a reloaded map names, as a routed call is retried.
                    guard
                        let owner = try? transport.shard(
                            in: transport.reloadMap(), pin: nil, customerID: customerID, descriptor: method),
                        owner.address != asked?.address
                    else { throw error }
                    try await fetch(parts, pin: owner.shard, customerID: nil)
                } else {
                    throw error
                }
            }
            guard let answer else {
                throw RPCError(code: .internalError, message: "shard \(name ?? "") answered without a message")
            }
            return answer
        }
        respond.yield(.metadata([:]))
        respond.yield(.message(Bytes(answer)))
        respond.yield(
            .status(
                Status(code: .ok, message: ""),
                missing.isEmpty ? [:] : [AcrossShards.missingShardsKey: .string(missing.joined(separator: ","))]))
    }

    /// Runs a server stream across customers on every shard at once and passes each shard's messages on as they come
    /// (`AcrossShards.interleaved`); the stream ends when every shard's has, or with the first shard's failure.
    private func interleave(_ parts: [Part], shards: [String]) async throws {
        let respond = self.respond
        // The alert feed's events carry every shard's last event, and each shard resumes after its own.
        var alerts: ShardAlertFeedMerge?
        if ShardAlertFeedMerge.isAlertFeed(descriptor), let request = parts.lazy.compactMap(Self.message).first {
            alerts = try ShardAlertFeedMerge(
                try Customer360_V1_WatchAlertsRequest(serializedBytes: request), shards: shards)
        }
        let merge = alerts
        let callerMetadata = Self.metadata(in: parts)
        respond.yield(.metadata([:]))
        try await withThrowingDiscardingTaskGroup { group in
            for name in shards {
                var asked = parts
                if let merge {
                    let request: [UInt8] = try merge.request(for: name).serializedBytes()
                    asked = [.metadata(callerMetadata), .message(Bytes(request))]
                }
                group.addTask {
                    try await self.run(asked, onShard: name) { bytes in
                        guard let alerts = merge,
                            let event = try? Customer360_V1_AlertEvent(
                                serializedBytes: bytes.withUnsafeBytes { Array($0) })
                        else {
                            respond.yield(.message(bytes))
                            return
                        }
                        // Yielded as it is stamped: events reach the client in the order of their positions.
                        alerts.received(event, from: name) { stamped in
                            if let encoded: [UInt8] = try? stamped.serializedBytes() {
                                respond.yield(.message(Bytes(encoded)))
                            }
                        }
                    }
                }
            }
        }
        respond.yield(.status(Status(code: .ok, message: ""), [:]))
    }

    /// A change feed across customers: every shard's feed from its own position, interleaved with the position of
    /// all (`ShardFeedMerge`); the stream ends when every shard's has, or with the first shard's failure.
    private func feed(_ parts: [Part], request: [UInt8], shards: [String]) async throws {
        let merge = try ShardFeedMerge(
            try Customer360_V1_WatchChangesRequest(serializedBytes: request), service: transport.service,
            shards: shards)
        let callerMetadata = Self.metadata(in: parts)
        let respond = self.respond
        respond.yield(.metadata([:]))
        try await withThrowingDiscardingTaskGroup { group in
            for name in shards {
                let asked: [UInt8] = try merge.request(for: name).serializedBytes()
                group.addTask {
                    try await self.run([.metadata(callerMetadata), .message(Bytes(asked))], onShard: name) { bytes in
                        guard
                            let batch = try? Customer360_V1_WatchChangesResponse(
                                serializedBytes: bytes.withUnsafeBytes { Array($0) })
                        else { return }
                        // Yielded as each position is made: the client's last batch names every shard's latest.
                        merge.received(batch, from: name) { out in
                            if let encoded: [UInt8] = try? out.serializedBytes() {
                                respond.yield(.message(Bytes(encoded)))
                            }
                        }
                    }
                }
            }
        }
        respond.yield(.status(Status(code: .ok, message: ""), [:]))
    }

    /// Sends `parts` (the whole request) to the shard named `name` and gives `received` each message of its answer;
    /// the shard's failure is thrown.
    private func run(
        _ parts: [Part], onShard name: String, _ received: (Bytes) -> Void
    ) async throws {
        try await run(parts, method: descriptor, pin: name, customerID: nil, received)
    }

    /// Runs `method` (this call's, or another of the service's) on the pinned shard, or the customer's.
    private func run(
        _ parts: [Part], method: MethodDescriptor, pin: String?, customerID: String?, _ received: (Bytes) -> Void
    ) async throws {
        let map = transport.currentMap()
        let shard = try transport.shard(in: map, pin: pin, customerID: customerID, descriptor: method)
        let parts = pin.map { Self.stamped(parts, pin: $0, epoch: map.epoch) } ?? parts
        try await transport.transport(to: shard.address).withStream(descriptor: method, options: options) {
            stream, _ in
            try await stream.outbound.write(contentsOf: parts)
            await stream.outbound.finish()
            for try await part in stream.inbound {
                switch part {
                case .message(let bytes): received(bytes)
                case .status(let status, let trailers):
                    if let error = RPCError(status: status, metadata: trailers) { throw error }
                case .metadata: break
                }
            }
        }
    }

    /// Sends a whole request to the customer's shard. When the shard refuses it as not its own and a reloaded map
    /// names another owner, sends it once more there; when the shard answers that the customer's data lives with
    /// another customer's (`WrongShard.familyKey`: a merged-away id), sends it to that customer's shard, saying so.
    private func send(_ parts: [Part], pin: String?, customerID: String?) async throws {
        var map = transport.currentMap()
        var parts = parts
        var routedBy = customerID
        var retried = false
        var families: Set<String> = []
        while true {
            let shard = try transport.shard(in: map, pin: pin, customerID: routedBy, descriptor: descriptor)
            let mayRetry = !retried
            let mayFollow = pin == nil && route != nil && families.count < WrongShard.maximumFamilyHops
            let sent = pin.map { Self.stamped(parts, pin: $0, epoch: map.epoch) } ?? parts
            let refusal = try await transport.transport(to: shard.address).withStream(
                descriptor: descriptor, options: options
            ) { stream, _ -> (parts: [RPCResponsePart<Bytes>], family: String?)? in
                try await stream.outbound.write(contentsOf: sent)
                await stream.outbound.finish()
                // Response metadata is held back until the next part shows whether this is a refusal to act on.
                var heldMetadata: RPCResponsePart<Bytes>?
                var answered = false
                for try await part in stream.inbound {
                    if !answered {
                        switch part {
                        case .metadata:
                            heldMetadata = part
                            continue
                        case .status(let status, let trailers):
                            if mayFollow, let family = WrongShard.family(of: customerID, status, trailers),
                                !families.contains(family)
                            {
                                return ([heldMetadata, part].compactMap { $0 }, family)
                            }
                            if mayRetry, WrongShard.isRefusal(status, trailers) {
                                return ([heldMetadata, part].compactMap { $0 }, nil)
                            }
                        case .message:
                            break
                        }
                    }
                    if let held = heldMetadata {
                        respond.yield(held)
                        heldMetadata = nil
                    }
                    answered = true
                    respond.yield(part)
                }
                return nil
            }
            guard let refusal else { return }
            if let family = refusal.family {
                families.insert(family)
                routedBy = family
                retried = false
                parts = Self.sent(parts, toFamilyOf: family)
                continue
            }
            // Retried only when the map, read again, names another owner: otherwise the refusal is the answer.
            let reloaded = transport.reloadMap()
            if let next = try? transport.shard(in: reloaded, pin: pin, customerID: routedBy, descriptor: descriptor),
                next.address != shard.address
            {
                retried = true
                map = reloaded
                continue
            }
            for part in refusal.parts { respond.yield(part) }
            return
        }
    }

    /// `parts` of a call sent to the shard of `family`, the customer whose data the request's customer lives with,
    /// saying so in its metadata (`WrongShard.familyKey`).
    static func sent(_ parts: [Part], toFamilyOf family: String) -> [Part] {
        parts.map { part in
            guard case .metadata(var metadata) = part else { return part }
            metadata.replaceOrAddString(family, forKey: WrongShard.familyKey)
            return .metadata(metadata)
        }
    }

    /// The request side the caller's stub writes to.
    final class Writer: ClosableRPCWriterProtocol, Sendable {
        typealias Element = Part

        private enum State {
            case holding([Part])
            case waiting
            case open(Outbound)
            case failed(any Error)
            case done
        }

        private let state = Mutex(State.holding([]))
        private let decide: AsyncStream<Decision>.Continuation
        private let opened: AsyncStream<Result<Outbound, any Error>>
        private let open: AsyncStream<Result<Outbound, any Error>>.Continuation
        /// Whether the call's whole request is sent at once (not a client stream), so it can be held until it ends.
        private let replayable: Bool
        private let customerID: @Sendable (Bytes) -> String?

        init(
            decide: AsyncStream<Decision>.Continuation, replayable: Bool,
            customerID: @escaping @Sendable (Bytes) -> String?
        ) {
            self.decide = decide
            self.replayable = replayable
            self.customerID = customerID
            (opened, open) = AsyncStream.makeStream()
        }

        func opened(_ outbound: Outbound) {
            open.yield(.success(outbound))
            open.finish()
        }

        func failed(_ error: any Error) {
            open.yield(.failure(error))
            open.finish()
        }

        func write(_ element: Part) async throws {
            enum Next {
                case write(Outbound)
                case held
                case route([Part], pin: String?, customerID: String?)
                case fail(any Error)
            }
            let next: Next = state.withLock { state in
                switch state {
                case .open(let outbound):
                    return .write(outbound)
                case .failed(let error):
                    return .fail(error)
                case .waiting, .done:
                    return .fail(RPCError(code: .internalError, message: "request written after it ended"))
                case .holding(var parts):
                    parts.append(element)
                    let pin = Self.pin(in: parts)
                    let message: Bytes? =
                        if case .message(let bytes) = element { bytes } else { nil }
                    // A stream goes as soon as its first message (or a pin) says where; a whole request waits for
                    // its end (`finish`), so it can be sent again.
                    if !replayable, pin != nil || message != nil {
                        state = .waiting
                        return .route(parts, pin: pin, customerID: message.flatMap(customerID))
                    }
                    state = .holding(parts)
                    return .held
                }
            }
            switch next {
            case .held: return
            case .fail(let error): throw error
            case .write(let outbound): try await outbound.write(element)
            case .route(let parts, let pin, let customerID):
                decide.yield(.stream(parts, pin: pin, customerID: customerID, ended: false))
                decide.finish()
                var results = opened.makeAsyncIterator()
                switch await results.next() {
                case .success(let outbound)?:
                    state.withLock { $0 = .open(outbound) }
                case .failure(let error)?:
                    state.withLock { $0 = .failed(error) }
                    throw error
                case nil:
                    throw CancellationError()
                }
            }
        }

        func write(contentsOf elements: some Sequence<Part>) async throws {
            for element in elements { try await write(element) }
        }

        func finish() async {
            enum Next {
                case decide([Part])
                case finish(Outbound)
                case nothing
            }
            let next: Next = state.withLock { state in
                switch state {
                case .holding(let parts):
                    state = .done
                    return .decide(parts)
                case .open(let outbound):
                    state = .done
                    return .finish(outbound)
                default:
                    return .nothing
                }
            }
            let held: [Part]
            switch next {
            case .nothing: return
            case .finish(let outbound):
                await outbound.finish()
                return
            case .decide(let parts): held = parts
            }
            let pin = Self.pin(in: held)
            let first: Bytes? = held.lazy.compactMap { part -> Bytes? in
                if case .message(let bytes) = part { bytes } else { nil }
            }.first
            if replayable {
                decide.yield(.whole(held, pin: pin, customerID: first.flatMap(customerID)))
            } else {
                decide.yield(.stream(held, pin: pin, customerID: first.flatMap(customerID), ended: true))
            }
            decide.finish()
        }

        func finish(throwing error: any Error) async {
            let outbound: Outbound? = state.withLock { state in
                defer { state = .done }
                if case .open(let outbound) = state { return outbound }
                return nil
            }
            if let outbound {
                await outbound.finish(throwing: error)
            } else {
                decide.yield(.abandoned(error))
                decide.finish()
            }
        }

        private static func pin(in parts: [Part]) -> String? {
            for case .metadata(let metadata) in parts {
                return metadata[stringValues: WrongShard.pinKey].first { _ in true }
            }
            return nil
        }
    }
}

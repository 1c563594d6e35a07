import C360Clients
import C360Contracts
public import C360ServerKit
import C360StoreKit
public import Foundation
public import GRPCCore
import Synchronization

/// Serves the backend services' own contracts (`ProfileService`, `InteractionService`, `FeedbackService`,
/// `SuccessService`, `OutreachService`) on the gateway's port: every RPC whose access policy exposes it is forwarded to the service
/// that owns it as bytes, unary and streaming alike, under a deadline, with the owner's status passed through.
///
/// The gateway never decodes a forwarded message into a generated type: it reads the top-level `customer_id` for the
/// audit log and, for `redacted` RPCs and roles that may not see personal data, drops the fields Proto/ marks
/// personal. The access check itself is the `AccessControlInterceptor`'s, from the same policies.
public struct BackendForwarder: RegistrableRPCService {
    /// The backend services forwarded, by fully qualified name, and the connection to the process that owns each.
    private let backends: [String: GRPCClient<Peers.Transport>]
    /// The backends' shards, for the reads across customers asked of each shard and merged.
    private let peers: Peers
    private let catalog: ContractCatalog
    private let policies: AccessPolicies
    private let redactor: PersonalDataRedactor
    private let records: any AccessRecords
    /// Deadline of a forwarded call whose client set none (server-streaming calls then have none: a watch lives on).
    private let deadline: Duration
    private let now: @Sendable () -> Date

    public init(
        peers: Peers, records: any AccessRecords, catalog: ContractCatalog = .current,
        policies: AccessPolicies = .current, redactor: PersonalDataRedactor = .current,
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.backends = peers.connections
        self.peers = peers
        self.catalog = catalog
        self.policies = policies
        self.redactor = redactor
        self.records = records
        self.deadline = peers.deadline
        self.now = now
    }

    /// The RPCs forwarded: every method of the backend services whose policy exposes it.
    public var forwardedMethods: [ContractCatalog.Method] {
        catalog.methods.filter { method in
            backends[method.service] != nil && policies.policy(for: method.fullyQualifiedMethod)?.isInternal == false
        }
    }

    public func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        for method in forwardedMethods {
            guard let backend = backends[method.service],
                let policy = policies.policy(for: method.fullyQualifiedMethod)
            else { continue }
            let descriptor = MethodDescriptor(fullyQualifiedService: method.service, method: method.name)
            let customerField = catalog.messages[method.inputType]?.field
                .first { $0.name == "customer_id" && $0.type == .string }?.number
            router.registerHandler(forMethod: descriptor, deserializer: RawMessage(), serializer: RawMessage()) {
                request, context in
                try await forward(
                    request, context: context, method: method, descriptor: descriptor, policy: policy,
                    customerField: customerField, to: backend)
            }
        }
    }

    private func forward(
        _ request: StreamingServerRequest<[UInt8]>, context: ServerContext, method: ContractCatalog.Method,
        descriptor: MethodDescriptor, policy: AccessPolicies.Policy, customerField: Int32?,
        to backend: GRPCClient<Peers.Transport>
    ) async throws -> StreamingServerResponse<[UInt8]> {
        var callOptions = CallOptions.defaults
        // The peers' deadline bounds one request and its answer. A stream's length is the client's to choose (a till
        // streaming a day's purchases, a watch), so streams get only the deadline the caller set, if any.
        let streaming = method.serverStreaming || method.clientStreaming
        callOptions.timeout = Self.timeout(in: request.metadata) ?? (streaming ? nil : deadline)
        let options = callOptions
        let redacting = policy.redacted && !(Caller.current?.key.role.seesPersonalData ?? false)
        let subject = AuditSubject(field: customerField)
        // A client-stream message refused mid-stream ends the upstream call, which the owner then reports as
        // cancelled; the caller must hear the refusal itself.
        let refusal = Refusal()
        // One request message (unary, server-streaming) is read first, so its customer is known even when the owner
        // refuses it; a client stream is passed through as it arrives and audited by its first message.
        let upstream: StreamingClientRequest<[UInt8]>
        // The request messages of a call that is not a client stream, read before it is sent.
        var whole: [[UInt8]] = []
        if method.clientStreaming {
            upstream = StreamingClientRequest(of: [UInt8].self) { writer in
                for try await message in request.messages {
                    do throws(RPCError) {
                        try Self.check(message, against: policy, method: method)
                    } catch {
                        refusal.record(error)
                        throw error
                    }
                    subject.observe(message)
                    try await writer.write(message)
                }
            }
        } else {
            var received: [[UInt8]] = []
            for try await message in request.messages {
                try Self.check(message, against: policy, method: method)
                received.append(message)
            }
            if let first = received.first { subject.observe(first) }
            whole = received
            let messages = received
            upstream = StreamingClientRequest(of: [UInt8].self) { writer in try await writer.write(contentsOf: messages)
            }
        }
        let outputType = method.outputType
        // A call for one customer that the shards answer together (a vote and its tally) is the transport's to spread.
        if !streaming,
            let across = AcrossShards(
                method.fullyQualifiedMethod, request: whole.first, routing: .current, evenForOneCustomer: false),
            case let shards = peers.shards(ofContract: method.service), !shards.isEmpty
        {
            let request = whole
            // Each shard is asked under a share of the call's deadline: a shard that is slow (overloaded, frozen, its
            // node gone without a reset) is then left out and named before the call itself runs out, instead of
            // taking the other shards' answer down with it.
            // Only reads: a write cannot leave a shard out, and a shorter deadline would only turn one that was slow
            // but took it into a refusal.
            var shardOptions = options
            if Self.action(of: method, policy: policy) == .read {
                shardOptions.timeout = options.timeout.map { $0 * Self.shardShareOfDeadline }
            }
            let perShard = shardOptions
            return StreamingServerResponse(of: [UInt8].self) { writer in
                let outcome: Result<Metadata, any Error>
                do {
                    guard let message = request.first else {
                        throw RPCError(
                            code: .invalidArgument,
                            message: "\(descriptor.fullyQualifiedMethod) takes one request message")
                    }
                    // One shard's answer to the request bytes (of this method or another), pinned by `pin` or
                    // routed by the request's customer.
                    let ask: ShardAsk.Body = { method, bytes, pin in
                        try await backend.unary(
                            request: ClientRequest(message: bytes, metadata: pin), descriptor: method ?? descriptor,
                            serializer: RawMessage(), deserializer: RawMessage(), options: perShard
                        ) { try $0.message }
                    }
                    // A shard's refusal of an older map made the transport read it again: its shards are asked.
                    // Partial lists allowed: the client hears of the missing shards in the trailer.
                    let (answer, missing) = try await across.answer(
                        message, shards: shards, reloadedShards: { peers.shards(ofContract: method.service) },
                        partial: true, ask: ask)
                    try await writer.write(redacting ? try redactor.redact(answer, as: outputType) : answer)
                    outcome = .success(
                        missing.isEmpty ? [:] : [AcrossShards.missingShardsKey: .string(missing.joined(separator: ","))]
                    )
                } catch {
                    outcome = .failure(error)
                }
                if policy.audited {
                    try await audit(
                        method, context: context, subject: subject.customerID, outcome: outcome.map { _ in () })
                }
                return try outcome.get()
            }
        }
        return StreamingServerResponse(of: [UInt8].self) { writer in
            let relay: @Sendable () async throws -> Void = {
                try await backend.bidirectionalStreaming(
                    request: upstream, descriptor: descriptor, serializer: RawMessage(), deserializer: RawMessage(),
                    options: options
                ) { response in
                    for try await message in response.messages {
                        try await writer.write(redacting ? try redactor.redact(message, as: outputType) : message)
                    }
                }
            }
            let outcome: Result<Void, any Error>
            do {
                // A server stream (a watch, an export) ends with its client or with the drain (`ServerDrain`): left
                // to itself a forwarded watch outlives a client that gave up and holds the gateway's shutdown open.
                if method.serverStreaming {
                    try await ServerDrain.serverStream(context: context, relay)
                } else {
                    try await relay()
                }
                outcome = .success(())
            } catch {
                outcome = .failure(refusal.recorded ?? error)
            }
            if policy.audited {
                try await audit(method, context: context, subject: subject.customerID, outcome: outcome)
            }
            try outcome.get()
            return [:]
        }
    }

    /// The share of a call's deadline each shard of a read across shards gets: what is left is for merging the
    /// answers and for the one retry on a shard map that moved.
    static let shardShareOfDeadline = 0.75

    /// Refuses a request message larger than the RPC's `max_request_bytes`: the gateway is where clients' bytes
    /// arrive, so an oversized message stops here instead of costing the owning service its decoding.
    static func check(
        _ message: [UInt8], against policy: AccessPolicies.Policy, method: ContractCatalog.Method
    ) throws(RPCError) {
        guard message.count > policy.maxRequestBytes else { return }
        throw RPCError(
            code: .resourceExhausted,
            message: """
                \(method.fullyQualifiedMethod) takes request messages of at most \(policy.maxRequestBytes) bytes; \
                this one has \(message.count)
                """)
    }

    /// One audit record for a forwarded call.
    private func audit(
        _ method: ContractCatalog.Method, context: ServerContext, subject: String, outcome: Result<Void, any Error>
    ) async throws {
        guard let caller = Caller.current else { return }
        let code: String =
            switch outcome {
            case .success: "OK"
            case .failure(let error as RPCError): error.code.canonicalName
            case .failure(let error as any RPCErrorConvertible): RPCError(error).code.canonicalName
            case .failure(is ProtobufWire.Malformed): RPCError.Code.internalError.canonicalName
            case .failure: RPCError.Code.unknown.canonicalName
            }
        try await records.append(
            AuditRecord(
                id: EntityID.generate(), occurredAt: now(), actorKeyID: caller.key.id, actorRole: caller.key.role,
                action: Self.action(of: method, policy: policies.policy(for: method.fullyQualifiedMethod)),
                method: caller.httpRoute ?? "/" + method.fullyQualifiedMethod, customerID: subject, statusCode: code,
                requestID: RequestContext.current?.requestID ?? "", clientAddress: caller.clientAddress))
    }

    /// What the audit log calls a forwarded call: exports and erasures by name, otherwise by the least role (agents
    /// write, admins administer, the rest read).
    static func action(of method: ContractCatalog.Method, policy: AccessPolicies.Policy?) -> AuditAction {
        if method.name.hasPrefix("Export") { return .export }
        if method.name.hasPrefix("Erase") { return .erase }
        switch policy?.leastRole {
        case .admin?: return .admin
        case .agent?: return .write
        default: return .read
        }
    }

    /// The client's own deadline (`grpc-timeout`: up to 8 digits and a unit), so the owner stops when it would.
    static func timeout(in metadata: Metadata) -> Duration? {
        guard let value = metadata[stringValues: "grpc-timeout"].first(where: { _ in true }), value.count >= 2,
            let amount = Int64(value.dropLast()), amount >= 0, value.count <= 9
        else { return nil }
        switch value.last {
        case "H": return .seconds(amount * 3_600)
        case "M": return .seconds(amount * 60)
        case "S": return .seconds(amount)
        case "m": return .milliseconds(amount)
        case "u": return .microseconds(amount)
        case "n": return .nanoseconds(amount)
        default: return nil
        }
    }
}

/// The customer a forwarded call concerns: the top-level `customer_id` of its first request message (every RPC
/// about one customer carries it there, so a router needs to decode nothing else).
/// The gateway's own refusal of a forwarded call, kept to be reported instead of the upstream call's end.
private final class Refusal: Sendable {
    private let error = Mutex<RPCError?>(nil)

    func record(_ error: RPCError) { self.error.withLock { $0 = error } }
    var recorded: RPCError? { error.withLock { $0 } }
}

private final class AuditSubject: Sendable {
    private let field: Int32?
    private let value = Mutex<String?>(nil)

    init(field: Int32?) {
        self.field = field
    }

    func observe(_ message: [UInt8]) {
        guard let field else { return }
        value.withLock { current in
            if current == nil { current = ProtobufWire.string(field: field, in: message) ?? "" }
        }
    }

    var customerID: String { value.withLock { $0 ?? "" } }
}

/// A message as the bytes it arrived in: the forwarder passes them on without decoding.
struct RawMessage: MessageSerializer, MessageDeserializer {
    func serialize<Bytes: GRPCContiguousBytes>(_ message: [UInt8]) throws -> Bytes { Bytes(message) }

    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> [UInt8] {
        serializedMessageBytes.withUnsafeBytes { Array($0) }
    }
}

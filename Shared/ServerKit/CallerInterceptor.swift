import C360Clients
public import GRPCCore
import GRPCNIOTransportHTTP2
public import Logging

/// Which Customer 360 process may call which RPC, as the contracts declare it (`callers` in each RPC's
/// `(customer360.v1.access)` option), read once from the compiled descriptors.
///
/// A caller is named by its TLS certificate. The gateway may call every RPC that is not internal (it forwards the
/// client-facing ones under the callers' API keys, roles and audit); other services only the RPCs that list them;
/// the `operator` certificate (ops tools: demo-data, bench, restores) every RPC, as the shared token did before
/// certificates. Health and reflection answer any caller the CA vouches for, so probes and grpcurl work.
public struct CallerAllowList: Sendable {
    /// The certificate name of ops tools, allowed every RPC.
    public static let operatorName = "operator"

    private let declared: [String: [String]]
    private let exposed: Set<String>

    /// The allow-lists the embedded contracts declare.
    public static let current = CallerAllowList(catalog: .current)

    public init(catalog: ContractCatalog) {
        var declared: [String: [String]] = [:]
        var exposed: Set<String> = []
        for method in catalog.methods {
            guard let policy = method.policy else { continue }
            declared[method.fullyQualifiedMethod] = policy.callers
            if !policy.internal { exposed.insert(method.fullyQualifiedMethod) }
        }
        self.declared = declared
        self.exposed = exposed
    }

    /// Whether the process named `caller` may call `method` (`package.Service/Method`).
    public func allows(_ caller: String, _ method: String) -> Bool {
        // Methods without a policy are health and reflection (every customer360 RPC has one; a test checks).
        if caller == Self.operatorName || declared[method] == nil { return true }
        if caller == ServiceIdentity.gateway.name, exposed.contains(method) { return true }
        return declared[method]?.contains(caller) ?? false
    }

    /// Who may call `method`, for a refusal's message.
    public func callers(of method: String) -> [String] {
        (exposed.contains(method) ? [ServiceIdentity.gateway.name] : []) + (declared[method] ?? [])
            + [Self.operatorName]
    }
}

/// Admits a call to an internal service only from a Customer 360 process: with TLS, one whose certificate (already
/// verified against the CA by the transport) names a process on the RPC's allow-list — anything else is
/// PERMISSION_DENIED and logged; without TLS, one that carries the deployment's service token. Health checks need
/// neither, so probes work.
public struct CallerInterceptor: ServerInterceptor {
    public enum Check: Sendable {
        /// Mutual TLS: the caller's certificate name against the allow-list.
        case certificates(CallerAllowList)
        /// No TLS: the shared token in `x-c360-service-token`.
        case token(String)
        /// Mutual TLS, for a port only some processes may call whatever the contracts say (the gateway authority's,
        /// which not even the `operator` certificate may call): the caller's certificate name must be one of these.
        case names(Set<String>)
    }

    static let healthService = "grpc.health.v1.Health"
    private let check: Check
    private let token: [UInt8]
    private let logger: Logger

    public init(_ check: Check, logger: Logger) {
        self.check = check
        if case .token(let token) = check { self.token = Array(token.utf8) } else { self.token = [] }
        self.logger = logger
    }

    public func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>,
        context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        guard context.descriptor.service.fullyQualifiedService != Self.healthService else {
            return try await next(request, context)
        }
        switch check {
        case .names(let names):
            let caller = try Self.certificateName(context)
            guard names.contains(caller) else {
                logger.warning(
                    "caller refused: not named for this port",
                    metadata: ["caller": "\(caller)", "peer": "\(context.remotePeer)"])
                throw RPCError(
                    code: .permissionDenied,
                    message: "this port answers \(names.sorted().joined(separator: ", ")) only, not \(caller)")
            }
        case .certificates(let allowList):
            let method = context.descriptor.fullyQualifiedMethod
            let caller = try Self.certificateName(context)
            guard allowList.allows(caller, method) else {
                logger.warning(
                    "caller refused: not on the RPC's allow-list",
                    metadata: [
                        "caller": "\(caller)", "method": "\(method)", "peer": "\(context.remotePeer)",
                    ])
                throw RPCError(
                    code: .permissionDenied,
                    message: """
                        \(method) may be called by \(allowList.callers(of: method).joined(separator: ", ")), \
                        not by \(caller)
                        """)
            }
        case .token:
            guard
                let presented = request.metadata[stringValues: ServiceTokenClientInterceptor.metadataKey]
                    .first(where: { _ in true })
            else {
                throw RPCError(
                    code: .unauthenticated,
                    message: "this service answers only Customer 360 services: the call carries no service token")
            }
            guard Self.constantTimeEquals(Array(presented.utf8), token) else {
                throw RPCError(code: .unauthenticated, message: "the service token is wrong")
            }
        }
        return try await next(request, context)
    }

    /// The name in the certificate the caller presented (already verified against the CA by the transport).
    static func certificateName(_ context: ServerContext) throws -> String {
        guard let certificate = (context.transportSpecific as? HTTP2ServerTransport.Posix.Context)?.peerCertificate,
            let caller = TLSIdentity.commonName(of: certificate)
        else {
            throw RPCError(code: .unauthenticated, message: "the caller presented no certificate with a name")
        }
        return caller
    }

    /// Compares without stopping at the first difference, so timing does not reveal how much of a guess was right.
    static func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        return zip(lhs, rhs).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

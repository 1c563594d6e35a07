import C360ServerKit
import Foundation
public import GRPCCore

/// Authenticates every call by its `authorization: Bearer <secret>` metadata and checks that the key's role reaches
/// the least role the method's access policy (Proto/, `AccessPolicies`) names; the caller is then available to
/// handlers as `Caller.current`. Health checks and reflection pass without a key, so probes and tools work. A method
/// without a policy is refused to everyone.
public struct AccessControlInterceptor: ServerInterceptor {
    static let gatewayService = "customer360.v1.GatewayService"
    /// Services anyone may call: load-balancer probes and schema discovery (the contracts are the clients' anyway).
    static let openServices: Set<String> = [
        "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection",
    ]
    /// Metadata the HTTP bridge sets to the route a call came in on.
    public static let httpRouteKey = "x-c360-http-route"
    private let authenticator: Authenticator
    private let policies: AccessPolicies
    private let rateLimiter: RateLimiter?
    /// Where audited calls' records go, asked before such a call runs (`AccessRecords.readyToAudit`).
    private let auditLog: (any AccessRecords)?

    /// - Parameters:
    ///   - rateLimiter: Calls per key; nil for no limit.
    ///   - auditLog: Where audited calls are recorded; nil when it is always ready (tests).
    public init(
        authenticator: Authenticator, policies: AccessPolicies = .current, rateLimiter: RateLimiter? = nil,
        auditLog: (any AccessRecords)? = nil
    ) {
        self.authenticator = authenticator
        self.policies = policies
        self.rateLimiter = rateLimiter
        self.auditLog = auditLog
    }

    public func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>,
        context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        let service = context.descriptor.service.fullyQualifiedService
        guard !Self.openServices.contains(service) else { return try await next(request, context) }
        // Only the in-process HTTP bridge may say which HTTP route a call came from.
        let bridged = context.remotePeer.hasPrefix("in-process")
        let route = bridged ? request.metadata[stringValues: Self.httpRouteKey].first(where: { _ in true }) : nil
        let caller = Caller(
            key: try await authenticate(request.metadata),
            clientAddress: bridged ? "http" : context.remotePeer, httpRoute: route.map { String($0) })
        let method = context.descriptor.fullyQualifiedMethod
        guard let policy = policies.policy(for: method), let least = policy.leastRole else {
            throw GatewayError.notExposed(method: method)
        }
        guard caller.key.role.satisfies(least) else {
            throw GatewayError.notPermitted(role: caller.key.role, method: method, needed: least)
        }
        if let rateLimiter, let wait = rateLimiter.admit(keyID: caller.key.id) {
            let refusal = GatewayError.rateLimited(
                keyID: caller.key.id, limit: "\(rateLimiter.limit)", retryAfter: wait)
            throw RPCError(
                code: .resourceExhausted, message: refusal.rpcErrorMessage,
                metadata: ["retry-after": "\(Int(wait.rounded(.up)))"])
        }
        // A call that must leave an audit record does nothing while the record cannot be stored.
        if policy.audited, let auditLog { try await auditLog.readyToAudit() }
        return try await Caller.$current.withValueWhileResponding(caller) { try await next(request, context) }
    }

    private func authenticate(_ metadata: Metadata) async throws -> ApiKey {
        guard let header = metadata[stringValues: "authorization"].first(where: { _ in true }) else {
            throw GatewayError.missingCredentials
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { throw GatewayError.missingCredentials }
        return try await authenticator.authenticate(secret: String(parts[1]).trimmingCharacters(in: .whitespaces))
    }
}

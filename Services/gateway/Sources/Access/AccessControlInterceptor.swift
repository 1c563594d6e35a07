import Foundation
public import GRPCCore

/// Authenticates every GatewayService and AdminService call by its `authorization: Bearer <secret>` metadata and
/// checks the key's role may call the method (AdminService: admins only); the caller is then available to handlers
/// as `Caller.current`. Health checks pass without a key.
public struct AccessControlInterceptor: ServerInterceptor {
    static let gatewayService = "customer360.v1.GatewayService"
    /// Operations (backups, server info): admin keys only.
    static let adminService = "customer360.v1.AdminService"
    /// Metadata the HTTP bridge sets to the route a call came in on.
    public static let httpRouteKey = "x-c360-http-route"
    private let authenticator: Authenticator

    public init(authenticator: Authenticator) {
        self.authenticator = authenticator
    }

    public func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>,
        context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        let service = context.descriptor.service.fullyQualifiedService
        guard service == Self.gatewayService || service == Self.adminService else {
            return try await next(request, context)
        }
        // Only the in-process HTTP bridge may say which HTTP route a call came from.
        let bridged = context.remotePeer.hasPrefix("in-process")
        let route = bridged ? request.metadata[stringValues: Self.httpRouteKey].first(where: { _ in true }) : nil
        let caller = Caller(key: try await authenticate(request.metadata),
                            clientAddress: bridged ? "http" : context.remotePeer, httpRoute: route.map { String($0) })
        let method = context.descriptor.method
        let needed = service == Self.adminService ? .administer : Role.capabilities[method]
        guard let capability = needed, caller.key.role.may(capability) else {
            throw GatewayError.notPermitted(role: caller.key.role, method: method)
        }
        var response = try await Caller.$current.withValue(caller) { try await next(request, context) }
        if case .success(var contents) = response.accepted {
            let producer = contents.producer
            contents.producer = { writer in
                try await Caller.$current.withValue(caller) { try await producer(writer) }
            }
            response.accepted = .success(contents)
        }
        return response
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

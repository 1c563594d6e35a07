public import C360Clients
public import GRPCCore
public import GRPCNIOTransportHTTP2

/// Runs `body` with a gRPC client connected to `address` over HTTP/2 — plaintext unless given `security` — and shuts
/// the client down gracefully when `body` returns or throws.
///
/// Wrap the client in the generated stub of the service under test, e.g.
/// `Customer360_V1_ProfileService.Client(wrapping: client)`.
public func withConnectedClient<T: Sendable>(
    to address: PeerAddress,
    security: HTTP2ClientTransport.Posix.TransportSecurity = .plaintext,
    isolation: isolated (any Actor)? = #isolation,
    _ body: (GRPCClient<HTTP2ClientTransport.Posix>) async throws -> T
) async throws -> T {
    let transport = try HTTP2ClientTransport.Posix(
        target: address.target,
        transportSecurity: security
    )
    return try await withGRPCClient(transport: transport, isolation: isolation) { client in
        try await body(client)
    }
}

public import C360Clients
public import GRPCCore
public import GRPCNIOTransportHTTP2

/// Runs `body` with a gRPC client connected to `address` over plaintext HTTP/2, and shuts the client down
/// gracefully when `body` returns or throws.
///
/// Wrap the client in the generated stub of the service under test, e.g.
/// `Customer360_V1_ProfileService.Client(wrapping: client)`.
public func withConnectedClient<T: Sendable>(
    to address: PeerAddress,
    isolation: isolated (any Actor)? = #isolation,
    _ body: (GRPCClient<HTTP2ClientTransport.Posix>) async throws -> T
) async throws -> T {
    let transport = try HTTP2ClientTransport.Posix(
        target: .dns(host: address.host, port: address.port),
        transportSecurity: .plaintext
    )
    return try await withGRPCClient(transport: transport, isolation: isolation) { client in
        try await body(client)
    }
}

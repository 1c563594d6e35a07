public import GRPCNIOTransportHTTP2

#if canImport(Glibc)
    import Glibc
#endif

/// Where a peer service listens: `host:port`, as given by `--profile-addr` and friends.
public struct PeerAddress: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port` (`[::1]:50051` for IPv6); `nil` when malformed or the port is out of range.
    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (1...65535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self.init(host: host, port: port)
    }

    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// What a gRPC client connects to: an IPv4 or IPv6 literal as an address, any other host through DNS. With TLS an
    /// address sends no server name (SNI may not carry an IP) and the certificate is checked against its IP
    /// addresses; a name is sent and checked against the certificate's DNS names.
    public var target: any ResolvableTarget {
        var ipv4 = in_addr()
        var ipv6 = in6_addr()
        if inet_pton(AF_INET, host, &ipv4) == 1 { return .ipv4(address: host, port: port) }
        if inet_pton(AF_INET6, host, &ipv6) == 1 { return .ipv6(address: host, port: port) }
        return .dns(host: host, port: port)
    }
}

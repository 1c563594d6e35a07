public import ArgumentParser
public import C360Clients

/// A service another one calls, named by its identity: the peer's `--<peer>-addr` flag, `C360_<SERVICE>_<PEER>_ADDR`
/// variable and default address all derive from `ServiceIdentity`, so no main repeats a port.
public protocol PeerRole {
    static var identity: ServiceIdentity { get }
}

public enum ProfilePeer: PeerRole { public static var identity: ServiceIdentity { .profile } }
public enum InteractionPeer: PeerRole { public static var identity: ServiceIdentity { .interaction } }
public enum FeedbackPeer: PeerRole { public static var identity: ServiceIdentity { .feedback } }
public enum SuccessPeer: PeerRole { public static var identity: ServiceIdentity { .success } }
public enum OutreachPeer: PeerRole { public static var identity: ServiceIdentity { .outreach } }

extension ServiceIdentity {
    /// Where a caller finds this service when nothing says otherwise: its default port on loopback.
    public var defaultAddress: String { "127.0.0.1:\(defaultPort)" }

    /// The flag a caller takes this service's address with, e.g. `profile-addr`.
    public var addressFlag: String { "\(environmentKey.lowercased())-addr" }
}

/// `--<peer>-addr`, e.g. `@OptionGroup var profile: PeerAddressOption<ProfilePeer>` gives `--profile-addr`.
public struct PeerAddressOption<Peer: PeerRole>: ParsableArguments, Sendable {
    @Option(
        name: .customLong(Peer.identity.addressFlag),
        help: ArgumentHelp(
            "\(Peer.identity.name) address. [env: C360_<SERVICE>_\(Peer.identity.environmentKey)_ADDR] (default: \(Peer.identity.defaultAddress))"
        )
    )
    public var address: String?

    public init() {}

    /// The flag, else `C360_<SERVICE>_<PEER>_ADDR`, else the peer's default address.
    ///
    /// - Throws: `ValidationError` naming the flag when the value is not host:port.
    public func resolve(_ environment: EnvironmentReader) throws -> PeerAddress {
        try environment.peerAddress(
            address, key: "\(Peer.identity.environmentKey)_ADDR", default: Peer.identity.defaultAddress)
    }
}

/// `--peer-deadline-ms`: how long each call to a peer may take, checked once for every service that calls peers.
public struct PeerDeadlineOption: ParsableArguments, Sendable {
    @Option(
        help:
            "Deadline of each call to a peer, in milliseconds, 10...60000. [env: C360_<SERVICE>_PEER_DEADLINE_MS] (default: 2000; the gateway's 1000, as a view waits for its slowest backend)"
    )
    public var peerDeadlineMs: Int?

    public init() {}

    /// The flag, else `C360_<SERVICE>_PEER_DEADLINE_MS`, else `fallback`.
    ///
    /// - Throws: `ValidationError` when it is outside 10...60000 ms.
    public func resolve(_ environment: EnvironmentReader, default fallback: Duration = .milliseconds(2_000)) throws
        -> Duration
    {
        guard let milliseconds: Int = try peerDeadlineMs ?? environment.value("PEER_DEADLINE_MS") else {
            return fallback
        }
        guard (10...60_000).contains(milliseconds) else {
            throw ValidationError("--peer-deadline-ms must be between 10 and 60000, not \(milliseconds)")
        }
        return .milliseconds(milliseconds)
    }
}

extension Duration {
    /// Whole milliseconds, for start-up lines that report a configured duration in the unit its flag takes.
    public var wholeMilliseconds: Int64 {
        components.seconds * 1_000 + components.attoseconds / 1_000_000_000_000_000
    }
}

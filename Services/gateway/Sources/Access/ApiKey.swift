public import Foundation

/// A client credential; its secret is never stored, only the secret's SHA-256.
public struct ApiKey: Sendable, Equatable {
    public var id: String
    public var name: String
    public var role: Role
    /// The first characters of the secret, so a person can recognise it.
    public var secretPrefix: String
    public var createdAt: Date
    /// The admin key that created it; empty for the bootstrap key.
    public var createdBy: String
    public var expiresAt: Date?
    public var revokedAt: Date?
    public var lastUsedAt: Date?

    public init(
        id: String, name: String, role: Role, secretPrefix: String, createdAt: Date, createdBy: String,
        expiresAt: Date?
    ) {
        self.id = id
        self.name = name
        self.role = role
        self.secretPrefix = secretPrefix
        self.createdAt = createdAt
        self.createdBy = createdBy
        self.expiresAt = expiresAt
    }

    /// Usable at `now`: not revoked, not expired.
    public func isActive(at now: Date) -> Bool {
        revokedAt == nil && (expiresAt.map { $0 > now } ?? true)
    }
}

/// Making and recognising API key secrets: "c360_" followed by 64 hex digits of randomness.
public enum ApiKeySecret {
    static let scheme = "c360_"
    static let prefixLength = 12

    /// A new random secret.
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let digits = Array("0123456789abcdef")
        return scheme + String((0..<64).map { _ in digits[Int.random(in: 0..<16, using: &generator)] })
    }

    /// What is stored in place of the secret.
    public static func hash(_ secret: String) -> String { Digest.sha256Hex(secret) }

    /// What a person sees of it.
    public static func prefix(_ secret: String) -> String { String(secret.prefix(prefixLength)) }
}

/// The key making the current call, set by `AccessControlInterceptor` for the duration of each RPC.
public struct Caller: Sendable {
    public var key: ApiKey
    /// The client's address as the transport saw it.
    public var clientAddress: String
    /// For calls that came in over HTTP: the route, which the audit log records instead of the gRPC method.
    public var httpRoute: String?

    @TaskLocal public static var current: Caller?
}

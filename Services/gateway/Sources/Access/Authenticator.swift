public import Foundation
import Synchronization

/// Finds the key behind a secret, remembering answers for a few seconds so a busy client does not cost a database
/// read per call; a revoked key stops working within `cacheTTL`.
public final class Authenticator: Sendable {
    private let records: any AccessRecords
    private let now: @Sendable () -> Date
    private let cacheTTL: TimeInterval
    private let cache = Mutex<[String: (key: ApiKey?, until: Date)]>([:])

    public init(records: any AccessRecords, cacheTTL: TimeInterval = 5, now: @escaping @Sendable () -> Date = Date.init)
    {
        self.records = records
        self.cacheTTL = cacheTTL
        self.now = now
    }

    /// The active key for `secret`.
    ///
    /// - Throws: `GatewayError.unknownCredentials` or `.inactiveCredentials`.
    public func authenticate(secret: String) async throws -> ApiKey {
        let instant = now()
        let hash = ApiKeySecret.hash(secret)
        let key: ApiKey?
        if let cached = cache.withLock({ $0[hash] }), cached.until > instant {
            key = cached.key
        } else {
            key = try await records.findKey(secretHash: hash, usedAt: instant)
            cache.withLock { cache in
                if cache.count > 10_000 { cache.removeAll() }
                cache[hash] = (key, instant.addingTimeInterval(cacheTTL))
            }
        }
        guard let key else { throw GatewayError.unknownCredentials }
        guard key.isActive(at: instant) else { throw GatewayError.inactiveCredentials(key.id) }
        return key
    }

    /// Forgets a key at once (after it is revoked here).
    public func forget(keyID: String) {
        cache.withLock { cache in cache = cache.filter { $0.value.key?.id != keyID } }
    }
}

public import Foundation
import Synchronization

/// Finds the key behind a secret, remembering answers for a few seconds so a busy client does not cost a database
/// read per call; a revoked key stops working within `cacheTTL`.
public final class Authenticator: Sendable {
    private let records: any AccessRecords
    private let now: @Sendable () -> Date
    private let cacheTTL: TimeInterval
    private let cache = Mutex<Cache>(Cache())

    private struct Cache {
        var entries: [String: (key: ApiKey?, until: Date)] = [:]
        /// Raised by every `forget`: a lookup that began before it may have read the key as it was before the revoke,
        /// so its answer is used for that call but not remembered.
        var generation = 0
    }

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
        let (cached, generation) = cache.withLock { ($0.entries[hash], $0.generation) }
        if let cached, cached.until > instant {
            key = cached.key
        } else {
            key = try await records.findKey(secretHash: hash, usedAt: instant)
            cache.withLock { cache in
                guard cache.generation == generation else { return }
                if cache.entries.count > 10_000 { cache.entries.removeAll() }
                cache.entries[hash] = (key, instant.addingTimeInterval(cacheTTL))
            }
        }
        guard let key else { throw GatewayError.unknownCredentials }
        guard key.isActive(at: instant) else { throw GatewayError.inactiveCredentials(key.id) }
        return key
    }

    /// Forgets a key at once (after it is revoked here).
    public func forget(keyID: String) {
        cache.withLock { cache in
            cache.entries = cache.entries.filter { $0.value.key?.id != keyID }
            cache.generation += 1
        }
    }
}

public import Foundation
import Synchronization

/// A token bucket per API key: each key may make `rate` calls per second on average and `burst` at once, so one busy
/// or runaway client cannot starve the others or the services behind the gateway. A call over the limit is refused
/// with RESOURCE_EXHAUSTED and how long to wait (`retry-after` metadata; HTTP 429 with `Retry-After`).
public final class RateLimiter: Sendable {
    /// How many calls a key may make.
    public struct Limit: Sendable, Equatable, CustomStringConvertible {
        public var perSecond: Double
        public var burst: Double

        public init(perSecond: Double, burst: Double) {
            self.perSecond = perSecond
            self.burst = burst
        }

        /// `off`, `N/s` (burst N) or `N/s,burst=M`; nil when the text is none of these.
        public init?(parsing text: String) {
            let parts = text.lowercased().replacingOccurrences(of: " ", with: "").split(separator: ",")
            guard let first = parts.first, first.hasSuffix("/s"), let rate = Double(first.dropLast(2)),
                rate > 0, rate <= 1_000_000
            else { return nil }
            var burst = rate
            for part in parts.dropFirst() {
                guard part.hasPrefix("burst="), let value = Double(part.dropFirst(6)), value >= 1, value <= 10_000_000
                else {
                    return nil
                }
                burst = value
            }
            self.init(perSecond: rate, burst: burst)
        }

        public var description: String {
            "\(Self.format(perSecond))/s,burst=\(Self.format(burst))"
        }

        private static func format(_ value: Double) -> String {
            value == value.rounded() ? String(Int(value)) : String(value)
        }
    }

    private struct Bucket {
        var tokens: Double
        var updated: Date
    }

    public let limit: Limit
    private let now: @Sendable () -> Date
    private let buckets = Mutex<[String: Bucket]>([:])

    public init(limit: Limit, now: @escaping @Sendable () -> Date = Date.init) {
        self.limit = limit
        self.now = now
    }

    /// Takes one call from `keyID`'s bucket; answers how long to wait when it is empty, nil when the call may go.
    public func admit(keyID: String) -> TimeInterval? {
        let instant = now()
        return buckets.withLock { buckets in
            var bucket = buckets[keyID] ?? Bucket(tokens: limit.burst, updated: instant)
            let elapsed = max(0, instant.timeIntervalSince(bucket.updated))
            bucket.tokens = min(limit.burst, bucket.tokens + elapsed * limit.perSecond)
            bucket.updated = instant
            // One bucket per authenticated key (the interceptor admits only after authentication), so the table is
            // bounded by the keys an admin created, not by what clients send.
            defer { buckets[keyID] = bucket }
            guard bucket.tokens >= 1 else { return (1 - bucket.tokens) / limit.perSecond }
            bucket.tokens -= 1
            return nil
        }
    }
}

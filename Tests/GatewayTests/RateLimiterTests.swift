import C360TestSupport
import Foundation
import Testing

@testable import C360Gateway

@Suite("Rate limit per API key")
struct RateLimiterTests {
    @Test("a key gets its burst at once, then its rate; other keys are not affected")
    func tokenBucket() {
        let clock = TestClock()
        let limiter = RateLimiter(limit: .init(perSecond: 2, burst: 3), now: { clock.now() })
        for _ in 0..<3 { #expect(limiter.admit(keyID: "a") == nil) }
        let wait = limiter.admit(keyID: "a")
        #expect(wait.map { abs($0 - 0.5) < 0.001 } == true, "\(String(describing: wait))")
        #expect(limiter.admit(keyID: "b") == nil)
        clock.advance(by: 0.5)
        #expect(limiter.admit(keyID: "a") == nil)
        #expect(limiter.admit(keyID: "a") != nil)
        clock.advance(by: 60) // refills to the burst, never beyond
        for _ in 0..<3 { #expect(limiter.admit(keyID: "a") == nil) }
        #expect(limiter.admit(keyID: "a") != nil)
    }

    @Test(
        "limits parse from N/s, N/s,burst=M; anything else is refused",
        arguments: [
            ("100/s", RateLimiter.Limit(perSecond: 100, burst: 100)),
            ("5/s,burst=20", RateLimiter.Limit(perSecond: 5, burst: 20)),
            ("0.5/s, burst=2", RateLimiter.Limit(perSecond: 0.5, burst: 2)),
        ])
    func parsing(text: String, limit: RateLimiter.Limit) {
        #expect(RateLimiter.Limit(parsing: text) == limit)
    }

    @Test("malformed limits are refused", arguments: ["", "100", "0/s", "-1/s", "10/m", "10/s,burst=0", "10/s,size=5"])
    func malformed(text: String) {
        #expect(RateLimiter.Limit(parsing: text) == nil)
    }
}

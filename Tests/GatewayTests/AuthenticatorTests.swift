import C360TestSupport
import Foundation
import Testing

@testable import C360Gateway

/// A store holding one key, an authenticator on it with a hand-moved clock, and the key's secret.
private func setUp(
    _ key: ApiKey
) async throws -> (store: GatewayStore, authenticator: Authenticator, clock: TestClock, secret: String) {
    let store = try makeGatewayStore()
    let secret = try await addKey(key, to: store)
    let clock = TestClock(Fixed.now)
    let authenticator = Authenticator(records: store, cacheTTL: 5, now: { clock.now() })
    return (store, authenticator, clock, secret)
}

@Suite("Authenticator: from a secret to an active key")
struct AuthenticatorTests {
    @Test("a known secret answers its key and notes the use")
    func knownSecret() async throws {
        let key = makeKey("key-agent", role: .agent)
        let (store, authenticator, _, secret) = try await setUp(key)
        let found = try await authenticator.authenticate(secret: secret)
        #expect(found == key)
        let stored = try await store.key(secretHash: ApiKeySecret.hash(secret))
        #expect(stored?.lastUsedAt == Fixed.now)
    }

    @Test("an unknown secret is unknownCredentials, also when asked again")
    func unknownSecret() async throws {
        let (_, authenticator, _, secret) = try await setUp(makeKey("key-agent", role: .agent))
        for _ in 0..<2 {
            await #expect(throws: GatewayError.unknownCredentials) {
                try await authenticator.authenticate(secret: "c360_" + String(repeating: "0", count: 64))
            }
            await #expect(throws: GatewayError.unknownCredentials) {
                try await authenticator.authenticate(secret: "")
            }
        }
        // A near miss is just as unknown.
        await #expect(throws: GatewayError.unknownCredentials) {
            try await authenticator.authenticate(secret: String(secret.dropLast()))
        }
    }

    @Test("a revoked key is inactiveCredentials as soon as the authenticator forgets it")
    func revokedAndForgotten() async throws {
        let key = makeKey("key-viewer", role: .viewer)
        let (store, authenticator, _, secret) = try await setUp(key)
        #expect(try await authenticator.authenticate(secret: secret).id == key.id)

        _ = try await store.revoke(keyID: key.id, at: Fixed.now)
        // Remembered for up to cacheTTL: without `forget` the revoked key still passes.
        #expect(try await authenticator.authenticate(secret: secret).id == key.id)

        authenticator.forget(keyID: key.id)
        await #expect(throws: GatewayError.inactiveCredentials(key.id)) {
            try await authenticator.authenticate(secret: secret)
        }
    }

    @Test("forgetting one key keeps the others remembered")
    func forgetOnlyThatKey() async throws {
        let viewer = makeKey("key-viewer", role: .viewer)
        let (store, authenticator, _, viewerSecret) = try await setUp(viewer)
        let agent = makeKey("key-agent", role: .agent)
        let agentSecret = try await addKey(agent, to: store)
        _ = try await authenticator.authenticate(secret: viewerSecret)
        _ = try await authenticator.authenticate(secret: agentSecret)

        _ = try await store.revoke(keyID: agent.id, at: Fixed.now)
        _ = try await store.revoke(keyID: viewer.id, at: Fixed.now)
        authenticator.forget(keyID: viewer.id)
        await #expect(throws: GatewayError.inactiveCredentials(viewer.id)) {
            try await authenticator.authenticate(secret: viewerSecret)
        }
        #expect(try await authenticator.authenticate(secret: agentSecret).id == agent.id, "still cached")
    }

    @Test("a revoked key that is not forgotten stops working once the cache entry is older than cacheTTL")
    func revokedAfterTTL() async throws {
        let key = makeKey("key-viewer", role: .viewer)
        let (store, authenticator, clock, secret) = try await setUp(key)
        _ = try await authenticator.authenticate(secret: secret)
        _ = try await store.revoke(keyID: key.id, at: Fixed.now)

        clock.advance(by: 4)
        #expect(try await authenticator.authenticate(secret: secret).id == key.id)
        clock.advance(by: 1)
        await #expect(throws: GatewayError.inactiveCredentials(key.id)) {
            try await authenticator.authenticate(secret: secret)
        }
    }

    @Test("an expired key is inactiveCredentials, even while it is cached")
    func expired() async throws {
        let key = makeKey("key-analyst", role: .analyst, expiresAt: Fixed.at(3))
        let (_, authenticator, clock, secret) = try await setUp(key)
        #expect(try await authenticator.authenticate(secret: secret).id == key.id)
        clock.advance(by: 2)
        #expect(try await authenticator.authenticate(secret: secret).id == key.id)
        clock.advance(by: 1)
        await #expect(throws: GatewayError.inactiveCredentials(key.id)) {
            try await authenticator.authenticate(secret: secret)
        }
        clock.advance(by: 10)
        await #expect(throws: GatewayError.inactiveCredentials(key.id)) {
            try await authenticator.authenticate(secret: secret)
        }
    }

    @Test("a key that was already expired when first seen is inactiveCredentials")
    func expiredFromTheStart() async throws {
        let key = makeKey("key-old", role: .agent, createdAt: Fixed.at(-7_200), expiresAt: Fixed.at(-3_600))
        let (_, authenticator, _, secret) = try await setUp(key)
        await #expect(throws: GatewayError.inactiveCredentials(key.id)) {
            try await authenticator.authenticate(secret: secret)
        }
    }
}

import Foundation
import Testing

@testable import C360Gateway

/// The permission bits of the file at `path`.
private func permissions(of path: String) throws -> Int? {
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    return (attributes[.posixPermissions] as? NSNumber)?.intValue
}

@Suite("Bootstrap admin key")
struct BootstrapKeyTests {
    @Test(
        "a fresh gateway gets one admin key whose secret is in a file only its user can read; the second start does nothing"
    )
    func createdOnce() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try makeGatewayStore()

        let written = try await BootstrapKey.ensure(store: store, dataDirectory: directory.path, now: Fixed.now)
        let path = try #require(written)
        #expect(path == directory.appendingPathComponent(BootstrapKey.fileName).path)
        #expect(BootstrapKey.fileName == "bootstrap-admin.key")
        #expect(try permissions(of: path) == 0o600)

        let contents = try String(contentsOfFile: path, encoding: .utf8)
        #expect(contents.hasSuffix("\n"))
        let secret = contents.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(secret.hasPrefix("c360_") && secret.count == 69, "\(secret)")

        let lookup = try await store.key(secretHash: ApiKeySecret.hash(secret))
        let key = try #require(lookup)
        #expect(key.role == .admin)
        #expect(key.createdBy.isEmpty)
        #expect(key.expiresAt == nil && key.revokedAt == nil)
        #expect(key.secretPrefix == ApiKeySecret.prefix(secret))
        #expect(key.createdAt == Fixed.now)
        #expect(try await store.hasActiveAdmin(at: Fixed.now))

        let again = try await BootstrapKey.ensure(store: store, dataDirectory: directory.path, now: Fixed.at(60))
        #expect(again == nil)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == contents, "the file is left alone")
        let keys = try await store.keys(includeInactive: true, at: Fixed.at(60), after: nil, limit: 10)
        #expect(keys.items.count == 1)
    }

    @Test("an existing admin key means no bootstrap key and no file")
    func adminExists() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try makeGatewayStore()
        try await addKey(makeKey("key-admin", role: .admin), to: store)

        let written = try await BootstrapKey.ensure(store: store, dataDirectory: directory.path, now: Fixed.now)
        #expect(written == nil)
        let file = directory.appendingPathComponent(BootstrapKey.fileName).path
        #expect(!FileManager.default.fileExists(atPath: file))
    }

    @Test("when every admin key has expired, a new bootstrap key is made")
    func expiredAdmin() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try makeGatewayStore()
        try await addKey(makeKey("key-admin", role: .admin, expiresAt: Fixed.at(-1)), to: store)

        let written = try await BootstrapKey.ensure(store: store, dataDirectory: directory.path, now: Fixed.now)
        #expect(written != nil)
        #expect(try await store.hasActiveAdmin(at: Fixed.now))
    }
}

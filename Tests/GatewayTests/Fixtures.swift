import C360StoreKit
import Foundation

@testable import C360Gateway

/// A gateway store on a fresh in-memory database with the production configuration.
func makeGatewayStore() throws -> GatewayStore {
    try GatewayStore(writer: ServiceDatabase.inMemory())
}

/// Fixed instants, in whole seconds so they survive the millisecond round trip through the database exactly.
enum Fixed {
    /// 2026-09-21 14:13:20 UTC (also `TestClock`'s default start).
    static let now = Date(timeIntervalSince1970: 1_790_000_000)

    /// `now` moved by `seconds`.
    static func at(_ seconds: TimeInterval) -> Date {
        now.addingTimeInterval(seconds)
    }
}

/// A key called `id` with `role`, created at `createdAt`.
func makeKey(
    _ id: String, role: Role, createdAt: Date = Fixed.now, expiresAt: Date? = nil, createdBy: String = ""
) -> ApiKey {
    ApiKey(
        id: id, name: "key \(id)", role: role, secretPrefix: "c360_\(id.prefix(7))", createdAt: createdAt,
        createdBy: createdBy, expiresAt: expiresAt)
}

/// Stores `key` under a fresh secret and answers the secret.
@discardableResult
func addKey(_ key: ApiKey, to store: GatewayStore) async throws -> String {
    let secret = ApiKeySecret.generate()
    try await store.createKey(key, secretHash: ApiKeySecret.hash(secret))
    return secret
}

/// A fresh, empty temporary directory.
func makeTemporaryDirectory() throws -> URL {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("c360-gateway-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return directory
}

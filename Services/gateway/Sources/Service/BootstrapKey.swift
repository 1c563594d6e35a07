import C360StoreKit
public import Foundation

/// Makes sure a fresh gateway can be administered: when no active admin key exists, creates one and writes its
/// secret to a file only the service user can read (never to the log).
public enum BootstrapKey {
    /// The file the secret is written to, inside the data directory.
    public static let fileName = "bootstrap-admin.key"

    /// Creates the bootstrap admin key if needed; answers the file written, or `nil` when an admin key exists.
    public static func ensure(store: GatewayStore, dataDirectory: String, now: Date = Date()) async throws -> String? {
        guard try await !store.hasActiveAdmin(at: now) else { return nil }
        let secret = ApiKeySecret.generate()
        let key = ApiKey(id: EntityID.generate(), name: "bootstrap admin", role: .admin,
                         secretPrefix: ApiKeySecret.prefix(secret), createdAt: now, createdBy: "", expiresAt: nil)
        let path = URL(fileURLWithPath: dataDirectory).appendingPathComponent(fileName).path
        guard FileManager.default.createFile(atPath: path, contents: Data((secret + "\n").utf8),
                                             attributes: [.posixPermissions: 0o600]) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
        try await store.createKey(key, secretHash: ApiKeySecret.hash(secret))
        return path
    }
}

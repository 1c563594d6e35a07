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
        let key = ApiKey(
            id: EntityID.generate(), name: "bootstrap admin", role: .admin,
            secretPrefix: ApiKeySecret.prefix(secret), createdAt: now, createdBy: "", expiresAt: nil)
        let path = URL(fileURLWithPath: dataDirectory).appendingPathComponent(fileName).path
        // Created with mode 0600 from the start, and never over an existing file.
        let descriptor = open(path, O_CREAT | O_EXCL | O_WRONLY, 0o600)
        guard descriptor >= 0 else {
            throw CocoaError(
                .fileWriteNoPermission,
                userInfo: [
                    NSFilePathErrorKey: path,
                    NSLocalizedDescriptionKey: "cannot create \(path) (\(String(cString: strerror(errno))))",
                ])
        }
        let bytes = Array((secret + "\n").utf8)
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        close(descriptor)
        guard written == bytes.count else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
        try await store.createKey(key, secretHash: ApiKeySecret.hash(secret))
        return path
    }
}

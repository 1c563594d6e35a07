public import ArgumentParser
public import C360StoreKit
import Foundation
public import Logging
public import ServiceLifecycle

/// The options of a service that seals personal data (`Keyring`): where the key-encryption key comes from, which
/// retired ones rotation still has to re-wrap, and where the keyring lives.
public struct KeyringOptions: ParsableArguments, Sendable {
    @Option(
        help:
            "File holding the 256-bit key-encryption key (base64, as `openssl rand -base64 32` prints) that wraps every customer's data key; keep it outside the data directory. [env: C360_<SERVICE>_KEK_FILE] (default: <data-dir>/<service>.kek, generated on first start: development only)"
    )
    public var kekFile: String?

    @Option(
        help:
            "A previous key-encryption key, still able to unwrap keys while rotation re-wraps them under --kek-file; repeat for several. [env: C360_<SERVICE>_RETIRED_KEK_FILES, comma-separated]"
    )
    public var retiredKekFile: [String] = []

    @Option(
        help:
            "The keyring database (never inside the service's backups; see keyring-backup). [env: C360_<SERVICE>_KEYRING] (default: <data-dir>/<service>-keyring.sqlite)"
    )
    public var keyring: String?

    @Option(
        help:
            "File holding the deployment's 256-bit blind-index key (base64), shared by every shard of the service so an email's blind index is the same on each: profile-service's shards need it for their identifier index. Kept in the keyring on first start; a keyring holding another is refused. [env: C360_<SERVICE>_BLIND_INDEX_KEY_FILE] (default: a key of this keyring's own)"
    )
    public var blindIndexKeyFile: String?

    public init() {}

    /// The flags, else `C360_<SERVICE>_KEK_FILE`, `_RETIRED_KEK_FILES` (comma-separated) and `_KEYRING`.
    public func resolve(_ environment: EnvironmentReader) throws -> KeyringConfiguration {
        let retiredFromEnvironment: String = try environment.value("RETIRED_KEK_FILES") ?? ""
        let retired =
            retiredKekFile.isEmpty
            ? retiredFromEnvironment.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
            : retiredKekFile
        let kek: String? = try kekFile ?? environment.value("KEK_FILE")
        let blindIndexKey: String? = try blindIndexKeyFile ?? environment.value("BLIND_INDEX_KEY_FILE")
        return KeyringConfiguration(
            kekFile: kek?.isEmpty == true ? nil : kek, retiredKekFiles: retired.filter { !$0.isEmpty },
            keyringPath: try keyring ?? environment.value("KEYRING"),
            blindIndexKeyFile: blindIndexKey?.isEmpty == true ? nil : blindIndexKey)
    }

    /// The development KEK at `path`, created (0600) when missing.
    public static func developmentKey(at path: String) throws -> KeyEncryptionKey {
        if FileManager.default.fileExists(atPath: path) { return try KeyEncryptionKey(file: path) }
        let key = KeyEncryptionKey.generate()
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent,
            withIntermediateDirectories: true)
        guard
            FileManager.default.createFile(
                atPath: path, contents: Data((key.base64 + "\n").utf8),
                attributes: [.posixPermissions: 0o600])
        else { throw KeyringError.badKeyEncryptionKey("cannot write a development key-encryption key to \(path)") }
        return key
    }
}

/// Where a sealing service's keys come from (see `KeyringOptions` for the flags and variables).
public struct KeyringConfiguration: Sendable {
    /// The current key-encryption key's file; `nil` generates a development key beside the data (and says so loudly).
    public var kekFile: String?
    /// Previous key-encryption keys, still able to unwrap while `KeyRotation` re-wraps under the current one.
    public var retiredKekFiles: [String]
    /// The keyring database; `nil` is `<data-dir>/<service>-keyring.sqlite`.
    public var keyringPath: String?
    /// The deployment's blind-index key, shared by every shard (`Keyring.init(sharedIndexKey:)`); `nil` keeps a key
    /// of the keyring's own.
    public var blindIndexKeyFile: String?

    public init(
        kekFile: String? = nil, retiredKekFiles: [String] = [], keyringPath: String? = nil,
        blindIndexKeyFile: String? = nil
    ) {
        self.kekFile = kekFile
        self.retiredKekFiles = retiredKekFiles
        self.keyringPath = keyringPath
        self.blindIndexKeyFile = blindIndexKeyFile
    }

    /// Opens the keyring, generating a development KEK beside the data when none is given (and saying loudly that
    /// this protects nothing).
    ///
    /// - Throws: `ValidationError` with the keyring's reason (an unreadable KEK, a keyring wrapped by another one).
    public func open(host: ServiceHost) throws -> Keyring {
        let name = host.identity.name
        let directory = host.configuration.dataDirectory
        do {
            let kek: KeyEncryptionKey
            if let kekFile {
                kek = try KeyEncryptionKey(file: kekFile)
            } else {
                kek = try KeyringOptions.developmentKey(
                    at: (directory as NSString).appendingPathComponent("\(name).kek"))
                host.logger.warning(
                    "no --kek-file: personal data is sealed under a key-encryption key generated in the data directory, which a copy of that directory carries along; give --kek-file from a secret store outside a development machine"
                )
            }
            let retired = try retiredKekFiles.map { path throws(KeyringError) in try KeyEncryptionKey(file: path) }
            let path = keyringPath ?? (directory as NSString).appendingPathComponent("\(name)-keyring.sqlite")
            let shared = try blindIndexKeyFile.map { path throws(KeyringError) in
                try KeyEncryptionKey(file: path, source: "blind-index key file \(path)")
            }
            return try Keyring.open(
                path: path, kek: kek, retired: retired, sharedIndexKey: shared, logger: host.logger)
        } catch let error as KeyringError {
            throw ValidationError(error.description)
        }
    }
}

/// Re-wraps, under the current key-encryption key, every data key a retired one wrapped, in small batches while the
/// service serves (each batch one short keyring transaction), logging progress; then it idles.
public struct KeyRotation: Service {
    let keyring: Keyring
    let logger: Logger
    let batchSize: Int

    public init(keyring: Keyring, logger: Logger, batchSize: Int = 500) {
        self.keyring = keyring
        self.logger = logger
        self.batchSize = batchSize
    }

    public func run() async throws {
        try await rotate()
        // A service group ends when one of its services returns: stay until the process shuts down.
        try? await gracefulShutdown()
    }

    func rotate() async throws {
        let total = try keyring.keysToRewrap()
        guard total > 0 else { return }
        logger.notice(
            "key rotation: re-wrapping data keys under the new key-encryption key", metadata: ["keys": "\(total)"])
        var done = 0
        while !Task.isCancelled {
            let count = try keyring.rewrap(limit: batchSize)
            guard count > 0 else { break }
            done += count
            logger.info("key rotation progress", metadata: ["rewrapped": "\(done)", "of": "\(total)"])
            await Task.yield()
        }
        logger.notice(
            "key rotation done: every data key is wrapped by the current key-encryption key; the retired ones may be removed",
            metadata: ["rewrapped": "\(done)"])
    }
}

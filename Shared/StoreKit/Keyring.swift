public import Crypto
public import Foundation
public import GRDB
public import Logging
import Synchronization

/// Every customer's data key, wrapped by the key-encryption key, in a database of its own.
///
/// Personal data is sealed with AES-GCM under a key per customer (`seal(_:for:)`), and that key is stored here only
/// wrapped (AES-GCM under the KEK, bound to the customer's id). The keyring is a separate SQLite file on purpose: the
/// service's backups copy its main database and never this one, which is backed up separately with a short
/// retention (`<service> keyring-backup`). Erasing a customer destroys their key (`shred`), so every backup taken
/// before the erasure holds, for that customer, ciphertext nobody can open any more — crypto-shredding — without
/// rewriting old backups.
///
/// Rotation: start the service with a new `--kek-file` and the old one as `--retired-kek-file`; reads unwrap with
/// whichever key wrapped a data key, and `KeyRotation` re-wraps the old ones in batches while the service serves.
///
/// Reads are synchronous, so a store can seal and open inside its own database transaction; unwrapped keys are
/// cached (bounded), so a hot customer costs one keyring read per process.
public final class Keyring: Sendable {
    let database: any DatabaseWriter
    let current: KeyEncryptionKey
    /// Every KEK this process may unwrap with, by id: the current one and the retired ones.
    let keys: [String: KeyEncryptionKey]
    /// The key of the blind indexes (HMAC): stable across KEK rotations, itself wrapped by the KEK.
    let indexKey: Data
    /// An HMAC already keyed with `indexKey`, copied for each blind index: keying hashes the padded key twice, which
    /// was two fifths of a blind index and a create computes dozens of them (its search tokens). HMAC is a
    /// copy-on-write value that nothing mutates in place here (each call updates its own copy), so sharing it between
    /// threads is safe although swift-crypto does not declare it `Sendable`.
    nonisolated(unsafe) private let keyedIndex: HMAC<SHA256>
    /// Unwrapped data keys by customer (bytes: `SymmetricKey` is not `Sendable`).
    private let cache = Mutex<[String: Data]>([:])
    static let cacheLimit = 50_000

    /// Opens `database` as the keyring, migrating it and creating the blind-index key on first use.
    ///
    /// - Parameter sharedIndexKey: The deployment's blind-index key, which every shard of a service must share when
    ///   blind indexes cross shards (profile-service's identifier index): stored on first use like a generated one.
    ///   A keyring that already holds another one is refused, since every blind index in its database was computed
    ///   with the stored key.
    public init(
        database: any DatabaseWriter, kek: KeyEncryptionKey, retired: [KeyEncryptionKey] = [],
        sharedIndexKey: KeyEncryptionKey? = nil
    ) throws {
        self.database = database
        self.current = kek
        let keys = Dictionary(([kek] + retired).map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        self.keys = keys
        try Self.schema.migrate(database)
        indexKey = try database.write { db in
            if let stored = try WrappedKey.fetchOne(db, key: WrappedKey.indexKeyOwner) {
                let key = try stored.unwrap(with: keys)
                if let sharedIndexKey, sharedIndexKey.bytes != key {
                    throw KeyringError.badKeyEncryptionKey(
                        """
                        the keyring already holds another blind-index key than --blind-index-key-file gives: this \
                        database's blind indexes were computed with it; start this shard from an empty data directory \
                        (and keyring) to take the deployment's key
                        """)
                }
                return key
            }
            let key = sharedIndexKey?.bytes ?? SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
            try WrappedKey.wrap(key, owner: WrappedKey.indexKeyOwner, with: kek).insert(db)
            return key
        }
        keyedIndex = HMAC<SHA256>(key: SymmetricKey(data: indexKey))
    }

    /// Opens (creating if needed) the keyring file at `path` with the services' database configuration.
    public static func open(
        path: String, kek: KeyEncryptionKey, retired: [KeyEncryptionKey] = [], sharedIndexKey: KeyEncryptionKey? = nil,
        logger: Logger
    ) throws -> Keyring {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        let pool = try DatabasePool(path: path, configuration: ServiceDatabase.configuration(label: "keyring"))
        let keyring = try Keyring(database: pool, kek: kek, retired: retired, sharedIndexKey: sharedIndexKey)
        logger.info(
            "opened keyring",
            metadata: [
                "path": "\(path)", "kek": "\(kek.id)", "retired_keks": "\(retired.map(\.id).joined(separator: ","))",
                "blind_index_key": "\(sharedIndexKey == nil ? "own" : "the deployment's (--blind-index-key-file)")",
            ])
        return keyring
    }

    /// A keyring in memory under a random KEK, for tests.
    public static func inMemory() throws -> Keyring {
        try Keyring(database: ServiceDatabase.inMemory(label: "keyring"), kek: .generate())
    }

    static var schema: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: wrapped data keys") { db in
            try db.create(table: WrappedKey.databaseTableName) { t in
                t.primaryKey("owner", .text)
                t.column("kekId", .text).notNull().indexed()
                t.column("wrapped", .blob).notNull()
                t.column("createdAt", .integer).notNull()
            }
        }
        return migrator
    }

    // MARK: - Data keys

    /// The customer's data key, created on first use.
    public func dataKey(for customerID: String) throws -> SymmetricKey {
        if let key = try existingDataKey(for: customerID) { return key }
        let key = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        let stored = try database.write { db -> Data in
            // Another connection may have created it meanwhile: the first one wins.
            if let other = try WrappedKey.owned(by: customerID, db) { return try other.unwrap(with: keys) }
            try WrappedKey.wrap(key, owner: customerID, with: current).insert(db)
            return key
        }
        remember(stored, for: customerID)
        return SymmetricKey(data: stored)
    }

    /// The customer's data key, or nil when they never had one or it was shredded.
    public func existingDataKey(for customerID: String) throws -> SymmetricKey? {
        if let key = cache.withLock({ $0[customerID] }) { return SymmetricKey(data: key) }
        guard let stored = try database.read({ db in try WrappedKey.owned(by: customerID, db) }) else { return nil }
        let key = try stored.unwrap(with: keys)
        remember(key, for: customerID)
        return SymmetricKey(data: key)
    }

    /// Destroys the customers' data keys: what was sealed under them, in any database or backup, is unreadable from
    /// now on. The keyring's own WAL is checkpointed so the wrapped keys do not linger there either.
    public func shred(_ customerIDs: [String]) throws {
        guard !customerIDs.isEmpty else { return }
        cache.withLock { cache in for id in customerIDs { cache[id] = nil } }
        try database.write { db in
            _ = try WrappedKey.filter(keys: customerIDs).deleteAll(db)
        }
        try database.writeWithoutTransaction { db in
            _ = try db.checkpoint(.truncate)
        }
    }

    /// The customer's data key as bytes, or nil when they have none: what a move between shards carries with the
    /// customer's sealed rows, so the shard taking them over can open them (`reseal`).
    public func exportDataKey(for customerID: String) throws -> Data? {
        try existingDataKey(for: customerID).map { $0.withUnsafeBytes { Data($0) } }
    }

    /// How many data keys are still wrapped by a retired KEK.
    public func keysToRewrap() throws -> Int {
        try database.read { db in
            try WrappedKey.filter(WrappedKey.Columns.kekId != current.id).fetchCount(db)
        }
    }

    /// Re-wraps up to `limit` keys wrapped by a retired KEK with the current one, in one transaction.
    ///
    /// - Returns: How many were re-wrapped (0 when rotation is done).
    public func rewrap(limit: Int) throws -> Int {
        try database.write { db in
            let old = try WrappedKey.filter(WrappedKey.Columns.kekId != current.id).limit(limit).fetchAll(db)
            for stored in old {
                try WrappedKey.wrap(try stored.unwrap(with: keys), owner: stored.owner, with: current).update(db)
            }
            return old.count
        }
    }

    /// Copies the keyring to `path` with SQLite's online backup API.
    public func backup(to path: String) throws {
        let destination = try DatabaseQueue(path: path)
        try database.backup(to: destination)
    }

    private func remember(_ key: Data, for customerID: String) {
        cache.withLock { cache in
            // A crude bound: a service touching more customers than this re-reads keys, which is correct, only slower.
            if cache.count >= Self.cacheLimit { cache.removeAll(keepingCapacity: true) }
            cache[customerID] = key
        }
    }

    // MARK: - Sealing

    /// `text` encrypted under the customer's key and bound to their id; "" stays empty (it holds nothing).
    public func seal(_ text: String, for customerID: String) throws -> SealedText {
        guard !text.isEmpty else { return .empty }
        let box = try AES.GCM.seal(
            Data(text.utf8), using: try dataKey(for: customerID),
            authenticating: Data(customerID.utf8))
        guard let combined = box.combined else { throw KeyringError.tampered(customerID: customerID) }
        return SealedText(owner: customerID, box: combined)
    }

    /// `sealed`, sealed by another keyring under `key` (its owner's data key there), sealed again under this keyring's
    /// key for the same owner. Each shard keeps its own key per customer, so a value moved between shards is opened
    /// with the key that came with it and sealed with the local one: two keys for one customer never meet.
    public func reseal(_ sealed: SealedText, openingWith key: Data) throws -> SealedText {
        guard let (owner, box) = sealed.parts else { return sealed }
        let opened: Data
        do {
            opened = try AES.GCM.open(
                try AES.GCM.SealedBox(combined: box), using: SymmetricKey(data: key),
                authenticating: Data(owner.utf8))
        } catch {
            throw KeyringError.tampered(customerID: owner)
        }
        return try seal(String(decoding: opened, as: UTF8.self), for: owner)
    }

    /// The text `sealed` holds, opened with its owner's key.
    ///
    /// - Throws: `KeyringError.shredded` once the owner was erased, `.tampered` when the bytes do not open.
    public func open(_ sealed: SealedText) throws -> String {
        guard let (owner, box) = sealed.parts else {
            if sealed.isEmpty { return "" }
            throw KeyringError.tampered(customerID: "?")
        }
        guard let key = try existingDataKey(for: owner) else { throw KeyringError.shredded(customerID: owner) }
        do {
            let opened = try AES.GCM.open(
                try AES.GCM.SealedBox(combined: box), using: key,
                authenticating: Data(owner.utf8))
            return String(decoding: opened, as: UTF8.self)
        } catch {
            throw KeyringError.tampered(customerID: owner)
        }
    }

    /// A keyed hash of `value` (HMAC-SHA256, 128 bits in hex) that an index can hold: equal values give equal
    /// indexes, so lookups by email or phone stay index lookups, but the index reveals no value without the key.
    /// `purpose` keeps indexes of different fields from being compared with each other.
    public func blindIndex(_ value: String, purpose: String) -> String {
        var hmac = keyedIndex
        hmac.update(data: Data(purpose.utf8))
        hmac.update(data: [0])
        hmac.update(data: Data(value.utf8))
        return Hex.encode(hmac.finalize().prefix(16))
    }
}

/// A personal value as it is stored: whose key sealed it, then AES-GCM's nonce, ciphertext and tag under that key.
///
/// A distinct type rather than a `String`, so a record cannot hold plaintext where ciphertext belongs: the compiler
/// makes every write go through `Keyring.seal` and every read through `Keyring.open`. Naming the key's owner lets a
/// value move between customers unchanged (a merge hands the merged profile's identifiers to the survivor, and
/// erasing the survivor shreds both keys). Empty means "no value".
public struct SealedText: Hashable, Sendable, Codable, DatabaseValueConvertible {
    /// One byte of owner length, the owner's id (UTF-8), then the sealed box.
    public let combined: Data

    public init(combined: Data) { self.combined = combined }

    init(owner: String, box: Data) {
        let id = Data(owner.utf8)
        precondition(id.count < 256, "customer ids are short")
        combined = Data([UInt8(id.count)]) + id + box
    }

    /// The owner and the sealed box; nil for empty or malformed bytes.
    var parts: (owner: String, box: Data)? {
        guard let length = combined.first.map(Int.init), combined.count > 1 + length else { return nil }
        let start = combined.startIndex + 1
        let owner = String(decoding: combined[start..<start + length], as: UTF8.self)
        return (owner, Data(combined[(start + length)...]))
    }

    public static let empty = SealedText(combined: Data())
    public var isEmpty: Bool { combined.isEmpty }

    public var databaseValue: DatabaseValue { combined.databaseValue }

    public static func fromDatabaseValue(_ dbValue: DatabaseValue) -> SealedText? {
        switch dbValue.storage {
        case .blob(let data):
            return SealedText(combined: data)
        case .string(let text):
            // '' is a column's default (no value); other text is the base64 form, which SQL that moves a value
            // through JSON (json_extract of a merge journal) writes back.
            if text.isEmpty { return .empty }
            return Data(base64Encoded: text).map(SealedText.init(combined:))
        default:
            return nil
        }
    }

    /// The owner whose key sealed this value; nil when empty.
    public var owner: String? { parts?.owner }

    // In JSON (a merge's undo snapshot) it is base64.
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let data = Data(base64Encoded: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not base64"))
        }
        combined = data
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(combined.base64EncodedString())
    }
}

/// A row of the keyring: one data key (or the blind-index key), wrapped by a KEK and bound to its owner.
struct WrappedKey: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "wrapped_key"
    /// Owner of the blind-index key, a name no customer id can take (ids are generated without spaces).
    static let indexKeyOwner = "blind index"

    var owner: String
    var kekId: String
    var wrapped: Data
    var createdAt: Int64

    enum Columns {
        static let kekId = Column(CodingKeys.kekId)
    }

    /// The key `owner` holds, through a statement prepared once per connection: every new customer's first seal
    /// looks twice (a miss in the cache, then inside the write), and compiling the lookup each time was a third of
    /// the keyring's share of CreateCustomer.
    static func owned(by owner: String, _ db: Database) throws -> WrappedKey? {
        try fetchOne(db.cachedStatement(sql: "SELECT * FROM wrapped_key WHERE owner = ?"), arguments: [owner])
    }

    static func wrap(_ key: Data, owner: String, with kek: KeyEncryptionKey) throws -> WrappedKey {
        let box = try AES.GCM.seal(key, using: kek.key, authenticating: Data(owner.utf8))
        return WrappedKey(
            owner: owner, kekId: kek.id, wrapped: box.combined ?? Data(),
            createdAt: Int64(Date().timeIntervalSince1970 * 1000))
    }

    func unwrap(with keys: [String: KeyEncryptionKey]) throws -> Data {
        guard let kek = keys[kekId] else { throw KeyringError.unknownKeyEncryptionKey(id: kekId) }
        do {
            let box = try AES.GCM.SealedBox(combined: wrapped)
            return try AES.GCM.open(box, using: kek.key, authenticating: Data(owner.utf8))
        } catch {
            throw KeyringError.tampered(customerID: owner)
        }
    }
}

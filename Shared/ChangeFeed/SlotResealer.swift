import C360StoreKit
import Foundation

/// Seals a moving customer's values again under the importing shard's keys, opening each with the key that came with
/// it (every shard keeps its own keys).
///
/// Each distinct sealed value is sealed once per customer and reused wherever it appears: AES-GCM's random nonce
/// would otherwise turn two copies of one value into different bytes, and a store may compare them (profile-service's
/// unmerge finds the fields a merge filled in by comparing the survivor's value with the snapshot's).
struct SlotResealer {
    let keys: [String: Data]
    let keyring: Keyring
    private var sealed: [Data: Data] = [:]

    init(keys: [String: Data], keyring: Keyring) {
        self.keys = keys
        self.keyring = keyring
    }

    /// A sealed blob under this shard's key for its owner; nil when it is not a sealed value of an owner that came with
    /// a key (left as it is).
    ///
    /// - Throws: `KeyringError.tampered` when it names such an owner and does not open under that key.
    mutating func blob(_ bytes: Data) throws -> Data? {
        if let done = sealed[bytes] { return done }
        guard let owner = SealedText(combined: bytes).owner, let key = keys[owner] else { return nil }
        let resealed = try keyring.reseal(SealedText(combined: bytes), openingWith: key).combined
        sealed[bytes] = resealed
        return resealed
    }

    /// `text` (JSON) with every string that is a sealed value (base64, as `SealedText` encodes itself in JSON) sealed
    /// again. A string that only looks like one (a client's tag that decodes to an owner's id) and does not open is
    /// left as it is: what a client wrote cannot stop a move.
    mutating func json(_ text: String) throws -> String {
        var resealer = self
        let result = try Self.mapStrings(inJSON: text) { string in
            guard let bytes = Data(base64Encoded: string), let resealed = try? resealer.blob(bytes) else {
                return string
            }
            return resealed.base64EncodedString()
        }
        self = resealer
        return result
    }

    /// The owners of the sealed values in `text` (JSON): whose keys an export sends along.
    static func owners(inJSON text: String) -> Set<String> {
        var owners: Set<String> = []
        _ = try? mapStrings(inJSON: text) { string in
            if let bytes = Data(base64Encoded: string), let owner = SealedText(combined: bytes).owner {
                owners.insert(owner)
            }
            return string
        }
        return owners
    }

    /// `text` re-encoded with `transform` applied to every string value (not to keys).
    static func mapStrings(inJSON text: String, _ transform: (String) throws -> String) throws -> String {
        func map(_ value: Any) throws -> Any {
            switch value {
            case let string as String: return try transform(string)
            case let array as [Any]: return try array.map(map)
            case let object as [String: Any]: return try object.mapValues(map)
            default: return value
            }
        }
        let parsed = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        let encoded = try JSONSerialization.data(withJSONObject: try map(parsed), options: [.fragmentsAllowed])
        return String(decoding: encoded, as: UTF8.self)
    }
}

public import Crypto
import Foundation

/// The key that wraps every customer's data key (envelope encryption).
///
/// It is read from a file or the environment — in production a secret manager's mount — and never written to the data
/// directory, so a copy of a service's databases (a backup, a stolen disk) holds only ciphertext without it.
public struct KeyEncryptionKey: Sendable {
    /// The key's bytes (`SymmetricKey` is not `Sendable`; one is made per use, which costs a copy of 32 bytes).
    let bytes: Data
    /// The first 8 bytes of the key's SHA-256, in hex: says which key wrapped a data key, revealing nothing of it.
    public let id: String

    public init(_ key: SymmetricKey) {
        self.bytes = key.withUnsafeBytes { Data($0) }
        self.id = Hex.encode(SHA256.hash(data: bytes).prefix(8))
    }

    public var key: SymmetricKey { SymmetricKey(data: bytes) }

    /// A new random key, for tests and for `openssl rand -base64 32`-less development.
    public static func generate() -> KeyEncryptionKey {
        KeyEncryptionKey(SymmetricKey(size: .bits256))
    }

    /// Reads a 256-bit key from text: base64 (what `openssl rand -base64 32` prints) or 64 hex digits.
    public init(text: String, source: String) throws(KeyringError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if let data = Data(base64Encoded: trimmed), data.count == 32 {
            self.init(SymmetricKey(data: data))
        } else if trimmed.count == 64, let data = Data(hex: trimmed) {
            self.init(SymmetricKey(data: data))
        } else {
            throw KeyringError.badKeyEncryptionKey(
                "\(source) must hold a 256-bit key as base64 (openssl rand -base64 32) or 64 hex digits")
        }
    }

    /// Reads the key from a file (see `init(text:source:)`); `source` names it in errors.
    public init(file path: String, source: String? = nil) throws(KeyringError) {
        let source = source ?? "key-encryption key file \(path)"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw KeyringError.badKeyEncryptionKey("\(source) cannot be read")
        }
        try self.init(text: text, source: source)
    }

    /// The key as base64, to write a generated development key to a file.
    public var base64: String {
        bytes.base64EncodedString()
    }
}

/// What can go wrong with keys; descriptions say what to do about it.
public enum KeyringError: Error, CustomStringConvertible, Equatable {
    case badKeyEncryptionKey(String)
    /// A data key was wrapped by a key-encryption key this process was not given.
    case unknownKeyEncryptionKey(id: String)
    /// The customer's data key is gone (crypto-shredded at erasure): the ciphertext can never be read again.
    case shredded(customerID: String)
    /// A sealed value does not open under its customer's key: it was altered or moved to another customer.
    case tampered(customerID: String)

    public var description: String {
        switch self {
        case .badKeyEncryptionKey(let why):
            why
        case .unknownKeyEncryptionKey(let id):
            "a data key is wrapped by key-encryption key \(id), which this process was not given: pass it with "
                + "--retired-kek-file until rotation has re-wrapped every key"
        case .shredded(let customerID):
            "customer \(customerID)'s data key was destroyed at erasure; the data cannot be read"
        case .tampered(let customerID):
            "a value sealed for customer \(customerID) does not open under its key: it was altered or moved"
        }
    }
}

extension Data {
    /// Bytes from an even number of hex digits; nil for anything else.
    init?(hex: String) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(hex.utf8.count / 2)
        var high: UInt8?
        for character in hex.utf8 {
            let nibble: UInt8
            switch character {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = character - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = character - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = character - UInt8(ascii: "A") + 10
            default: return nil
            }
            if let first = high {
                bytes.append(first << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        guard high == nil else { return nil }
        self.init(bytes)
    }
}

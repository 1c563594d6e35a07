import Crypto

/// Hex SHA-256 digests (swift-crypto). API key secrets are stored as one — they are 256-bit random values, so a
/// plain hash is the right tool, no salt or stretching as for passwords — and each audit record carries one that
/// chains it to the record before.
enum Digest {
    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// The digest of `text`'s UTF-8 bytes, as 64 lowercase hex digits.
    static func sha256Hex(_ text: String) -> String {
        sha256Hex(Array(text.utf8))
    }

    /// The digest of `bytes`, as 64 lowercase hex digits.
    static func sha256Hex(_ bytes: [UInt8]) -> String {
        var hex: [UInt8] = []
        hex.reserveCapacity(64)
        for byte in SHA256.hash(data: bytes) {
            hex.append(hexDigits[Int(byte >> 4)])
            hex.append(hexDigits[Int(byte & 0x0F)])
        }
        return String(decoding: hex, as: UTF8.self)
    }
}

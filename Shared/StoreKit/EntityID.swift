import Foundation
import Synchronization

/// Ids for customers and every other entity: UUIDv7 strings (RFC 9562), lower-case.
///
/// They are generated without coordination, so shards never collide, and they sort by creation time, so keyset
/// paging by id is also creation order. Within one process they strictly increase: the 12 `rand_a` bits are a
/// counter within the millisecond (RFC 9562 §6.2, method 1), so a row created after a page was read always sorts
/// after it.
public enum EntityID {
    private struct Last {
        var millis: UInt64 = 0
        var counter: UInt16 = 0
    }

    private static let last = Mutex(Last())

    /// A new UUIDv7 for the current time.
    public static func generate() -> String {
        let now = UInt64(max(0, Date().timeIntervalSince1970 * 1000))
        let (millis, counter) = last.withLock { last -> (UInt64, UInt16) in
            if now > last.millis {
                last.millis = now
                last.counter = UInt16.random(in: 0..<2048)
            } else if last.counter < 0x0FFF {
                last.counter += 1
            } else {
                last.millis += 1
                last.counter = UInt16.random(in: 0..<2048)
            }
            return (last.millis, last.counter)
        }
        var generator = SystemRandomNumberGenerator()
        return format(millis: millis, counter: counter, using: &generator)
    }

    /// The id layout: 48 bits of Unix milliseconds, version 7, a 12-bit counter, the variant, 62 random bits.
    static func format(millis: UInt64, counter: UInt16, using generator: inout some RandomNumberGenerator) -> String {
        var bytes = [UInt8](repeating: 0, count: 16)
        for index in 0..<6 {
            bytes[index] = UInt8(truncatingIfNeeded: millis >> (8 * (5 - index)))
        }
        bytes[6] = 0x70 | UInt8(truncatingIfNeeded: counter >> 8)
        bytes[7] = UInt8(truncatingIfNeeded: counter)
        for index in 8..<16 {
            bytes[index] = UInt8.random(in: 0...255, using: &generator)
        }
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let hex = Hex.encode(bytes)
        let parts = [
            hex.prefix(8), hex.dropFirst(8).prefix(4), hex.dropFirst(12).prefix(4),
            hex.dropFirst(16).prefix(4), hex.dropFirst(20),
        ]
        return parts.joined(separator: "-")
    }

    /// Whether `text` has the shape of an id this system issues (a lower-case UUID of any version).
    public static func isWellFormed(_ text: String) -> Bool {
        guard text.utf8.count == 36 else { return false }
        for (offset, byte) in text.utf8.enumerated() {
            switch offset {
            case 8, 13, 18, 23:
                if byte != UInt8(ascii: "-") { return false }
            default:
                let isDigit = byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
                let isHex = byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f")
                if !(isDigit || isHex) { return false }
            }
        }
        return true
    }
}

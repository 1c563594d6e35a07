/// Reads a response in protobuf wire format, guided by its descriptor, and collects the string values of fields
/// whose names mark them as identifiers (`customer_id`, `ticket_id`, `next_page_token`, …), at any depth — so a
/// fuzzer can feed the ids a service hands out back into later requests and reach code past "not found".
///
/// It never traps: malformed input ends the scan early.
public struct WireScanner {
    private let catalog: ProtoCatalog
    private let maxDepth: Int

    /// A scanner for messages described by `catalog`, following nested messages `maxDepth` levels deep.
    public init(catalog: ProtoCatalog, maxDepth: Int = 4) {
        self.catalog = catalog
        self.maxDepth = maxDepth
    }

    /// Whether a string field called `name` holds a value worth reusing.
    public static func isIdentifier(_ name: String) -> Bool {
        name == "id" || name.hasSuffix("_id") || name.hasSuffix("_ids") || name.hasSuffix("page_token")
    }

    /// `(field name, value)` for every identifier-like string field in `bytes`, a message of type `typeName`.
    public func identifiers(in bytes: [UInt8], of typeName: String) -> [(name: String, value: String)] {
        var found: [(name: String, value: String)] = []
        bytes.withUnsafeBufferPointer { buffer in
            scan(buffer[...], typeName: typeName, depth: 0, into: &found)
        }
        return found
    }

    private func scan(
        _ bytes: Slice<UnsafeBufferPointer<UInt8>>, typeName: String, depth: Int,
        into found: inout [(name: String, value: String)]
    ) {
        guard let message = catalog.messages[typeName] else { return }
        var reader = Reader(bytes: bytes)
        while !reader.atEnd {
            guard let key = reader.varint() else { return }
            let number = Int32(truncatingIfNeeded: key >> 3)
            switch key & 7 {
            case 0: guard reader.varint() != nil else { return }
            case 1: guard reader.skip(8) else { return }
            case 5: guard reader.skip(4) else { return }
            case 2:
                guard let payload = reader.lengthDelimited() else { return }
                guard let field = message.field.first(where: { $0.number == number }) else { continue }
                if field.type == .string, Self.isIdentifier(field.name) {
                    found.append((field.name, String(decoding: payload, as: UTF8.self)))
                } else if field.type == .message, depth < maxDepth {
                    scan(payload, typeName: field.typeName, depth: depth + 1, into: &found)
                }
            default: return
            }
        }
    }

    private struct Reader {
        var bytes: Slice<UnsafeBufferPointer<UInt8>>

        var atEnd: Bool { bytes.isEmpty }

        mutating func varint() -> UInt64? {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while let byte = bytes.first, shift < 64 {
                bytes = bytes.dropFirst()
                value |= UInt64(byte & 0x7f) << shift
                if byte < 0x80 { return value }
                shift += 7
            }
            return nil
        }

        mutating func skip(_ count: Int) -> Bool {
            guard bytes.count >= count else { return false }
            bytes = bytes.dropFirst(count)
            return true
        }

        mutating func lengthDelimited() -> Slice<UnsafeBufferPointer<UInt8>>? {
            guard let length = varint(), length <= UInt64(bytes.count) else { return nil }
            let payload = bytes.prefix(Int(length))
            bytes = bytes.dropFirst(Int(length))
            return payload
        }
    }
}

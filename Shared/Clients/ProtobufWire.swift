/// Reads the protobuf wire format without generated types: just enough for a proxy to look at a field or drop one
/// while forwarding bytes it never decodes whole (the gateway's audit and redaction).
public enum ProtobufWire {
    /// A wire type of the protobuf encoding.
    public enum WireType: UInt8, Sendable {
        case varint = 0
        case fixed64 = 1
        case lengthDelimited = 2
        case startGroup = 3
        case endGroup = 4
        case fixed32 = 5
    }

    /// One top-level field of a message as it lies in the bytes.
    public struct Field: Sendable {
        public var number: Int32
        public var wireType: WireType
        /// The whole field, tag included.
        public var range: Range<Int>
        /// The payload of a length-delimited field (a string, bytes, a message, a packed array).
        public var payload: Range<Int>
    }

    /// Bytes that are not a well-formed message.
    public struct Malformed: Error, CustomStringConvertible {
        public var offset: Int
        public var description: String { "malformed protobuf at byte \(offset)" }
    }

    /// The top-level fields of `bytes`, in order.
    public static func fields(of bytes: [UInt8]) throws(Malformed) -> [Field] {
        var fields: [Field] = []
        var offset = 0
        while offset < bytes.count {
            let start = offset
            let tag = try varint(bytes, &offset)
            guard let wireType = WireType(rawValue: UInt8(tag & 7)), tag >> 3 > 0, tag >> 3 <= UInt64(Int32.max) else {
                throw Malformed(offset: start)
            }
            var payload = offset..<offset
            switch wireType {
            case .varint: _ = try varint(bytes, &offset)
            case .fixed64: offset += 8
            case .fixed32: offset += 4
            case .lengthDelimited:
                let length = try varint(bytes, &offset)
                guard length <= UInt64(bytes.count - offset) else { throw Malformed(offset: start) }
                payload = offset..<(offset + Int(length))
                offset += Int(length)
            case .startGroup, .endGroup:
                throw Malformed(offset: start) // proto3 has no groups
            }
            guard offset <= bytes.count else { throw Malformed(offset: start) }
            fields.append(Field(number: Int32(tag >> 3), wireType: wireType, range: start..<offset, payload: payload))
        }
        return fields
    }

    /// The last value of a top-level string field (protobuf's "last one wins"), or nil when absent or malformed.
    public static func string(field number: Int32, in bytes: [UInt8]) -> String? {
        guard let fields = try? fields(of: bytes),
            let field = fields.last(where: { $0.number == number && $0.wireType == .lengthDelimited })
        else { return nil }
        return String(decoding: bytes[field.payload], as: UTF8.self)
    }

    /// Appends `value` as a base-128 varint.
    public static func appendVarint(_ value: UInt64, to bytes: inout [UInt8]) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    private static func varint(_ bytes: [UInt8], _ offset: inout Int) throws(Malformed) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        let start = offset
        while offset < bytes.count, shift < 64 {
            let byte = bytes[offset]
            offset += 1
            value |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
        throw Malformed(offset: start)
    }
}

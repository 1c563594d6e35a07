public import SwiftProtobuf

/// A protobuf message as a fuzzer builds it: fields by their descriptors, with values that need not make sense
/// (out-of-range timestamps, NaN, enum numbers nobody declared), so it is kept as a tree of plain values and encoded
/// to wire format by hand rather than through a generated type that would refuse or normalise them.
public struct FuzzMessage: Sendable, Equatable {
    /// The message type, e.g. `.google.protobuf.Timestamp`.
    public var typeName: String
    /// The fields present, in the order they are encoded.
    public var fields: [FuzzField]

    /// A message of type `typeName` with `fields`.
    public init(typeName: String, fields: [FuzzField] = []) {
        self.typeName = typeName
        self.fields = fields
    }

    /// The field with `number`, if present.
    public func field(_ number: Int32) -> FuzzField? {
        fields.first { $0.descriptor.number == number }
    }

    /// Replaces the field with the same number, or appends it.
    public mutating func set(_ field: FuzzField) {
        if let index = fields.firstIndex(where: { $0.descriptor.number == field.descriptor.number }) {
            fields[index] = field
        } else {
            fields.append(field)
        }
    }

    /// Removes the field with `number`.
    public mutating func remove(_ number: Int32) {
        fields.removeAll { $0.descriptor.number == number }
    }

    /// The message in protobuf wire format.
    public func encoded() -> [UInt8] {
        var writer = WireWriter()
        writer.write(self)
        return writer.bytes
    }

    /// The message in a text-format-like notation for failure reports: `customer_id: "…" occurred_at { seconds: 1 }`,
    /// long strings shortened, long repeated fields summarised.
    public var textDescription: String {
        fields.map(\.textDescription).joined(separator: " ")
    }
}

/// One field of a `FuzzMessage`: its descriptor and its values (one for a singular field, any number for a repeated
/// one).
public struct FuzzField: Sendable, Equatable {
    /// The field's descriptor: name, number, type, label.
    public var descriptor: Google_Protobuf_FieldDescriptorProto
    /// The values; a singular field has exactly one.
    public var values: [FuzzValue]
    /// Whether repeated numeric values go out as one packed record (proto3's default) rather than one record each;
    /// parsers must accept both.
    public var packed: Bool

    /// A field described by `descriptor` holding `values`.
    public init(_ descriptor: Google_Protobuf_FieldDescriptorProto, _ values: [FuzzValue], packed: Bool = false) {
        self.descriptor = descriptor
        self.values = values
        self.packed = packed
    }

    var textDescription: String {
        let name = descriptor.name
        if values.count > 6 {
            let shown = values.prefix(2).map(\.textDescription).joined(separator: ", ")
            return "\(name): [\(shown), … (\(values.count) values)]"
        }
        if descriptor.label == .repeated {
            return "\(name): [\(values.map(\.textDescription).joined(separator: ", "))]"
        }
        return values.map { value in
            if case .message = value { return "\(name) \(value.textDescription)" }
            return "\(name): \(value.textDescription)"
        }.joined(separator: " ")
    }
}

/// One value of a field, kept as what it means rather than how it is encoded; the field's type picks the encoding
/// (varint, zigzag, fixed width, length-delimited).
public indirect enum FuzzValue: Sendable, Equatable {
    /// int32, int64, sint32, sint64, sfixed32, sfixed64 and enum numbers (int32 and enums are sign-extended to ten
    /// bytes on the wire, as protobuf requires).
    case signed(Int64)
    /// uint32, uint64, fixed32, fixed64.
    case unsigned(UInt64)
    /// double.
    case double(Double)
    /// float.
    case float(Float)
    /// bool; `rawBool` sends another varint (e.g. 2), which parsers must read as true.
    case bool(Bool)
    /// A bool sent as an arbitrary varint.
    case rawBool(UInt64)
    /// string (UTF-8).
    case text(String)
    /// bytes, or a string field carrying bytes that are not UTF-8.
    case raw([UInt8])
    /// A nested message.
    case message(FuzzMessage)

    var textDescription: String {
        switch self {
        case .signed(let value): String(value)
        case .unsigned(let value): String(value)
        case .double(let value): Self.describe(value)
        case .float(let value): Self.describe(Double(value)) + "f"
        case .bool(let value): String(value)
        case .rawBool(let value): "varint(\(value))"
        case .text(let value): Self.quote(value)
        case .raw(let bytes):
            bytes.count > 24
                ? "bytes(\(bytes.count) bytes: \(bytes.prefix(8).map { String($0, radix: 16) }.joined(separator: " "))…)"
                : "bytes(\(bytes.map { String($0, radix: 16) }.joined(separator: " ")))"
        case .message(let message): "{ \(message.textDescription) }"
        }
    }

    private static func describe(_ value: Double) -> String {
        switch value {
        case .greatestFiniteMagnitude: "Double.greatestFiniteMagnitude"
        case -.greatestFiniteMagnitude: "-Double.greatestFiniteMagnitude"
        default: value.isNaN ? "nan" : "\(value)"
        }
    }

    /// A string in double quotes with control characters escaped, shortened past 40 characters.
    private static func quote(_ text: String) -> String {
        let scalars = text.unicodeScalars
        var escaped = ""
        for scalar in scalars.prefix(40) {
            switch scalar {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            case "\r": escaped += "\\r"
            case "\t": escaped += "\\t"
            default:
                if scalar.value < 0x20 || (0x7f..<0xa0).contains(scalar.value)
                    || (0x2028...0x202e).contains(scalar.value)
                {
                    escaped += "\\u{\(String(scalar.value, radix: 16))}"
                } else {
                    escaped.unicodeScalars.append(scalar)
                }
            }
        }
        if scalars.count > 40 {
            return "\"\(escaped)…\" (\(scalars.count) characters, \(text.utf8.count) bytes)"
        }
        return "\"\(escaped)\""
    }
}

/// Protobuf wire-format encoding of a `FuzzMessage`, by each field's declared type.
struct WireWriter {
    private(set) var bytes: [UInt8] = []

    mutating func write(_ message: FuzzMessage) {
        for field in message.fields {
            write(field)
        }
    }

    private mutating func write(_ field: FuzzField) {
        let number = UInt64(field.descriptor.number)
        let type = field.descriptor.type
        if field.packed, field.descriptor.label == .repeated, let wireType = Self.packableWireType(type) {
            var packed = WireWriter()
            for value in field.values { packed.writePayload(value, type: type, wireType: wireType) }
            writeVarint(number << 3 | 2)
            writeVarint(UInt64(packed.bytes.count))
            bytes += packed.bytes
            return
        }
        let wireType = Self.wireType(type)
        for value in field.values {
            writeVarint(number << 3 | wireType)
            writePayload(value, type: type, wireType: wireType)
        }
    }

    /// The wire type of a field of `type`: 0 varint, 1 fixed 64, 2 length-delimited, 5 fixed 32.
    static func wireType(_ type: Google_Protobuf_FieldDescriptorProto.TypeEnum) -> UInt64 {
        packableWireType(type) ?? 2
    }

    /// The wire type of a numeric field (which proto3 packs when repeated), or `nil` for strings, bytes, messages.
    static func packableWireType(_ type: Google_Protobuf_FieldDescriptorProto.TypeEnum) -> UInt64? {
        switch type {
        case .int32, .int64, .uint32, .uint64, .sint32, .sint64, .bool, .enum: 0
        case .fixed64, .sfixed64, .double: 1
        case .fixed32, .sfixed32, .float: 5
        default: nil
        }
    }

    private mutating func writePayload(
        _ value: FuzzValue, type: Google_Protobuf_FieldDescriptorProto.TypeEnum, wireType: UInt64
    ) {
        switch (value, wireType) {
        case (.signed(let number), 0):
            switch type {
            case .sint32:
                let narrow = Int32(truncatingIfNeeded: number)
                writeVarint(UInt64(UInt32(bitPattern: (narrow << 1) ^ (narrow >> 31))))
            case .sint64: writeVarint(UInt64(bitPattern: (number << 1) ^ (number >> 63)))
            default: writeVarint(UInt64(bitPattern: number))
            }
        case (.unsigned(let number), 0): writeVarint(number)
        case (.bool(let flag), _): writeVarint(flag ? 1 : 0)
        case (.rawBool(let number), _): writeVarint(number)
        case (.signed(let number), 1): writeFixed64(UInt64(bitPattern: number))
        case (.unsigned(let number), 1): writeFixed64(number)
        case (.double(let number), _): writeFixed64(number.bitPattern)
        case (.signed(let number), 5): writeFixed32(UInt32(truncatingIfNeeded: number))
        case (.unsigned(let number), 5): writeFixed32(UInt32(truncatingIfNeeded: number))
        case (.float(let number), _): writeFixed32(number.bitPattern)
        case (.text(let text), _): writeLengthDelimited(Array(text.utf8))
        case (.raw(let raw), _): writeLengthDelimited(raw)
        case (.message(let message), _):
            var nested = WireWriter()
            nested.write(message)
            writeLengthDelimited(nested.bytes)
        default:
            // A value that does not fit the field's wire type: send its varint form so the request still parses
            // (the generator never produces this; it keeps the encoder total).
            writeVarint(0)
        }
    }

    private mutating func writeVarint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    private mutating func writeFixed32(_ value: UInt32) {
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    private mutating func writeFixed64(_ value: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    private mutating func writeLengthDelimited(_ payload: [UInt8]) {
        writeVarint(UInt64(payload.count))
        bytes += payload
    }
}

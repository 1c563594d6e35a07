public import Foundation
public import SwiftProtobuf

/// Builds request messages for any message type of a `ProtoCatalog`: plausible ones (ids the services handed out,
/// times near now, declared enum values) that get deep into a handler, the same with one field set to an extreme
/// (the minimum and maximum of its type, NaN, infinities, timestamps outside 0001–9999, undeclared enum numbers,
/// huge or control-character strings), and random ones.
///
/// Everything it draws comes from the `FuzzRandom` passed in, so a run is reproducible from its seed (apart from the
/// ids the services hand out).
public struct RequestGenerator: Sendable {
    /// The descriptors requests are built from.
    public let catalog: ProtoCatalog
    /// Ids seen in responses, used for id-like string fields of plausible messages.
    public var known: KnownValues
    /// How many levels of nested messages a request gets below its top level.
    public var maxDepth: Int
    /// The time "now" for plausible timestamps, fixed when the generator is made.
    public let now: Date

    /// A generator over `catalog`.
    public init(catalog: ProtoCatalog, known: KnownValues = KnownValues(), maxDepth: Int = 3, now: Date = Date()) {
        self.catalog = catalog
        self.known = known
        self.maxDepth = maxDepth
        self.now = now
    }

    // MARK: - Leaves

    /// Every field of `typeName` a systematic pass sets to extremes, nested messages included down to `maxDepth`
    /// (a Timestamp or Duration is one leaf, not two integers), plus one `.count` leaf per repeated field.
    public func leaves(of typeName: String) -> [FuzzLeaf] {
        var leaves: [FuzzLeaf] = []
        collectLeaves(of: typeName, prefix: [], visiting: [typeName], into: &leaves)
        return leaves
    }

    private func collectLeaves(
        of typeName: String, prefix: [Google_Protobuf_FieldDescriptorProto], visiting: Set<String>,
        into leaves: inout [FuzzLeaf]
    ) {
        guard let message = catalog.messages[typeName] else { return }
        for field in message.field {
            let path = prefix + [field]
            if field.label == .repeated, !isMapEntry(field) {
                leaves.append(FuzzLeaf(path: path, kind: .count))
            }
            switch field.type {
            case .message:
                if let kind = Self.wellKnownKind(field.typeName) {
                    leaves.append(FuzzLeaf(path: path, kind: kind))
                } else if prefix.count < maxDepth, !visiting.contains(field.typeName) {
                    collectLeaves(
                        of: field.typeName, prefix: path, visiting: visiting.union([field.typeName]), into: &leaves)
                }
            case .group:
                continue
            default:
                leaves.append(FuzzLeaf(path: path, kind: Self.kind(of: field.type)))
            }
        }
    }

    static func wellKnownKind(_ typeName: String) -> FuzzLeaf.Kind? {
        switch typeName {
        case ".google.protobuf.Timestamp": .timestamp
        case ".google.protobuf.Duration": .duration
        default: nil
        }
    }

    static func kind(of type: Google_Protobuf_FieldDescriptorProto.TypeEnum) -> FuzzLeaf.Kind {
        switch type {
        case .double, .float: .floating
        case .int64, .sint64, .sfixed64: .signed64
        case .uint64, .fixed64: .unsigned64
        case .int32, .sint32, .sfixed32: .signed32
        case .uint32, .fixed32: .unsigned32
        case .enum: .enumeration
        case .bool: .bool
        case .bytes: .bytes
        default: .text
        }
    }

    private func isMapEntry(_ field: Google_Protobuf_FieldDescriptorProto) -> Bool {
        field.type == .message && catalog.messages[field.typeName]?.options.mapEntry == true
    }

    // MARK: - Extremes

    /// The extreme values tried for `leaf`, most likely to break something first. An extreme with no values leaves
    /// the field out. The list's length depends only on the leaf, so a schedule can number them in advance.
    public func extremes(for leaf: FuzzLeaf, rng: inout FuzzRandom) -> [FuzzExtreme] {
        let field = leaf.field
        switch leaf.kind {
        case .timestamp:
            let now = Int64(self.now.timeIntervalSince1970)
            return Self.timestampExtremes(now: now).map { extreme in
                FuzzExtreme(extreme.label, [timeValue(field, seconds: extreme.seconds, nanos: extreme.nanos)])
            } + [FuzzExtreme("absent", [])]
        case .duration:
            return Self.durationExtremes.map { extreme in
                FuzzExtreme(extreme.label, [timeValue(field, seconds: extreme.seconds, nanos: extreme.nanos)])
            } + [FuzzExtreme("absent", [])]
        case .floating:
            let doubles: [(String, Double)] = [
                ("nan", .nan), ("+infinity", .infinity), ("-infinity", -.infinity), ("2^63", 9.223372036854775808e18),
                ("-2^63 - 2048", -9.223372036854777856e18),
                ("Double.greatestFiniteMagnitude", .greatestFiniteMagnitude),
                ("-Double.greatestFiniteMagnitude", -.greatestFiniteMagnitude), ("-1", -1), ("1e15", 1e15),
                ("-0.0", -0.0), ("leastNonzeroMagnitude", .leastNonzeroMagnitude), ("-1e-300", -1e-300),
                ("2^31", 2_147_483_648), ("0", 0),
            ]
            return doubles.map { label, value in
                FuzzExtreme(label, [field.type == .float ? .float(Float(value)) : .double(value)])
            }
        case .signed64:
            let values: [(String, Int64)] = [
                ("Int64.min", .min), ("Int64.max", .max), ("-1", -1), ("Int64.min + 1", .min + 1),
                ("2^62", 1 << 62), ("Int64.max / 1000 + 1", Int64.max / 1000 + 1),
                ("Int64.max / 1e9 + 1", 9_223_372_037), ("-(Int64.max / 1e9 + 1)", -9_223_372_037),
                ("Int32.max + 1", Int64(Int32.max) + 1), ("Int32.min - 1", Int64(Int32.min) - 1), ("0", 0),
            ]
            return values.map { FuzzExtreme($0.0, [.signed($0.1)]) }
        case .unsigned64:
            let values: [(String, UInt64)] = [
                ("UInt64.max", .max), ("2^63", 1 << 63), ("Int64.max", UInt64(Int64.max)), ("UInt32.max + 1", 1 << 32),
                ("0", 0),
            ]
            return values.map { FuzzExtreme($0.0, [.unsigned($0.1)]) }
        case .signed32:
            let values: [(String, Int64)] = [
                ("Int32.min", Int64(Int32.min)), ("Int32.max", Int64(Int32.max)), ("-1", -1),
                ("Int32.min + 1", Int64(Int32.min) + 1), ("Int32.max / 2 + 1", Int64(Int32.max / 2) + 1),
                ("65536", 65_536), ("0", 0),
            ]
            return values.map { FuzzExtreme($0.0, [.signed($0.1)]) }
        case .unsigned32:
            let values: [(String, UInt64)] = [("UInt32.max", UInt64(UInt32.max)), ("2^31", 1 << 31), ("0", 0)]
            return values.map { FuzzExtreme($0.0, [.unsigned($0.1)]) }
        case .enumeration:
            let declared = catalog.enums[field.typeName]?.value.map(\.number) ?? [0]
            let values: [(String, Int64)] = [
                ("undeclared Int32.min", Int64(Int32.min)), ("undeclared Int32.max", Int64(Int32.max)),
                ("undeclared -1", -1), ("undeclared \((declared.max() ?? 0) + 1)", Int64((declared.max() ?? 0) + 1)),
                ("0 (unspecified)", 0),
            ]
            return values.map { FuzzExtreme($0.0, [.signed($0.1)]) }
        case .bool:
            return [FuzzExtreme("varint 2", [.rawBool(2)]), FuzzExtreme("varint UInt64.max", [.rawBool(.max)])]
        case .bytes:
            return [
                FuzzExtreme("empty", [.raw([])]), FuzzExtreme("1 MiB", [.raw(Self.mebibyte)]),
                FuzzExtreme("37 random bytes", [.raw((0..<37).map { _ in UInt8.random(in: 0...255, using: &rng) })]),
            ]
        case .text:
            return textExtremes(for: field).map { FuzzExtreme($0.label, [$0.value]) }
        case .count:
            return countExtremes(for: field, rng: &rng)
        }
    }

    /// Seconds and nanos of out-of-range and boundary `google.protobuf.Timestamp`s (valid: 0001-01-01T00:00:00Z …
    /// 9999-12-31T23:59:59.999999999Z, nanos 0 … 999,999,999).
    static func timestampExtremes(now: Int64) -> [(label: String, seconds: Int64, nanos: Int32)] {
        [
            ("seconds Int64.min", .min, 0),
            ("seconds Int64.max", .max, 0),
            ("seconds 2^62", 4_611_686_018_427_387_904, 0),
            ("seconds -2^62", -4_611_686_018_427_387_904, 0),
            ("0000-12-31T23:59:59Z (one second before the minimum)", -62_135_596_801, 0),
            ("10000-01-01T00:00:00Z (one second after the maximum)", 253_402_300_800, 0),
            ("nanos -1", now, -1),
            ("nanos 1e9", now, 1_000_000_000),
            ("seconds Int64.max / 1e9 + 1 (nanoseconds overflow Int64)", 9_223_372_037, 0),
            ("seconds Int64.max / 1000 + 1 (milliseconds overflow Int64)", 9_223_372_036_854_776, 0),
            ("nanos Int32.min", now, .min),
            ("nanos Int32.max", now, .max),
            ("0001-01-01T00:00:00Z (the minimum)", -62_135_596_800, 0),
            ("9999-12-31T23:59:59.999999999Z (the maximum)", 253_402_300_799, 999_999_999),
            ("1970-01-01T00:00:00Z (seconds 0, the default)", 0, 0),
            ("one second before 1970", -1, 999_999_999),
            ("now + 100 years", now + 3_155_760_000, 0),
        ]
    }

    /// Seconds and nanos of out-of-range and odd `google.protobuf.Duration`s (valid: ±315,576,000,000 s, nanos with
    /// the sign of seconds and below 1e9 in magnitude).
    static let durationExtremes: [(label: String, seconds: Int64, nanos: Int32)] = [
        ("seconds Int64.min", .min, 0),
        ("seconds Int64.max", .max, 0),
        ("seconds 2^62", 4_611_686_018_427_387_904, 0),
        ("seconds 315576000001 (one past ±10,000 years)", 315_576_000_001, 0),
        ("seconds -315576000001", -315_576_000_001, 0),
        ("seconds Int64.max / 1e9 + 1 (nanoseconds overflow Int64)", 9_223_372_037, 0),
        ("seconds 1, nanos -1 (signs differ)", 1, -1),
        ("seconds -1, nanos 1 (signs differ)", -1, 1),
        ("nanos 1e9", 0, 1_000_000_000),
        ("nanos -1e9", 0, -1_000_000_000),
        ("nanos Int32.max", 0, .max),
        ("seconds -1 (negative)", -1, 0),
        ("seconds 315576000000 (the maximum)", 315_576_000_000, 999_999_999),
        ("zero", 0, 0),
    ]

    private func timeValue(_ field: Google_Protobuf_FieldDescriptorProto, seconds: Int64, nanos: Int32) -> FuzzValue {
        guard let message = catalog.messages[field.typeName] else {
            return .message(FuzzMessage(typeName: field.typeName))
        }
        var value = FuzzMessage(typeName: field.typeName)
        for inner in message.field {
            switch inner.name {
            case "seconds" where seconds != 0: value.set(FuzzField(inner, [.signed(seconds)]))
            case "nanos" where nanos != 0: value.set(FuzzField(inner, [.signed(Int64(nanos))]))
            default: continue
            }
        }
        return .message(value)
    }

    private func textExtremes(for field: Google_Protobuf_FieldDescriptorProto) -> [(label: String, value: FuzzValue)] {
        let known = self.known.candidates(for: field.name).last ?? "3f2a9c1e-7b4d-4e8a-9f00-5c6d7e8f9a0b"
        return [
            ("empty", .text("")),
            ("64 KiB of 'a'", .text(Self.sixtyFourKiB)),
            ("control characters", .text("\u{0}\u{1}\u{7}\u{8}\u{1b}[31m\r\n\t\u{7f}\u{85}")),
            ("NUL only", .text("\u{0}")),
            ("invalid UTF-8", .raw([0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80])),
            ("1 MiB of 'é'", .text(Self.mebibyteOfE)),
            ("a known id with a trailing space", .text(known + " ")),
            ("a known id upper-cased", .text(known.uppercased())),
            ("whitespace only", .text(" \t \u{a0}\u{2003}")),
            (
                "emoji, combining marks, right-to-left override",
                .text("👨‍👩‍👧‍👦e\u{301}\u{301}\u{301}\u{202e}abc\u{200b}\u{feff}")
            ),
            ("numeric text 9223372036854775808", .text("9223372036854775808")),
            ("numeric text -1e309", .text("-1e309")),
            ("SQL", .text("' OR '1'='1'; DROP TABLE customers; --")),
            ("format specifiers", .text("%s%n%x%@%d{0}${jndi:x}")),
            ("path traversal", .text("../../../../etc/passwd")),
            ("U+FFFF and U+10FFFF", .text("\u{ffff}\u{10ffff}")),
        ]
    }

    /// The large values, made once.
    private static let mebibyte = [UInt8](repeating: 0xff, count: 1 << 20)
    private static let sixtyFourKiB = String(repeating: "a", count: 65_536)
    private static let mebibyteOfE = String(repeating: "é", count: 1 << 19)

    /// How many extremes `extremes(for:)` returns for `leaf`, without building them.
    public func extremeCount(for leaf: FuzzLeaf) -> Int {
        if leaf.kind == .count { return 3 }
        var rng = FuzzRandom(seed: 0)
        return extremes(for: leaf, rng: &rng).count
    }

    private func countExtremes(for field: Google_Protobuf_FieldDescriptorProto, rng: inout FuzzRandom) -> [FuzzExtreme]
    {
        var builder = Builder(generator: self)
        let many = field.type == .message ? 200 : 1_000
        let one = builder.validValue(for: field, depth: 1, rng: &rng)
        let elements = (0..<many).map { _ in builder.validValue(for: field, depth: 1, rng: &rng) }
        return [
            FuzzExtreme("no elements", []),
            FuzzExtreme("\(many) elements", elements),
            FuzzExtreme("the same element twice", [one, one]),
        ]
    }

    // MARK: - Malformed wire format

    /// How many variants `malformedVariant` makes (numbered from 0).
    public static let malformedVariantCount = 11

    /// Bytes that are not (or only just) well-formed protobuf, built around `message`: truncated, a field with the
    /// wrong wire type, lengths past the end, an overlong varint, field number 0, groups (which proto3 has not)
    /// nested 10,000 deep, a huge unknown field, the id field twice, random bytes. A proxy that reads fields itself
    /// (the gateway reads `customer_id` for its audit log) meets them before any generated parser does.
    public func malformedVariant(
        _ variant: Int, of message: FuzzMessage, rng: inout FuzzRandom
    ) -> (label: String, bytes: [UInt8]) {
        let bytes = message.encoded()
        let fields = catalog.messages[message.typeName]?.field ?? []
        let idField =
            fields.first { $0.name == "customer_id" && $0.type == .string } ?? fields.first { $0.type == .string }
        let number = UInt64(idField?.number ?? 1)
        let name = idField?.name ?? "field 1"
        func key(_ number: UInt64, _ wireType: UInt64) -> [UInt8] { varint(number << 3 | wireType) }
        switch variant {
        case 0: return ("wire: truncated by one byte", bytes.isEmpty ? key(number, 2) : Array(bytes.dropLast()))
        case 1: return ("wire: \(name) as a varint", bytes + key(number, 0) + varint(42))
        case 2:
            return (
                "wire: \(name) with a length past the end",
                bytes + key(number, 2) + varint(0xFFFF_FFFF) + Array("abc".utf8)
            )
        case 3: return ("wire: \(name) with length 2^63", bytes + key(number, 2) + varint(1 << 63) + Array("abc".utf8))
        case 4: return ("wire: an 11-byte varint", bytes + [UInt8](repeating: 0xff, count: 10) + [0x01])
        case 5: return ("wire: field number 0", [0x02, 0x00] + bytes)
        case 6: return ("wire: an unterminated group", bytes + key(999, 3))
        case 7:
            let open = (0..<10_000).flatMap { _ in key(999, 3) }
            return ("wire: groups nested 10,000 deep", bytes + open + (0..<10_000).flatMap { _ in key(999, 4) })
        case 8:
            return (
                "wire: unknown field 536870911 of 64 KiB",
                bytes + key(536_870_911, 2) + varint(65_536) + [UInt8](repeating: 0x61, count: 65_536)
            )
        case 9:
            return (
                "wire: \(name) twice, the last one another id",
                bytes + key(number, 2) + lengthPrefixed(Array(Self.uuid(&rng).utf8))
            )
        default: return ("wire: 64 random bytes", (0..<64).map { _ in UInt8.random(in: 0...255, using: &rng) })
        }
    }

    private func varint(_ value: UInt64) -> [UInt8] {
        var bytes: [UInt8] = []
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
        return bytes
    }

    private func lengthPrefixed(_ payload: [UInt8]) -> [UInt8] {
        varint(UInt64(payload.count)) + payload
    }

    // MARK: - Messages

    /// A plausible message of `typeName`: most fields set, ids from `known`, times near `now`, declared enum values,
    /// one member of each oneof; the same value for every field of the same id name.
    public func validMessage(_ typeName: String, rng: inout FuzzRandom) -> FuzzMessage {
        var builder = Builder(generator: self)
        return builder.validMessage(typeName, depth: 0, rng: &rng)
    }

    /// A message of `typeName` with random fields set to random, extreme or plausible values.
    public func randomMessage(_ typeName: String, rng: inout FuzzRandom) -> FuzzMessage {
        var builder = Builder(generator: self)
        return builder.randomMessage(typeName, depth: 0, rng: &rng)
    }

    /// `message` with the field at `path` set to `values` (left out when empty); parent messages along the path are
    /// created when absent, and other members of a oneof the path passes through are removed.
    public func setting(
        _ path: ArraySlice<Google_Protobuf_FieldDescriptorProto>, to values: [FuzzValue], in message: FuzzMessage,
        rng: inout FuzzRandom
    ) -> FuzzMessage {
        guard let field = path.first else { return message }
        var message = message
        removeOneofSiblings(of: field, in: &message)
        if path.count == 1 {
            if values.isEmpty {
                message.remove(field.number)
            } else {
                let packed =
                    field.label == .repeated && WireWriter.packableWireType(field.type) != nil && rng.chance(0.5)
                message.set(FuzzField(field, values, packed: packed))
            }
            return message
        }
        var parentValues = message.field(field.number)?.values ?? []
        let index = parentValues.isEmpty ? 0 : Int.random(in: 0..<parentValues.count, using: &rng)
        var child: FuzzMessage
        if index < parentValues.count, case .message(let existing) = parentValues[index] {
            child = existing
        } else {
            child = validMessage(field.typeName, rng: &rng)
        }
        child = setting(path.dropFirst(), to: values, in: child, rng: &rng)
        if parentValues.isEmpty { parentValues = [.message(child)] } else { parentValues[index] = .message(child) }
        message.set(FuzzField(field, parentValues))
        return message
    }

    private func removeOneofSiblings(of field: Google_Protobuf_FieldDescriptorProto, in message: inout FuzzMessage) {
        guard field.hasOneofIndex, !field.proto3Optional else { return }
        message.fields.removeAll {
            $0.descriptor.number != field.number && $0.descriptor.hasOneofIndex
                && $0.descriptor.oneofIndex == field.oneofIndex
        }
    }

    /// Builds one request; remembers the id it chose for each id name, so `customer_id` is the same throughout.
    struct Builder {
        let generator: RequestGenerator
        var chosen: [String: String] = [:]

        init(generator: RequestGenerator) {
            self.generator = generator
        }

        mutating func validMessage(_ typeName: String, depth: Int, rng: inout FuzzRandom) -> FuzzMessage {
            var result = FuzzMessage(typeName: typeName)
            guard let message = generator.catalog.messages[typeName] else { return result }
            if RequestGenerator.wellKnownKind(typeName) != nil {
                return validTime(typeName, fieldName: "", rng: &rng)
            }
            // One member per oneof (synthetic oneofs of proto3 `optional` are ordinary optional fields).
            var chosenMember: [Int32: Int32] = [:]
            for (index, _) in message.oneofDecl.enumerated() {
                let members = message.field.filter { $0.hasOneofIndex && $0.oneofIndex == Int32(index) }
                if let member = members.randomElement(using: &rng), !member.proto3Optional {
                    chosenMember[Int32(index)] = member.number
                }
            }
            for field in message.field {
                if field.hasOneofIndex, let member = chosenMember[field.oneofIndex], member != field.number { continue }
                if field.type == .message, depth >= generator.maxDepth { continue }
                if !rng.chance(Self.presence(of: field)) { continue }
                let count = field.label == .repeated ? Int.random(in: 1...2, using: &rng) : 1
                let values = (0..<count).map { _ in validValue(for: field, depth: depth + 1, rng: &rng) }
                result.fields.append(FuzzField(field, values))
            }
            return result
        }

        /// How likely a plausible message sets `field`: ids, enums and times nearly always (they are usually
        /// required), other scalars mostly, nested messages and lists often; so most plausible requests pass
        /// validation and a systematic one fails, if at all, on the field it sets to an extreme.
        static func presence(of field: Google_Protobuf_FieldDescriptorProto) -> Double {
            if field.label == .repeated { return 0.7 }
            if field.type == .message {
                return RequestGenerator.wellKnownKind(field.typeName) != nil ? 0.9 : 0.8
            }
            if field.type == .enum || (field.type == .string && WireScanner.isIdentifier(field.name)) { return 1 }
            return 0.9
        }

        mutating func validValue(
            for field: Google_Protobuf_FieldDescriptorProto, depth: Int, rng: inout FuzzRandom
        ) -> FuzzValue {
            let name = field.name
            let words = Set(name.split(separator: "_").map(String.init))
            switch field.type {
            case .message:
                if RequestGenerator.wellKnownKind(field.typeName) != nil {
                    return .message(validTime(field.typeName, fieldName: name, rng: &rng))
                }
                return .message(validMessage(field.typeName, depth: depth, rng: &rng))
            case .string:
                return .text(validText(name: name, words: words, rng: &rng))
            case .bytes:
                return .raw((0..<16).map { _ in UInt8.random(in: 0...255, using: &rng) })
            case .bool:
                return .bool(Bool.random(using: &rng))
            case .enum:
                let declared = generator.catalog.enums[field.typeName]?.value.map(\.number).filter { $0 != 0 } ?? []
                return .signed(Int64(declared.randomElement(using: &rng) ?? 0))
            case .double, .float:
                let value: Double
                if !words.isDisjoint(with: ["rate", "share", "ratio", "probability", "weight"]) {
                    value = Double(Int.random(in: 0...100, using: &rng)) / 100
                } else if !words.isDisjoint(with: ["percent", "progress", "score"]) {
                    value = Double(Int.random(in: 0...1000, using: &rng)) / 10
                } else {
                    value = Double(Int.random(in: 1...100_000, using: &rng)) / 100
                }
                return field.type == .float ? .float(Float(value)) : .double(value)
            case .uint32, .uint64, .fixed32, .fixed64:
                return .unsigned(UInt64(Int.random(in: 1...10, using: &rng)))
            default:
                let value: Int64
                if words.contains("size") || words.contains("limit") || words.contains("top") {
                    value = Int64.random(in: 1...20, using: &rng)
                } else if words.contains("year") {
                    value = Int64.random(in: 1950...2005, using: &rng)
                } else if words.contains("hour") {
                    value = Int64.random(in: 0...23, using: &rng)
                } else if words.contains("minute") {
                    value = Int64.random(in: 0...1_439, using: &rng)
                } else if words.contains("day") || words.contains("days") {
                    value = Int64.random(in: 1...28, using: &rng)
                } else if words.contains("score") || words.contains("rating") {
                    value = Int64.random(in: 0...10, using: &rng)
                } else if words.contains("minor") || words.contains("points") || words.contains("amount") {
                    value = Int64.random(in: 1...50_000, using: &rng)
                } else {
                    value = Int64.random(in: 1...10, using: &rng)
                }
                return .signed(value)
            }
        }

        private mutating func validText(name: String, words: Set<String>, rng: inout FuzzRandom) -> String {
            if WireScanner.isIdentifier(name) || words.contains("id") {
                let key = KnownValues.key(for: name)
                if let already = chosen[key] { return already }
                let candidates = generator.known.candidates(for: name)
                let value: String
                if name.hasSuffix("page_token") {
                    // Tokens are bound to their RPC and filter; one seen elsewhere is refused, so mostly none.
                    value = rng.chance(0.15) ? (candidates.randomElement(using: &rng) ?? "") : ""
                } else if let known = candidates.randomElement(using: &rng), rng.chance(0.9) {
                    value = known
                } else {
                    value = RequestGenerator.uuid(&rng)
                }
                chosen[key] = value
                return value
            }
            let n = Int.random(in: 1...9_999, using: &rng)
            if words.contains("email") { return "fuzz.\(n)@example.com" }
            if words.contains("phone") { return "+4915112345\(n % 100)" }
            if words.contains("currency") { return ["EUR", "USD", "JPY"].randomElement(using: &rng)! }
            if words.contains("country") { return ["DE", "US", "JP"].randomElement(using: &rng)! }
            if words.contains("locale") || words.contains("language") { return "en" }
            if words.contains("timezone") || words.contains("zone") { return "Europe/Berlin" }
            if words.contains("url") || words.contains("uri") { return "https://example.com/p/\(n)" }
            if words.contains("sku") { return "SKU-\(n)" }
            // Tags, keys, namespaces, codes and identifier values are usually restricted to a slug alphabet.
            if !words.isDisjoint(with: ["tag", "tags", "key", "namespace", "code", "value", "slug", "source"]) {
                return "fuzz_\(n)"
            }
            if words.contains("name") || words.contains("title") { return "Fuzz \(n)" }
            return "fuzz \(n) text"
        }

        /// A Timestamp near `now` (in the future for due dates and ends of ranges), or a Duration of up to a day.
        private func validTime(_ typeName: String, fieldName: String, rng: inout FuzzRandom) -> FuzzMessage {
            guard let message = generator.catalog.messages[typeName] else { return FuzzMessage(typeName: typeName) }
            let words = Set(fieldName.split(separator: "_").map(String.init))
            let seconds: Int64
            if typeName == ".google.protobuf.Duration" {
                seconds = Int64.random(in: 1...86_400, using: &rng)
            } else {
                let now = Int64(generator.now.timeIntervalSince1970)
                let future = !words.isDisjoint(with: ["due", "end", "until", "to", "expires", "target", "deadline"])
                seconds =
                    future
                    ? now + Int64.random(in: 60...(90 * 86_400), using: &rng)
                    : now - Int64.random(in: 60...(30 * 86_400), using: &rng)
            }
            let nanos = Int64.random(in: 0...999_999_999, using: &rng)
            var value = FuzzMessage(typeName: typeName)
            for inner in message.field {
                if inner.name == "seconds" { value.set(FuzzField(inner, [.signed(seconds)])) }
                if inner.name == "nanos" { value.set(FuzzField(inner, [.signed(nanos)])) }
            }
            return value
        }

        mutating func randomMessage(_ typeName: String, depth: Int, rng: inout FuzzRandom) -> FuzzMessage {
            var result = FuzzMessage(typeName: typeName)
            guard let message = generator.catalog.messages[typeName] else { return result }
            for field in message.field where rng.chance(0.5) {
                if field.type == .message, depth >= generator.maxDepth { continue }
                let count = field.label == .repeated ? Int.random(in: 0...3, using: &rng) : 1
                let values = (0..<count).map { _ in randomValue(for: field, depth: depth + 1, rng: &rng) }
                let packed = WireWriter.packableWireType(field.type) != nil && rng.chance(0.5)
                result.fields.append(FuzzField(field, values, packed: packed && field.label == .repeated))
            }
            return result
        }

        /// A third of the time an extreme of the field's kind, a third plausible, a third random bits.
        mutating func randomValue(
            for field: Google_Protobuf_FieldDescriptorProto, depth: Int, rng: inout FuzzRandom
        ) -> FuzzValue {
            let roll = Int.random(in: 0..<3, using: &rng)
            if roll == 0 {
                let kind: FuzzLeaf.Kind? =
                    field.type == .message
                    ? RequestGenerator.wellKnownKind(field.typeName) : RequestGenerator.kind(of: field.type)
                if let kind, field.type != .message || kind == .timestamp || kind == .duration {
                    let extremes = generator.extremes(for: FuzzLeaf(path: [field], kind: kind), rng: &rng)
                        .filter { $0.values.count == 1 && !Self.isHuge($0.values[0]) }
                    if let extreme = extremes.randomElement(using: &rng) { return extreme.values[0] }
                }
            }
            if roll == 1 { return validValue(for: field, depth: depth, rng: &rng) }
            switch field.type {
            case .message:
                if RequestGenerator.wellKnownKind(field.typeName) != nil {
                    var value = FuzzMessage(typeName: field.typeName)
                    for inner in generator.catalog.messages[field.typeName]?.field ?? [] {
                        value.set(FuzzField(inner, [randomValue(for: inner, depth: depth + 1, rng: &rng)]))
                    }
                    return .message(value)
                }
                return .message(randomMessage(field.typeName, depth: depth, rng: &rng))
            case .string: return .text(RequestGenerator.randomText(&rng))
            case .bytes:
                return .raw(
                    (0..<Int.random(in: 0...64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) })
            case .bool: return .rawBool(UInt64.random(in: 0...3, using: &rng))
            case .double: return .double(RequestGenerator.randomDouble(&rng))
            case .float: return .float(Float(bitPattern: UInt32.random(in: 0...UInt32.max, using: &rng)))
            case .uint32, .fixed32: return .unsigned(UInt64(UInt32.random(in: 0...UInt32.max, using: &rng)))
            case .uint64, .fixed64: return .unsigned(rng.next())
            case .int32, .sint32, .sfixed32, .enum:
                return .signed(Int64(Int32.random(in: Int32.min...Int32.max, using: &rng)))
            default: return .signed(RequestGenerator.randomInt64(&rng))
            }
        }

        private static func isHuge(_ value: FuzzValue) -> Bool {
            switch value {
            case .text(let text): text.utf8.count > 4_096
            case .raw(let bytes): bytes.count > 4_096
            default: false
            }
        }
    }

    // MARK: - Random values

    /// A random version-4 UUID in lower case.
    public static func uuid(_ rng: inout FuzzRandom) -> String {
        var bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &rng) }
        bytes[6] = bytes[6] & 0x0f | 0x40
        bytes[8] = bytes[8] & 0x3f | 0x80
        let hex = bytes.map { String(format: "%02x", $0) }.joined()
        let parts = [
            hex.prefix(8), hex.dropFirst(8).prefix(4), hex.dropFirst(12).prefix(4), hex.dropFirst(16).prefix(4),
            hex.dropFirst(20),
        ]
        return parts.joined(separator: "-")
    }

    /// Up to 40 scalars from ASCII, control characters, Latin-1, CJK, emoji, combining marks and invisible ones.
    static func randomText(_ rng: inout FuzzRandom) -> String {
        let ranges: [ClosedRange<UInt32>] = [
            0x20...0x7e, 0x20...0x7e, 0x00...0x1f, 0xa0...0xff, 0x4e00...0x9fff, 0x1f600...0x1f64f, 0x300...0x36f,
            0x2000...0x206f, 0xfff0...0xffff, 0x10fff0...0x10ffff,
        ]
        var text = String.UnicodeScalarView()
        for _ in 0..<Int.random(in: 0...40, using: &rng) {
            let range = ranges.randomElement(using: &rng)!
            if let scalar = Unicode.Scalar(UInt32.random(in: range, using: &rng)) { text.append(scalar) }
        }
        return String(text)
    }

    /// Random bits (NaN payloads and subnormals included), a power of two, or a plain number.
    static func randomDouble(_ rng: inout FuzzRandom) -> Double {
        switch Int.random(in: 0..<3, using: &rng) {
        case 0: Double(bitPattern: rng.next())
        case 1:
            Double(
                sign: Bool.random(using: &rng) ? .minus : .plus, exponent: Int.random(in: -1074...1023, using: &rng),
                significand: 1)
        default: Double.random(in: -1e6...1e6, using: &rng)
        }
    }

    /// Random bits, a power of two plus or minus one, or a small number.
    static func randomInt64(_ rng: inout FuzzRandom) -> Int64 {
        switch Int.random(in: 0..<3, using: &rng) {
        case 0: Int64(bitPattern: rng.next())
        case 1:
            (Int64(1) << Int64.random(in: 0...62, using: &rng)) &+ Int64.random(in: -1...1, using: &rng)
                * (Bool.random(using: &rng) ? 1 : -1)
        default: Int64.random(in: -1_000...1_000, using: &rng)
        }
    }
}

/// One field a systematic fuzz pass sets to each of its extremes, by its path from the request's top level.
public struct FuzzLeaf: Sendable {
    /// The fields from the top-level message down to this one.
    public var path: [Google_Protobuf_FieldDescriptorProto]
    /// What kind of values it takes, which picks its extremes.
    public var kind: Kind

    /// The field itself.
    public var field: Google_Protobuf_FieldDescriptorProto { path[path.count - 1] }

    /// The dotted path, e.g. `touchpoint.occurred_at`; a count leaf ends in `[]`.
    public var label: String {
        path.map(\.name).joined(separator: ".") + (kind == .count ? "[]" : "")
    }

    /// The kinds of leaves, in the order a schedule tries them: the kinds most likely to trap first.
    public enum Kind: Int, Sendable, Comparable {
        case timestamp, duration, floating, signed64, unsigned64, signed32, unsigned32, enumeration, count, text, bytes,
            bool

        public static func < (lhs: Kind, rhs: Kind) -> Bool { lhs.rawValue < rhs.rawValue }
    }
}

/// One extreme value for a leaf, with a label for reports ("seconds Int64.min", "nan").
public struct FuzzExtreme: Sendable {
    /// Says what the value is, e.g. "nanos 1e9".
    public var label: String
    /// The field's values; empty leaves the field out.
    public var values: [FuzzValue]

    /// An extreme labelled `label`.
    public init(_ label: String, _ values: [FuzzValue]) {
        self.label = label
        self.values = values
    }
}

import Foundation

/// The one way a store writes and reads a column holding JSON (a purchase's items, a health score's components, an
/// alert body): keys sorted, so equal values are equal text; instants as Unix milliseconds, like every other instant
/// column. Both directions throw: a value that cannot be stored, or a stored value this version cannot read, fails the
/// transaction or the read with the reason instead of turning into a silent `nil`.
///
/// One encoder and one decoder serve every call: configuring a new `JSONEncoder` per value was half of what storing a
/// touchpoint's purchase cost in a perf profile of `bench ingest`. Foundation's coders are safe to share between
/// threads once configured (they copy their options at the start of each call), and nothing configures them again.
public enum JSONColumn {
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        encoder.dateEncodingStrategy = .millisecondsSince1970
        return encoder
    }()

    private static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        return decoder
    }()

    public static func encode(_ value: some Encodable) throws -> String {
        String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// A flat string-to-string object (a touchpoint's attributes), keys sorted, written here rather than through
    /// `JSONEncoder`: every ingested event with attributes stores one, and the encoder's generic containers were a
    /// fifth of `InteractionStore.ingest` in a perf profile of `bench ingest`. The decoder reads it like any other.
    public static func encode(_ object: [String: String]) -> String {
        var json = "{"
        for (index, (key, value)) in object.sorted(by: { $0.key < $1.key }).enumerated() {
            if index > 0 { json.append(",") }
            appendString(key, to: &json)
            json.append(":")
            appendString(value, to: &json)
        }
        json.append("}")
        return json
    }

    /// `text` as a JSON string (RFC 8259 §7): quote, backslash and control characters escaped, the rest as it is.
    private static func appendString(_ text: String, to json: inout String) {
        json.append("\"")
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) {
            json.append(text)
        } else {
            for scalar in text.unicodeScalars {
                switch scalar {
                case "\"": json.append("\\\"")
                case "\\": json.append("\\\\")
                case "\n": json.append("\\n")
                case "\r": json.append("\\r")
                case "\t": json.append("\\t")
                case _ where scalar.value < 0x20:
                    let hex = String(scalar.value, radix: 16)
                    json.append("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
                default: json.unicodeScalars.append(scalar)
                }
            }
        }
        json.append("\"")
    }

    public static func decode<Value: Decodable>(_ type: Value.Type, _ text: String) throws -> Value {
        try decoder.decode(type, from: Data(text.utf8))
    }
}

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

    public static func decode<Value: Decodable>(_ type: Value.Type, _ text: String) throws -> Value {
        try decoder.decode(type, from: Data(text.utf8))
    }
}

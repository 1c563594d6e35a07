/// Reading enum columns stored by name: a name this build does not know means the database was written by a newer
/// version or edited by hand, and is reported as such rather than read as some default.
public enum StoredValue {
    /// The value named `raw`.
    ///
    /// - Throws: `StoredValueError` when no case of `Value` has that name.
    public static func decode<Value: RawRepresentable<String>>(_ type: Value.Type, _ raw: String) throws -> Value {
        guard let value = Value(rawValue: raw) else { throw StoredValueError(type: "\(Value.self)", value: raw) }
        return value
    }
}

/// A stored value this build does not know: written by a newer version or edited by hand.
public struct StoredValueError: Error, CustomStringConvertible {
    public var type: String
    public var value: String

    public var description: String { "stored \(type) '\(value)' is not known to this version" }
}

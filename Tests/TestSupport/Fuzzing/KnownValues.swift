/// Identifiers a fuzzer has seen the services hand out (or created itself), by field name, to put into later
/// requests: a request naming a customer that exists gets past "not found" into the code that uses the other fields.
///
/// Names are normalised so a value seen as one name is offered for its synonyms: `next_page_token` feeds
/// `page_token`, `customer_ids` feeds `customer_id`, and ids under other names feed
/// their kind (`merged_id` and `cursor_customer_id` are customers, `duplicate_of_id` a feature request).
public struct KnownValues: Sendable {
    private var values: [String: [String]] = [:]
    /// Values never offered, e.g. the id of the API key the fuzzer itself authenticates with (revoking it would end
    /// the run).
    public var excluded: Set<String> = []
    /// How many values to keep per name, the most recent ones.
    public var capacity = 12

    /// An empty pool.
    public init() {}

    /// Remembers `value` as one seen in a field called `name`.
    public mutating func add(_ value: String, for name: String) {
        guard !value.isEmpty, value.utf8.count <= 256, !excluded.contains(value) else { return }
        let key = Self.key(for: name)
        var list = values[key, default: []]
        list.removeAll { $0 == value }
        list.append(value)
        if list.count > capacity { list.removeFirst(list.count - capacity) }
        values[key] = list
    }

    /// The values known for a field called `name` (or a synonym), oldest first.
    public func candidates(for name: String) -> [String] {
        values[Self.key(for: name)] ?? []
    }

    /// Every value known for any customer-id field.
    public var customerIDs: [String] {
        candidates(for: "customer_id")
    }

    /// The pool's key for a field name.
    static func key(for name: String) -> String {
        if name.hasSuffix("page_token") { return "page_token" }
        let singular = name.hasSuffix("_ids") ? String(name.dropLast()) : name
        if singular.hasSuffix("customer_id") || ["merged_id", "requested_id"].contains(singular) {
            return "customer_id"
        }
        if singular == "duplicate_of_id" { return "feature_request_id" }
        return singular
    }
}

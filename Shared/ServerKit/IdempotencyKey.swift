public import GRPCCore

/// A client-chosen id (an idempotency key) sent again with a different request. Payment APIs refuse this rather
/// than answer the first request's result: a client that reused an id by mistake must learn that its new request
/// was not stored, not receive someone else's record as if it were its own. Answers `ALREADY_EXISTS` naming the key
/// and the first field that differs.
public struct IdempotencyConflict: Error, Equatable, RPCErrorConvertible, CustomStringConvertible {
    /// The request field holding the key, in proto spelling (`event_id`, `touchpoint.event_id`).
    public var keyField: String
    public var key: String
    /// The first request field, in proto spelling, whose value differs from the stored request's.
    public var differingField: String

    public init(keyField: String, key: String, differingField: String) {
        self.keyField = keyField
        self.key = key
        self.differingField = differingField
    }

    public var rpcErrorCode: RPCError.Code { .alreadyExists }
    public var rpcErrorMessage: String {
        "\(keyField) '\(key)' was already used for a different request (its \(differingField) differs); resend the "
            + "original request unchanged to retry it, or choose a new \(keyField) for a new one"
    }
    public var description: String { rpcErrorMessage }
}

/// The client-sent fields of a write, compared between a retry and what was stored under the same idempotency key.
///
/// Each service declares one per entity, listing the fields in contract order with the value that is stored (an
/// instant at the stored millisecond, trimmed text), so a faithful retry compares equal after the round trip through
/// the database and the first field that really differs is the one named.
public struct IdempotencyFields<Value>: Sendable {
    private var fields: [(name: String, equal: @Sendable (Value, Value) -> Bool)] = []

    public init() {}

    /// Adds `name`, compared by `value`.
    public func comparing<Field: Equatable & SendableMetatype>(
        _ name: String, _ value: @escaping @Sendable (Value) -> Field
    ) -> Self {
        var copy = self
        copy.fields.append((name, { value($0) == value($1) }))
        return copy
    }

    /// The first field, not in `ignoring`, in which `retry` differs from `stored`; nil when it is the same request.
    /// Fields the service fills in itself when the client leaves them out (a default time, a generated id) go in
    /// `ignoring` for such a request.
    public func firstDifference(_ retry: Value, from stored: Value, ignoring: Set<String> = []) -> String? {
        fields.first { !ignoring.contains($0.name) && !$0.equal(retry, stored) }?.name
    }

    /// Throws `IdempotencyConflict` when `retry` differs from `stored`; `prefix` is prepended to field names.
    public func check(
        _ retry: Value, against stored: Value, keyField: String, key: String, prefix: String = "",
        ignoring: Set<String> = []
    ) throws(IdempotencyConflict) {
        if let field = firstDifference(retry, from: stored, ignoring: ignoring) {
            throw IdempotencyConflict(keyField: prefix + keyField, key: key, differingField: prefix + field)
        }
    }
}

public import GRDB

extension QueryInterfaceRequest {
    /// The same request, its statement compiled once per database connection and reused.
    ///
    /// GRDB compiles a query-interface request on every fetch: it writes the SQL, then SQLite parses it and GRDB's
    /// authorizer visits every column. Under GetCustomer that compilation was a quarter of profile-service's CPU, and
    /// a third of interaction-service's under GetCustomerStats. Interpolated into an `SQLRequest` the request still
    /// writes its SQL per call (a tenth of the cost), but the compiled statement comes from the connection's cache,
    /// keyed by that text, and only its arguments are bound anew.
    ///
    /// GRDB's cache never evicts, so use this only where the request takes a bounded set of texts: values are
    /// arguments and leave the text alone, but an `IN` list's length or an optional filter changes it. A request for
    /// one customer qualifies; one for a caller-sized list of ids does not.
    ///
    /// Unlike the request's own `fetchOne`, this one adds no `LIMIT 1`: say `.limit(1)` where it matters.
    public var preparedOnce: SQLRequest<RowDecoder> { SQLRequest(literal: "\(self)", cached: true) }
}

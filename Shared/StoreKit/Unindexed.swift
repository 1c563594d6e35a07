public import GRDB

extension ColumnExpression {
    /// The column kept out of SQLite's choice of index: `+column`, the same value.
    ///
    /// The services never run ANALYZE, so the planner knows nothing of how selective a column is. Given equalities on
    /// the leading columns of two indexes it may take the index of a column most rows share (a state, a kind, a
    /// survey) over the one naming a customer, and then walk every row with that value — still a `SEARCH` in
    /// `EXPLAIN QUERY PLAN`. A filter that must not drive the query, because a more selective one does, says so with
    /// this. (`SQLiteWork` in the tests measures what a per-customer call costs among many customers.)
    public var unindexed: SQLExpression { SQL("+\(self)").sqlExpression }

    /// `unindexed` when `condition` holds (a more selective filter is present), the plain column otherwise.
    public func unindexed(when condition: Bool) -> SQLExpression { condition ? unindexed : sqlExpression }
}

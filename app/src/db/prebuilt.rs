//! Queries whose SQL text is built once per process. diesel-async renders a query's SQL
//! anew on every call, before it looks up the prepared statement; for the session lookup
//! (a join of twenty columns) that rendering cost more instructions than the rest of the
//! session check together (docs/performance.md). A hot query is still written once with
//! diesel's DSL, so the schema stays its one source; it is rendered to text once and then
//! sent as that text with its binds, its prepared statement cached under a marker type.

use std::marker::PhantomData;

use diesel::pg::{Pg, PgQueryBuilder};
use diesel::query_builder::{AstPass, Query, QueryBuilder, QueryFragment, QueryId};
use diesel::QueryResult;

/// `query` (SQL text and binds, e.g. `sql_query(text).bind(…)`) as a query of SQL type `ST`,
/// cached as a prepared statement under `M`: one marker type for each SQL text.
pub struct Prebuilt<Q, ST, M> {
    query: Q,
    types: PhantomData<fn() -> (ST, M)>,
}

impl<Q, ST, M> Prebuilt<Q, ST, M> {
    pub fn new(query: Q) -> Self {
        Self {
            query,
            types: PhantomData,
        }
    }
}

/// The SQL text diesel sends for `query`, with `$1`… where its binds go.
pub fn render(query: &impl QueryFragment<Pg>) -> String {
    let mut builder = PgQueryBuilder::default();
    query
        .to_sql(&mut builder, &Pg)
        .expect("a query of Gatehouse's own renders");
    builder.finish()
}

impl<Q: QueryFragment<Pg>, ST, M> QueryFragment<Pg> for Prebuilt<Q, ST, M> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.query.walk_ast(pass)
    }

    /// The text is fixed for `M`, so one prepared statement serves every call (diesel
    /// assumes raw SQL text may differ from call to call and would prepare it each time).
    fn is_safe_to_cache_prepared(&self, _: &Pg) -> QueryResult<bool> {
        Ok(true)
    }
}

impl<Q, ST, M: 'static> QueryId for Prebuilt<Q, ST, M> {
    type QueryId = M;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<Q, ST, M> Query for Prebuilt<Q, ST, M> {
    type SqlType = ST;
}

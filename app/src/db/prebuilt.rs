//! Queries whose SQL text is built once per process. diesel-async renders a query's SQL
//! anew on every call, before it looks up the prepared statement; for the session lookup
//! (a join of twenty columns) that rendering cost more instructions than the rest of the
//! session check together (docs/performance.md). A hot query is still written with diesel's
//! DSL, so the schema stays its one source; wrapped in [`Prebuilt`], its text is rendered on
//! first use and kept, and each call after only collects its binds.
//!
//! Only for a query whose text never changes between calls: the same filters, no `IN` list
//! of varying length, no optional clause.

use std::marker::PhantomData;
use std::sync::OnceLock;

use diesel::pg::{Pg, PgQueryBuilder};
use diesel::query_builder::{AstPass, Query, QueryBuilder, QueryFragment, QueryId};
use diesel::QueryResult;

/// The statement a marker type names: one marker for each query, declared by [`statement!`].
pub trait Statement: 'static {
    /// Where the statement's text is kept once rendered.
    fn text() -> &'static OnceLock<String>;
}

/// Declares marker types for [`Prebuilt`] statements, each with a place for its text.
macro_rules! statement {
    ($($name:ident),+ $(,)?) => {$(
        pub struct $name;
        impl $crate::db::prebuilt::Statement for $name {
            fn text() -> &'static ::std::sync::OnceLock<String> {
                static TEXT: ::std::sync::OnceLock<String> = ::std::sync::OnceLock::new();
                &TEXT
            }
        }
    )+};
}
pub(crate) use statement;

/// `query` with its SQL text rendered once for `M`, and its prepared statement cached under
/// `M` (diesel assumes a query of no static id may differ from call to call).
pub struct Prebuilt<Q, M> {
    query: Q,
    statement: PhantomData<fn() -> M>,
}

impl<Q, M> Prebuilt<Q, M> {
    pub fn new(query: Q) -> Self {
        Self {
            query,
            statement: PhantomData,
        }
    }
}

impl<Q: QueryFragment<Pg>, M: Statement> QueryFragment<Pg> for Prebuilt<Q, M> {
    /// Binds and everything but the text go through the query itself.
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.query.walk_ast(pass)
    }

    /// The text as the query rendered it the first time; the binds follow it in the same
    /// order every call, since the query's shape is fixed.
    fn to_sql(&self, out: &mut PgQueryBuilder, backend: &Pg) -> QueryResult<()> {
        let text = match M::text().get() {
            Some(text) => text,
            None => {
                let mut builder = PgQueryBuilder::default();
                self.query.to_sql(&mut builder, backend)?;
                M::text().get_or_init(|| builder.finish())
            }
        };
        out.push_sql(text);
        Ok(())
    }

    fn is_safe_to_cache_prepared(&self, _: &Pg) -> QueryResult<bool> {
        Ok(true)
    }
}

impl<Q, M: 'static> QueryId for Prebuilt<Q, M> {
    type QueryId = M;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<Q: Query, M> Query for Prebuilt<Q, M> {
    type SqlType = Q::SqlType;
}

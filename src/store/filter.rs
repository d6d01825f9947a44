//! Optional list filters made into SQL that names only the filters given. A clause written as
//! `($1 IS NULL OR col = $1)` keeps SQLite (and PostgreSQL's generic plans) from using the index on
//! `col`: every thread page scanned and sorted the whole decisions table to find its own few.

use sqlx::any::{Any, AnyArguments};
use sqlx::query::QueryAs;

/// A value bound to a placeholder.
#[derive(Debug)]
pub(crate) enum Arg {
    Int(i64),
    Text(String),
}

impl From<i64> for Arg {
    fn from(v: i64) -> Arg {
        Arg::Int(v)
    }
}

impl From<&str> for Arg {
    fn from(v: &str) -> Arg {
        Arg::Text(v.to_string())
    }
}

/// The `WHERE` clauses of one query and the values they bind, in placeholder order.
#[derive(Debug, Default)]
pub(crate) struct Filter {
    clauses: Vec<String>,
    args: Vec<Arg>,
}

impl Filter {
    /// A clause that binds nothing (always applies).
    pub(crate) fn always(mut self, clause: impl Into<String>) -> Filter {
        self.clauses.push(clause.into());
        self
    }

    /// `clause` when `value` is given, each `?` in it replaced by the value's placeholder; nothing
    /// otherwise. Clauses hold no `?` of their own (no string literals with one).
    pub(crate) fn when<V: Into<Arg>>(mut self, clause: &str, value: Option<V>) -> Filter {
        if let Some(v) = value {
            let placeholder = self.arg(v);
            self.clauses.push(clause.replace('?', &placeholder));
        }
        self
    }

    /// Binds one more value (a `LIMIT`, say) and returns its placeholder.
    pub(crate) fn arg(&mut self, value: impl Into<Arg>) -> String {
        self.args.push(value.into());
        format!("${}", self.args.len())
    }

    /// ` WHERE a AND b`, or nothing when no clause applies.
    pub(crate) fn sql(&self) -> String {
        if self.clauses.is_empty() { String::new() } else { format!(" WHERE {}", self.clauses.join(" AND ")) }
    }

    /// Binds the values to a query made from [`Filter::sql`].
    pub(crate) fn bind<'q, O>(self, mut q: QueryAs<'q, Any, O, AnyArguments<'q>>) -> QueryAs<'q, Any, O, AnyArguments<'q>> {
        for a in self.args {
            q = match a {
                Arg::Int(v) => q.bind(v),
                Arg::Text(v) => q.bind(v),
            };
        }
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_given_filters_are_named_in_placeholder_order() {
        let mut f = Filter::default()
            .always("d.space_id IN (1, 2)")
            .when("d.thread_id = ?", None::<i64>)
            .when("g.slug = ?", Some("q1"))
            .when("(t.due IS NOT NULL AND t.due < ?)", Some(5));
        let limit = f.arg(20);
        assert_eq!(
            format!("{} LIMIT {limit}", f.sql()),
            " WHERE d.space_id IN (1, 2) AND g.slug = $1 AND (t.due IS NOT NULL AND t.due < $2) LIMIT $3"
        );
        assert_eq!(Filter::default().sql(), "");
    }
}

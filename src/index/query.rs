//! The search language (docs/cli.md JSON), parsed without I/O: words, "phrases", `-` to exclude, and the
//! filters `from:` `space:` `kind:` `status:` `before:` `after:` `goal:`. Words and filters must all
//! match (AND). Dates are days in UTC: `after:D` keeps D and later, `before:D` keeps what precedes D.

use chrono::{DateTime, NaiveDate};

/// Longest query accepted, in bytes.
pub const MAX_QUERY_BYTES: usize = 1024;
/// Most words, phrases and filters in one query.
pub const MAX_CLAUSES: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("empty query: give words, \"a phrase\" or filters like from:alice kind:decision")]
    Empty,
    #[error("query too long ({0} bytes; at most {MAX_QUERY_BYTES}): search for fewer words")]
    TooLong(usize),
    #[error("too many words and filters (at most {MAX_CLAUSES})")]
    TooMany,
    #[error("unbalanced quote: close the phrase that starts with {0:?}")]
    UnbalancedQuote(String),
    #[error("unknown filter `{0}:` (filters: from: space: kind: status: before: after: goal:)")]
    UnknownField(String),
    #[error("`{0}:` needs a value, like {0}:{1}")]
    MissingValue(String, &'static str),
    #[error("kind:{0} is not a kind (message, decision or task)")]
    BadKind(String),
    #[error("status:{0} is not a status (open, done or cancelled)")]
    BadStatus(String),
    #[error("{0}:{1} is not a date (2026-11-24, 2026-11 or 2026)")]
    BadDate(&'static str, String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Message,
    Decision,
    Task,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Message => "message",
            Kind::Decision => "decision",
            Kind::Task => "task",
        }
    }
}

/// One condition of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Clause {
    /// A word, or a phrase when quoted (its words in order).
    Text(String),
    From(String),
    Space(String),
    Kind(Kind),
    Status(String),
    Goal(String),
    /// Strictly before this unix second.
    Before(i64),
    /// At or after this unix second.
    After(i64),
}

/// A clause, possibly negated (`-word`, `-from:bob`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub clause: Clause,
    pub negated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub terms: Vec<Term>,
}

impl Parsed {
    /// Whether some positive clause matches words (else results are ordered by date).
    pub fn has_text(&self) -> bool {
        self.terms.iter().any(|t| !t.negated && matches!(t.clause, Clause::Text(_)))
    }
}

const FIELDS: &[&str] = &["from", "space", "kind", "status", "before", "after", "goal"];

pub fn parse(input: &str) -> Result<Parsed, QueryError> {
    if input.len() > MAX_QUERY_BYTES {
        return Err(QueryError::TooLong(input.len()));
    }
    let mut terms = Vec::new();
    let mut rest = input.trim_start();
    while !rest.is_empty() {
        let (term, tail) = next_term(rest)?;
        if let Some(term) = term {
            terms.push(term);
            if terms.len() > MAX_CLAUSES {
                return Err(QueryError::TooMany);
            }
        }
        rest = tail.trim_start();
    }
    if terms.is_empty() {
        return Err(QueryError::Empty);
    }
    Ok(Parsed { terms })
}

/// Reads one term from the start of `s` (which starts with a non-space).
fn next_term(s: &str) -> Result<(Option<Term>, &str), QueryError> {
    let (negated, s) = match s.strip_prefix('-') {
        Some(tail) if tail.starts_with(|c: char| !c.is_whitespace()) => (true, tail),
        _ => (false, s),
    };
    if let Some(field) = field_prefix(s) {
        let after = &s[field.len() + 1..];
        let (value, tail) = if after.starts_with('"') { quoted(after)? } else { bare(after) };
        let name = field.to_ascii_lowercase();
        if !FIELDS.contains(&name.as_str()) {
            // `http://…` is a word, not a filter.
            if !after.starts_with("//") {
                return Err(QueryError::UnknownField(field.to_string()));
            }
        } else {
            let clause = filter(&name, value.trim())?;
            return Ok((Some(Term { clause, negated }), tail));
        }
    }
    let (text, tail) = if s.starts_with('"') { quoted(s)? } else { bare(s) };
    let text = text.trim();
    Ok(((!text.is_empty()).then(|| Term { clause: Clause::Text(text.to_string()), negated }), tail))
}

/// `from` in `from:alice`: ASCII letters then a colon.
fn field_prefix(s: &str) -> Option<&str> {
    let end = s.find(|c: char| !c.is_ascii_alphabetic())?;
    (end > 0 && s[end..].starts_with(':')).then(|| &s[..end])
}

/// `"…"` at the start of `s`: its content and what follows the closing quote.
fn quoted(s: &str) -> Result<(&str, &str), QueryError> {
    let body = &s[1..];
    match body.find('"') {
        Some(end) => Ok((&body[..end], &body[end + 1..])),
        None => Err(QueryError::UnbalancedQuote(s.chars().take(30).collect())),
    }
}

/// A bare word: up to whitespace or a quote.
fn bare(s: &str) -> (&str, &str) {
    let end = s.find(|c: char| c.is_whitespace() || c == '"').unwrap_or(s.len());
    (&s[..end], &s[end..])
}

fn filter(name: &str, value: &str) -> Result<Clause, QueryError> {
    let example = match name {
        "from" => "alice@example.org",
        "space" => "eng",
        "kind" => "decision",
        "status" => "open",
        "goal" => "launch",
        _ => "2026-11-24",
    };
    if value.is_empty() {
        return Err(QueryError::MissingValue(name.to_string(), example));
    }
    let lower = value.to_lowercase();
    Ok(match name {
        "from" => Clause::From(value.to_string()),
        "space" => Clause::Space(lower),
        "goal" => Clause::Goal(lower),
        "kind" => Clause::Kind(match lower.as_str() {
            "message" | "messages" | "mail" => Kind::Message,
            "decision" | "decisions" => Kind::Decision,
            "task" | "tasks" => Kind::Task,
            _ => return Err(QueryError::BadKind(value.to_string())),
        }),
        "status" => match lower.as_str() {
            "open" | "done" | "cancelled" => Clause::Status(lower),
            "canceled" => Clause::Status("cancelled".into()),
            _ => return Err(QueryError::BadStatus(value.to_string())),
        },
        "before" => Clause::Before(day_start(value).ok_or_else(|| QueryError::BadDate("before", value.to_string()))?),
        _ => Clause::After(day_start(value).ok_or_else(|| QueryError::BadDate("after", value.to_string()))?),
    })
}

/// The first second of a day, month or year (UTC), or an exact RFC 3339 time.
fn day_start(s: &str) -> Option<i64> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp());
    }
    let s = s.replace('/', "-");
    let date = match s.split('-').count() {
        1 => NaiveDate::from_ymd_opt(s.parse().ok().filter(|y| (1000..=9999).contains(y))?, 1, 1)?,
        2 => NaiveDate::parse_from_str(&format!("{s}-01"), "%Y-%m-%d").ok()?,
        _ => NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok()?,
    };
    Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn term(clause: Clause) -> Term {
        Term { clause, negated: false }
    }

    fn check(input: &str, want: Vec<Term>) {
        assert_eq!(parse(input), Ok(Parsed { terms: want }), "input {input:?}");
    }

    fn fails(input: &str, want: QueryError) {
        assert_eq!(parse(input), Err(want), "input {input:?}");
    }

    const NOV_24: i64 = 1_795_478_400;

    #[test]
    fn forms() {
        check("budget", vec![term(Clause::Text("budget".into()))]);
        check("  budget   q3 ", vec![term(Clause::Text("budget".into())), term(Clause::Text("q3".into()))]);
        check("\"release plan\" ok", vec![term(Clause::Text("release plan".into())), term(Clause::Text("ok".into()))]);
        check("from:alice@example.org", vec![term(Clause::From("alice@example.org".into()))]);
        check("from:\"Alice Smith\"", vec![term(Clause::From("Alice Smith".into()))]);
        check("SPACE:Eng", vec![term(Clause::Space("eng".into()))]);
        check("kind:decisions", vec![term(Clause::Kind(Kind::Decision))]);
        check("kind:message", vec![term(Clause::Kind(Kind::Message))]);
        check("status:Done", vec![term(Clause::Status("done".into()))]);
        check("goal:launch", vec![term(Clause::Goal("launch".into()))]);
        check("after:2026-11-24", vec![term(Clause::After(NOV_24))]);
        check("before:2026/11/24", vec![term(Clause::Before(NOV_24))]);
        check("after:2026-11", vec![term(Clause::After(NOV_24 - 23 * 86_400))]);
        check("before:2026-11-24T00:00:00Z", vec![term(Clause::Before(NOV_24))]);
        check("-spam", vec![Term { clause: Clause::Text("spam".into()), negated: true }]);
        check("-kind:task", vec![Term { clause: Clause::Kind(Kind::Task), negated: true }]);
        check("a - b", vec![term(Clause::Text("a".into())), term(Clause::Text("-".into())), term(Clause::Text("b".into()))]);
        check("see http://x.org/a", vec![term(Clause::Text("see".into())), term(Clause::Text("http://x.org/a".into()))]);
        check("12:30 meeting", vec![term(Clause::Text("12:30".into())), term(Clause::Text("meeting".into()))]);
        check("会议记录", vec![term(Clause::Text("会议记录".into()))]);
        check("\"\" x", vec![term(Clause::Text("x".into()))]);
    }

    #[test]
    fn bad_queries_say_what_is_wrong() {
        fails("", QueryError::Empty);
        fails("   ", QueryError::Empty);
        fails("\"\"", QueryError::Empty);
        fails("\"release plan", QueryError::UnbalancedQuote("\"release plan".into()));
        fails("from:\"Alice", QueryError::UnbalancedQuote("\"Alice".into()));
        fails("subject:plan", QueryError::UnknownField("subject".into()));
        fails("from:", QueryError::MissingValue("from".into(), "alice@example.org"));
        fails("kind:email", QueryError::BadKind("email".into()));
        fails("status:maybe", QueryError::BadStatus("maybe".into()));
        fails("before:friday", QueryError::BadDate("before", "friday".into()));
        fails("after:2026-13-01", QueryError::BadDate("after", "2026-13-01".into()));
        fails(&"x".repeat(10 * 1024), QueryError::TooLong(10 * 1024));
        fails(&"a ".repeat(40), QueryError::TooMany);
        assert!(QueryError::UnknownField("subject".into()).to_string().contains("from: space:"));
    }

    #[test]
    fn arbitrary_input_never_panics() {
        for s in ["\"", "-", "--", "-\"", ":", "a:", ":b", "\u{0}", "é:x", "from:\"\"", "-from:", "kind:\"task\"", "\"a\"\"b\""] {
            let _ = parse(s);
        }
    }
}

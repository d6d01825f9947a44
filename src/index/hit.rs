//! Search results in the docs/cli.md JSON shape, and their plain-text rendering with links (the body of
//! the commands address's answer to `search QUERY`, and the CLI's human output).

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::fmt::Write as _;
use std::ops::Range;

/// Default number of hits.
pub const DEFAULT_LIMIT: usize = 20;
/// Most hits one search returns.
pub const MAX_LIMIT: usize = 1000;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Sort {
    /// Best match first (BM25); newest first when the query has no words.
    #[default]
    Relevance,
    /// Newest first.
    Date,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchOptions {
    pub limit: usize,
    pub sort: Sort,
}

impl Default for SearchOptions {
    fn default() -> Self {
        SearchOptions { limit: DEFAULT_LIMIT, sort: Sort::Relevance }
    }
}

/// `D-3` / `T-4` for items, the numeric id for messages (as `docket thread` shows them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum HitId {
    Message(i64),
    Item(String),
}

impl std::fmt::Display for HitId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HitId::Message(id) => write!(f, "{id}"),
            HitId::Item(id) => f.write_str(id),
        }
    }
}

/// docs/cli.md JSON search hit.
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    /// `message` | `decision` | `task`.
    pub kind: &'static str,
    pub id: HitId,
    pub message_id: Option<String>,
    pub thread_id: i64,
    pub space: String,
    /// The message subject; for an item, its thread's subject.
    pub subject: String,
    /// The best matching passage (whitespace collapsed).
    pub snippet: String,
    pub date: DateTime<Utc>,
    pub score: f32,
    /// Byte ranges of `snippet` that matched the query (for highlighting).
    #[serde(skip)]
    pub highlights: Vec<Range<usize>>,
}

impl Hit {
    /// The snippet cut into (text, matched) parts, for a renderer to escape and mark up.
    pub fn snippet_parts(&self) -> Vec<(&str, bool)> {
        let mut out = Vec::new();
        let mut at = 0;
        for r in &self.highlights {
            if r.start < at
                || r.end > self.snippet.len()
                || !self.snippet.is_char_boundary(r.start)
                || !self.snippet.is_char_boundary(r.end)
            {
                continue;
            }
            if r.start > at {
                out.push((&self.snippet[at..r.start], false));
            }
            out.push((&self.snippet[r.clone()], true));
            at = r.end;
        }
        if at < self.snippet.len() {
            out.push((&self.snippet[at..], false));
        }
        out
    }

    /// The snippet with matches wrapped in `open`/`close` (e.g. `*`…`*` in mail, ANSI bold on a terminal).
    pub fn snippet_marked(&self, open: &str, close: &str) -> String {
        self.snippet_parts().into_iter().map(|(s, hit)| if hit { format!("{open}{s}{close}") } else { s.to_string() }).collect()
    }

    /// The web page showing this hit: its thread, anchored at the message or item.
    pub fn link(&self, base_url: &str) -> String {
        let base = base_url.trim_end_matches('/');
        match &self.id {
            HitId::Message(id) => format!("{base}/t/{}#m{id}", self.thread_id),
            HitId::Item(id) => format!("{base}/t/{}#{id}", self.thread_id),
        }
    }
}

/// The answer to `search QUERY` as plain text: one numbered block per hit with its link.
pub fn render_text(query: &str, hits: &[Hit], base_url: &str) -> String {
    let mut out = String::new();
    if hits.is_empty() {
        let _ = writeln!(out, "No results for: {query}");
        let _ = writeln!(out);
        let _ = writeln!(out, "Try fewer words, \"an exact phrase\", or filters: from:alice space:eng kind:decision status:open");
        let _ = writeln!(out, "after:2026-11-01 before:2026-12-01");
        return out;
    }
    let plural = if hits.len() == 1 { "" } else { "s" };
    let _ = writeln!(out, "{} result{plural} for: {query}", hits.len());
    for (n, h) in hits.iter().enumerate() {
        let _ = writeln!(out);
        let label = match h.kind {
            "message" => "message".to_string(),
            _ => format!("{} {}", h.kind, h.id),
        };
        let _ = writeln!(out, "{}. [{}] {} ({}, {})", n + 1, h.space, h.subject, label, h.date.format("%Y-%m-%d"));
        if !h.snippet.is_empty() {
            let _ = writeln!(out, "   {}", h.snippet_marked("*", "*"));
        }
        let _ = writeln!(out, "   {}", h.link(base_url));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn hit(kind: &'static str, id: HitId, snippet: &str, highlights: Vec<Range<usize>>) -> Hit {
        Hit {
            kind,
            id,
            message_id: Some("a@x".into()),
            thread_id: 7,
            space: "eng".into(),
            subject: "Budget".into(),
            snippet: snippet.into(),
            date: Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap(),
            score: 1.5,
            highlights,
        }
    }

    #[test]
    fn marks_and_parts() {
        let h = hit("message", HitId::Message(3), "the budget for Q3", vec![4..10, 15..17]);
        assert_eq!(h.snippet_marked("<", ">"), "the <budget> for <Q3>");
        assert_eq!(h.snippet_parts(), [("the ", false), ("budget", true), (" for ", false), ("Q3", true)]);
        let bad = hit("message", HitId::Message(3), "abc", vec![2..9, 1..2]);
        assert_eq!(bad.snippet_marked("<", ">"), "a<b>c");
    }

    #[test]
    fn json_shape_and_ids() {
        let h = hit("decision", HitId::Item("D-3".into()), "x", vec![]);
        let v = serde_json::to_value(&h).unwrap();
        let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(keys, ["date", "id", "kind", "message_id", "score", "snippet", "space", "subject", "thread_id"]);
        assert_eq!(v["id"], "D-3");
        assert_eq!(v["date"], "2026-11-24T09:00:00Z");
        let m = serde_json::to_value(hit("message", HitId::Message(12), "x", vec![])).unwrap();
        assert_eq!(m["id"], 12);
    }

    #[test]
    #[allow(clippy::single_range_in_vec_init)]
    fn mail_text_has_links() {
        let hits =
            [hit("message", HitId::Message(12), "the budget", vec![4..10]), hit("task", HitId::Item("T-4".into()), "send it", vec![])];
        let text = render_text("budget", &hits, "https://docket.example.org/");
        assert!(text.starts_with("2 results for: budget\n"), "{text}");
        assert!(text.contains("1. [eng] Budget (message, 2026-11-24)\n   the *budget*\n   https://docket.example.org/t/7#m12\n"), "{text}");
        assert!(text.contains("2. [eng] Budget (task T-4, 2026-11-24)"), "{text}");
        assert!(text.contains("https://docket.example.org/t/7#T-4"), "{text}");
        assert!(render_text("zzz", &[], "http://x").starts_with("No results for: zzz"));
    }
}

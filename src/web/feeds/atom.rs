//! An Atom feed (RFC 4287) written as text: the feed's id, title, updated, links and author, and
//! one entry per item with id, title, updated, link, author and text content. Pure.

use chrono::{DateTime, SecondsFormat, Utc};
use std::fmt::Write as _;

#[derive(Debug, Clone)]
pub struct Feed {
    /// A permanent IRI (RFC 4287 §4.2.6): a `tag:` URI here.
    pub id: String,
    pub title: String,
    pub updated: DateTime<Utc>,
    /// The feed's own URL (rel="self").
    pub self_url: String,
    /// The web page it mirrors (rel="alternate").
    pub alternate: String,
    pub entries: Vec<Entry>,
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub id: String,
    pub title: String,
    pub updated: DateTime<Utc>,
    pub link: String,
    /// The author's address; the feed's author ("docket") stands in when absent.
    pub author: Option<String>,
    pub content: String,
}

/// The feed as an XML document.
pub fn render(feed: &Feed) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
    let _ = writeln!(out, "  <id>{}</id>", xml(&feed.id));
    let _ = writeln!(out, "  <title type=\"text\">{}</title>", xml(&feed.title));
    let _ = writeln!(out, "  <updated>{}</updated>", stamp(feed.updated));
    let _ = writeln!(out, "  <link rel=\"self\" type=\"application/atom+xml\" href=\"{}\"/>", xml(&feed.self_url));
    let _ = writeln!(out, "  <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>", xml(&feed.alternate));
    out.push_str("  <author><name>docket</name></author>\n");
    let _ = writeln!(out, "  <generator version=\"{}\">docket</generator>", env!("CARGO_PKG_VERSION"));
    for e in &feed.entries {
        out.push_str("  <entry>\n");
        let _ = writeln!(out, "    <id>{}</id>", xml(&e.id));
        let _ = writeln!(out, "    <title type=\"text\">{}</title>", xml(&e.title));
        let _ = writeln!(out, "    <updated>{}</updated>", stamp(e.updated));
        let _ = writeln!(out, "    <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>", xml(&e.link));
        if let Some(a) = &e.author {
            let _ = writeln!(out, "    <author><name>{}</name><email>{}</email></author>", xml(a), xml(a));
        }
        let _ = writeln!(out, "    <content type=\"text\">{}</content>", xml(&e.content));
        out.push_str("  </entry>\n");
    }
    out.push_str("</feed>\n");
    out
}

/// RFC 3339 in UTC, as RFC 4287 §3.3 wants.
fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Text escaped for XML, without the characters XML 1.0 cannot carry at all (§2.2: controls
/// other than tab, LF, CR; U+FFFE, U+FFFF) — mail text can hold them.
pub fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// The first line of `text`, cut at about `max` characters on a word boundary (entry titles).
pub fn title_of(text: &str, max: usize) -> String {
    let line = text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("(no text)");
    if line.chars().count() <= max {
        return line.to_string();
    }
    let cut: String = line.chars().take(max).collect();
    let cut = match cut.rfind(' ') {
        Some(at) if at > max / 2 => &cut[..at],
        _ => cut.as_str(),
    };
    format!("{}…", cut.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn escapes_and_drops_what_xml_cannot_carry() {
        assert_eq!(xml("a<b>&\"c' \u{0}\u{1b}x\ty"), "a&lt;b&gt;&amp;&quot;c&apos; x\ty");
        assert_eq!(title_of("\n  Ship it on Friday, with the new design\nmore", 20), "Ship it on Friday,…");
        assert_eq!(title_of("short", 20), "short");
    }

    #[test]
    fn renders_a_feed_with_entries() {
        let t = Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap();
        let feed = Feed {
            id: "tag:x.org,2026:feed".into(),
            title: "Decisions".into(),
            updated: t,
            self_url: "http://x/feeds/k/decisions.atom".into(),
            alternate: "http://x/decisions".into(),
            entries: vec![Entry {
                id: "tag:x.org,2026:D-1".into(),
                title: "A & B".into(),
                updated: t,
                link: "http://x/d/D-1".into(),
                author: Some("ann@x.org".into()),
                content: "A & B <now>".into(),
            }],
        };
        let doc = render(&feed);
        assert!(doc.contains("<updated>2026-11-24T09:00:00Z</updated>"), "{doc}");
        assert!(doc.contains("<title type=\"text\">A &amp; B</title>"), "{doc}");
        assert!(doc.contains("<content type=\"text\">A &amp; B &lt;now&gt;</content>"), "{doc}");
        assert_eq!(doc.matches("<entry>").count(), 1);
    }
}

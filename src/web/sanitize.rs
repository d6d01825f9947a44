//! Mail bodies made safe to show: HTML from mail through an ammonia allow-list (no script, no
//! handlers, no forms or frames, no style; links get rel=noopener noreferrer; `cid:` images point
//! at the message's own parts; remote images become a link, so nothing loads until clicked), and
//! plain text escaped with its links made clickable and its `>` quotes set apart. Pure.

use ammonia::{Builder, UrlRelative};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

/// Tags kept from mail HTML: ammonia's allow-list without image maps and disclosure widgets (the
/// page has its own "show quoted text").
fn tags() -> HashSet<&'static str> {
    let mut tags = ammonia::Builder::default().clone_tags();
    for t in ["area", "map", "details", "summary"] {
        tags.remove(t);
    }
    tags
}

/// Only our own inline-part route is a relative URL we keep (`/t/ID/m/MSG/cid/…`).
fn relative(prefix: String) -> UrlRelative<'static> {
    UrlRelative::Custom(Box::new(OwnPrefix(prefix)))
}

struct OwnPrefix(String);

impl<'a> ammonia::UrlRelativeEvaluate<'a> for OwnPrefix {
    fn evaluate<'url>(&self, url: &'url str) -> Option<Cow<'url, str>> {
        url.starts_with(&self.0).then_some(Cow::Borrowed(url))
    }
}

/// Sanitised HTML of a mail body. `cid_prefix` is where the message's inline parts are served
/// (`/t/4/m/17/cid/`); a `cid:X` image becomes `{cid_prefix}X`.
pub fn mail_html(html: &str, cid_prefix: &str) -> String {
    let prefix = cid_prefix.to_string();
    let first = Builder::default()
        .tags(tags())
        .url_schemes(HashSet::from(["http", "https", "mailto", "cid"]))
        .url_relative(relative(prefix.clone()))
        .link_rel(Some("noopener noreferrer"))
        .attribute_filter(move |element, attribute, value| {
            if element == "img" && attribute == "src" {
                let lower = value.to_ascii_lowercase();
                if let Some(cid) = lower.strip_prefix("cid:").map(|_| &value[4..]) {
                    return Some(Cow::Owned(format!("{prefix}{}", encode(cid.trim_matches(['<', '>'])))));
                }
            }
            Some(Cow::Borrowed(value))
        })
        .clean(html)
        .to_string();
    let linked = remote_images_as_links(&first);
    // A second pass over what the rewrite produced: whatever it emits, only the allow-list stays.
    Builder::default()
        .tags(tags())
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .url_relative(relative(cid_prefix.to_string()))
        .link_rel(Some("noopener noreferrer"))
        .allowed_classes(HashMap::from([("a", HashSet::from(["remote-image"]))]))
        .clean(&linked)
        .to_string()
}

/// Percent-encodes a Content-ID for a path segment.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-._~@$!*+".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

/// Replaces each `<img>` whose source is remote by a link to it. Works on ammonia's output, in
/// which text has `<` escaped and attribute values are double-quoted with `"` escaped, so a tag
/// starts at every `<` and ends at the first `>` outside quotes.
fn remote_images_as_links(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let tag = &rest[start..];
        let end = tag_end(tag).unwrap_or(tag.len());
        let (this, after) = tag.split_at(end);
        out.push_str(&rewrite_img(this).unwrap_or_else(|| this.to_string()));
        rest = after;
    }
    out.push_str(rest);
    out
}

/// The length of the tag at the start of `s` (through its `>`).
fn tag_end(s: &str) -> Option<usize> {
    let mut quoted = false;
    for (i, c) in s.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '>' if !quoted => return Some(i + 1),
            _ => {}
        }
    }
    None
}

/// `<img src="https://…" alt="x">` → a link saying what it is; None for every other tag.
fn rewrite_img(tag: &str) -> Option<String> {
    let name = tag.strip_prefix("<img")?;
    if !name.starts_with([' ', '>', '/']) {
        return None;
    }
    let attr = |wanted: &str| -> Option<&str> {
        let key = format!(" {wanted}=\"");
        let at = tag.find(&key)? + key.len();
        let len = tag[at..].find('"')?;
        Some(&tag[at..at + len])
    };
    let src = attr("src")?;
    let lower = src.to_ascii_lowercase();
    if !(lower.starts_with("http://") || lower.starts_with("https://")) {
        return None;
    }
    // Values are escaped for an attribute (`&`, `"`); in text `<` and `>` must be too.
    let alt = attr("alt").unwrap_or("").replace('<', "&lt;").replace('>', "&gt;");
    let label = if alt.trim().is_empty() { "remote image".to_string() } else { format!("remote image: {alt}") };
    Some(format!("<a class=\"remote-image\" href=\"{src}\">[{label} — not loaded; open it]</a>"))
}

/// Plain text as HTML: escaped, links clickable, runs of `>` lines in a `<blockquote>` (one
/// level of marks taken off), everything else kept line for line (the page shows it pre-wrapped;
/// a block element breaks the line itself, so no newline is written next to one).
pub fn text_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let mut block: Option<bool> = None;
    for line in text.lines() {
        let quoted = line.trim_start().starts_with('>');
        match block {
            Some(q) if q == quoted => out.push('\n'),
            Some(true) => out.push_str("</blockquote>"),
            _ => {}
        }
        if quoted && block != Some(true) {
            out.push_str("<blockquote class=\"q\">");
        }
        block = Some(quoted);
        let shown = if quoted {
            let l = line.trim_start();
            let l = &l[1..];
            l.strip_prefix(' ').unwrap_or(l)
        } else {
            line
        };
        linkify(shown, &mut out);
    }
    if block == Some(true) {
        out.push_str("</blockquote>");
    }
    out
}

/// Escapes `line` into `out`, with `http(s)://` URLs as links (trailing punctuation stays text).
fn linkify(line: &str, out: &mut String) {
    let mut rest = line;
    loop {
        let found = ["https://", "http://"].iter().filter_map(|p| find_ascii_ci(rest, p)).min();
        let Some(start) = found else { break };
        let tail = &rest[start..];
        let mut len = tail.find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"')).unwrap_or(tail.len());
        while len > 0 && tail[..len].ends_with(['.', ',', ';', ':', '!', '?', ')', ']', '\'']) {
            len -= 1;
        }
        let url = &tail[..len];
        let scheme_only = url.len() <= "https://".len() && url.ends_with("//");
        escape(&rest[..start], out);
        if scheme_only {
            escape(url, out);
        } else {
            out.push_str("<a href=\"");
            escape(url, out);
            out.push_str("\" rel=\"noopener noreferrer\">");
            escape(url, out);
            out.push_str("</a>");
        }
        rest = &tail[len..];
        if len == 0 {
            escape(&rest[..1], out);
            rest = &rest[1..];
        }
    }
    escape(rest, out);
}

fn find_ascii_ci(hay: &str, needle: &str) -> Option<usize> {
    hay.as_bytes().windows(needle.len()).position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

fn escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CID: &str = "/t/4/m/17/cid/";

    #[test]
    fn hostile_html_is_inert() {
        let hostile = r#"<p onclick="alert(1)">hi<script>alert(2)</script></p>
            <img src="x" onerror="alert(3)"><a href="javascript:alert(4)">j</a><a href="data:text/html,<script>alert(5)</script>">d</a>
            <svg onload="alert(6)"><script>alert(7)</script></svg><div style="width: expression(alert(8))">css</div>
            <form action="https://evil.example/"><input name="pw"><button>go</button></form>
            <iframe src="https://evil.example/"></iframe><meta http-equiv="refresh" content="0;url=https://evil.example/">
            <object data="x.swf"></object><embed src="x.swf"><base href="https://evil.example/"><link rel="stylesheet" href="https://evil.example/x.css">
            <style>body{background:url(https://evil.example/t.png)}</style><img src="data:image/png;base64,AAAA">
            <a href="//evil.example/x">proto</a><a href="vbscript:msgbox(1)">vb</a><a href="JaVaScRiPt:alert(9)">mixed</a>"#;
        let clean = mail_html(hostile, CID).to_ascii_lowercase();
        for bad in [
            "<script",
            "onclick",
            "onerror",
            "onload",
            "javascript:",
            "data:",
            "<svg",
            "expression",
            "style",
            "<form",
            "<input",
            "<button",
            "<iframe",
            "<meta",
            "<object",
            "<embed",
            "<base",
            "<link",
            "vbscript",
            "evil.example/x\"",
            "alert(2)",
        ] {
            assert!(!clean.contains(bad), "{bad} in {clean}");
        }
        assert!(clean.contains("hi") && clean.contains("css"), "{clean}");
    }

    #[test]
    fn remote_images_become_links_and_cid_images_point_home() {
        let html = r#"<p>Look <img src="https://t.example/pixel.gif?u=1&amp;v=2" alt="logo <b>" width="1"> and <img src="cid:part1.abc@x"></p><a href="https://ok.example/">ok</a>"#;
        let clean = mail_html(html, CID);
        assert!(!clean.contains("<img src=\"https://"), "{clean}");
        assert!(
            clean.contains(r#"<a class="remote-image" href="https://t.example/pixel.gif?u=1&amp;v=2" rel="noopener noreferrer">[remote image: logo &lt;b&gt; — not loaded; open it]</a>"#),
            "{clean}"
        );
        assert!(clean.contains(r#"<img src="/t/4/m/17/cid/part1.abc@x">"#), "{clean}");
        assert!(clean.contains(r#"<a href="https://ok.example/" rel="noopener noreferrer">ok</a>"#), "{clean}");
        // A relative link elsewhere on our site is not ours to keep.
        assert!(!mail_html(r#"<a href="/logout">x</a><img src="/t/9/m/1/other">"#, CID).contains("href"), "relative links go");
    }

    #[test]
    fn text_gets_links_and_quote_blocks() {
        let check = |text: &str, want: &str| assert_eq!(text_html(text), want, "{text}");
        check(
            "see https://x.example/a?b=1&c=2.",
            "see <a href=\"https://x.example/a?b=1&amp;c=2\" rel=\"noopener noreferrer\">https://x.example/a?b=1&amp;c=2</a>.",
        );
        check("<b>hi</b> & \"you\"\n\nbye", "&lt;b&gt;hi&lt;/b&gt; &amp; &quot;you&quot;\n\nbye");
        check("ok\n> quoted\n>> deeper\nafter", "ok<blockquote class=\"q\">quoted\n&gt; deeper</blockquote>after");
        check("> only", "<blockquote class=\"q\">only</blockquote>");
        check(
            "http:// alone (https://y.example)",
            "http:// alone (<a href=\"https://y.example\" rel=\"noopener noreferrer\">https://y.example</a>)",
        );
        check(
            "javascript:alert(1) http://a\"onmouseover=x",
            "javascript:alert(1) <a href=\"http://a\" rel=\"noopener noreferrer\">http://a</a>&quot;onmouseover=x",
        );
    }
}

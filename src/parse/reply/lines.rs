//! Lines of a body: split on any line ending, quote depth and content of each line, quote blocks.

use super::attribution::{Features, attribution_text, strip_decoration};
use super::{MAX_DEPTH, MAX_MATCH_LEN};

/// One physical line of the body (a line may be split in two, see `split_inline_attribution`).
#[derive(Debug, Clone, Copy)]
pub(super) struct Line<'a> {
    /// The line without its ending and trailing white space.
    pub(super) raw: &'a str,
    /// `>` quote depth (RFC 3676 §4.5 quote marks, also "> > " and "JD>" styles).
    pub(super) depth: u16,
    /// Content after the quote marks, trimmed.
    pub(super) body: &'a str,
}

impl Line<'_> {
    // Every scan over lines asks these: one unit of work per question (parse::work).
    pub(super) fn blank(&self) -> bool {
        crate::parse::work::add(1);
        self.body.is_empty() && self.depth == 0
    }
    pub(super) fn quoted(&self) -> bool {
        crate::parse::work::add(1);
        self.depth > 0
    }
}

pub(super) fn split_lines(text: &str) -> Vec<Line<'_>> {
    let mut out = Vec::new();
    for raw in physical_lines(text) {
        let raw = raw.trim_end();
        if let Some((before, after)) = split_inline_attribution(raw) {
            out.push(make_line(before));
            out.push(make_line(after));
        } else {
            out.push(make_line(raw));
        }
    }
    out
}

/// Lines ended by CRLF, LF or a lone CR (mixed endings happen in forwarded and pasted text).
pub(super) fn physical_lines(text: &str) -> impl Iterator<Item = &str> {
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < bytes.len() {
            let c = bytes[i];
            if c == b'\n' || c == b'\r' {
                let line = &text[start..i];
                i += if c == b'\r' && bytes.get(i + 1) == Some(&b'\n') { 2 } else { 1 };
                start = i;
                return Some(line);
            }
            i += 1;
        }
        if start < bytes.len() {
            let line = &text[start..];
            start = bytes.len();
            return Some(line);
        }
        None
    })
}

pub(super) fn make_line(raw: &str) -> Line<'_> {
    // A line of nothing but invisible characters (a lone U+1427 or zero-width space some clients
    // append) is a blank line, not text.
    let raw = if raw.chars().all(|c| c.is_whitespace() || is_invisible(c)) { "" } else { raw };
    let (depth, body) = quote_prefix(raw);
    Line { raw, depth, body: body.trim() }
}

/// Characters that render as nothing (or as a stray dot) and carry no text.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}' | '\u{034F}' | '\u{1427}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{2800}' | '\u{3164}' | '\u{FEFF}'
    )
}

/// Quote depth and the rest of the line. Accepts "> > x", ">>x", "  > x" and initials ("JD> x").
pub(super) fn quote_prefix(raw: &str) -> (u16, &str) {
    let bytes = raw.as_bytes();
    let mut i = 0;
    while i < bytes.len() && i < 4 && bytes[i] == b' ' {
        i += 1;
    }
    // Supercite-style initials: up to three capitals immediately before '>'.
    let mut j = i;
    while j < bytes.len() && j - i < 3 && bytes[j].is_ascii_uppercase() {
        j += 1;
    }
    if j > i && bytes.get(j) == Some(&b'>') {
        i = j;
    }
    let mut depth: u16 = 0;
    let mut last = i;
    while i < bytes.len() {
        match bytes[i] {
            b'>' => {
                depth = depth.saturating_add(1).min(MAX_DEPTH);
                i += 1;
                last = i;
            }
            b' ' | b'\t' if depth > 0 => i += 1,
            _ => break,
        }
    }
    if depth == 0 {
        return (0, raw);
    }
    (depth, raw.get(last..).unwrap_or(""))
}

/// "reply text--- On Wed, … wrote:" → ("reply text", "On Wed, … wrote:"): one client glues the
/// attribution to the last line of the reply.
pub(super) fn split_inline_attribution(raw: &str) -> Option<(&str, &str)> {
    if raw.len() >= MAX_MATCH_LEN || raw.trim_start().starts_with('>') {
        return None;
    }
    // "reply--- On …" (Yahoo) or "Thanks! On … wrote:" (a client that dropped the line break).
    let pos = raw.find("--").or_else(|| raw.find(" On ").filter(|_| raw.ends_with(':')))?;
    let before = raw[..pos].trim_end();
    let after = raw[pos..].trim_start_matches(['-', ' ']);
    if before.is_empty() || before.trim_matches(['-', '*', ' ']).is_empty() || after.is_empty() {
        return None;
    }
    let joined = strip_decoration(after);
    let feats = Features::of(&joined);
    if feats.opener && attribution_text(&joined, &feats, false) { Some((before, after)) } else { None }
}

pub(super) fn next_nonblank(lines: &[Line<'_>], from: usize) -> Option<usize> {
    (from..lines.len()).find(|&j| !lines[j].blank())
}

/// End (exclusive) of the quote block starting at `i`: quoted lines, blank lines between them, and
/// link fragments that broke out of a quoted line.
pub(super) fn quote_block_end(lines: &[Line<'_>], i: usize) -> usize {
    let mut j = i;
    let mut end = i;
    while j < lines.len() {
        let l = &lines[j];
        if l.quoted() {
            j += 1;
            end = j;
        } else if l.blank() {
            j += 1;
        } else if j > 0
            && lines[j - 1].quoted()
            && lines.get(j + 1).is_some_and(|n| n.quoted())
            && (is_fragment(l.body) || lines[j - 1].raw.ends_with('='))
        {
            j += 1;
            end = j;
        } else {
            break;
        }
    }
    end
}

/// A piece of a quoted line that a client re-wrapped without its `>` (a URL tail, " (link) >").
pub(super) fn is_fragment(body: &str) -> bool {
    body.contains("://") || body.ends_with('>') || (!body.contains(' ') && body.contains(['=', '_', '/', '&', '?', '%']))
}

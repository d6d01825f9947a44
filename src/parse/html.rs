//! HTML body → plain text that keeps quote structure: `<blockquote>` content becomes `> ` lines.
//!
//! Pure and sync; a single linear scan with no recursion (nesting depth is a counter), tolerant of
//! broken markup. Only what reply trimming needs: block elements end lines, `<br>` breaks, `<hr>`
//! becomes a blank line, `head`/`style`/`script` are skipped, entities are decoded, white space is
//! collapsed outside `<pre>`, and signature containers get an RFC 3676 §4.3 "-- " line before them.

/// Quote marks emitted per line are capped here (the depth only matters as "quoted or not").
const MAX_EMIT_DEPTH: usize = 16;

/// Convert an HTML body to text with `>` quote marks for `<blockquote>`.
pub fn to_quoted_text(html: &str) -> String {
    let mut w = Writer::default();
    let bytes = html.as_bytes();
    let mut i = 0;
    let mut skip_until: Option<&'static str> = None; // inside <style>, <script>, <head>, <title>
    let mut text_start = 0;
    while i < bytes.len() {
        if bytes[i] != b'<' {
            i += 1;
            continue;
        }
        let (tag, next) = parse_tag(html, i);
        crate::parse::work::add(next.saturating_sub(i) + 1);
        if next == i {
            i += 1; // a literal '<', stays in the text run
            continue;
        }
        // Flush text before the tag.
        if skip_until.is_none() && text_start < i {
            w.text(&html[text_start..i]);
        }
        i = next;
        text_start = next;
        let Some(tag) = tag else {
            continue;
        };
        if let Some(end) = skip_until {
            if tag.closing && tag.name == end {
                skip_until = None;
            }
            continue;
        }
        w.tag(&tag, &mut skip_until);
    }
    if skip_until.is_none() && text_start < bytes.len() {
        w.text(&html[text_start..]);
    }
    w.finish()
}

#[derive(Debug)]
struct Tag {
    name: String,
    closing: bool,
    self_closing: bool,
    /// Lower-cased `class` and `id` attribute values, space separated (for quote/signature hints).
    hints: String,
}

/// Parse the markup starting at `start` (a '<'). Returns the tag (None for comments, doctypes and
/// processing instructions) and the index after it; the index is `start` when '<' is not markup.
fn parse_tag(html: &str, start: usize) -> (Option<Tag>, usize) {
    let bytes = html.as_bytes();
    let rest = &html[start..];
    if let Some(body) = rest.strip_prefix("<!--") {
        let end = body.find("-->").map_or(bytes.len(), |p| start + 4 + p + 3);
        return (None, end);
    }
    if rest.starts_with("<!") || rest.starts_with("<?") {
        let end = rest.find('>').map_or(bytes.len(), |p| start + p + 1);
        return (None, end);
    }
    let mut i = start + 1;
    let closing = bytes.get(i) == Some(&b'/');
    if closing {
        i += 1;
    }
    let name_start = i;
    while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b':' || bytes[i] == b'-') {
        i += 1;
    }
    if i == name_start {
        // A literal '<' in text ("x < y"): not markup.
        return (None, start);
    }
    let name = html[name_start..i].to_ascii_lowercase();
    // Attributes up to '>' (quoted values may contain '>').
    let mut hints = String::new();
    let mut quote: Option<u8> = None;
    let attr_start = i;
    while i < bytes.len() {
        let c = bytes[i];
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == b'"' || c == b'\'' => quote = Some(c),
            None if c == b'>' => break,
            None => {}
        }
        i += 1;
    }
    let attrs = &html[attr_start..i.min(bytes.len())];
    let self_closing = attrs.trim_end().ends_with('/');
    for key in ["class", "id", "type", "data-smartmail"] {
        if let Some(v) = attr_value(attrs, key) {
            hints.push_str(&v.to_ascii_lowercase());
            hints.push(' ');
        }
    }
    (Some(Tag { name, closing, self_closing, hints }), (i + 1).min(bytes.len()))
}

/// The value of attribute `key` (ASCII case-insensitive) in an attribute string.
fn attr_value<'a>(attrs: &'a str, key: &str) -> Option<&'a str> {
    let lower = attrs.to_ascii_lowercase();
    let mut from = 0;
    while let Some(p) = lower[from..].find(key) {
        let at = from + p;
        from = at + key.len();
        let before_ok = at == 0 || lower.as_bytes()[at - 1].is_ascii_whitespace();
        let rest = lower[from..].trim_start();
        if !before_ok || !rest.starts_with('=') {
            continue;
        }
        let vstart = attrs.len() - rest.len() + 1;
        let v = attrs[vstart..].trim_start();
        let vbeg = attrs.len() - v.len();
        return Some(match v.as_bytes().first() {
            Some(&q) if q == b'"' || q == b'\'' => {
                let end = v[1..].find(q as char).map_or(v.len(), |e| e + 1);
                &attrs[vbeg + 1..vbeg + end]
            }
            _ => {
                let end = v.find(|c: char| c.is_whitespace() || c == '>').unwrap_or(v.len());
                &attrs[vbeg..vbeg + end]
            }
        });
    }
    None
}

#[derive(Default)]
struct Writer {
    out: String,
    /// Current line's text (without quote prefix), whitespace-collapsed.
    line: String,
    depth: usize,
    /// Depth at which the current line started (a line belongs to the quote it began in).
    line_depth: usize,
    pre: usize,
    pending_space: bool,
    /// Number of consecutive blank lines just emitted (to cap paragraph spacing at one).
    blank_run: usize,
    /// Output length when the current `<p class=MsoNormal>` opened.
    empty_p: Option<usize>,
}

impl Writer {
    fn text(&mut self, raw: &str) {
        let decoded = decode_entities(raw);
        if self.pre > 0 {
            for (k, part) in decoded.split('\n').enumerate() {
                if k > 0 {
                    self.newline();
                }
                self.push_str(part);
            }
            return;
        }
        for c in decoded.chars() {
            if c.is_whitespace() && c != '\u{a0}' {
                if !self.line.is_empty() {
                    self.pending_space = true;
                }
            } else {
                if self.pending_space {
                    self.line.push(' ');
                    self.pending_space = false;
                }
                if self.line.is_empty() {
                    self.line_depth = self.depth;
                }
                self.line.push(if c == '\u{a0}' { ' ' } else { c });
            }
        }
    }

    fn push_str(&mut self, s: &str) {
        if self.line.is_empty() {
            self.line_depth = self.depth;
        }
        self.line.push_str(s);
    }

    /// End the current line (if any text) — a soft break between blocks.
    fn block(&mut self) {
        if !self.line.trim().is_empty() {
            self.newline();
        } else {
            self.line.clear();
        }
        self.pending_space = false;
    }

    /// A hard line break (`<br>`): always ends a line, possibly an empty one.
    fn newline(&mut self) {
        let depth = if self.line.trim().is_empty() { self.depth } else { self.line_depth };
        let text = self.line.trim_end();
        if text.trim().is_empty() {
            if self.blank_run >= 1 && depth == 0 {
                self.line.clear();
                return;
            }
            self.blank_run += 1;
        } else {
            self.blank_run = 0;
        }
        for _ in 0..depth.min(MAX_EMIT_DEPTH) {
            self.out.push('>');
        }
        if depth > 0 && !text.is_empty() {
            self.out.push(' ');
        }
        self.out.push_str(text);
        self.out.push('\n');
        self.line.clear();
        self.pending_space = false;
        self.line_depth = self.depth;
    }

    fn paragraph(&mut self) {
        self.block();
        if self.blank_run == 0 && !self.out.is_empty() {
            self.newline();
        }
    }

    fn tag(&mut self, tag: &Tag, skip_until: &mut Option<&'static str>) {
        match (tag.name.as_str(), tag.closing) {
            ("head", false) if !tag.self_closing => *skip_until = Some("head"),
            ("style", false) if !tag.self_closing => *skip_until = Some("style"),
            ("script", false) if !tag.self_closing => *skip_until = Some("script"),
            ("title", false) if !tag.self_closing => *skip_until = Some("title"),
            ("div" | "pre" | "table", false) if is_signature(&tag.hints) => {
                self.block();
                self.push_str("-- ");
                self.newline();
                if tag.name == "pre" {
                    self.pre += 1;
                }
            }
            ("br", _) => self.newline(),
            ("hr", _) => self.paragraph(),
            ("blockquote", false) => {
                self.block();
                self.depth = self.depth.saturating_add(1);
                self.line_depth = self.depth;
            }
            ("blockquote", true) => {
                self.block();
                self.depth = self.depth.saturating_sub(1);
                self.line_depth = self.depth;
            }
            ("pre", false) => {
                self.block();
                self.pre += 1;
            }
            ("pre", true) => {
                self.block();
                self.pre = self.pre.saturating_sub(1);
            }
            // Outlook writes every line as <p class=MsoNormal> with no margin: a line, not a paragraph.
            ("p", false) if tag.hints.contains("msonormal") => {
                self.block();
                self.empty_p = Some(self.out.len());
            }
            ("p", true) => {
                // An empty Outlook paragraph (`<p>&nbsp;</p>`) is a deliberate blank line.
                if self.empty_p == Some(self.out.len()) && self.line.trim().is_empty() {
                    self.line.clear();
                    self.newline();
                } else {
                    self.block();
                }
                self.empty_p = None;
            }
            ("p" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "ul" | "ol" | "table", _) => self.paragraph(),
            ("li", false) => {
                self.block();
                self.push_str("- ");
            }
            (
                "div" | "tr" | "li" | "dd" | "dt" | "section" | "article" | "header" | "footer" | "address" | "center" | "form"
                | "fieldset" | "body" | "html" | "caption",
                _,
            ) => self.block(),
            ("td" | "th", true) => self.pending_space = !self.line.is_empty(),
            ("img", _) => {}
            _ => {}
        }
    }

    fn finish(mut self) -> String {
        self.block();
        self.out
    }
}

/// Signature containers of common clients (Gmail, Thunderbird, Outlook, Apple).
fn is_signature(hints: &str) -> bool {
    hints.contains("gmail_signature")
        || hints.contains("moz-signature")
        || hints.split_whitespace().any(|h| h == "signature" || h == "applesignature")
}

/// Decode the character references that occur in mail bodies.
fn decode_entities(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains('&') {
        return s.into();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(p) = rest.find('&') {
        out.push_str(&rest[..p]);
        rest = &rest[p..];
        let end = rest[1..].find(|c: char| c == ';' || c == '&' || c.is_whitespace() || c == '<').map(|e| e + 1);
        let (name, consumed) = match end {
            Some(e) if e <= 12 && rest.as_bytes().get(e) == Some(&b';') => (&rest[1..e], e + 1),
            _ => {
                out.push('&');
                rest = &rest[1..];
                continue;
            }
        };
        match entity(name) {
            Some(c) => {
                out.push(c);
                rest = &rest[consumed..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out.into()
}

fn entity(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        return char::from_u32(code).or(Some('\u{fffd}'));
    }
    Some(match name {
        "nbsp" => '\u{a0}',
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "quot" => '"',
        "apos" => '\'',
        "ndash" => '–',
        "mdash" => '—',
        "hellip" => '…',
        "rsquo" => '’',
        "lsquo" => '‘',
        "rdquo" => '”',
        "ldquo" => '“',
        "copy" => '©',
        "reg" => '®',
        "trade" => '™',
        "euro" => '€',
        "laquo" => '«',
        "raquo" => '»',
        "bull" => '•',
        "middot" => '·',
        "shy" => '\u{ad}',
        "zwnj" => '\u{200c}',
        "zwj" => '\u{200d}',
        "auml" => 'ä',
        "ouml" => 'ö',
        "uuml" => 'ü',
        "Auml" => 'Ä',
        "Ouml" => 'Ö',
        "Uuml" => 'Ü',
        "szlig" => 'ß',
        "eacute" => 'é',
        "egrave" => 'è',
        "agrave" => 'à',
        "ccedil" => 'ç',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn check(input: &str, want: &str) {
        assert_eq!(to_quoted_text(input).trim_end(), want, "input: {input}");
    }

    #[test]
    fn table() {
        check("<p>Hi</p><blockquote>q<br>r</blockquote>", "Hi\n> q\n> r");
        check("<p>a</p><p>b</p>", "a\n\nb");
        check("a&amp;b &lt;x&gt;", "a&b <x>");
        check("<style>p{}</style>Hi", "Hi");
        check("<div>a</div><div>b</div>", "a\nb");
        check("x < y", "x < y");
        check("<blockquote><blockquote>deep</blockquote></blockquote>", ">> deep");
    }
}

//! Text that leaves docket for a terminal, a mail header or an HTML page, with its control
//! characters made visible: mail is written by strangers, and a raw ESC, BEL or OSC sequence in a
//! subject can clear an operator's screen, set their terminal title or hide a line.
//!
//! C0 controls and DEL become their Unicode control pictures (ESC → `␛`, BEL → `␇`, CR → `␍`);
//! C1 controls (U+0080–U+009F, where CSI U+009B starts a terminal sequence) become `\u{9b}`. The
//! result holds no control characters, so escaping twice changes nothing.

use std::borrow::Cow;
use std::fmt::{self, Write};

/// One line (a header, a listing cell): every control character is escaped, `\n` and `\t` too.
pub fn line(s: &str) -> Cow<'_, str> {
    escape(s, false)
}

/// Several lines (a body, a rendered page): like [`line`], but `\n` and `\t` stay as they are.
pub fn text(s: &str) -> Cow<'_, str> {
    escape(s, true)
}

fn escape(s: &str, keep_layout: bool) -> Cow<'_, str> {
    let is_escaped = |c: char| c.is_control() && !(keep_layout && (c == '\n' || c == '\t'));
    if !s.chars().any(is_escaped) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_escaped(c) {
            push_visible(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn push_visible(out: &mut String, c: char) {
    match c as u32 {
        // U+2400 SYMBOL FOR NULL … U+241F SYMBOL FOR UNIT SEPARATOR, U+2421 SYMBOL FOR DELETE.
        n @ 0..=0x1f => out.push(char::from_u32(0x2400 + n).unwrap_or('\u{fffd}')),
        0x7f => out.push('\u{2421}'),
        n => {
            let _ = write!(out, "\\u{{{n:x}}}");
        }
    }
}

/// The askama escaper of text templates (`askama.toml`, extension `txt`): controls made visible,
/// layout kept.
#[derive(Debug, Clone, Copy)]
pub struct TextEscaper;

impl askama::filters::Escaper for TextEscaper {
    fn write_escaped_str<W: fmt::Write>(&self, mut dest: W, string: &str) -> fmt::Result {
        dest.write_str(&text(string))
    }
}

/// The askama escaper of HTML templates (`askama.toml`, extension `html`): controls made visible,
/// then askama's own HTML escaping.
#[derive(Debug, Clone, Copy)]
pub struct HtmlEscaper;

impl askama::filters::Escaper for HtmlEscaper {
    fn write_escaped_str<W: fmt::Write>(&self, dest: W, string: &str) -> fmt::Result {
        askama::filters::Html.write_escaped_str(dest, &text(string))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, want_line: &str, want_text: &str) {
        assert_eq!(line(input), want_line, "line({input:?})");
        assert_eq!(text(input), want_text, "text({input:?})");
        assert_eq!(line(want_line), want_line, "escaping twice changes nothing");
    }

    #[test]
    fn controls_become_visible() {
        check("plain subject", "plain subject", "plain subject");
        check("Grüße, 回复", "Grüße, 回复", "Grüße, 回复");
        check("\u{1b}[2J\u{1b}]0;pwned\u{7}hi", "␛[2J␛]0;pwned␇hi", "␛[2J␛]0;pwned␇hi");
        check("a\nb\tc\rd", "a␊b␉c␍d", "a\nb\tc␍d");
        check("\0x\u{7f}", "␀x␡", "␀x␡");
        check("\u{9b}31m red", "\\u{9b}31m red", "\\u{9b}31m red");
    }

    #[test]
    fn html_escaper_escapes_both() {
        let mut out = String::new();
        askama::filters::Escaper::write_escaped_str(&HtmlEscaper, &mut out, "<b>\u{1b}]0;x\u{7}</b>").unwrap();
        assert_eq!(out, "&#60;b&#62;␛]0;x␇&#60;/b&#62;");
    }
}

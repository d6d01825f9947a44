//! Subject marks: `[decision]` (reply prefixes stripped, RFC 5256 base subject) makes the body's
//! first paragraph (else the rest of the subject) a decision; `[notes]` on a message that is not a
//! reply makes it meeting notes titled by the rest of the subject.

use super::lexer::{Block, Tag, is_quoted, tag_of};
use super::words::refs_in;
use super::{Item, Kind, MAX_TEXT_CHARS, Origin, TagInput};

/// Strips reply/forward prefixes (`Re:`, `Fwd:`, `AW:`, `SV:`, `回复:`, `Re[2]:`) from a subject.
/// RFC 5256 §2.1 base subject, multilingual.
fn strip_reply_prefixes(mut s: &str) -> &str {
    const PREFIXES: &[&str] = &[
        "re", "fw", "fwd", "aw", "wg", "sv", "vs", "vb", "tr", "rv", "antw", "doorst", "r", "rif", "ynt", "res", "enc", "odp", "pd",
        "回复", "回覆", "答复", "转发", "轉寄", "转寄", "返信", "転送",
    ];
    loop {
        s = s.trim_start();
        let Some(colon) = s.find([':', '：']) else {
            return s;
        };
        let head = s[..colon].trim_end();
        let head = match head.find(['[', '(']) {
            Some(b) if head.ends_with([']', ')']) => head[..b].trim_end(),
            _ => head,
        };
        if !PREFIXES.iter().any(|p| head.eq_ignore_ascii_case(p)) {
            return s;
        }
        let colon_len = s[colon..].chars().next().map_or(1, char::len_utf8);
        s = &s[colon + colon_len..];
    }
}

/// docs/tags.md: a `[decision]` subject makes the body's first paragraph a decision.
pub(super) fn subject_decision(input: &TagInput, warnings: &mut Vec<String>) -> Option<Item> {
    let base = strip_reply_prefixes(input.subject);
    const MARK: &str = "[decision]";
    let head = base.get(..MARK.len())?;
    if !head.eq_ignore_ascii_case(MARK) {
        return None;
    }
    let mut para = Block::new(Tag::Decision, 0);
    for (i, raw) in input.visible_text.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let skip = line.trim().is_empty() || is_quoted(line) || tag_of(line).is_some();
        if skip {
            if para.line != 0 {
                break;
            }
            continue;
        }
        if para.line == 0 {
            para.line = i + 1;
        }
        para.push_line(line);
    }
    if para.text.is_empty() {
        para = Block::new(Tag::Decision, 0);
        para.push_line(&base[MARK.len()..]);
    }
    if para.text.is_empty() {
        warnings.push("subject says [decision] but there is no text to record".into());
        return None;
    }
    if para.truncated {
        warnings.push(format!("[decision]: text longer than {MAX_TEXT_CHARS} characters was cut"));
    }
    let mut item = Item::new(Kind::Decision, para.line);
    item.refs = refs_in(&para.text);
    item.text = para.text;
    item.origin = Origin::Subject;
    Some(item)
}

/// docs/tags.md: a `[notes] TITLE` subject makes the message meeting notes; a reply to it
/// (`Re: [notes] …`) is not a second set of notes.
pub(super) fn subject_notes(input: &TagInput) -> Option<Item> {
    const MARK: &str = "[notes]";
    let subject = input.subject.trim_start();
    if strip_reply_prefixes(subject) != subject || !subject.get(..MARK.len())?.eq_ignore_ascii_case(MARK) {
        return None;
    }
    let mut title = Block::new(Tag::Notes, 0);
    title.push_line(&subject[MARK.len()..]);
    let mut item = Item::new(Kind::Notes, 0);
    item.text = title.text;
    item.origin = Origin::Subject;
    Some(item)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_subject(input: &str, want: &str) {
        assert_eq!(strip_reply_prefixes(input), want, "input {input:?}");
    }

    #[test]
    fn subjects() {
        check_subject("Re: [decision] x", "[decision] x");
        check_subject("RE: Fwd: AW: [decision] x", "[decision] x");
        check_subject("回复：[decision] x", "[decision] x");
        check_subject("Re[2]: SV: x", "x");
        check_subject("Agenda: x", "Agenda: x");
        check_subject("", "");
    }
}

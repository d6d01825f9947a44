//! The tag lexer: which lines start a tag (`#name`, list markers, word aliases), and the blocks of
//! text each tag gathers up to the next blank, tag or `>` line.

use super::{MAX_ITEMS, MAX_TEXT_CHARS};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tag {
    Decision,
    Action,
    Propose,
    Object,
    Done,
    Assign,
    Due,
    Cancel,
    Reopen,
    Goal,
}

impl Tag {
    pub(super) fn name(self) -> &'static str {
        match self {
            Tag::Decision => "#decision",
            Tag::Action => "#action",
            Tag::Propose => "#propose",
            Tag::Object => "#object",
            Tag::Done => "#done",
            Tag::Assign => "#assign",
            Tag::Due => "#due",
            Tag::Cancel => "#cancel",
            Tag::Reopen => "#reopen",
            Tag::Goal => "#goal",
        }
    }
}

/// `#name` tags and their aliases (docs/tags.md table), lower-case.
fn hash_tag(name: &str) -> Option<Tag> {
    Some(match name {
        "decision" | "decided" => Tag::Decision,
        "action" | "todo" | "task" => Tag::Action,
        "propose" | "proposal" => Tag::Propose,
        "object" | "block" => Tag::Object,
        "done" | "closed" => Tag::Done,
        "assign" => Tag::Assign,
        "due" => Tag::Due,
        "cancel" => Tag::Cancel,
        "reopen" => Tag::Reopen,
        "goal" => Tag::Goal,
        _ => return None,
    })
}

/// Word aliases that need a colon: `Decision:`, `Decided:`, `Action:`, `TODO:`, `Proposal:`.
fn word_tag(name: &str) -> Option<Tag> {
    Some(match name {
        "decision" | "decided" => Tag::Decision,
        "action" | "todo" => Tag::Action,
        "proposal" => Tag::Propose,
        _ => return None,
    })
}

/// A quoted line (`>`), which is never parsed (docs/tags.md).
pub(super) fn is_quoted(line: &str) -> bool {
    line.trim_start().starts_with('>')
}

/// Whether a line starts with a list marker (after leading whitespace).
fn is_list_item(line: &str) -> bool {
    let s = line.trim_start();
    strip_marker(s).len() != s.len()
}

/// Removes one list marker (`-`, `*`, `•`, `+`, `1.`, `1)`) followed by whitespace.
fn strip_marker(s: &str) -> &str {
    for marker in ['-', '*', '•', '+'] {
        if let Some(rest) = s.strip_prefix(marker)
            && rest.starts_with(char::is_whitespace)
        {
            return rest.trim_start();
        }
    }
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if (1..=3).contains(&digits)
        && let Some(rest) = s[digits..].strip_prefix(['.', ')'])
        && rest.starts_with(char::is_whitespace)
    {
        return rest.trim_start();
    }
    s
}

/// The tag starting `line` and the rest of the line after it. Looks at the line's start only.
pub(super) fn tag_of(line: &str) -> Option<(Tag, &str)> {
    let s = strip_marker(line.trim_start());
    let (hashed, body) = match s.strip_prefix('#') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let len = body.bytes().take(11).take_while(u8::is_ascii_alphabetic).count();
    if len == 0 || len > 10 {
        return None;
    }
    let word = body[..len].to_ascii_lowercase();
    let after = &body[len..];
    let colon = after.strip_prefix(':').or_else(|| after.strip_prefix('：'));
    if hashed {
        let tag = hash_tag(&word)?;
        if let Some(rest) = colon {
            Some((tag, rest))
        } else if after.is_empty() || after.starts_with(char::is_whitespace) {
            Some((tag, after))
        } else {
            None
        }
    } else {
        Some((word_tag(&word)?, colon?))
    }
}

/// A tag and its text, gathered from the lines.
pub(super) struct Block {
    pub(super) tag: Tag,
    pub(super) line: usize,
    pub(super) text: String,
    chars: usize,
    pub(super) truncated: bool,
}

impl Block {
    pub(super) fn new(tag: Tag, line: usize) -> Block {
        Block { tag, line, text: String::new(), chars: 0, truncated: false }
    }

    /// Appends a line's words, single-spaced, stopping at [`MAX_TEXT_CHARS`] (bounded work).
    pub(super) fn push_line(&mut self, line: &str) {
        if self.truncated {
            return;
        }
        for word in line.split_whitespace() {
            let sep = usize::from(!self.text.is_empty());
            let n = word.chars().count();
            if self.chars + sep + n > MAX_TEXT_CHARS {
                // Keep what fits of the last word (one 1 MB "word" still yields text).
                let room = MAX_TEXT_CHARS.saturating_sub(self.chars + sep);
                if room > 0 {
                    if sep == 1 {
                        self.text.push(' ');
                    }
                    self.text.extend(word.chars().take(room));
                    self.chars += sep + room;
                }
                self.truncated = true;
                return;
            }
            if sep == 1 {
                self.text.push(' ');
            }
            self.text.push_str(word);
            self.chars += sep + n;
        }
    }
}

/// Splits the text into tag blocks; returns them and how many item tags were over the cap.
pub(super) fn blocks(text: &str) -> (Vec<Block>, usize) {
    let mut blocks: Vec<Block> = Vec::new();
    let mut open = false;
    // A tag written as a list item ends at the next list item (its sibling).
    let mut listed = false;
    let mut item_tags = 0usize;
    for (i, raw) in text.split('\n').enumerate() {
        crate::parse::work::add(1);
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.trim().is_empty() || is_quoted(line) {
            open = false;
        } else if let Some((tag, rest)) = tag_of(line) {
            open = false;
            if tag != Tag::Goal {
                item_tags += 1;
                if item_tags > MAX_ITEMS {
                    continue;
                }
            }
            let mut block = Block::new(tag, i + 1);
            block.push_line(rest);
            blocks.push(block);
            // docs/tags.md: text runs on; `#goal` takes its own line only.
            open = tag != Tag::Goal;
            listed = is_list_item(line);
        } else if listed && is_list_item(line) {
            open = false;
        } else if open && let Some(block) = blocks.last_mut() {
            block.push_line(line);
        }
    }
    (blocks, item_tags.saturating_sub(MAX_ITEMS))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, want: Option<(&str, &str)>) {
        let got = tag_of(input).map(|(t, rest)| (t.name(), rest.trim()));
        assert_eq!(got, want, "input {input:?}");
    }

    #[test]
    fn tag_lines() {
        check("#decision use Postgres", Some(("#decision", "use Postgres")));
        check("#DECIDED: use Postgres", Some(("#decision", "use Postgres")));
        check("Decision: use Postgres", Some(("#decision", "use Postgres")));
        check("decided: ok", Some(("#decision", "ok")));
        check("Decision use Postgres", None);
        check("  - #action ship it", Some(("#action", "ship it")));
        check("* #todo ship it", Some(("#action", "ship it")));
        check("• #task ship it", Some(("#action", "ship it")));
        check("12. TODO: ship it", Some(("#action", "ship it")));
        check("1) Action: ship it", Some(("#action", "ship it")));
        check("-#action ship it", None);
        check("#proposal: x", Some(("#propose", "x")));
        check("Proposal: x", Some(("#propose", "x")));
        check("#block P-2 no", Some(("#object", "P-2 no")));
        check("#closed", Some(("#done", "")));
        check("#done T-4", Some(("#done", "T-4")));
        check("#goal q3-launch", Some(("#goal", "q3-launch")));
        check("#decision：中文", Some(("#decision", "中文")));
        check("We #decision in text", None);
        check("#decisions are hard", None);
        check("#general chat", None);
        check("> #decision quoted", None);
        check("Todo list for today", None);
        check("#action\u{a0}nbsp", Some(("#action", "nbsp")));
    }
}

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
    Withdraw,
    Goal,
    Ask,
    Notes,
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
            Tag::Withdraw => "#withdraw",
            Tag::Goal => "#goal",
            Tag::Ask => "#ask",
            Tag::Notes => "#notes",
        }
    }

    /// `#goal` and `#notes` take their own line only and yield no item of the count.
    pub(super) fn own_line(self) -> bool {
        matches!(self, Tag::Goal | Tag::Notes)
    }
}

/// Every `#name` a tag answers to, for "did you mean" hints.
const TAG_NAMES: &[&str] = &[
    "decision", "decided", "action", "todo", "task", "propose", "proposal", "object", "block", "done", "closed", "assign", "due", "cancel",
    "reopen", "withdraw", "goal", "ask", "notes",
];

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
        "withdraw" => Tag::Withdraw,
        "goal" => Tag::Goal,
        "ask" => Tag::Ask,
        "notes" => Tag::Notes,
        _ => return None,
    })
}

/// Word aliases that need a colon: `Decision:`, `Decided:`, `Action:`, `TODO:`, `Proposal:`, `Ask:`.
fn word_tag(name: &str) -> Option<Tag> {
    Some(match name {
        "decision" | "decided" => Tag::Decision,
        "action" | "todo" => Tag::Action,
        "proposal" => Tag::Propose,
        "ask" => Tag::Ask,
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

/// A line-start `#word` that is no tag but one or two letters away from one (`#desicion`): the
/// word as written and the tag it probably meant.
pub(super) fn near_miss(line: &str) -> Option<(String, &'static str)> {
    let body = strip_marker(line.trim_start()).strip_prefix('#')?;
    let len = body.bytes().take(13).take_while(u8::is_ascii_alphabetic).count();
    if !(3..=12).contains(&len) || tag_of(line).is_some() {
        return None;
    }
    let after = &body[len..];
    if !(after.is_empty() || after.starts_with([' ', '\t', ':', '：'])) {
        return None;
    }
    let word = body[..len].to_ascii_lowercase();
    let limit = if len <= 4 { 1 } else { 2 };
    let (name, distance) = TAG_NAMES.iter().map(|n| (*n, edit_distance(&word, n))).min_by_key(|(_, d)| *d)?;
    // `#decisions` or `#tasks` are words, not typos.
    let plural = word.strip_suffix('s').is_some_and(|w| TAG_NAMES.contains(&w));
    (distance <= limit && !plural).then(|| (body[..len].to_owned(), name))
}

/// Levenshtein distance of two short ASCII words (at most 13 letters: bounded work).
fn edit_distance(a: &str, b: &str) -> usize {
    let b = b.as_bytes();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.bytes().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1).min(row[j] + 1).min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
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

/// The tag blocks of a text, how many item tags were over the cap, and the near-miss `#words`
/// (line, as written, meant).
pub(super) struct Blocks {
    pub(super) blocks: Vec<Block>,
    pub(super) ignored: usize,
    pub(super) near_misses: Vec<(usize, String, &'static str)>,
}

/// Splits the text into tag blocks.
pub(super) fn blocks(text: &str) -> Blocks {
    let mut blocks: Vec<Block> = Vec::new();
    let mut near_misses = Vec::new();
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
            if !tag.own_line() {
                item_tags += 1;
                if item_tags > MAX_ITEMS {
                    continue;
                }
            }
            let mut block = Block::new(tag, i + 1);
            block.push_line(rest);
            blocks.push(block);
            // docs/tags.md: text runs on; `#goal` and `#notes` take their own line only.
            open = !tag.own_line();
            listed = is_list_item(line);
        } else if listed && is_list_item(line) {
            open = false;
        } else {
            if let Some((word, meant)) = near_miss(line) {
                near_misses.push((i + 1, word, meant));
            }
            if open && let Some(block) = blocks.last_mut() {
                block.push_line(line);
            }
        }
    }
    Blocks { blocks, ignored: item_tags.saturating_sub(MAX_ITEMS), near_misses }
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
        check("#ask can we ship? @bob by friday", Some(("#ask", "can we ship? @bob by friday")));
        check("Ask: can we ship?", Some(("#ask", "can we ship?")));
        check("#notes Weekly sync", Some(("#notes", "Weekly sync")));
        check("#withdraw P-2", Some(("#withdraw", "P-2")));
    }

    #[test]
    fn near_misses() {
        let miss = |line: &str| near_miss(line).map(|(w, m)| (w, m.to_owned()));
        assert_eq!(miss("#desicion use X"), Some(("desicion".into(), "decision".into())));
        assert_eq!(miss("- #acton: ship"), Some(("acton".into(), "action".into())));
        assert_eq!(miss("#propse x by friday"), Some(("propse".into(), "propose".into())));
        assert_eq!(miss("#decision use X"), None);
        assert_eq!(miss("#decisions are hard"), None);
        assert_eq!(miss("#general chat"), None);
        assert_eq!(miss("#1 priority"), None);
        assert_eq!(miss("#hashtag"), None);
        assert_eq!(miss("we #desicion"), None);
        assert_eq!(miss("#desicionmaking"), None);
    }
}

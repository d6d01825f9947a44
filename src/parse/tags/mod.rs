//! The tag language (docs/tags.md): turns a message's visible text and subject into items, commands and
//! warnings. Pure and linear in the input; handles and refs are returned raw (the store resolves
//! them against members and the database, and warns about unknown ones).
//!
//! Rules, as implemented:
//! * A tag starts a line: leading whitespace, then at most one list marker (`-`, `*`, `•`, `+`,
//!   `1.`, `1)`) and whitespace, then `#name` (case-insensitive) followed by whitespace, `:`, `：`
//!   or the end of the line, or a word alias (`Decision:`) which needs the colon. A `#tag` in the
//!   middle of a line is text; an unknown `#word` at line start is text.
//! * A tag's text runs to the next blank line, tag line, `>` line, or the end; lines are joined
//!   with single spaces (all whitespace runs collapse). `>` lines are never parsed. Refinement
//!   beyond the basic rule: when the tag line is itself a list item, the next list item ends its text (a
//!   plain tag line followed by bullets keeps them as its text).
//! * Text of decisions, proposals, objections and titles drops separator-only words at either
//!   end (`#decision - we use X` → `we use X`; `-5%` stays).
//! * `#goal SLUG [TITLE]` takes only its own line (SLUG is lower-cased and must match
//!   `[a-z0-9][a-z0-9_-]*`); the first `#goal` of a message applies to every item.
//! * Task: `@handle`/`@email` words are mentions (first = owner, rest = watchers, duplicates
//!   dropped) and are removed from the title; a trailing `due DATE` / `by DATE` (at most 8 words,
//!   mentions may follow it) is the due time and is removed from the title. `due DATE` that does
//!   not parse is a warning (the phrase still leaves the title, `due_text` keeps it); `by X` that
//!   does not parse is plain text unless X looks like a date (a digit, a weekday, `asap`, …), in
//!   which case it is a warning too. `due to` is never a due phrase.
//! * Proposal: `by DATE` at the end sets `closes_at`. **A proposal without `by DATE` (or with one
//!   that does not parse) is still returned, with `closes_at` null and a warning**: docket never
//!   invents a closing date; the store may apply a configured default window if the lead wants one.
//! * Commands: `#done [T-n]`/`#closed`, `#assign T-n @who`, `#due T-n DATE`, `#cancel T-n`,
//!   `#reopen T-n`. A command whose required ref, mention or date is missing or wrong (e.g.
//!   `#done P-2`) gives a warning and no item, so the store never acts on a half-understood
//!   command. `#done`/`#cancel`/`#reopen` accept several leading refs (`#done T-3 T-4, T-5`,
//!   at most 20) and give one command per ref. `#object [to] [P-n]`: a leading P-n is the
//!   target; a leading T-n/D-n is a warning and the target stays null.
//! * Subject `[decision]` (after Re:/Fwd:/AW:/SV:/回复: … prefixes): when the body has no
//!   item tag (`#goal` does not count), its first paragraph (else the rest of the subject) is a
//!   decision with [`Origin::Subject`].
//! * Caps: at most [`MAX_ITEMS`] item tags per message (the rest are counted and named in one
//!   warning, not parsed) and at most [`MAX_ITEMS`] items (extra command targets: a warning); a tag's text is cut at [`MAX_TEXT_CHARS`] characters with a warning.
//!   A past due/closing time is kept, with a warning.

mod items;
mod lexer;
mod subject;
mod words;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::dates::DateContext;
use items::{goal, items};
use lexer::{Blocks, Tag, blocks};
use subject::{subject_decision, subject_notes};

/// At most this many item tags are read from one message.
pub const MAX_ITEMS: usize = 200;
/// A tag's text is cut to this many characters.
pub const MAX_TEXT_CHARS: usize = 2000;

#[derive(Debug)]
pub struct TagInput<'a> {
    /// The sender's new text (docs/mail-flow.md "visible text"); `>` lines may remain and are skipped.
    pub visible_text: &'a str,
    pub subject: &'a str,
    pub dates: &'a DateContext,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Extraction {
    pub items: Vec<Item>,
    pub goal: Option<GoalRef>,
    /// User-facing warning lines, in message order.
    pub warnings: Vec<String>,
}

/// `#goal SLUG [TITLE]`: created on first use by the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GoalRef {
    pub slug: String,
    pub title: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Decision,
    Task,
    Proposal,
    Objection,
    Command,
    Ask,
    Notes,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verb {
    Done,
    Assign,
    Due,
    Cancel,
    Reopen,
    Withdraw,
}

/// Where an item came from (docs/cli.md JSON decision `source`); not part of the parse JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Tag,
    Subject,
}

/// One parse item, serialized exactly as docs/cli.md JSON's parse item (all fields, absent = null).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Item {
    pub kind: Kind,
    /// Decision/proposal/objection text; a task's title; a command's comment (may be empty).
    pub text: String,
    /// Mention as written without `@`: a handle (`bob`) or an email (`bob@x.org`).
    pub owner: Option<String>,
    pub watchers: Vec<String>,
    pub due: Option<DateTime<Utc>>,
    /// The date phrase as written (also set when it could not be understood).
    pub due_text: Option<String>,
    pub closes_at: Option<DateTime<Utc>>,
    /// The message's `#goal` slug.
    pub goal: Option<String>,
    /// `T-n`/`D-n`/`P-n` mentioned in `text`, upper-cased, first occurrence order.
    pub refs: Vec<String>,
    pub verb: Option<Verb>,
    /// Commands and objections: the item acted on; null = the thread's default (docs/tags.md).
    pub target: Option<String>,
    /// An ask's `@mentions` as written (empty: the whole space).
    pub asked_of: Vec<String>,
    /// An ask's `default: ACTION`: what is decided when nobody answers by its closing time.
    pub default: Option<String>,
    /// A decision's `supersedes D-n`.
    pub supersedes: Option<String>,
    /// 1-based line of the tag in the visible text (for the store's warnings).
    #[serde(skip)]
    pub line: usize,
    #[serde(skip)]
    pub origin: Origin,
}

impl Item {
    fn new(kind: Kind, line: usize) -> Item {
        Item {
            kind,
            text: String::new(),
            owner: None,
            watchers: Vec::new(),
            due: None,
            due_text: None,
            closes_at: None,
            goal: None,
            refs: Vec::new(),
            verb: None,
            target: None,
            asked_of: Vec::new(),
            default: None,
            supersedes: None,
            line,
            origin: Origin::Tag,
        }
    }
}

/// Whether `line` starts a tag (`#name`, a list marker then a tag, or a word alias like `Decision:`).
pub fn is_tag_line(line: &str) -> bool {
    lexer::tag_of(line).is_some()
}

/// Reads the tags of one message. docs/tags.md.
pub fn extract(input: &TagInput) -> Extraction {
    let mut out = Extraction { items: Vec::new(), goal: None, warnings: Vec::new() };
    let Blocks { blocks, ignored, near_misses } = blocks(input.visible_text);
    // Warnings are reported in line order; the message-wide ones last.
    let mut warnings: Vec<(usize, String)> = near_misses
        .into_iter()
        .map(|(line, word, meant)| {
            (line, format!("line {line}: '#{word}' is not a tag (did you mean #{meant}?); the line was read as text"))
        })
        .collect();
    let mut saw_item_tag = false;
    let mut notes: Option<Item> = None;
    let mut over = 0usize;
    for block in &blocks {
        let line = block.line;
        if block.truncated {
            warnings.push((line, format!("line {line} ({}): text longer than {MAX_TEXT_CHARS} characters was cut", block.tag.name())));
        }
        match block.tag {
            Tag::Goal => {
                goal(block, &mut out.goal, &mut |w| warnings.push((line, w)));
                continue;
            }
            Tag::Notes => {
                if notes.is_some() {
                    warnings.push((line, format!("line {line} (#notes): one #notes per message; this one was ignored")));
                } else {
                    let mut item = Item::new(Kind::Notes, line);
                    item.text = block.text.clone();
                    notes = Some(item);
                }
                continue;
            }
            _ => {}
        }
        saw_item_tag = true;
        let mut warn = |w: String| warnings.push((line, format!("line {line} ({}): {w}", block.tag.name())));
        for item in items(block, input.dates, &mut warn) {
            if out.items.len() < MAX_ITEMS {
                out.items.push(item);
            } else {
                over += 1;
            }
        }
    }
    warnings.sort_by_key(|(line, _)| *line);
    out.warnings = warnings.into_iter().map(|(_, w)| w).collect();
    if ignored > 0 {
        out.warnings.push(format!("{} tags found; only the first {MAX_ITEMS} were read, {ignored} ignored", MAX_ITEMS + ignored));
    }
    if over > 0 {
        out.warnings.push(format!("at most {MAX_ITEMS} items per message; {over} more were ignored"));
    }
    if !saw_item_tag
        && ignored == 0
        && let Some(item) = subject_decision(input, &mut out.warnings)
    {
        out.items.push(item);
    }
    // Notes come first, so the store has them before the items that link to them.
    if let Some(item) = notes.or_else(|| subject_notes(input)) {
        out.items.insert(0, item);
    }
    if let Some(goal) = &out.goal {
        for item in &mut out.items {
            item.goal = Some(goal.slug.clone());
        }
    }
    out
}

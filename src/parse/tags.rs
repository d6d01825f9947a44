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

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::dates::{DateContext, DateError, is_dotted_date, parse_due};

/// At most this many item tags are read from one message.
pub const MAX_ITEMS: usize = 200;
/// A tag's text is cut to this many characters.
pub const MAX_TEXT_CHARS: usize = 2000;
/// A due phrase has at most this many words (bounds the search for it).
const MAX_DATE_WORDS: usize = 8;

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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verb {
    Done,
    Assign,
    Due,
    Cancel,
    Reopen,
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
            line,
            origin: Origin::Tag,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
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
    fn name(self) -> &'static str {
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
fn is_quoted(line: &str) -> bool {
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
fn tag_of(line: &str) -> Option<(Tag, &str)> {
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
struct Block {
    tag: Tag,
    line: usize,
    text: String,
    chars: usize,
    truncated: bool,
}

impl Block {
    fn new(tag: Tag, line: usize) -> Block {
        Block { tag, line, text: String::new(), chars: 0, truncated: false }
    }

    /// Appends a line's words, single-spaced, stopping at [`MAX_TEXT_CHARS`] (bounded work).
    fn push_line(&mut self, line: &str) {
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

/// Reads the tags of one message. docs/tags.md.
pub fn extract(input: &TagInput) -> Extraction {
    let mut out = Extraction { items: Vec::new(), goal: None, warnings: Vec::new() };
    let (blocks, ignored) = blocks(input.visible_text);
    let mut saw_item_tag = false;
    let mut over = 0usize;
    for block in &blocks {
        if block.truncated {
            out.warnings.push(format!("line {} ({}): text longer than {MAX_TEXT_CHARS} characters was cut", block.line, block.tag.name()));
        }
        if block.tag == Tag::Goal {
            goal(block, &mut out);
            continue;
        }
        saw_item_tag = true;
        let mut warn = |w: String| out.warnings.push(format!("line {} ({}): {w}", block.line, block.tag.name()));
        for item in items(block, input.dates, &mut warn) {
            if out.items.len() < MAX_ITEMS {
                out.items.push(item);
            } else {
                over += 1;
            }
        }
    }
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
    if let Some(goal) = &out.goal {
        for item in &mut out.items {
            item.goal = Some(goal.slug.clone());
        }
    }
    out
}

/// Splits the text into tag blocks; returns them and how many item tags were over the cap.
fn blocks(text: &str) -> (Vec<Block>, usize) {
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

fn goal(block: &Block, out: &mut Extraction) {
    let (slug, title) = match block.text.split_once(' ') {
        Some((s, t)) => (s, Some(t.to_owned())),
        None => (block.text.as_str(), None),
    };
    let slug = slug.to_lowercase();
    let valid = slug.len() <= 64
        && slug.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && slug.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    let line = block.line;
    if !valid {
        out.warnings.push(format!("line {line} (#goal): '{}' is not a goal slug (letters, digits, '-'); ignored", shorten(&slug)));
        return;
    }
    match &out.goal {
        None => out.goal = Some(GoalRef { slug, title }),
        Some(first) if first.slug == slug => {}
        Some(first) => {
            out.warnings.push(format!("line {line} (#goal): only one goal per message; '{slug}' ignored, '{}' used", first.slug))
        }
    }
}

/// At most 40 characters of user text, for warnings.
fn shorten(text: &str) -> String {
    let mut out: String = text.chars().take(40).collect();
    if text.chars().nth(40).is_some() {
        out.push('…');
    }
    out
}

/// `T-3`, `(D-12),` → `T-3`, `D-12`.
fn item_ref(word: &str) -> Option<String> {
    let w = word.trim_matches(|c: char| !c.is_alphanumeric() && c != '-');
    let w = w.trim_end_matches('-');
    let (kind, num) = w.split_at_checked(2)?;
    let kind = kind.to_ascii_uppercase();
    let ok = matches!(kind.as_str(), "T-" | "D-" | "P-") && (1..=9).contains(&num.len()) && num.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| format!("{kind}{num}"))
}

fn refs_in(text: &str) -> Vec<String> {
    let mut refs: Vec<String> = Vec::new();
    for r in text.split(' ').filter_map(item_ref) {
        if !refs.contains(&r) {
            refs.push(r);
        }
    }
    refs
}

/// `@bob`, `(@bob@x.org),` → `bob`, `bob@x.org`.
fn mention(word: &str) -> Option<&str> {
    let w = word.trim_start_matches(['(', '[', '<', '"', '\'']);
    let body = w.strip_prefix('@')?;
    let end = body
        .char_indices()
        .find(|(_, c)| !(c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '+' | '@')))
        .map_or(body.len(), |(i, _)| i);
    let handle = body[..end].trim_end_matches(['.', '-', '@']);
    handle.starts_with(char::is_alphanumeric).then_some(handle)
}

/// Words that make a failed `by X` look like an attempted date rather than prose.
fn looks_like_date(phrase: &[&str]) -> bool {
    const WORDS: &[&str] = &[
        "today",
        "tomorrow",
        "tonight",
        "eod",
        "eow",
        "cob",
        "asap",
        "soon",
        "later",
        "whenever",
        "someday",
        "sometime",
        "tbd",
        "eventually",
        "next",
        "end",
        "noon",
        "midnight",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "mon",
        "tue",
        "wed",
        "thu",
        "fri",
        "sat",
        "sun",
        "week",
        "month",
        "weekend",
        "morning",
        "evening",
        "afternoon",
    ];
    phrase.iter().any(|w| {
        let w = w.to_lowercase();
        let w = w.trim_matches(|c: char| !c.is_alphanumeric());
        w.bytes().any(|b| b.is_ascii_digit()) || WORDS.contains(&w)
    })
}

/// The outcome of looking for a trailing date phrase in a word list.
struct DatePhrase {
    /// Words before the keyword.
    kept: usize,
    /// The phrase as written, without the keyword and trailing punctuation.
    text: String,
    when: Result<DateTime<Utc>, DateError>,
}

/// The phrase as written, minus closing punctuation (`friday).` → `friday`; `3.12.` stays).
fn phrase_text(words: &[&str]) -> String {
    let text = words.join(" ");
    let mut t = text.trim_end_matches([',', ';', '!', '?', ')', ']']);
    while let Some(rest) = t.strip_suffix('.') {
        if t.rsplit(' ').next().is_some_and(is_dotted_date) {
            break;
        }
        t = rest.trim_end_matches([',', ';', '!', '?', ')', ']']);
    }
    t.to_owned()
}

/// Finds `due DATE` / `by DATE` at the end of `words` (docs/tags.md "at the end"). Earliest keyword
/// whose remainder parses wins (longest phrase); otherwise the last attempted one reports.
fn trailing_date(words: &[&str], ctx: &DateContext) -> Option<DatePhrase> {
    let start = words.len().saturating_sub(MAX_DATE_WORDS + 1);
    let mut failed = None;
    for i in start..words.len() {
        let key = words[i].trim_start_matches(['(', '[']).trim_end_matches([':', '：']).to_lowercase();
        let next = words.get(i + 1).map(|w| w.to_lowercase());
        let is_due = key == "due" && next.as_deref() != Some("to");
        if !(is_due || key == "by") || i + 1 == words.len() {
            continue;
        }
        let phrase = &words[i + 1..];
        let text = phrase_text(phrase);
        match parse_due(&text, ctx) {
            Ok(t) => {
                return Some(DatePhrase { kept: i, text, when: Ok(t) });
            }
            Err(e) if is_due || looks_like_date(phrase) => {
                failed = Some(DatePhrase { kept: i, text, when: Err(e) });
            }
            Err(_) => {}
        }
    }
    failed
}

/// Joins words into item text, dropping separator-only words (`-`, `—`, `:`, `()`) at either
/// end and trailing `,;:` (left behind by removed mentions and due phrases).
fn tidy(words: &[&str]) -> String {
    let separator = |w: &&str| w.chars().all(|c| matches!(c, '-' | '–' | '—' | ':' | '：' | ',' | ';' | '(' | ')' | '[' | ']'));
    let start = words.iter().position(|w| !separator(w)).unwrap_or(words.len());
    let end = words.iter().rposition(|w| !separator(w)).map_or(start, |e| e + 1);
    let kept: Vec<&str> = words[start..end].iter().filter(|w| !matches!(**w, "()" | "[]")).copied().collect();
    kept.join(" ").trim_end_matches([',', ';', ':', '：']).to_owned()
}

fn check_past(when: DateTime<Utc>, what: &str, ctx: &DateContext, warn: &mut impl FnMut(String)) {
    if when < ctx.now {
        warn(format!("{what} {} is in the past", ctx.zone.display(when)));
    }
}

/// Splits `@mentions` (deduplicated, case-insensitive) from the other words.
fn split_mentions<'w>(words: &[&'w str]) -> (Vec<&'w str>, Vec<&'w str>) {
    let mut mentions: Vec<&str> = Vec::new();
    let mut rest: Vec<&str> = Vec::with_capacity(words.len());
    for w in words {
        match mention(w) {
            Some(m) if mentions.iter().any(|x| x.eq_ignore_ascii_case(m)) => {}
            Some(m) => mentions.push(m),
            None => rest.push(w),
        }
    }
    (mentions, rest)
}

/// The items of one tag block (commands with several targets give one item each).
fn items(block: &Block, ctx: &DateContext, warn: &mut impl FnMut(String)) -> Vec<Item> {
    crate::parse::work::add(block.text.len());
    let words: Vec<&str> = block.text.split(' ').filter(|w| !w.is_empty()).collect();
    let mut item = Item::new(Kind::Decision, block.line);
    match block.tag {
        Tag::Decision => item.text = tidy(&words),
        Tag::Action => return task(block, &words, ctx, warn).into_iter().collect(),
        Tag::Propose => {
            item.kind = Kind::Proposal;
            match trailing_date(&words, ctx) {
                Some(DatePhrase { kept, text, when }) => {
                    item.text = tidy(&words[..kept]);
                    match when {
                        Ok(t) => {
                            check_past(t, "closing time", ctx, warn);
                            item.closes_at = Some(t);
                        }
                        Err(e) => warn(format!("{e}; the proposal has no closing time")),
                    }
                    item.due_text = Some(text);
                }
                None => {
                    item.text = tidy(&words);
                    warn("no closing date ('by DATE'); the proposal has no closing time".into());
                }
            }
        }
        Tag::Object => {
            item.kind = Kind::Objection;
            // `#object P-2 …`, `#object to P-2: …`
            let skip = usize::from(
                words.first().is_some_and(|w| w.eq_ignore_ascii_case("to")) && words.get(1).and_then(|w| item_ref(w)).is_some(),
            );
            let mut rest = &words[skip..];
            match rest.first().and_then(|w| item_ref(w)) {
                Some(r) if r.starts_with("P-") => {
                    item.target = Some(r);
                    rest = &rest[1..];
                }
                Some(r) => warn(format!("{r} is not a proposal; objecting to this thread's open proposal")),
                None => {}
            }
            item.text = tidy(rest);
        }
        Tag::Done | Tag::Cancel | Tag::Reopen | Tag::Assign | Tag::Due => {
            return command(block, &words, ctx, warn);
        }
        Tag::Goal => return Vec::new(),
    }
    if item.text.is_empty() && item.kind != Kind::Objection {
        warn("no text; ignored".into());
        return Vec::new();
    }
    item.refs = refs_in(&item.text);
    vec![item]
}

fn task(block: &Block, words: &[&str], ctx: &DateContext, warn: &mut impl FnMut(String)) -> Option<Item> {
    let mut item = Item::new(Kind::Task, block.line);
    let (mentions, rest) = split_mentions(words);
    let mut title_words = &rest[..];
    if let Some(DatePhrase { kept, text, when }) = trailing_date(&rest, ctx) {
        title_words = &rest[..kept];
        match when {
            Ok(t) => {
                check_past(t, "due time", ctx, warn);
                item.due = Some(t);
            }
            Err(e) => warn(format!("{e}; the task has no due time")),
        }
        item.due_text = Some(text);
    }
    item.text = tidy(title_words);
    if item.text.is_empty() {
        warn("a task needs a title; ignored".into());
        return None;
    }
    let mut mentions = mentions.into_iter().map(str::to_owned);
    item.owner = mentions.next();
    item.watchers = mentions.collect();
    item.refs = refs_in(&item.text);
    Some(item)
}

/// Most targets one `#done`/`#cancel`/`#reopen` line may name (`#done T-3 T-4, T-5`).
const MAX_TARGETS: usize = 20;

fn command(block: &Block, words: &[&str], ctx: &DateContext, warn: &mut impl FnMut(String)) -> Vec<Item> {
    let name = block.tag.name();
    // Leading refs are the targets; `#assign`/`#due` take exactly one.
    let several = matches!(block.tag, Tag::Done | Tag::Cancel | Tag::Reopen);
    let mut targets: Vec<String> = Vec::new();
    let mut used = 0;
    for w in words {
        if let Some(r) = item_ref(w) {
            if !r.starts_with("T-") {
                warn(format!("{r} is not a task; {name} acts on tasks (T-n); ignored"));
                return Vec::new();
            }
            if !targets.contains(&r) {
                targets.push(r);
            }
        } else if !(several && matches!(w.to_lowercase().as_str(), "and" | "&" | "," | "+")) {
            break;
        }
        used += 1;
        if !several || targets.len() == MAX_TARGETS {
            break;
        }
    }
    let rest = &words[used..];
    if targets.is_empty() && block.tag != Tag::Done {
        warn(format!("needs a task id, e.g. '{name} T-3'; ignored"));
        return Vec::new();
    }
    let mut item = Item::new(Kind::Command, block.line);
    item.verb = Some(match block.tag {
        Tag::Done => Verb::Done,
        Tag::Cancel => Verb::Cancel,
        Tag::Reopen => Verb::Reopen,
        Tag::Assign => Verb::Assign,
        _ => Verb::Due,
    });
    match block.tag {
        Tag::Assign => {
            let (mentions, text) = split_mentions(rest);
            let Some((owner, watchers)) = mentions.split_first() else {
                warn("needs a new owner, e.g. '#assign T-3 @bob'; ignored".into());
                return Vec::new();
            };
            item.owner = Some((*owner).to_owned());
            item.watchers = watchers.iter().map(|w| (*w).to_owned()).collect();
            item.text = tidy(&text);
        }
        Tag::Due => {
            let phrase = match rest.first().map(|w| w.to_lowercase()).as_deref() {
                Some("to" | "by" | "due" | "until" | "due:") => &rest[1..],
                _ => rest,
            };
            let text = phrase_text(phrase);
            match parse_due(&text, ctx) {
                Ok(t) => {
                    check_past(t, "due time", ctx, warn);
                    item.due = Some(t);
                    item.due_text = Some(text);
                }
                Err(e) => {
                    warn(format!("{e}; the task's due time is unchanged"));
                    return Vec::new();
                }
            }
        }
        _ => item.text = tidy(rest),
    }
    item.refs = refs_in(&item.text);
    if targets.is_empty() {
        return vec![item];
    }
    targets.into_iter().map(|t| Item { target: Some(t), ..item.clone() }).collect()
}

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
fn subject_decision(input: &TagInput, warnings: &mut Vec<String>) -> Option<Item> {
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

    fn check_ref(input: &str, want: Option<&str>) {
        assert_eq!(item_ref(input).as_deref(), want, "input {input:?}");
    }

    #[test]
    fn refs() {
        check_ref("T-3", Some("T-3"));
        check_ref("(d-12),", Some("D-12"));
        check_ref("P-7.", Some("P-7"));
        check_ref("T-", None);
        check_ref("X-3", None);
        check_ref("T-3a", None);
        check_ref("T-1234567890", None);
    }

    fn check_mention(input: &str, want: Option<&str>) {
        assert_eq!(mention(input), want, "input {input:?}");
    }

    #[test]
    fn mentions() {
        check_mention("@bob", Some("bob"));
        check_mention("@bob,", Some("bob"));
        check_mention("(@bob@x.org)", Some("bob@x.org"));
        check_mention("@bob.", Some("bob"));
        check_mention("@", None);
        check_mention("bob@x.org", None);
        check_mention("@@", None);
        check_mention("@josé", Some("josé"));
    }

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

//! The items of one tag block: decisions (and what they supersede), tasks, proposals, asks,
//! objections, commands and `#goal`.

use crate::parse::dates::{DateContext, parse_due};

use super::lexer::{Block, Tag};
use super::words::{DatePhrase, check_past, item_ref, phrase_text, refs_in, shorten, split_mentions, tidy, trailing_date};
use super::{GoalRef, Item, Kind, Verb};

pub(super) fn goal(block: &Block, out: &mut Option<GoalRef>, warn: &mut impl FnMut(String)) {
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
        warn(format!("line {line} (#goal): '{}' is not a goal slug (letters, digits, '-'); ignored", shorten(&slug)));
        return;
    }
    match out {
        None => *out = Some(GoalRef { slug, title }),
        Some(first) if first.slug == slug => {}
        Some(first) => warn(format!("line {line} (#goal): only one goal per message; '{slug}' ignored, '{}' used", first.slug)),
    }
}

/// The items of one tag block (commands with several targets give one item each).
pub(super) fn items(block: &Block, ctx: &DateContext, warn: &mut impl FnMut(String)) -> Vec<Item> {
    crate::parse::work::add(block.text.len());
    let words: Vec<&str> = block.text.split(' ').filter(|w| !w.is_empty()).collect();
    let mut item = Item::new(Kind::Decision, block.line);
    match block.tag {
        Tag::Decision => {
            let (rest, supersedes) = supersedes(&words, warn);
            item.text = tidy(&rest);
            item.supersedes = supersedes;
        }
        Tag::Action => return task(block, &words, ctx, warn).into_iter().collect(),
        Tag::Ask => return ask(block, &words, ctx, warn).into_iter().collect(),
        Tag::Withdraw => return withdraw(block, &words, warn).into_iter().collect(),
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
        Tag::Goal | Tag::Notes => return Vec::new(),
    }
    if item.text.is_empty() && item.kind != Kind::Objection {
        warn("no text; ignored".into());
        return Vec::new();
    }
    item.refs = refs_in(&item.text);
    vec![item]
}

/// `… supersedes D-3`: the words without that phrase, and the decision it names.
fn supersedes<'w>(words: &[&'w str], warn: &mut impl FnMut(String)) -> (Vec<&'w str>, Option<String>) {
    let Some(at) = words.iter().position(|w| w.trim_start_matches('(').eq_ignore_ascii_case("supersedes")) else {
        return (words.to_vec(), None);
    };
    match words.get(at + 1).and_then(|w| item_ref(w)) {
        Some(r) if r.starts_with("D-") => {
            let rest = words[..at].iter().chain(&words[at + 2..]).copied().collect();
            (rest, Some(r))
        }
        Some(r) => {
            warn(format!("{r} is not a decision; only a decision (D-n) can be superseded"));
            (words.to_vec(), None)
        }
        None => {
            warn("'supersedes' needs a decision id, like 'supersedes D-3'; nothing was superseded".into());
            (words.to_vec(), None)
        }
    }
}

/// `#ask TEXT [@who…] by DATE [default: ACTION]`.
fn ask(block: &Block, words: &[&str], ctx: &DateContext, warn: &mut impl FnMut(String)) -> Option<Item> {
    let mut item = Item::new(Kind::Ask, block.line);
    let split = words.iter().position(|w| {
        let w = w.trim_start_matches('(').to_ascii_lowercase();
        w == "default:" || w == "default：" || w == "otherwise:"
    });
    let (asked, default) = match split {
        Some(at) => (&words[..at], Some(tidy(&words[at + 1..]))),
        None => (words, None),
    };
    let (mentions, rest) = split_mentions(asked);
    let phrase = trailing_date(&rest, ctx);
    item.text = tidy(phrase.as_ref().map_or(&rest[..], |p| &rest[..p.kept]));
    if item.text.is_empty() {
        warn("an ask needs a question; ignored".into());
        return None;
    }
    match phrase {
        Some(DatePhrase { text, when, .. }) => {
            match when {
                Ok(t) => {
                    check_past(t, "closing time", ctx, warn);
                    item.closes_at = Some(t);
                }
                Err(e) => warn(format!("{e}; the ask has no deadline")),
            }
            item.due_text = Some(text);
        }
        None => warn("no deadline ('by DATE'); the ask stays open until it is answered".into()),
    }
    match default {
        Some(d) if d.is_empty() => warn("'default:' has no action after it; nothing will be decided on silence".into()),
        Some(d) => item.default = Some(d.trim_end_matches(['.', ')']).to_owned()),
        None => {}
    }
    item.asked_of = mentions.into_iter().map(str::to_owned).collect();
    item.refs = refs_in(&item.text);
    Some(item)
}

/// `#withdraw [P-n]`: the proposer takes back an open proposal (null target: this thread's).
fn withdraw(block: &Block, words: &[&str], warn: &mut impl FnMut(String)) -> Option<Item> {
    let mut item = Item::new(Kind::Command, block.line);
    item.verb = Some(Verb::Withdraw);
    let mut rest = words;
    if let Some(r) = words.first().and_then(|w| item_ref(w)) {
        if !r.starts_with("P-") {
            warn(format!("{r} is not a proposal; #withdraw takes back a proposal (P-n); ignored"));
            return None;
        }
        item.target = Some(r);
        rest = &words[1..];
    }
    item.text = tidy(rest);
    item.refs = refs_in(&item.text);
    Some(item)
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

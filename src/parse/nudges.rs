//! Nudges (docs/mail-flow.md "Writing that stands on its own"): which of the four parts of a
//! message that can be read alone — its context, a specific ask, a deadline and what happens if no
//! one responds — a thread-starting message lacks. Pure: reads the visible text and the parsed
//! items, nothing else.

use super::tags::{Item, Kind, is_tag_line};

/// Prose words (outside tags, greetings and sign-offs) a message needs to carry its context.
const CONTEXT_WORDS: usize = 8;

/// One missing part, in the order the receipt lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Nudge {
    Context,
    Ask,
    Deadline,
    IfNoResponse,
}

impl Nudge {
    pub const ALL: [Nudge; 4] = [Nudge::Context, Nudge::Ask, Nudge::Deadline, Nudge::IfNoResponse];

    /// The code in `docket parse --json` and in the store.
    pub fn code(self) -> &'static str {
        match self {
            Nudge::Context => "context",
            Nudge::Ask => "ask",
            Nudge::Deadline => "deadline",
            Nudge::IfNoResponse => "if_no_response",
        }
    }

    pub fn from_code(code: &str) -> Option<Nudge> {
        Nudge::ALL.into_iter().find(|n| n.code() == code)
    }

    /// The receipt's one kind line, with an example.
    pub fn line(self) -> &'static str {
        match self {
            Nudge::Context => {
                "Context: add a sentence or two on why this matters, e.g. \"The client demo is on the 3rd and the build is red.\""
            }
            Nudge::Ask => "Ask: say what you need from people, e.g. a question, or `#ask Can we ship on Friday?`",
            Nudge::Deadline => "Deadline: add `by thursday` so people know when you need an answer.",
            Nudge::IfNoResponse => "If no one answers: add `default: …` to say what happens on silence, e.g. `default: we ship as is`.",
        }
    }
}

/// What a message is checked from.
#[derive(Debug, Clone, Copy)]
pub struct NudgeInput<'a> {
    /// The sender's new text (quoted `>` lines are skipped).
    pub visible_text: &'a str,
    /// The message's parsed items (`tags::extract`).
    pub items: &'a [Item],
    /// Whether the message starts a thread: replies are never nudged.
    pub starts_thread: bool,
}

/// The parts a thread-starting message lacks, in [`Nudge::ALL`] order; none for a reply, for
/// meeting notes, or for a message that has all four.
pub fn nudges(input: &NudgeInput) -> Vec<Nudge> {
    let items = input.items;
    if !input.starts_thread || items.iter().any(|i| i.kind == Kind::Notes) {
        return Vec::new();
    }
    let prose = prose_lines(input.visible_text);
    let mut out = Vec::new();
    if prose.iter().map(|l| l.split_whitespace().count()).sum::<usize>() < CONTEXT_WORDS {
        out.push(Nudge::Context);
    }
    let asks = items.iter().any(|i| matches!(i.kind, Kind::Ask | Kind::Proposal | Kind::Task | Kind::Decision));
    if !asks && !input.visible_text.lines().filter(|l| !l.trim_start().starts_with('>')).any(has_question) {
        out.push(Nudge::Ask);
    }
    if !items.iter().any(|i| i.due.is_some() || i.closes_at.is_some()) {
        out.push(Nudge::Deadline);
    }
    if !items.iter().any(|i| i.kind == Kind::Proposal || (i.kind == Kind::Ask && i.default.is_some())) {
        out.push(Nudge::IfNoResponse);
    }
    out
}

/// Whether a line holds a sentence ending in a question mark.
fn has_question(line: &str) -> bool {
    line.split_whitespace().any(|w| w.trim_end_matches(['"', '\'', ')', '”', '’']).ends_with(['?', '？']))
}

/// The lines of prose: not quoted, not in a tag's block (a tag line and the lines up to the next
/// blank line), not a greeting or sign-off, not the signature (after `-- `).
fn prose_lines(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut in_tag = false;
    for line in text.lines() {
        let t = line.trim();
        if t == "--" || line.trim_end_matches('\r') == "-- " {
            break;
        }
        if t.is_empty() || t.starts_with('>') {
            in_tag = false;
            continue;
        }
        if is_tag_line(line) {
            in_tag = true;
        }
        if in_tag || is_greeting_or_sign_off(t) {
            continue;
        }
        out.push(t);
    }
    out
}

/// `Hi all,`, `Hello team`, `Thanks!`, `Best, Ann`: short lines that open or close a mail.
fn is_greeting_or_sign_off(line: &str) -> bool {
    const WORDS: [&str; 16] = [
        "hi", "hello", "hey", "dear", "morning", "good", "thanks", "thank", "cheers", "best", "regards", "kind", "all", "team", "folks",
        "everyone",
    ];
    let words: Vec<String> =
        line.split_whitespace().map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase()).filter(|w| !w.is_empty()).collect();
    words.len() <= 4 && words.first().is_some_and(|w| WORDS.contains(&w.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::dates::{DateContext, Zone};
    use crate::parse::tags::{TagInput, extract};
    use chrono::{NaiveTime, TimeZone, Utc};

    fn check(body: &str, starts_thread: bool) -> Vec<&'static str> {
        let dates = DateContext {
            now: Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap(),
            zone: Zone::Named(chrono_tz::Europe::Berlin),
            default_due_time: NaiveTime::from_hms_opt(17, 0, 0).unwrap(),
            date_order: None,
        };
        let ex = extract(&TagInput { visible_text: body, subject: "Launch", dates: &dates });
        nudges(&NudgeInput { visible_text: body, items: &ex.items, starts_thread }).into_iter().map(Nudge::code).collect()
    }

    const CONTEXT: &str = "The client demo moved to the 3rd and the staging build has been red since Monday.";

    #[test]
    fn complete_message_gets_none() {
        let body = format!("Hi all,\n\n{CONTEXT}\n\n#ask Do we ship as is? by thursday default: we ship as is\n\nThanks,\nAnn\n");
        assert_eq!(check(&body, true), Vec::<&str>::new());
        let proposal = format!("{CONTEXT}\n\n#propose we ship as is by thursday\n");
        assert_eq!(check(&proposal, true), Vec::<&str>::new(), "a proposal is adopted on silence");
    }

    #[test]
    fn each_missing_part() {
        assert_eq!(check("#ask Do we ship as is? by thursday default: we ship as is\n\nThanks,\nAnn", true), ["context"]);
        assert_eq!(check(&format!("Hi all,\n\n{CONTEXT}\n\nBest,\nAnn"), true), ["ask", "deadline", "if_no_response"]);
        assert_eq!(check(&format!("{CONTEXT}\n\n#ask Do we ship as is? default: we ship as is\n"), true), ["deadline"]);
        assert_eq!(check(&format!("{CONTEXT}\n\n#ask Do we ship as is? by thursday\n"), true), ["if_no_response"]);
        assert_eq!(check(&format!("{CONTEXT} Can we ship anyway?\n"), true), ["deadline", "if_no_response"], "a question is an ask");
        assert_eq!(check("Thoughts?", true), ["context", "deadline", "if_no_response"]);
        assert_eq!(check(&format!("{CONTEXT}\n\n#action @bob fix the build by friday\n"), true), ["if_no_response"]);
    }

    #[test]
    fn tag_text_greetings_signatures_and_quotes_are_not_context() {
        let tag_block = "#ask Do we ship as is, knowing the build is red and the demo is soon? by thursday default: we ship\n";
        assert_eq!(check(tag_block, true), ["context"]);
        let signature = "#ask Ship? by thursday default: we ship\n\n-- \nAnn Example, Head of Platform, Example Corp, Berlin";
        assert_eq!(check(signature, true), ["context"]);
        let quoted = "#ask Ship? by thursday default: we ship\n\n> the whole staging build has been red since Monday, said Bob";
        assert_eq!(check(quoted, true), ["context"]);
    }

    #[test]
    fn replies_and_notes_get_none() {
        assert_eq!(check("ok", false), Vec::<&str>::new());
        assert_eq!(check("#notes Weekly sync\n\n#decision we ship\n", true), Vec::<&str>::new());
    }

    #[test]
    fn codes_round_trip() {
        for n in Nudge::ALL {
            assert_eq!(Nudge::from_code(n.code()), Some(n));
            assert!(n.line().len() < 140, "one short line: {}", n.line());
        }
        assert_eq!(Nudge::from_code("nope"), None);
    }
}

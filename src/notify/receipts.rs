//! Receipts (docs/mail-flow.md, `notify.receipts`): the sender of a message that created or changed items
//! gets one short reply listing what was recorded — ids, titles, owners, due times in the
//! sender's zone — each with the reply that undoes it, the lines that could not be understood,
//! every other warning, and (`notify.nudges`) what a thread-starting message lacks. Pure.

use crate::config::Receipts;
use crate::parse::nudges::Nudge;
use crate::store::outbound::MessageItems;
use chrono_tz::Tz;

/// The label of a receipt line naming a goal (`#goal`); the subject lists only item ids.
const GOAL: &str = "goal";

/// One line of a receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub label: String,
    pub text: String,
    /// Owner and due time, proposal closing time, or what changed.
    pub detail: String,
    /// The reply that undoes it (`Undo: reply `#cancel T-5``), when there is one.
    pub undo: Option<String>,
}

impl Line {
    fn new(label: String, text: String, detail: String) -> Line {
        Line { label, text, detail, undo: None }
    }
}

/// What a receipt says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub lines: Vec<Line>,
    /// Warnings about one line of the message (`line 3 (#task): …`): the lines not understood.
    pub unclear: Vec<String>,
    /// Every other warning.
    pub warnings: Vec<String>,
    /// One line with an example per part a thread-starting message lacks.
    pub nudges: Vec<String>,
}

impl Receipt {
    pub fn labels(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for l in &self.lines {
            if l.label != GOAL && !out.contains(&l.label.as_str()) {
                out.push(&l.label);
            }
        }
        out
    }
}

/// The receipt a message earns under `mode`, or None. `changes` (the default) answers only a
/// message that recorded, changed or warned about something, or (when `nudge`: `notify.nudges`
/// and the sender is a member) that lacks a part of a message that stands on its own.
pub fn due(mode: Receipts, nudge: bool, items: &MessageItems, tz: Tz) -> Option<Receipt> {
    let mut receipt = build(items, tz);
    if nudge {
        receipt.nudges = items.nudges.iter().filter_map(|c| Nudge::from_code(c)).map(|n| n.line().to_string()).collect();
    }
    match mode {
        Receipts::Never => None,
        Receipts::Always => Some(receipt),
        Receipts::Changes => {
            (!receipt.lines.is_empty() || !receipt.warnings.is_empty() || !receipt.unclear.is_empty() || !receipt.nudges.is_empty())
                .then_some(receipt)
        }
    }
}

/// `Undo: reply `#verb LABEL``.
fn undo(verb: &str, label: &str) -> Option<String> {
    Some(format!("Undo: reply `#{verb} {label}`"))
}

/// Whether a warning is about one line of the message (`line 3 …`).
fn names_a_line(warning: &str) -> bool {
    warning.strip_prefix("line ").is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
}

fn build(items: &MessageItems, tz: Tz) -> Receipt {
    let mut lines = Vec::new();
    for (id, text) in &items.decisions {
        let label = format!("D-{id}");
        let replace = Some(format!("Undo: reply `#decision … supersedes {label}` to replace it"));
        lines.push(Line { undo: replace, ..Line::new(label, text.clone(), "decision".into()) });
    }
    for (id, title, owner, due) in &items.tasks {
        let owner = owner.as_deref().map_or("no owner".to_string(), |o| format!("owner {o}"));
        let watchers = match items.watchers.iter().find(|(t, _)| t == id) {
            Some((_, w)) if !w.is_empty() => format!(", watchers {}", w.join(", ")),
            _ => String::new(),
        };
        let due = due.map_or("no due time".to_string(), |d| format!("due {}", super::local_time(d, tz)));
        let label = format!("T-{id}");
        lines.push(Line { undo: undo("cancel", &label), ..Line::new(label, title.clone(), format!("task, {owner}{watchers}, {due}")) });
    }
    for (id, text, closes) in &items.proposals {
        let closes =
            closes.map_or("no closing time".to_string(), |c| format!("adopted {} unless someone objects", super::local_time(c, tz)));
        let label = format!("P-{id}");
        lines.push(Line { undo: undo("withdraw", &label), ..Line::new(label, text.clone(), format!("proposal, {closes}")) });
    }
    for a in &items.asks {
        let asked = if a.asked_of.is_empty() { "everyone".to_string() } else { a.asked_of.join(", ") };
        let closes = a.closes_at.map_or("no deadline".to_string(), |c| format!("answer by {}", super::local_time(c, tz)));
        let default =
            a.default.as_deref().map_or("no default: you are told if nobody answers".to_string(), |d| format!("if nobody answers: {d}"));
        lines.push(Line::new(format!("A-{}", a.id), a.text.clone(), format!("ask of {asked}, {closes}; {default}")));
    }
    for (id, title) in &items.notes {
        lines.push(Line::new(format!("N-{id}"), title.clone(), "meeting notes; every item above links to them".into()));
    }
    for id in &items.objections {
        lines.push(Line::new(format!("P-{id}"), "your objection".into(), "recorded; the proposal will not be adopted".into()));
    }
    for (slug, title) in &items.goals {
        let text = title.as_deref().map_or(slug.clone(), |t| format!("{slug} ({t})"));
        lines.push(Line::new(GOAL.into(), text, "every item above is linked to this goal".into()));
    }
    // One line per changed item: its title and every field that changed, old → new.
    // Proposal history is the tick's (adopted, blocked), except a withdrawal by this message.
    for c in items.changes.iter().filter(|c| !c.label.starts_with("P-") || c.new.as_deref() == Some("withdrawn")) {
        let shown = |v: Option<&str>| match (c.field.as_str(), v) {
            (_, None) => "none".to_string(),
            ("due", Some(v)) => v.parse::<i64>().map_or(v.to_string(), |t| super::local_time(t, tz)),
            (_, Some(v)) => v.to_string(),
        };
        let field = match c.field.as_str() {
            "done_at" => continue,
            "status" => String::new(),
            f => format!("{f} "),
        };
        let change = format!("{field}{} → {}", shown(c.old.as_deref()), shown(c.new.as_deref()));
        // A task's status change is undone by the command that puts it back.
        let back = match (c.label.starts_with("T-") && c.field == "status", c.old.as_deref()) {
            (true, Some("open")) => undo("reopen", &c.label),
            (true, Some("done")) => undo("done", &c.label),
            (true, Some("cancelled")) => undo("cancel", &c.label),
            _ => None,
        };
        match lines.iter_mut().find(|l| l.label == c.label && l.detail.starts_with("changed: ")) {
            Some(line) => {
                line.detail = format!("{}; {change}", line.detail);
                line.undo = line.undo.take().or(back);
            }
            None => lines
                .push(Line { undo: back, ..Line::new(c.label.clone(), c.title.clone().unwrap_or_default(), format!("changed: {change}")) }),
        }
    }
    let (unclear, warnings) = items.warnings.iter().cloned().partition(|w| names_a_line(w));
    Receipt { lines, unclear, warnings, nudges: Vec::new() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::outbound::ItemChange;

    fn change(label: &str, field: &str, old: Option<&str>, new: Option<&str>) -> ItemChange {
        let title = Some(format!("Title of {label}"));
        ItemChange { label: label.into(), title, field: field.into(), old: old.map(Into::into), new: new.map(Into::into) }
    }

    #[test]
    fn modes_and_lines() {
        let tz = chrono_tz::Europe::Berlin;
        let empty = MessageItems::default();
        assert_eq!(due(Receipts::Changes, false, &empty, tz), None);
        assert!(due(Receipts::Always, false, &empty, tz).is_some());
        let items = MessageItems {
            decisions: vec![(1, "Ship it".into())],
            tasks: vec![(4, "Write docs".into(), Some("bob@x.org".into()), Some(1_795_795_200))],
            changes: vec![
                change("T-2", "status", Some("open"), Some("done")),
                change("T-2", "done_at", None, Some("1")),
                change("T-2", "due", Some("1795795200"), Some("1795881600")),
                change("T-3", "owner", None, Some("bob@x.org")),
            ],
            warnings: vec!["could not understand 'whenever' as a date".into()],
            ..Default::default()
        };
        assert_eq!(due(Receipts::Never, false, &items, tz), None);
        let r = due(Receipts::Changes, false, &items, tz).unwrap();
        assert_eq!(r.labels(), ["D-1", "T-4", "T-2", "T-3"]);
        assert_eq!(r.lines[1].detail, "task, owner bob@x.org, due Fri 27 Nov 17:00 CET");
        // Issue 12: the title and what changed, old → new.
        assert_eq!(
            (r.lines[2].text.as_str(), r.lines[2].detail.as_str()),
            ("Title of T-2", "changed: open → done; due Fri 27 Nov 17:00 CET → Sat 28 Nov 17:00 CET")
        );
        assert_eq!(r.lines[3].detail, "changed: owner none → bob@x.org");
        assert_eq!(r.warnings.len(), 1);
        let with_goal = MessageItems {
            tasks: vec![(5, "Book the hall".into(), Some("ann@x.org".into()), None)],
            watchers: vec![(5, vec!["bob@x.org".into(), "kim@x.org".into()])],
            goals: vec![("launch".into(), Some("The v2 launch".into()))],
            ..Default::default()
        };
        let r = due(Receipts::Changes, false, &with_goal, tz).unwrap();
        assert_eq!(r.labels(), ["T-5"], "the subject names items, not the goal");
        assert_eq!(r.lines[0].detail, "task, owner ann@x.org, watchers bob@x.org, kim@x.org, no due time");
        assert_eq!((r.lines[1].label.as_str(), r.lines[1].text.as_str()), ("goal", "launch (The v2 launch)"));
        let asks = MessageItems {
            asks: vec![crate::store::outbound::RecordedAsk {
                id: 2,
                text: "Ship as is?".into(),
                closes_at: Some(1_795_795_200),
                asked_of: vec!["bob@x.org".into()],
                default: Some("we ship".into()),
            }],
            notes: vec![(1, "Weekly sync".into())],
            changes: vec![change("P-3", "status", Some("open"), Some("withdrawn")), change("P-4", "status", Some("open"), Some("adopted"))],
            ..Default::default()
        };
        let r = due(Receipts::Changes, false, &asks, tz).unwrap();
        assert_eq!(r.labels(), ["A-2", "N-1", "P-3"], "a withdrawal shows, the tick's adoption does not");
        assert_eq!(r.lines[0].detail, "ask of bob@x.org, answer by Fri 27 Nov 17:00 CET; if nobody answers: we ship");
        assert_eq!(r.lines[2].detail, "changed: open → withdrawn");
        let warn_only = MessageItems { warnings: vec!["w".into()], ..Default::default() };
        assert!(due(Receipts::Changes, false, &warn_only, tz).is_some());
    }

    #[test]
    fn undo_lines() {
        let tz = chrono_tz::Europe::Berlin;
        let items = MessageItems {
            decisions: vec![(3, "Ship it".into())],
            tasks: vec![(5, "Write docs".into(), None, None)],
            proposals: vec![(2, "Use Rust".into(), None)],
            asks: vec![crate::store::outbound::RecordedAsk { id: 1, text: "Ship?".into(), ..Default::default() }],
            changes: vec![
                change("T-7", "status", Some("open"), Some("done")),
                change("T-8", "status", Some("done"), Some("open")),
                change("T-9", "owner", None, Some("bob@x.org")),
            ],
            ..Default::default()
        };
        let r = due(Receipts::Changes, false, &items, tz).unwrap();
        let undo: Vec<(&str, Option<&str>)> = r.lines.iter().map(|l| (l.label.as_str(), l.undo.as_deref())).collect();
        assert_eq!(
            undo,
            [
                ("D-3", Some("Undo: reply `#decision … supersedes D-3` to replace it")),
                ("T-5", Some("Undo: reply `#cancel T-5`")),
                ("P-2", Some("Undo: reply `#withdraw P-2`")),
                ("A-1", None),
                ("T-7", Some("Undo: reply `#reopen T-7`")),
                ("T-8", Some("Undo: reply `#done T-8`")),
                ("T-9", None),
            ]
        );
    }

    #[test]
    fn unclear_lines_and_nudges() {
        let tz = chrono_tz::Europe::Berlin;
        let items = MessageItems {
            warnings: vec![
                "line 3: '#desicion' is not a tag (did you mean #decision?); the line was read as text".into(),
                "@zed is not a member of ops; the task has no owner from it".into(),
                "line 7 (#task): 'whenever' is not a date".into(),
            ],
            nudges: vec!["deadline".into(), "if_no_response".into()],
            ..Default::default()
        };
        let r = due(Receipts::Changes, true, &items, tz).unwrap();
        assert_eq!(r.unclear.len(), 2);
        assert!(r.unclear[1].starts_with("line 7 "));
        assert_eq!(r.warnings, ["@zed is not a member of ops; the task has no owner from it"]);
        assert_eq!(r.nudges, [Nudge::Deadline.line(), Nudge::IfNoResponse.line()]);
        let only_nudges = MessageItems { nudges: vec!["context".into()], ..Default::default() };
        assert_eq!(due(Receipts::Changes, true, &only_nudges, tz).unwrap().nudges, [Nudge::Context.line()]);
        assert_eq!(due(Receipts::Changes, false, &only_nudges, tz), None, "nudges off, or a non-member");
        assert_eq!(due(Receipts::Never, true, &only_nudges, tz), None);
    }
}

//! Receipts (docs/mail-flow.md, `notify.receipts`): the sender of a message that created or changed items
//! gets one short reply listing what was recorded — ids, titles, owners, due times in the
//! sender's zone — and every warning. Pure.

use crate::config::Receipts;
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
}

/// What a receipt says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub lines: Vec<Line>,
    pub warnings: Vec<String>,
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
/// message that recorded, changed or warned about something.
pub fn due(mode: Receipts, items: &MessageItems, tz: Tz) -> Option<Receipt> {
    let receipt = build(items, tz);
    match mode {
        Receipts::Never => None,
        Receipts::Always => Some(receipt),
        Receipts::Changes => (!receipt.lines.is_empty() || !receipt.warnings.is_empty()).then_some(receipt),
    }
}

fn build(items: &MessageItems, tz: Tz) -> Receipt {
    let mut lines = Vec::new();
    for (id, text) in &items.decisions {
        lines.push(Line { label: format!("D-{id}"), text: text.clone(), detail: "decision".into() });
    }
    for (id, title, owner, due) in &items.tasks {
        let owner = owner.as_deref().map_or("no owner".to_string(), |o| format!("owner {o}"));
        let watchers = match items.watchers.iter().find(|(t, _)| t == id) {
            Some((_, w)) if !w.is_empty() => format!(", watchers {}", w.join(", ")),
            _ => String::new(),
        };
        let due = due.map_or("no due time".to_string(), |d| format!("due {}", super::local_time(d, tz)));
        lines.push(Line { label: format!("T-{id}"), text: title.clone(), detail: format!("task, {owner}{watchers}, {due}") });
    }
    for (id, text, closes) in &items.proposals {
        let closes =
            closes.map_or("no closing time".to_string(), |c| format!("adopted {} unless someone objects", super::local_time(c, tz)));
        lines.push(Line { label: format!("P-{id}"), text: text.clone(), detail: format!("proposal, {closes}") });
    }
    for a in &items.asks {
        let asked = if a.asked_of.is_empty() { "everyone".to_string() } else { a.asked_of.join(", ") };
        let closes = a.closes_at.map_or("no deadline".to_string(), |c| format!("answer by {}", super::local_time(c, tz)));
        let default =
            a.default.as_deref().map_or("no default: you are told if nobody answers".to_string(), |d| format!("if nobody answers: {d}"));
        lines.push(Line { label: format!("A-{}", a.id), text: a.text.clone(), detail: format!("ask of {asked}, {closes}; {default}") });
    }
    for (id, title) in &items.notes {
        lines.push(Line { label: format!("N-{id}"), text: title.clone(), detail: "meeting notes; every item above links to them".into() });
    }
    for id in &items.objections {
        lines.push(Line {
            label: format!("P-{id}"),
            text: "your objection".into(),
            detail: "recorded; the proposal will not be adopted".into(),
        });
    }
    for (slug, title) in &items.goals {
        let text = title.as_deref().map_or(slug.clone(), |t| format!("{slug} ({t})"));
        lines.push(Line { label: GOAL.into(), text, detail: "every item above is linked to this goal".into() });
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
        match lines.iter_mut().find(|l| l.label == c.label && l.detail.starts_with("changed: ")) {
            Some(line) => line.detail = format!("{}; {change}", line.detail),
            None => {
                lines.push(Line { label: c.label.clone(), text: c.title.clone().unwrap_or_default(), detail: format!("changed: {change}") })
            }
        }
    }
    Receipt { lines, warnings: items.warnings.clone() }
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
        assert_eq!(due(Receipts::Changes, &empty, tz), None);
        assert!(due(Receipts::Always, &empty, tz).is_some());
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
        assert_eq!(due(Receipts::Never, &items, tz), None);
        let r = due(Receipts::Changes, &items, tz).unwrap();
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
        let r = due(Receipts::Changes, &with_goal, tz).unwrap();
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
        let r = due(Receipts::Changes, &asks, tz).unwrap();
        assert_eq!(r.labels(), ["A-2", "N-1", "P-3"], "a withdrawal shows, the tick's adoption does not");
        assert_eq!(r.lines[0].detail, "ask of bob@x.org, answer by Fri 27 Nov 17:00 CET; if nobody answers: we ship");
        assert_eq!(r.lines[2].detail, "changed: open → withdrawn");
        let warn_only = MessageItems { warnings: vec!["w".into()], ..Default::default() };
        assert!(due(Receipts::Changes, &warn_only, tz).is_some());
    }
}

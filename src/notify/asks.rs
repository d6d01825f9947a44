//! Ask mail (docs/mail-flow.md): a reminder to the asked members `reminders.before` its closing
//! time while nobody has answered, and the outcome once it closed unanswered — the default decided
//! (to the whole space) or nobody answered and there was no default (to the asker alone). Pure.

use crate::store::items::Ask;
use crate::store::states::AskStatus;

/// An outcome older than this is history, not news (a restored backup sends no old outcomes).
pub const OUTCOME_WINDOW: i64 = 48 * 3600;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    /// Still open, closing within the reminder window: to the asked members.
    Reminder,
    /// Closed unanswered with a default, which became a decision: to the whole space.
    Defaulted { decision: Option<i64> },
    /// Closed unanswered without a default: to the asker.
    Expired,
}

impl NoticeKind {
    /// The period part of the dedup key: one reminder and one outcome per ask.
    pub fn key(self) -> &'static str {
        match self {
            NoticeKind::Reminder => "reminder",
            NoticeKind::Defaulted { .. } | NoticeKind::Expired => "outcome",
        }
    }
}

/// Who gets a notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// These addresses (the asked members, or the asker).
    Only(Vec<String>),
    /// Every member of the space but the asker (an ask of the whole space).
    SpaceBut(Option<String>),
    /// Every member of the space.
    Space,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice<'a> {
    pub ask: &'a Ask,
    pub kind: NoticeKind,
    pub audience: Audience,
}

/// The notices due at `now` for asks closing within `before` seconds or closed recently.
pub fn notices(asks: &[Ask], before: i64, now: i64) -> Vec<Notice<'_>> {
    let mut out = Vec::new();
    for ask in asks {
        let Some(closes) = ask.row.closes_at else { continue };
        let kind = match ask.row.status {
            AskStatus::Open if closes > now && closes - before <= now => NoticeKind::Reminder,
            AskStatus::Defaulted if closes <= now && now - closes <= OUTCOME_WINDOW => {
                NoticeKind::Defaulted { decision: ask.row.decision_id }
            }
            AskStatus::Expired if closes <= now && now - closes <= OUTCOME_WINDOW => NoticeKind::Expired,
            _ => continue,
        };
        let audience = match kind {
            NoticeKind::Reminder if ask.asked_of.is_empty() => Audience::SpaceBut(ask.row.asked_by.clone()),
            NoticeKind::Reminder => Audience::Only(ask.asked_of.clone()),
            NoticeKind::Defaulted { .. } => Audience::Space,
            NoticeKind::Expired => Audience::Only(ask.row.asked_by.iter().cloned().collect()),
        };
        out.push(Notice { ask, kind, audience });
    }
    out
}

/// Whether `email` is in the audience.
pub fn includes(audience: &Audience, email: &str) -> bool {
    match audience {
        Audience::Only(list) => list.iter().any(|e| e == email),
        Audience::SpaceBut(asker) => asker.as_deref() != Some(email),
        Audience::Space => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::items::AskRow;

    fn ask(id: i64, status: AskStatus, closes: i64, asked_of: &[&str]) -> Ask {
        Ask {
            row: AskRow {
                id,
                space_id: 1,
                thread_id: 1,
                message_id: None,
                text: "ship?".into(),
                asked_by: Some("ana@x.org".into()),
                created_at: 0,
                closes_at: Some(closes),
                default_action: None,
                status,
                answered_by: None,
                answered_at: None,
                decision_id: None,
                goal_id: None,
                notes_id: None,
            },
            asked_of: asked_of.iter().map(|s| (*s).to_string()).collect(),
        }
    }

    #[test]
    fn reminders_only_inside_the_window_and_only_while_open() {
        let day = 86_400;
        let asks = [
            ask(1, AskStatus::Open, 10 * day, &["bob@x.org"]),
            ask(2, AskStatus::Open, 3 * day, &[]),
            ask(3, AskStatus::Answered, 10 * day, &["bob@x.org"]),
        ];
        let due = notices(&asks, day, 9 * day + 1);
        assert_eq!(due.len(), 1);
        assert_eq!((due[0].ask.row.id, due[0].kind), (1, NoticeKind::Reminder));
        assert_eq!(due[0].audience, Audience::Only(vec!["bob@x.org".into()]));
        // At the closing time itself no reminder: the outcome follows once tick closed it.
        assert!(notices(&asks[..1], day, 10 * day).is_empty());
        // An ask of the whole space reminds everyone but the asker.
        let whole = notices(&asks[1..2], day, 2 * day + 5);
        assert!(includes(&whole[0].audience, "bob@x.org") && !includes(&whole[0].audience, "ana@x.org"));
    }

    #[test]
    fn outcomes_go_to_the_space_or_the_asker_and_age_out() {
        let day = 86_400;
        let asks = [ask(1, AskStatus::Defaulted, day, &["bob@x.org"]), ask(2, AskStatus::Expired, day, &["bob@x.org"])];
        let due = notices(&asks, day, day + 60);
        assert_eq!(due[0].audience, Audience::Space);
        assert_eq!(due[1].audience, Audience::Only(vec!["ana@x.org".into()]));
        assert_eq!(due[1].kind.key(), "outcome");
        assert!(notices(&asks, day, day + OUTCOME_WINDOW + 1).is_empty());
    }
}

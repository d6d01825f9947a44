//! Lazy consensus (docs/tags.md): an open proposal whose closing time has come becomes a decision
//! (source "proposal") when nobody objected, or is blocked when somebody did; and the mail about
//! it (docs/mail-flow.md): a notice `NOTICE_BEFORE` before closing and the outcome once closed. Pure.

use crate::store::items::ProposalRow;
use crate::store::states::ProposalStatus;

/// The closing notice goes out this long before a proposal closes.
pub const NOTICE_BEFORE: i64 = 24 * 3600;
/// An outcome older than this is history, not news (a restored backup sends no old outcomes).
pub const OUTCOME_WINDOW: i64 = 48 * 3600;

/// An open proposal as the planner needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenProposal {
    pub id: i64,
    pub closes_at: Option<i64>,
    pub objections: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Adopt(i64),
    Block(i64),
}

/// The proposals to close at `now`, in closing order. Proposals without a closing time never close
/// by themselves.
pub fn due(open: &[OpenProposal], now: i64) -> Vec<Outcome> {
    let mut closing: Vec<&OpenProposal> = open.iter().filter(|p| p.closes_at.is_some_and(|at| at <= now)).collect();
    closing.sort_by_key(|p| (p.closes_at, p.id));
    closing.into_iter().map(|p| if p.objections > 0 { Outcome::Block(p.id) } else { Outcome::Adopt(p.id) }).collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoticeKind {
    Closing,
    Adopted { decision: Option<i64> },
    Blocked { by: Vec<String> },
}

impl NoticeKind {
    /// The period part of the dedup key: one closing notice and one outcome per proposal.
    pub fn key(&self) -> &'static str {
        match self {
            NoticeKind::Closing => "closing",
            NoticeKind::Adopted { .. } | NoticeKind::Blocked { .. } => "outcome",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub proposal: ProposalRow,
    pub kind: NoticeKind,
}

/// The notices due at `now` for proposals with their objectors: a closing notice while an open
/// proposal is within `NOTICE_BEFORE` of closing, an outcome once it was adopted or blocked.
pub fn notices(rows: &[(ProposalRow, Vec<String>)], now: i64) -> Vec<Notice> {
    let mut out = Vec::new();
    for (p, objectors) in rows {
        let Some(closes) = p.closes_at else { continue };
        let kind = match p.status {
            ProposalStatus::Open if closes - NOTICE_BEFORE <= now && now < closes => NoticeKind::Closing,
            ProposalStatus::Adopted if closes <= now && now - closes <= OUTCOME_WINDOW => NoticeKind::Adopted { decision: p.decision_id },
            ProposalStatus::Blocked if closes <= now && now - closes <= OUTCOME_WINDOW => NoticeKind::Blocked { by: objectors.clone() },
            ProposalStatus::Open | ProposalStatus::Adopted | ProposalStatus::Blocked | ProposalStatus::Withdrawn => continue,
        };
        out.push(Notice { proposal: p.clone(), kind });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, closes_at: i64, status: ProposalStatus) -> ProposalRow {
        ProposalRow {
            id,
            space_id: 1,
            thread_id: 1,
            text: "t".into(),
            author: None,
            closes_at: Some(closes_at),
            status,
            goal_id: None,
            message_id: None,
            decision_id: (status == ProposalStatus::Adopted).then_some(9),
        }
    }

    #[test]
    fn notices_before_and_after_closing() {
        const C: i64 = 1_000_000;
        let kinds = |status: ProposalStatus, now: i64| -> Vec<NoticeKind> {
            notices(&[(row(1, C, status), vec!["bob@x.org".into()])], now).into_iter().map(|n| n.kind).collect()
        };
        assert!(kinds(ProposalStatus::Open, C - NOTICE_BEFORE - 1).is_empty());
        assert_eq!(kinds(ProposalStatus::Open, C - NOTICE_BEFORE), [NoticeKind::Closing]);
        assert!(kinds(ProposalStatus::Open, C).is_empty(), "closing is tick's job; the outcome mail follows");
        assert_eq!(kinds(ProposalStatus::Adopted, C), [NoticeKind::Adopted { decision: Some(9) }]);
        assert_eq!(kinds(ProposalStatus::Blocked, C + 60), [NoticeKind::Blocked { by: vec!["bob@x.org".into()] }]);
        assert!(kinds(ProposalStatus::Blocked, C + OUTCOME_WINDOW + 1).is_empty());
        assert!(kinds(ProposalStatus::Withdrawn, C).is_empty());
    }

    fn p(id: i64, closes_at: Option<i64>, objections: i64) -> OpenProposal {
        OpenProposal { id, closes_at, objections }
    }

    #[test]
    fn closing() {
        let open = [p(1, Some(100), 0), p(2, Some(50), 1), p(3, Some(200), 0), p(4, None, 0), p(5, Some(100), 2)];
        assert_eq!(due(&open, 99), vec![Outcome::Block(2)]);
        assert_eq!(due(&open, 100), vec![Outcome::Block(2), Outcome::Adopt(1), Outcome::Block(5)]);
        assert_eq!(due(&open, i64::MAX).len(), 4, "no closing time, never closes");
        assert!(due(&[], 0).is_empty());
    }
}

//! One run of the scheduler at a given time (`docket tick --now T`, and `serve` on a timer): applies
//! what the pure planners in `notify` say is due — lazy consensus and the asks that closed
//! unanswered (their default becomes a decision) first, then the outbound mail
//! (`notify::jobs`), which returns once the due mail was handed to the relay or the outbox.
//! Running it twice at the same time changes nothing and sends nothing twice.

use crate::app::App;
use crate::notify::NotifyError;
use crate::notify::proposals::{self, OpenProposal, Outcome};
use crate::store::StoreError;
use crate::store::items::Change;
use crate::store::items::{ItemKind, Origin};
use crate::store::states::{AskStatus, DecisionSource, ProposalStatus};
use chrono::{DateTime, Utc};

/// Why a run of the scheduler stopped (what it did before stays done: every step is idempotent).
#[derive(Debug, thiserror::Error)]
pub enum TickError {
    /// Lazy consensus: the proposals closing now could not be read or closed.
    #[error(transparent)]
    Consensus(StoreError),
    /// Mail to the commands address the intake left could not be decided.
    #[error(transparent)]
    Commands(StoreError),
    /// The outbound run.
    #[error(transparent)]
    Outbound(#[from] NotifyError),
}

impl TickError {
    /// Whether trying again later may work (the database is down or full).
    pub fn is_temporary(&self) -> bool {
        match self {
            TickError::Consensus(e) | TickError::Commands(e) => e.is_temporary(),
            TickError::Outbound(e) => e.is_temporary(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TickReport {
    /// `P-n → D-m` for each adopted proposal.
    pub adopted: Vec<(String, String)>,
    pub blocked: Vec<String>,
    /// `A-n → D-m` for each ask whose default was decided on silence.
    pub defaulted: Vec<(String, String)>,
    /// Asks that closed unanswered without a default.
    pub expired: Vec<String>,
    /// Mail queued and sent by this run.
    pub outbound: crate::notify::jobs::Report,
}

pub async fn tick(app: &App, now: DateTime<Utc>) -> Result<TickReport, TickError> {
    let mut report = TickReport::default();
    consensus(app, now, &mut report).await.map_err(TickError::Consensus)?;
    close_asks(app, now, &mut report).await.map_err(TickError::Consensus)?;
    // Mail to the commands address the intake could not decide yet (its DKIM check could not run).
    crate::ingest::commands::catch_up(app).await.map_err(TickError::Commands)?;
    report.outbound = crate::notify::jobs::run(app, now).await?;
    Ok(report)
}

/// Lazy consensus at `now`: adopted proposals become decisions, objected ones are blocked.
async fn consensus(app: &App, now: DateTime<Utc>, report: &mut TickReport) -> Result<(), StoreError> {
    let closing = app.store.proposals_closing(now.timestamp()).await?;
    let open: Vec<OpenProposal> = closing.iter().map(|(p, n)| OpenProposal { id: p.id, closes_at: p.closes_at, objections: *n }).collect();
    for outcome in proposals::due(&open, now.timestamp()) {
        let mut tx = app.store.begin().await?;
        match outcome {
            Outcome::Adopt(id) => {
                let Some(p) = tx.proposal(id).await?.filter(|p| p.status == ProposalStatus::Open) else { continue };
                let at = p.closes_at.unwrap_or(now.timestamp());
                let origin = Origin {
                    space_id: p.space_id,
                    thread_id: p.thread_id,
                    message_id: p.message_id,
                    author: p.author.as_deref(),
                    at,
                    goal_id: p.goal_id,
                    notes_id: None,
                };
                let decision = tx.insert_decision(&origin, &p.text, DecisionSource::Proposal, Some(id)).await?;
                tx.link((ItemKind::Proposal, id), (ItemKind::Decision, decision)).await?;
                tx.close_proposal(id, ProposalStatus::Adopted, Some(decision), at).await?;
                report.adopted.push((ItemKind::Proposal.label(id), ItemKind::Decision.label(decision)));
            }
            Outcome::Block(id) => {
                tx.close_proposal(id, ProposalStatus::Blocked, None, now.timestamp()).await?;
                report.blocked.push(ItemKind::Proposal.label(id));
            }
        }
        tx.commit().await?;
    }
    Ok(())
}

/// Asks whose closing time has come unanswered: the default becomes a decision (source
/// "default", linked to the ask), or the ask expires. Each in its own transaction, and only while
/// still open, so a second run changes nothing.
async fn close_asks(app: &App, now: DateTime<Utc>, report: &mut TickReport) -> Result<(), StoreError> {
    for closing in app.store.asks_closing(now.timestamp()).await? {
        let mut tx = app.store.begin().await?;
        let Some(ask) = tx.ask(closing.id).await?.filter(|a| a.status == AskStatus::Open) else { continue };
        let at = ask.closes_at.unwrap_or(now.timestamp());
        let change = Change { by: None, message_id: 0, at };
        let label = ItemKind::Ask.label(ask.id);
        match ask.default_action.as_deref() {
            Some(action) => {
                let origin = Origin {
                    space_id: ask.space_id,
                    thread_id: ask.thread_id,
                    message_id: ask.message_id,
                    author: ask.asked_by.as_deref(),
                    at,
                    goal_id: ask.goal_id,
                    notes_id: ask.notes_id,
                };
                let decision = tx.insert_decision(&origin, action, DecisionSource::Default, None).await?;
                tx.set_decision_ask(decision, ask.id).await?;
                tx.link((ItemKind::Ask, ask.id), (ItemKind::Decision, decision)).await?;
                tx.close_ask(ask.id, AskStatus::Defaulted, None, Some(decision), &change).await?;
                report.defaulted.push((label, ItemKind::Decision.label(decision)));
            }
            None => {
                tx.close_ask(ask.id, AskStatus::Expired, None, None, &change).await?;
                report.expired.push(label);
            }
        }
        tx.commit().await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 13: the scheduler says which of its steps stopped, and whether to try again.
    #[test]
    fn tick_errors_name_the_step() {
        let down = || StoreError::Unavailable("database is locked".into());
        assert!(TickError::Consensus(down()).is_temporary());
        assert!(TickError::Commands(down()).is_temporary());
        assert!(TickError::from(NotifyError::from(down())).is_temporary());
        assert!(!TickError::Consensus(StoreError::Conflict("x".into())).is_temporary());
        assert_eq!(TickError::Commands(down()).to_string(), down().to_string());
    }
}

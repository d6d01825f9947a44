//! The durable outbound queue: planners queue mail under a dedup key (kind, recipient, item,
//! period), so the same mail is queued once however often they run; `deliver` hands due mail to
//! the `Mailer` within `outbound.max_per_minute`, retries temporary failures with exponential
//! backoff, and marks permanent ones (a 5xx from the relay, or too many attempts) failed, where
//! `docket check` shows them.

use super::mailer::{Envelope, SendError};
use crate::app::App;
use crate::store::StoreError;
use crate::store::outbound::NewOutbound;
use chrono::{DateTime, Utc};

/// Temporary failures before a mail is given up (spanning about two days with the backoff).
pub const MAX_ATTEMPTS: i64 = 16;
/// First retry delay; doubles per attempt up to `MAX_BACKOFF`.
pub const FIRST_BACKOFF: i64 = 60;
pub const MAX_BACKOFF: i64 = 6 * 3600;
/// Longest one mail may take at the relay; a send still running then is dropped and retried
/// (like any lost connection).
pub const SEND_DEADLINE: std::time::Duration = std::time::Duration::from_secs(120);
/// Rows claimed per round: what is surely sent (or timed out) before the lease ends.
const CLAIM_BATCH: i64 = 4;
/// How long a claim holds. A sender that died leaves its claims for this long to other nodes;
/// the same node restarted takes them back at once (`reclaim`).
pub const LEASE: i64 = CLAIM_BATCH * SEND_DEADLINE.as_secs() as i64 + 120;

/// Delay before the next try after `attempts` failed ones (1 → 60 s, 2 → 120 s, …, ≤ 6 h).
pub fn backoff(attempts: i64) -> i64 {
    let shift = u32::try_from(attempts.clamp(1, 20) - 1).unwrap_or(0);
    (FIRST_BACKOFF << shift).min(MAX_BACKOFF)
}

/// What one delivery run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Delivery {
    pub sent: usize,
    pub retrying: usize,
    pub failed: usize,
    /// Due mail left for later by the rate limit.
    pub rate_limited: bool,
}

/// Queues mail in one transaction; returns how many were new.
pub async fn queue(app: &App, mail: &[NewOutbound], now: i64) -> Result<usize, StoreError> {
    if mail.is_empty() {
        return Ok(0);
    }
    let mut tx = app.store.begin().await?;
    let mut n = 0;
    for m in mail {
        if tx.enqueue(m, now).await? {
            n += 1;
        }
    }
    tx.commit().await?;
    Ok(n)
}

/// At start: this node's claims left by a previous run of it (killed mid-send) go back to the
/// queue at once rather than when their lease ends.
pub async fn reclaim(app: &App) -> Result<u64, StoreError> {
    let n = app.store.reclaim_own_outbound(&app.config.server.node_id).await?;
    if n > 0 {
        tracing::info!(count = n, node = %app.config.server.node_id, "outbound mail claimed by an earlier run is queued again");
    }
    Ok(n)
}

/// Hands every due mail to the mailer (within the rate limit) and records each outcome.
pub async fn deliver(app: &App, now: DateTime<Utc>) -> Result<Delivery, super::NotifyError> {
    let now = now.timestamp();
    let mut report = Delivery::default();
    let limit = i64::try_from(app.config.outbound.max_per_minute).unwrap_or(i64::MAX);
    let node = app.config.server.node_id.as_str();
    loop {
        let budget = limit - app.store.outbound_sent_since(now - 59).await?;
        if budget <= 0 {
            report.rate_limited = app.store.outbound_waiting(now).await? > 0;
            break;
        }
        let batch = app.store.claim_outbound(node, now, now + LEASE, budget.min(CLAIM_BATCH)).await?;
        if batch.is_empty() {
            break;
        }
        for mail in batch {
            let envelope = Envelope { from: mail.mail_from.clone(), to: mail.recipient.clone() };
            let raw = app.store.outbound_raw(mail.id).await?;
            let sent = match tokio::time::timeout(SEND_DEADLINE, app.mailer.send(&envelope, &raw)).await {
                Ok(result) => result,
                Err(_) => Err(SendError::Temporary(format!("no answer from the relay within {} s", SEND_DEADLINE.as_secs()))),
            };
            let recorded = match sent {
                Ok(()) => {
                    tracing::info!(outbound.id = mail.id, kind = %mail.kind, recipient = %mail.recipient, relay = %app.mailer.describe(), "sent");
                    report.sent += 1;
                    app.store.outbound_sent(node, mail.id, now).await?
                }
                Err(SendError::Temporary(why)) if mail.attempts + 1 < MAX_ATTEMPTS => {
                    let next = now + backoff(mail.attempts + 1);
                    // The relay's text may name addresses: it goes to debug and to the row, not above.
                    tracing::debug!(outbound.id = mail.id, error = %why, "relay reply");
                    tracing::info!(outbound.id = mail.id, outbound.kind = %mail.kind, attempts = mail.attempts + 1, "deferred; will retry");
                    report.retrying += 1;
                    app.store.outbound_retry(node, mail.id, next, &why).await?
                }
                Err(e) => {
                    let why = match e {
                        SendError::Temporary(why) => format!("gave up after {MAX_ATTEMPTS} attempts: {why}"),
                        SendError::Permanent(why) => why,
                    };
                    tracing::debug!(outbound.id = mail.id, error = %why, "relay reply");
                    tracing::warn!(outbound.id = mail.id, outbound.kind = %mail.kind, "outbound mail failed permanently (see docket check)");
                    report.failed += 1;
                    app.store.outbound_failed(node, mail.id, &why).await?
                }
            };
            if !recorded {
                // Our lease ran out and another node took the mail over: its result is the one kept.
                tracing::warn!(
                    outbound.id = mail.id,
                    node,
                    "outbound claim lost before its result was recorded; the new owner's result stands"
                );
            }
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_a_cap() {
        let check = |attempts: i64, want: i64| assert_eq!(backoff(attempts), want, "{attempts}");
        check(0, 60);
        check(1, 60);
        check(2, 120);
        check(5, 960);
        check(10, MAX_BACKOFF);
        check(100, MAX_BACKOFF);
        let total: i64 = (1..MAX_ATTEMPTS).map(backoff).sum();
        assert!(total > 24 * 3600 && total < 4 * 24 * 3600, "{total}");
    }
}

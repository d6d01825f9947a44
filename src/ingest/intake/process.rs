//! The processor: committed deliveries threaded and recorded in the background, in batches, and
//! those that overflowed its queue read back from the store.

use super::{Logged, MAX_BATCH, RETRY_AFTER};
use crate::app::App;
use crate::ingest::{StoredMessage, Target, reply_slot, store_prepared};
use crate::store::StoreError;
use crate::store::spaces::{Member, Space};
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use tokio::sync::mpsc;

/// Threads and records committed deliveries, in arrival order, in batches; once the queue is
/// drained, the deliveries that overflowed it are read back from the store.
pub(super) async fn processor(app: App, mut logged: mpsc::Receiver<Logged>, overflow: Arc<AtomicBool>, overflowed: Arc<AtomicU64>) {
    loop {
        let first = match logged.try_recv() {
            Ok(l) => l,
            Err(mpsc::error::TryRecvError::Empty) if overflow.swap(false, Ordering::AcqRel) => {
                tracing::info!(
                    overflowed = overflowed.load(Ordering::Relaxed),
                    "processing fell behind; reading deliveries back from the store"
                );
                sweep(&app).await;
                continue;
            }
            Err(_) => match logged.recv().await {
                Some(l) => l,
                None if overflow.swap(false, Ordering::AcqRel) => {
                    sweep(&app).await;
                    return;
                }
                None => return,
            },
        };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match logged.try_recv() {
                Ok(l) => batch.push(l),
                Err(_) => break,
            }
        }
        run(&app, &batch).await;
    }
}

/// Processes the deliveries that are committed but still `received`, a batch at a time.
async fn sweep(app: &App) {
    let mut after = 0;
    let mut spaces: HashMap<i64, Space> = HashMap::new();
    loop {
        let page = match app.store.unprocessed_inbound(after, MAX_BATCH as i64, crate::ingest::PAGE_BYTES).await {
            Ok(page) if page.is_empty() => return,
            Ok(page) => page,
            Err(e) => {
                // Still `received`: the next sweep, or `recover` at the next start, finishes them.
                tracing::warn!(error = %e, "could not read back overflowed deliveries");
                return;
            }
        };
        let mut batch = Vec::with_capacity(page.len());
        for (inbound_id, space_id, raw, rcpt_to) in page {
            after = inbound_id;
            let space = match spaces.get(&space_id) {
                Some(s) => s.clone(),
                None => match app.store.space_by_id(space_id).await {
                    Ok(s) => spaces.entry(space_id).or_insert(s).clone(),
                    Err(e) => {
                        tracing::warn!(error = %e, "could not read back overflowed deliveries");
                        return;
                    }
                },
            };
            let rcpt_to = serde_json::from_str(&rcpt_to).unwrap_or_default();
            let (_, prepared) = crate::ingest::prepare_off_runtime(raw).await;
            batch.push(Logged { inbound_id, space, prepared: Arc::new(prepared), rcpt_to, _held: None });
        }
        run(app, &batch).await;
    }
}

/// Processes one batch, retrying while the store is unavailable.
async fn run(app: &App, batch: &[Logged]) {
    loop {
        match process(app, batch).await {
            Ok(()) => return,
            Err(e) if e.is_temporary() => {
                tracing::warn!(error = %e, "processing deferred; retrying");
                tokio::time::sleep(RETRY_AFTER).await;
            }
            Err(_) => {
                // One message the pipeline cannot take: process each alone so it is marked
                // failed (and visible in `docket check`) without holding back the others.
                for l in batch {
                    let now = app.now().timestamp();
                    if let Err(e) = crate::ingest::process_logged(app, &l.space, l.inbound_id, &l.prepared, &l.rcpt_to, now).await {
                        tracing::warn!(inbound.id = l.inbound_id, error = %e, "could not process a delivery");
                    }
                }
                return;
            }
        }
    }
}

async fn process(app: &App, batch: &[Logged]) -> Result<(), StoreError> {
    let mut members: HashMap<i64, Vec<Member>> = HashMap::new();
    for l in batch {
        if let Entry::Vacant(slot) = members.entry(l.space.id) {
            slot.insert(app.store.members(&l.space).await?);
        }
    }
    let now = app.now().timestamp();
    let mut tx = app.store.begin().await?;
    let mut stored: Vec<StoredMessage> = Vec::new();
    for l in batch {
        if !tx.claim_inbound(l.inbound_id).await? {
            continue;
        }
        let list = members.get(&l.space.id).map(Vec::as_slice).unwrap_or_default();
        let target = Target { space: &l.space, members: list, config: &app.config };
        let token = reply_slot(app, &l.space, &l.rcpt_to).map(|s| s.thread_id);
        stored.push(store_prepared(&mut tx, &target, l.inbound_id, &l.prepared, token, now).await?);
    }
    tx.commit().await?;
    for s in &stored {
        tracing::info!(msg.row = s.id, space = %s.space, thread.id = s.thread_id, "stored");
    }
    tracing::debug!(count = stored.len(), "processed deliveries");
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::super::commit::committer;
    use super::super::tests::{count, one_space_app, unbudgeted};
    use super::super::{Intake, Rcpt, Workers};
    use super::*;
    use crate::ingest::Source;
    use crate::ingest::auth::Client;

    /// Deliveries that overflow the processing queue wait in the store and are swept back in:
    /// every accepted message ends up threaded, none twice. The processor starts only after the
    /// deliveries, so a queue of one overflows by construction, not by scheduling.
    #[tokio::test(flavor = "current_thread")]
    async fn an_overflowing_queue_loses_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (app, space) = one_space_app(dir.path()).await;
        let (commits, commit_rx) = mpsc::channel(1024);
        let (logged, logged_rx) = mpsc::channel(1);
        let (overflow, overflowed) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicU64::new(0)));
        let committer = tokio::spawn(committer(app.clone(), commit_rx));
        let intake = Intake { app: app.clone(), commits, logged, overflow: overflow.clone(), overflowed: overflowed.clone() };
        let rcpt = vec![("eng@docket.test".to_string(), Rcpt::Space { space, token_member: None })];
        for i in 0..5 {
            let raw = format!("From: alice@example.org\r\nSubject: m{i}\r\nMessage-ID: <m{i}@example.org>\r\n\r\nbody {i}\r\n");
            let replies =
                intake.deliver("alice@example.org", &rcpt, raw.into_bytes(), Source::Smtp, unbudgeted(), &Client::default()).await;
            assert_eq!(replies[0].code, 250);
        }
        assert_eq!(overflowed.load(Ordering::Relaxed), 4, "the first waits in the queue of one, the other four overflow");
        assert_eq!(count(&app, "state = 'stored'").await, 0, "nothing is processed yet");
        let processor = tokio::spawn(processor(app.clone(), logged_rx, overflow, overflowed));
        drop(intake);
        Workers { committer, processor }.flush().await;
        assert_eq!(count(&app, "state = 'stored'").await, 5);
        let (messages,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM messages").fetch_one(app.store.pool()).await.unwrap();
        assert_eq!(messages, 5, "each message threaded once");
    }
}

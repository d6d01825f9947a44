//! Admission for the network doors (SMTP and LMTP): recipients are checked at RCPT, the sender
//! policy at the end of DATA, and the raw message is committed before the 250 — in group commits,
//! so concurrent sessions share one fsync. Threading and recording follow in one background
//! worker, batched the same way; a crash in between is finished by `ingest::recover`.

use super::address::{self, Recipient};
use super::auth::{Client, Verdicts};
use super::budget::Reservation;
use super::policy::{Reason, Verdict};
use super::refusal::Refusal;
use super::session::Reply;
use super::{Prepared, Source, StoredMessage, Target, reply_slot, store_prepared, token};
use crate::app::App;
use crate::store::StoreError;
use crate::store::messages::{NewInbound, RawInsert};
use crate::store::spaces::{Member, Space};
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// Most deliveries written in one transaction.
const MAX_BATCH: usize = 128;
/// Committed deliveries waiting in memory for threading, at most. Beyond it a delivery waits in
/// the store alone (state `received`) and the processor reads it back: memory stays bounded
/// however far processing falls behind the doors.
const MAX_WAITING: usize = 512;
/// Pause before retrying when the database refuses temporarily.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Where an accepted recipient leads.
#[derive(Debug, Clone)]
pub enum Rcpt {
    /// A space, and for `SPACE+TOKEN@` the member the token was issued to.
    Space {
        space: Space,
        token_member: Option<String>,
    },
    Commands,
}

/// The admission desk shared by every connection. Cloning is cheap.
#[derive(Debug, Clone)]
pub struct Intake {
    app: App,
    commits: mpsc::Sender<Job>,
    logged: mpsc::Sender<Logged>,
    /// Set when a committed delivery did not fit in `logged`: the processor sweeps the store.
    overflow: Arc<AtomicBool>,
    /// How many deliveries overflowed, ever (logged by the sweep).
    overflowed: Arc<AtomicU64>,
}

/// The committer and processor tasks; they end once every `Intake` clone is dropped and their
/// queues are empty.
#[derive(Debug)]
pub struct Workers {
    committer: JoinHandle<()>,
    processor: JoinHandle<()>,
}

impl Workers {
    /// Waits until everything handed to the intake is committed and processed.
    pub async fn flush(self) {
        let _ = self.committer.await;
        let _ = self.processor.await;
    }
}

/// One message's writes, committed together.
#[derive(Debug)]
struct Job {
    raw: Vec<u8>,
    dedup_key: String,
    content_hash: String,
    mail_from: Option<String>,
    source: Source,
    received_at: i64,
    rows: Vec<Row>,
    commands: bool,
    done: oneshot::Sender<Result<Vec<RawInsert>, StoreError>>,
}

/// The delivery into one space.
#[derive(Debug)]
struct Row {
    space: Space,
    rcpt_to: Vec<String>,
    quarantine: Option<Reason>,
    /// Who is owed a notice when quarantined (a human sender).
    notify: Option<String>,
}

/// A committed delivery waiting to be threaded and recorded.
#[derive(Debug)]
struct Logged {
    inbound_id: i64,
    space: Space,
    prepared: Arc<Prepared>,
    rcpt_to: Vec<String>,
    /// The message's share of the memory budget, given back once it is processed (none for a
    /// delivery read back from the store).
    _held: Option<Arc<Reservation>>,
}

impl Intake {
    pub fn start(app: App) -> (Intake, Workers) {
        Self::start_with(app, MAX_WAITING)
    }

    fn start_with(app: App, waiting: usize) -> (Intake, Workers) {
        let (commits, commit_rx) = mpsc::channel(1024);
        let (logged, logged_rx) = mpsc::channel(waiting);
        let overflow = Arc::new(AtomicBool::new(false));
        let overflowed = Arc::new(AtomicU64::new(0));
        let committer = tokio::spawn(committer(app.clone(), commit_rx));
        let processor = tokio::spawn(processor(app.clone(), logged_rx, overflow.clone(), overflowed.clone()));
        (Intake { app, commits, logged, overflow, overflowed }, Workers { committer, processor })
    }

    pub fn app(&self) -> &App {
        &self.app
    }

    /// MAIL FROM: the per-sender rate limit (`security.per_sender_per_hour`). The null sender is
    /// not limited here (bounces are quarantined, and refusing them only makes them come back).
    pub async fn check_sender(&self, mail_from: &str) -> Result<(), Reply> {
        if mail_from.is_empty() {
            return Ok(());
        }
        let since = self.app.now().timestamp() - 3600;
        let sent = self.app.store.deliveries_from_since(&mail_from.to_ascii_lowercase(), since).await.map_err(|e| store_down(&e))?;
        let limit = self.app.config.security.per_sender_per_hour;
        if u64::try_from(sent).unwrap_or(0) >= limit {
            return Err(Reply::new(
                450,
                (4, 7, 1),
                format!("{mail_from} sent {sent} messages in the last hour (limit {limit}); try again later"),
            ));
        }
        Ok(())
    }

    /// RCPT TO: what the address is, with a precise refusal for anything we do not serve.
    pub async fn check_recipient(&self, rcpt: &str) -> Result<Rcpt, Reply> {
        let domain = &self.app.config.server.domain;
        let space = |slug: &str| {
            let store = &self.app.store;
            let slug = slug.to_string();
            async move { store.space(&slug).await.map_err(|e| store_down(&e)) }
        };
        match address::classify(rcpt, domain) {
            Recipient::Foreign => Err(Reply::new(550, (5, 7, 1), format!("relaying denied: this server only takes mail for {domain}"))),
            Recipient::Unknown => Err(no_such(rcpt)),
            Recipient::Commands => Ok(Rcpt::Commands),
            Recipient::Space { slug } => match space(&slug).await? {
                Some(space) => Ok(Rcpt::Space { space, token_member: None }),
                None => Err(no_such(rcpt)),
            },
            Recipient::Reply { slug, token } => {
                let Some(space) = space(&slug).await? else { return Err(no_such(rcpt)) };
                let bad = || {
                    Reply::new(550, (5, 7, 1), format!("{rcpt}: this reply address is not valid (it was altered or is not from {domain})"))
                };
                let slot = token::verify(self.app.secret.bytes(), &token).ok_or_else(bad)?;
                let member = self.app.store.member_by_id(space.id, slot.member_id).await.map_err(|e| store_down(&e))?.ok_or_else(bad)?;
                Ok(Rcpt::Space { space, token_member: Some(member.email) })
            }
        }
    }

    /// End of DATA: one reply per recipient, in order (LMTP needs them all; SMTP sends the first
    /// that is not a success, else a success). 2xx only once the raw message is committed.
    /// `held` is the message's share of the memory budget: it stays taken while the parse waits
    /// in the processing queue. `client` is what the door knows of the sending host (for SPF).
    pub async fn deliver(
        &self,
        mail_from: &str,
        rcpts: &[(String, Rcpt)],
        raw: Vec<u8>,
        source: Source,
        held: Reservation,
        client: &Client,
    ) -> Vec<Reply> {
        let _timer = crate::metrics::ingest_timer();
        if raw.iter().all(u8::is_ascii_whitespace) {
            return vec![Reply::new(554, (5, 6, 0), "empty message: nothing to store"); rcpts.len()];
        }
        let (raw, prepared) = super::prepare_off_runtime(raw).await;
        let prepared = Arc::new(prepared);
        let per_recipient = source == Source::Lmtp;
        let posting = rcpts.iter().any(|(_, r)| matches!(r, Rcpt::Space { .. }));
        // Replies through valid reply tokens need no DMARC check (the token proves the thread).
        let all_tokens = rcpts.iter().all(|(_, r)| !matches!(r, Rcpt::Space { token_member: None, .. }));
        let auth = match posting {
            true => super::authenticate_sender(&self.app, &raw, &prepared.parsed, client, all_tokens).await,
            false => Verdicts::default(),
        };
        let mut verdicts: Vec<Option<Verdict>> = Vec::with_capacity(rcpts.len());
        for (_, rcpt) in rcpts {
            let Rcpt::Space { space, token_member } = rcpt else {
                verdicts.push(None);
                continue;
            };
            let members = match self.app.store.members(space).await {
                Ok(m) => m,
                Err(e) => return vec![store_down(&e); rcpts.len()],
            };
            verdicts.push(Some(super::sender_verdict(&self.app, Some(mail_from), &prepared, &members, token_member.as_deref(), &auth)));
        }
        // One SMTP reply covers every recipient: when some spaces take the message, a space that
        // would refuse it quarantines it instead, so nothing is dropped behind a 250.
        if !per_recipient && verdicts.iter().any(|v| !matches!(v, Some(Verdict::Reject(_)))) {
            for v in verdicts.iter_mut() {
                if let Some(Verdict::Reject(reason)) = v {
                    *v = Some(Verdict::Quarantine(reason.clone()));
                }
            }
        }
        let now = self.app.now().timestamp();
        let mut rows: Vec<Row> = Vec::new();
        let mut commands = false;
        for ((address, rcpt), verdict) in rcpts.iter().zip(&verdicts) {
            match (rcpt, verdict) {
                (Rcpt::Commands, _) => commands = true,
                (Rcpt::Space { space, .. }, Some(v @ (Verdict::Accept | Verdict::Quarantine(_)))) => {
                    // Two recipients of one space (SPACE@ and SPACE+TOKEN@) are one delivery.
                    if let Some(row) = rows.iter_mut().find(|r| r.space.id == space.id) {
                        row.rcpt_to.push(address.clone());
                        continue;
                    }
                    let quarantine = match v {
                        Verdict::Quarantine(r) => Some(r.clone()),
                        _ => None,
                    };
                    let notify = quarantine
                        .as_ref()
                        .filter(|r| r.notify_sender())
                        .and(prepared.parsed.from.as_ref())
                        .map(|f| f.email.to_ascii_lowercase());
                    rows.push(Row { space: space.clone(), rcpt_to: vec![address.clone()], quarantine, notify });
                }
                (Rcpt::Space { .. }, _) => {}
            }
        }
        // What follows the commit: accepted deliveries go on to threading.
        let follow: Vec<(Space, Vec<String>, bool)> =
            rows.iter().map(|r| (r.space.clone(), r.rcpt_to.clone(), r.quarantine.is_none())).collect();
        let nothing_to_store = rows.is_empty() && !commands;
        let (done, result) = oneshot::channel();
        let job = Job {
            raw,
            dedup_key: prepared.dedup_key.clone(),
            content_hash: prepared.content_hash.clone(),
            mail_from: Some(mail_from.to_ascii_lowercase()),
            source,
            received_at: now,
            rows,
            commands,
            done,
        };
        let committed = if nothing_to_store {
            Ok(Vec::new())
        } else if self.commits.send(job).await.is_err() {
            Err(Reply::new(421, (4, 3, 2), "shutting down; try again later"))
        } else {
            match result.await {
                Ok(Ok(inserts)) => Ok(inserts),
                Ok(Err(e)) => Err(store_down(&e)),
                Err(_) => Err(Reply::new(451, (4, 3, 0), "storage worker stopped; try again later")),
            }
        };
        let inserts = match committed {
            Ok(inserts) => inserts,
            Err(reply) => {
                return verdicts.iter().map(|v| if let Some(Verdict::Reject(r)) = v { r.reply() } else { reply.clone() }).collect();
            }
        };
        if commands {
            // Mail to the commands address goes on to its own stage (ingest::commands).
            super::commands::after_commit(&self.app, &prepared.dedup_key).await;
        }
        let held = Arc::new(held);
        for ((space, rcpt_to, accepted), insert) in follow.into_iter().zip(inserts) {
            if let (RawInsert::Inserted(inbound_id), true) = (insert, accepted) {
                let waiting = Logged { inbound_id, space, prepared: prepared.clone(), rcpt_to, _held: Some(held.clone()) };
                if let Err(mpsc::error::TrySendError::Full(_)) = self.logged.try_send(waiting) {
                    self.overflowed.fetch_add(1, Ordering::Relaxed);
                    self.overflow.store(true, Ordering::Release);
                }
            }
        }
        let replies: Vec<Reply> = verdicts
            .iter()
            .map(|v| match v {
                Some(Verdict::Reject(r)) => r.reply(),
                Some(Verdict::Quarantine(r)) => Reply::new(250, (2, 6, 0), format!("held for review: {}", r.describe())),
                _ => Reply::new(250, (2, 0, 0), "stored"),
            })
            .collect();
        log_outcomes(mail_from, &prepared, rcpts, &verdicts, &replies);
        replies
    }
}

/// One line per recipient, as an MTA log has it: message id, space, sender, code (docs/configuration.md, `[log]`).
/// The thread is logged once the message is threaded ("stored").
fn log_outcomes(mail_from: &str, prepared: &Prepared, rcpts: &[(String, Rcpt)], verdicts: &[Option<Verdict>], replies: &[Reply]) {
    let msg_id = prepared.parsed.message_id.as_deref().unwrap_or("");
    for (((_, rcpt), verdict), reply) in rcpts.iter().zip(verdicts).zip(replies) {
        let space = match rcpt {
            Rcpt::Space { space, .. } => space.slug.as_str(),
            Rcpt::Commands => crate::ingest::address::COMMANDS,
        };
        let (outcome, reason) = match verdict {
            Some(Verdict::Reject(r)) => ("refused", r.code()),
            Some(Verdict::Quarantine(r)) => ("quarantined", r.code()),
            _ if reply.code >= 400 => ("deferred", ""),
            _ => ("accepted", ""),
        };
        tracing::info!(msg.id = msg_id, space, sender = mail_from, code = reply.code, reason, "{outcome}");
    }
}

fn no_such(rcpt: &str) -> Reply {
    Reply::new(550, (5, 1, 1), format!("{rcpt}: no such space or address here"))
}

/// Nothing was stored: the sender keeps the message and retries (RFC 5321 §4.2.5).
fn store_down(e: &StoreError) -> Reply {
    tracing::warn!(error = %e, "store refused; answering 451");
    Reply::new(451, (4, 3, 0), "cannot store the message right now; try again later")
}

/// Commits jobs in batches: whatever queued while the previous commit was running goes together.
async fn committer(app: App, mut jobs: mpsc::Receiver<Job>) {
    while let Some(first) = jobs.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        match write(&app, &batch).await {
            Ok(results) => {
                for (job, result) in batch.into_iter().zip(results) {
                    let _ = job.done.send(Ok(result));
                }
            }
            // One bad message must not fail its neighbours: retry each alone.
            Err(_) if batch.len() > 1 => {
                for job in batch {
                    let result = write(&app, std::slice::from_ref(&job)).await.map(|mut r| r.remove(0));
                    let _ = job.done.send(result);
                }
            }
            Err(e) => {
                if let Some(job) = batch.pop() {
                    let _ = job.done.send(Err(e));
                }
            }
        }
    }
}

async fn write(app: &App, batch: &[Job]) -> Result<Vec<Vec<RawInsert>>, StoreError> {
    let mut tx = app.store.begin().await?;
    let mut results = Vec::with_capacity(batch.len());
    for job in batch {
        let mut inserts = Vec::with_capacity(job.rows.len());
        for row in &job.rows {
            let insert = tx
                .insert_inbound(&NewInbound {
                    space_id: row.space.id,
                    dedup_key: &job.dedup_key,
                    content_hash: &job.content_hash,
                    raw: &job.raw,
                    source: job.source.as_str(),
                    mail_from: job.mail_from.as_deref(),
                    rcpt_to: &serde_json::to_string(&row.rcpt_to).unwrap_or_else(|_| "[]".into()),
                    received_at: job.received_at,
                })
                .await?;
            if let (RawInsert::Inserted(id), Some(reason)) = (&insert, &row.quarantine) {
                tx.quarantine(*id, reason.code(), &reason.describe()).await?;
                if let Some(to) = &row.notify {
                    tx.insert_notice(row.space.id, to, reason.code(), &reason.describe(), *id, job.received_at).await?;
                }
            }
            inserts.push(insert);
        }
        if job.commands {
            tx.insert_command_mail(&job.dedup_key, &job.raw, job.mail_from.as_deref(), job.received_at).await?;
        }
        results.push(inserts);
    }
    tx.commit().await?;
    Ok(results)
}

/// Threads and records committed deliveries, in arrival order, in batches; once the queue is
/// drained, the deliveries that overflowed it are read back from the store.
async fn processor(app: App, mut logged: mpsc::Receiver<Logged>, overflow: Arc<AtomicBool>, overflowed: Arc<AtomicU64>) {
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
        let page = match app.store.unprocessed_inbound(after, MAX_BATCH as i64, super::PAGE_BYTES).await {
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
            let (_, prepared) = super::prepare_off_runtime(raw).await;
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
                    if let Err(e) = super::process_logged(app, &l.space, l.inbound_id, &l.prepared, &l.rcpt_to, now).await {
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
    use super::*;
    use crate::config::Config;
    use crate::ingest::budget::Budget;
    use crate::space::MemberSettings;

    /// The app with a DNS-free verifier: DMARC finds no record for the test domains.
    fn offline(app: App) -> App {
        App { dkim: Arc::new(crate::ingest::auth::Dkim::offline()), ..app }
    }

    /// A delivery outside any budget.
    fn unbudgeted() -> Reservation {
        Reservation::new(Budget::new(0))
    }

    async fn one_space_app(dir: &std::path::Path) -> (App, Space) {
        let mut config = Config::defaults_in(dir).unwrap();
        config.server.domain = "docket.test".into();
        let app = offline(App::open(config).await.unwrap());
        let space = app.store.add_space("eng", "Engineering", 0).await.unwrap();
        app.store.add_member(&space, "alice@example.org", "alice", &MemberSettings::default(), 0).await.unwrap();
        (app, space)
    }

    /// Issue 11: a stored message's share of the memory budget stays taken while its parse waits
    /// to be processed, so the queue's parses count against `smtp.memory_budget` too.
    #[tokio::test(flavor = "current_thread")]
    async fn a_queued_parse_keeps_its_budget_share_until_processed() {
        let dir = tempfile::tempdir().unwrap();
        let (app, space) = one_space_app(dir.path()).await;
        let (intake, workers) = Intake::start(app.clone());
        let rcpt = vec![("eng@docket.test".to_string(), Rcpt::Space { space, token_member: None })];
        let raw = b"From: alice@example.org\r\nSubject: held\r\nMessage-ID: <held@example.org>\r\n\r\nbody\r\n".to_vec();
        let budget = Budget::new(1 << 20);
        let mut share = Reservation::new(budget.clone());
        assert!(share.resize(raw.len() as u64));
        let replies = intake.deliver("alice@example.org", &rcpt, raw.clone(), Source::Smtp, share, &Client::default()).await;
        assert_eq!(replies[0].code, 250);
        // Committed, not yet processed: the processor has not run since (one thread, no await).
        assert_eq!(budget.used(), raw.len() as u64, "the share was given back before processing");
        drop(intake);
        workers.flush().await;
        assert_eq!(count(&app, "state = 'stored'").await, 1);
        assert_eq!(budget.used(), 0, "processed: the share is back");
    }

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

    /// Parsing runs on the blocking pool: on a one-thread runtime the parse of a large message is
    /// still under way when the task that started it yields, so timers and other sessions move.
    #[tokio::test(flavor = "current_thread")]
    async fn parsing_leaves_the_runtime_thread_free() {
        let mut raw = b"From: a@example.org\r\nSubject: big\r\n\r\n".to_vec();
        for i in 0..200_000 {
            raw.extend_from_slice(format!("> quoted line {i} of a long reply that goes on and on\r\n").as_bytes());
        }
        let parse = tokio::spawn(super::super::prepare_off_runtime(raw));
        tokio::task::yield_now().await;
        assert!(!parse.is_finished(), "the parse ran on the runtime thread");
        let (_, prepared) = parse.await.unwrap();
        assert_eq!(prepared.parsed.subject, "big");
    }

    async fn count(app: &App, state: &str) -> i64 {
        let sql = format!("SELECT COUNT(*) FROM inbound WHERE {state}");
        let (n,): (i64,) = sqlx::query_as(&sql).fetch_one(app.store.pool()).await.unwrap();
        n
    }
}

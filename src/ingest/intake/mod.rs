//! Admission for the network doors (SMTP and LMTP): recipients are checked at RCPT, the sender
//! policy at the end of DATA, and the raw message is committed before the 250 — in group commits,
//! so concurrent sessions share one fsync. Threading and recording follow in one background
//! worker, batched the same way; a crash in between is finished by `ingest::recover`.
//!
//! This module holds the doors' side (the checks at RCPT and the end of DATA); `commit` writes
//! the raw messages in group commits, `process` threads and records them in the background.

mod commit;
mod process;

use commit::committer;
use process::processor;

use super::address::{self, Recipient};
use super::auth::{Client, Verdicts};
use super::budget::Reservation;
use super::policy::{Reason, Verdict};
use super::refusal::Refusal;
use super::session::Reply;
use super::{Prepared, Source, token};
use crate::app::App;
use crate::store::StoreError;
use crate::store::messages::RawInsert;
use crate::store::spaces::Space;
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
    pub(super) fn unbudgeted() -> Reservation {
        Reservation::new(Budget::new(0))
    }

    pub(super) async fn one_space_app(dir: &std::path::Path) -> (App, Space) {
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

    pub(super) async fn count(app: &App, state: &str) -> i64 {
        let sql = format!("SELECT COUNT(*) FROM inbound WHERE {state}");
        let (n,): (i64,) = sqlx::query_as(&sql).fetch_one(app.store.pool()).await.unwrap();
        n
    }
}

//! The outbound run at `now` (called by `tick`): loads rows, applies the pure planners, renders
//! what they say is due, queues it under its dedup key and hands the due queue to the mailer.
//! Every step is idempotent: running it twice at one time, or again after a crash, queues nothing
//! new. Work is paged (messages by id, members by id), so memory stays flat with the data size.
//! One file per planner's job: `fanout_job` (copies and receipts), `notices`, `command_job`,
//! `reminder_job`, `proposal_job`, `ask_job`, `loop_job`, `digest_job`; `rerender` retries kept mail, `check`
//! lists it for `docket check`, `preview` shows a digest without queueing it.

mod ask_job;
mod check;
mod command_job;
mod digest_job;
mod fanout_job;
mod loop_job;
mod notices;
mod preview;
mod proposal_job;
mod reminder_job;
mod rerender;

pub use check::unrenderable;
pub use digest_job::{SpaceNews, digest_model};
pub use preview::preview;

use ask_job::ask_mail;
use command_job::commands_mail;
use digest_job::{digest_mail, digests};
use fanout_job::fan_out;
use loop_job::{Looping, loop_mail, looping_threads};
use notices::{notice_mail, sender_notices};
use proposal_job::proposal_mail;
use reminder_job::reminders_mail;
use rerender::rerender;

use super::digest::{self};
use super::outbound::{self, Delivery};
use super::render::{self, Model, Plan, RenderError};
use super::{Kind, fanout};
use crate::app::App;
use crate::identity::token::{self, ReplySlot};
use crate::notify::NotifyError;
use crate::store::StoreError;
use crate::store::messages::Tx;
use crate::store::outbound::NewOutbound;
use crate::store::spaces::{Member, Space};
use crate::store::unrendered::{NewUnrendered, Unrendered};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Arc;

/// Messages loaded per page (each is planned and queued in its own transaction).
const MESSAGE_PAGE: i64 = 16;
/// Members planned per digest transaction.
const MEMBER_PAGE: i64 = 500;
/// Rendered mail held before it is queued (bounds memory when thousands are due at once).
const QUEUE_BATCH: usize = 500;
/// Kept unrendered mail rendered again per transaction.
const RERENDER_PAGE: i64 = 100;
/// Kept unrendered mail `docket check` names one by one; the rest is counted.
const CHECK_LIST: usize = 20;
/// A message received this long ago is committed whatever writer stored it: the floor may pass it.
const SETTLE: i64 = 3600;
/// Threads looked at for loop alerts: those active in this window.
const LOOP_WINDOW: i64 = 14 * 86_400;

/// What one run queued and sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Newly queued mail per kind.
    pub queued: Vec<(&'static str, usize)>,
    pub delivery: Delivery,
}

impl Report {
    fn add(&mut self, kind: Kind, n: usize) {
        if n == 0 {
            return;
        }
        match self.queued.iter_mut().find(|(k, _)| *k == kind.as_str()) {
            Some((_, total)) => *total += n,
            None => self.queued.push((kind.as_str(), n)),
        }
    }
}

/// Plans and queues everything due at `now`, then delivers the due queue.
pub async fn run(app: &App, now: DateTime<Utc>) -> Result<Report, NotifyError> {
    let mut report = Report::default();
    let mut ctx = Ctx::new(app, now);
    rerender(&mut ctx, &mut report).await?;
    fan_out(&mut ctx, &mut report).await?;
    sender_notices(&mut ctx, &mut report).await?;
    commands_mail(&mut ctx, &mut report).await?;
    reminders_mail(&mut ctx, &mut report).await?;
    proposal_mail(&mut ctx, &mut report).await?;
    ask_mail(&mut ctx, &mut report).await?;
    let looping = loop_mail(&mut ctx, &mut report).await?;
    digests(&mut ctx, &mut report, &looping).await?;
    report.delivery = outbound::deliver(app, now).await?;
    Ok(report)
}

/// Per-run caches of spaces, members and mutes (shared, not copied, with each mail planned).
struct Ctx<'a> {
    app: &'a App,
    now: DateTime<Utc>,
    spaces: HashMap<i64, Space>,
    members: HashMap<i64, Arc<[Member]>>,
    mutes: HashMap<i64, Arc<[(i64, i64)]>>,
    /// Digest news per space, read once per run (from the earliest `since` asked for).
    news: HashMap<i64, SpaceNews>,
}

impl<'a> Ctx<'a> {
    fn new(app: &'a App, now: DateTime<Utc>) -> Self {
        Ctx { app, now, spaces: HashMap::new(), members: HashMap::new(), mutes: HashMap::new(), news: HashMap::new() }
    }

    fn ts(&self) -> i64 {
        self.now.timestamp()
    }

    fn domain(&self) -> &str {
        &self.app.config.server.domain
    }

    /// Envelope sender and From of generated mail: `outbound.from`, else `docket@DOMAIN`.
    fn sender(&self) -> String {
        let from = &self.app.config.outbound.from;
        if from.is_empty() { format!("{}@{}", crate::identity::address::COMMANDS, self.domain()) } else { from.clone() }
    }

    async fn load(&mut self, space_id: i64) -> Result<(), NotifyError> {
        if !self.spaces.contains_key(&space_id) {
            let space = self.app.store.space_by_id(space_id).await?;
            self.members.insert(space_id, self.app.store.members(&space).await?.into());
            self.mutes.insert(space_id, self.app.store.mutes(space_id).await?.into());
            self.spaces.insert(space_id, space);
        }
        Ok(())
    }

    async fn space(&mut self, space_id: i64) -> Result<(Space, Arc<[Member]>, Arc<[(i64, i64)]>), NotifyError> {
        self.load(space_id).await?;
        Ok((
            self.spaces.get(&space_id).cloned().ok_or_else(|| StoreError::NotFound(format!("no space with id {space_id}")))?,
            self.members.get(&space_id).cloned().unwrap_or_else(|| Arc::from([])),
            self.mutes.get(&space_id).cloned().unwrap_or_else(|| Arc::from([])),
        ))
    }

    /// [`reply_address`] on this run's app.
    fn reply_address(&self, slug: &str, thread_id: i64, member_id: i64) -> String {
        reply_address(self.app, slug, thread_id, member_id)
    }

    fn list_headers(&self, space: &Space, member: &Member) -> Vec<(&'static str, String)> {
        let (mailto, url) = unsubscribe(self.app, space, member);
        vec![
            ("List-Id", list_id(space, self.domain())),
            ("List-Unsubscribe", format!("<{url}>, <{mailto}>")),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click".into()),
            ("X-Loop", self.app.config.space_address(&space.slug)),
        ]
    }

    /// Renders a generated mail for a member of a space and wraps it for the queue.
    fn render(
        &self,
        kind: Kind,
        key: String,
        space: Option<&Space>,
        to: &str,
        e: render::Envelope,
        m: &Model,
    ) -> Result<NewOutbound, RenderError> {
        Ok(NewOutbound {
            raw: render::mail(kind, e, m, self.domain(), self.now)?,
            dedup_key: key,
            kind: kind.as_str().into(),
            space_id: space.map(|s| s.id),
            recipient: to.to_string(),
            mail_from: self.sender(),
        })
    }

    /// [`Ctx::render`]; a mail that cannot be rendered is kept with its plan and error (the
    /// caller records it where it would have queued the mail), never dropped.
    fn generated(&self, kind: Kind, key: String, space: Option<&Space>, to: &str, e: render::Envelope, m: &Model) -> Generated {
        match self.render(kind, key.clone(), space, to, e.clone(), m) {
            Ok(mail) => Generated::Mail(mail),
            Err(err) => {
                tracing::warn!(outbound.kind = kind.as_str(), outbound.key = %key, error = %err, "cannot render generated mail; kept for the next run (docket check)");
                Generated::Unrendered(NewUnrendered {
                    dedup_key: key,
                    kind: kind.as_str().into(),
                    space_id: space.map(|s| s.id),
                    recipient: to.to_string(),
                    plan: Plan { envelope: e, model: m.clone() }.to_json(),
                    error: err.to_string(),
                })
            }
        }
    }

    /// A kept mail rendered again, From and envelope sender as configured now (a wrong
    /// `outbound.from` may have been what failed).
    fn render_again(&self, row: &Unrendered) -> Result<(Kind, NewOutbound), RenderError> {
        let kind: Kind = row.kind.parse().map_err(RenderError::Plan)?;
        let mut plan = Plan::from_json(&row.plan)?;
        plan.envelope.from = self.sender();
        let mail = NewOutbound {
            raw: render::mail(kind, plan.envelope, &plan.model, self.domain(), self.now)?,
            dedup_key: row.dedup_key.clone(),
            kind: row.kind.clone(),
            space_id: row.space_id,
            recipient: row.recipient.clone(),
            mail_from: self.sender(),
        };
        Ok((kind, mail))
    }

    fn envelope(&self, space: Option<&Space>, to: &str, subject: String) -> render::Envelope {
        render::Envelope {
            from_name: space.map_or("docket".to_string(), |s| format!("{} via docket", s.slug)),
            from: self.sender(),
            to: to.to_string(),
            to_name: None,
            reply_to: None,
            subject,
            in_reply_to: None,
            references: Vec::new(),
            headers: Vec::new(),
        }
    }
}

/// A planned generated mail: rendered for the queue, or kept to be rendered again.
#[derive(Debug, Clone)]
enum Generated {
    Mail(NewOutbound),
    Unrendered(NewUnrendered),
}

/// Queues a rendered mail, or keeps one that failed to render; true when newly queued.
async fn put(tx: &mut Tx, g: &Generated, now: i64) -> Result<bool, NotifyError> {
    match g {
        Generated::Mail(m) => Ok(tx.enqueue(m, now).await?),
        Generated::Unrendered(u) => {
            tx.record_unrendered(u, now).await?;
            Ok(false)
        }
    }
}

/// [`put`] for many: the rendered mail in multi-row inserts, the kept ones one by one; returns
/// how many were newly queued.
async fn put_many(tx: &mut Tx, planned: &[Generated], now: i64) -> Result<usize, NotifyError> {
    let mut mail = Vec::with_capacity(planned.len());
    for g in planned {
        match g {
            Generated::Mail(m) => mail.push(m),
            Generated::Unrendered(u) => tx.record_unrendered(u, now).await?,
        }
    }
    Ok(tx.enqueue_all(&mail, now).await?)
}

/// [`put_many`] in a transaction of its own; returns how many were newly queued.
async fn put_all(app: &App, planned: &[Generated], now: i64) -> Result<usize, NotifyError> {
    if planned.is_empty() {
        return Ok(0);
    }
    let mut tx = app.store.begin().await?;
    let n = put_many(&mut tx, planned, now).await?;
    tx.commit().await?;
    Ok(n)
}

/// `SPACE+TOKEN@DOMAIN`: replies land in `thread_id` as `member_id`. Every mail that offers a
/// member a reply slot (fan-out copies' Reply-To, digests' links, reminders …) takes it from here.
pub fn reply_address(app: &App, slug: &str, thread_id: i64, member_id: i64) -> String {
    let t = token::sign(app.secret.bytes(), ReplySlot { thread_id, member_id });
    format!("{slug}+{t}@{}", app.config.server.domain)
}

fn list_id(space: &Space, domain: &str) -> String {
    format!("{} <{}.{domain}>", fanout::phrase(&space.name), space.slug)
}

/// The RFC 8058 pair: a mailto to the commands address and an HTTPS one-click URL.
fn unsubscribe(app: &App, space: &Space, member: &Member) -> (String, String) {
    let t = token::sign(app.secret.bytes(), ReplySlot { thread_id: 0, member_id: member.id });
    let mailto = format!("mailto:{}@{}?subject=unsubscribe%20{}", crate::identity::address::COMMANDS, app.config.server.domain, space.slug);
    (mailto, format!("{}/unsubscribe/{}/{t}", app.config.http.base_url, space.slug))
}

fn member_of<'m>(members: &'m [Member], email: &str) -> Option<&'m Member> {
    members.iter().find(|m| m.email.eq_ignore_ascii_case(email))
}

/// Mail queued inside one transaction, counted in the report.
struct Queue<'r> {
    tx: crate::store::messages::Tx,
    now: i64,
    report: &'r mut Report,
}

impl Queue<'_> {
    async fn push(&mut self, kind: Kind, m: NewOutbound) -> Result<(), NotifyError> {
        self.put(kind, Generated::Mail(m)).await
    }

    async fn put(&mut self, kind: Kind, g: Generated) -> Result<(), NotifyError> {
        if put(&mut self.tx, &g, self.now).await? {
            self.report.add(kind, 1);
        }
        Ok(())
    }
}

/// A digest built at `now` tells what became known up to the second before: times are whole
/// seconds, and something arriving later within the same second belongs to the next digest.
fn known_until(now: i64) -> i64 {
    now - 1
}

async fn last_digest(app: &App, member_id: i64) -> Result<Option<digest::Last>, NotifyError> {
    Ok(app.store.digest_slots(member_id, member_id).await?.first().map(|(_, slot, at)| digest::Last { slot: *slot, at: *at }))
}

//! The outbound run at `now` (called by `tick`): loads rows, applies the pure planners, renders
//! what they say is due, queues it under its dedup key and hands the due queue to the mailer.
//! Every step is idempotent: running it twice at one time, or again after a crash, queues nothing
//! new. Work is paged (messages by id, members by id), so memory stays flat with the data size.

use super::commands;
use super::digest::{self, Schedule};
use super::outbound::{self, Delivery};
use super::render::{self, Model, Plan, RenderError, Row};
use super::{Kind, fanout, local_time, loops, proposals, receipts, reminders, zone};
use crate::app::App;
use crate::ingest::policy::{self, Facts, Verdict};
use crate::ingest::token::{self, ReplySlot};
use crate::parse::{mime, reply};
use crate::store::StoreError;
use crate::store::intake::Notice;
use crate::store::items::{DecisionRow, ProposalRow};
use crate::store::messages::Tx;
use crate::store::outbound::{ItemTable, LoopDecision, MessageOut, NewOutbound, ThreadMessage};
use crate::store::spaces::{Member, Space};
use crate::store::unrendered::{NewUnrendered, Unrendered};
use chrono::{DateTime, Utc};
use std::collections::HashMap;

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
pub async fn run(app: &App, now: DateTime<Utc>) -> Result<Report, StoreError> {
    let mut report = Report::default();
    let mut ctx = Ctx::new(app, now);
    rerender(&mut ctx, &mut report).await?;
    fan_out(&mut ctx, &mut report).await?;
    sender_notices(&mut ctx, &mut report).await?;
    commands_mail(&mut ctx, &mut report).await?;
    reminders_mail(&mut ctx, &mut report).await?;
    proposal_mail(&mut ctx, &mut report).await?;
    let looping = loop_mail(&mut ctx, &mut report).await?;
    digests(&mut ctx, &mut report, &looping).await?;
    report.delivery = outbound::deliver(app, now).await?;
    Ok(report)
}

/// Per-run caches of spaces, members and mutes.
struct Ctx<'a> {
    app: &'a App,
    now: DateTime<Utc>,
    spaces: HashMap<i64, Space>,
    members: HashMap<i64, Vec<Member>>,
    mutes: HashMap<i64, Vec<(i64, i64)>>,
    /// Digest news per (space, since).
    news: HashMap<(i64, i64), SpaceNews>,
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
        if from.is_empty() { format!("{}@{}", crate::ingest::address::COMMANDS, self.domain()) } else { from.clone() }
    }

    async fn load(&mut self, space_id: i64) -> Result<(), StoreError> {
        if !self.spaces.contains_key(&space_id) {
            let space = self.app.store.space_by_id(space_id).await?;
            self.members.insert(space_id, self.app.store.members(&space).await?);
            self.mutes.insert(space_id, self.app.store.mutes(space_id).await?);
            self.spaces.insert(space_id, space);
        }
        Ok(())
    }

    async fn space(&mut self, space_id: i64) -> Result<(Space, Vec<Member>, Vec<(i64, i64)>), StoreError> {
        self.load(space_id).await?;
        Ok((
            self.spaces.get(&space_id).cloned().ok_or_else(|| StoreError::NotFound(format!("no space with id {space_id}")))?,
            self.members.get(&space_id).cloned().unwrap_or_default(),
            self.mutes.get(&space_id).cloned().unwrap_or_default(),
        ))
    }

    /// `SPACE+TOKEN@DOMAIN`: replies land in `thread_id` as `member_id`.
    fn reply_address(&self, slug: &str, thread_id: i64, member_id: i64) -> String {
        let t = token::sign(self.app.secret.bytes(), ReplySlot { thread_id, member_id });
        format!("{slug}+{t}@{}", self.domain())
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
async fn put(tx: &mut Tx, g: &Generated, now: i64) -> Result<bool, StoreError> {
    match g {
        Generated::Mail(m) => tx.enqueue(m, now).await,
        Generated::Unrendered(u) => {
            tx.record_unrendered(u, now).await?;
            Ok(false)
        }
    }
}

/// [`put`] for a batch, in one transaction; returns how many were newly queued.
async fn put_all(app: &App, planned: &[Generated], now: i64) -> Result<usize, StoreError> {
    if planned.is_empty() {
        return Ok(0);
    }
    let mut tx = app.store.begin().await?;
    let mut n = 0;
    for g in planned {
        if put(&mut tx, g, now).await? {
            n += 1;
        }
    }
    tx.commit().await?;
    Ok(n)
}

/// Renders the mail kept in `unrendered` again: what renders now is queued under its key and
/// forgotten in one transaction; what still fails counts the attempt and keeps the newest error.
async fn rerender(ctx: &mut Ctx<'_>, report: &mut Report) -> Result<(), StoreError> {
    let mut after = String::new();
    loop {
        let page = ctx.app.store.unrendered_after(&after, RERENDER_PAGE).await?;
        let Some(last) = page.last() else { return Ok(()) };
        after = last.dedup_key.clone();
        let mut tx = ctx.app.store.begin().await?;
        for row in &page {
            match ctx.render_again(row) {
                Ok((kind, mail)) => {
                    if tx.enqueue(&mail, ctx.ts()).await? {
                        report.add(kind, 1);
                    }
                    tx.forget_unrendered(&row.dedup_key).await?;
                }
                Err(err) => {
                    let again = NewUnrendered {
                        dedup_key: row.dedup_key.clone(),
                        kind: row.kind.clone(),
                        space_id: row.space_id,
                        recipient: row.recipient.clone(),
                        plan: row.plan.clone(),
                        error: err.to_string(),
                    };
                    tx.record_unrendered(&again, ctx.ts()).await?;
                }
            }
        }
        tx.commit().await?;
    }
}

fn list_id(space: &Space, domain: &str) -> String {
    format!("{} <{}.{domain}>", fanout::phrase(&space.name), space.slug)
}

/// The RFC 8058 pair: a mailto to the commands address and an HTTPS one-click URL.
fn unsubscribe(app: &App, space: &Space, member: &Member) -> (String, String) {
    let t = token::sign(app.secret.bytes(), ReplySlot { thread_id: 0, member_id: member.id });
    let mailto = format!("mailto:{}@{}?subject=unsubscribe%20{}", crate::ingest::address::COMMANDS, app.config.server.domain, space.slug);
    (mailto, format!("{}/unsubscribe/{}/{t}", app.config.http.base_url, space.slug))
}

fn member_of<'m>(members: &'m [Member], email: &str) -> Option<&'m Member> {
    members.iter().find(|m| m.email.eq_ignore_ascii_case(email))
}

/// Fan-out copies and receipts for every message not planned yet; each message is marked
/// planned in the transaction that queues its mail, and its copies are queued one by one, so
/// memory holds one message and one copy however large the attachments.
async fn fan_out(ctx: &mut Ctx<'_>, report: &mut Report) -> Result<(), StoreError> {
    let floor = ctx.app.store.cursor("messages").await?;
    loop {
        let page = ctx.app.store.messages_unplanned(floor, MESSAGE_PAGE).await?;
        if page.is_empty() {
            break;
        }
        for msg in &page {
            let mut queue = Queue { tx: ctx.app.store.begin().await?, now: ctx.ts(), report: &mut *report };
            plan_message(ctx, msg, &mut queue).await?;
            queue.tx.mark_message_planned(msg.id).await?;
            queue.tx.commit().await?;
        }
    }
    ctx.app.store.advance_message_floor(floor, ctx.ts() - SETTLE).await?;
    Ok(())
}

/// Mail queued inside one transaction, counted in the report.
struct Queue<'r> {
    tx: crate::store::messages::Tx,
    now: i64,
    report: &'r mut Report,
}

impl Queue<'_> {
    async fn push(&mut self, kind: Kind, m: NewOutbound) -> Result<(), StoreError> {
        self.put(kind, Generated::Mail(m)).await
    }

    async fn put(&mut self, kind: Kind, g: Generated) -> Result<(), StoreError> {
        if put(&mut self.tx, &g, self.now).await? {
            self.report.add(kind, 1);
        }
        Ok(())
    }
}

async fn plan_message(ctx: &mut Ctx<'_>, msg: &MessageOut, out: &mut Queue<'_>) -> Result<(), StoreError> {
    let parsed = mime::parse(&msg.raw);
    if !fanout::wanted(msg, &parsed) {
        return Ok(());
    }
    let (space, members, mutes) = ctx.space(msg.space_id).await?;
    let items = ctx.app.store.message_items(msg.id).await?;
    let owners: Vec<String> = items.tasks.iter().filter_map(|t| t.2.clone()).collect();
    let author = msg.from_name.clone().filter(|n| !n.trim().is_empty()).unwrap_or_else(|| {
        let from = msg.from_addr.as_deref().unwrap_or("someone");
        from.split('@').next().unwrap_or(from).to_string()
    });
    let space_address = ctx.app.config.space_address(&space.slug);
    let date = chrono::DateTime::from_timestamp(msg.date, 0).unwrap_or(ctx.now).to_rfc2822();
    for member in fanout::recipients(msg, &members, &mutes, &owners) {
        let (mailto, url) = unsubscribe(ctx.app, &space, member);
        let headers = fanout::ListHeaders {
            from_name: format!("{author} via {}", space.slug),
            from: space_address.clone(),
            reply_to: ctx.reply_address(&space.slug, msg.thread_id, member.id),
            list_id: list_id(&space, ctx.domain()),
            post: space_address.clone(),
            unsubscribe_mailto: mailto,
            unsubscribe_url: url,
            loop_marker: space_address.clone(),
            fallback_message_id: format!("docket.msg.{}@{}", msg.id, ctx.domain()),
            fallback_date: date.clone(),
        };
        let copy = NewOutbound {
            dedup_key: format!("fanout:{}:{}", msg.id, member.email),
            kind: Kind::Fanout.as_str().into(),
            space_id: Some(space.id),
            recipient: member.email.clone(),
            mail_from: ctx.sender(),
            raw: fanout::copy(&msg.raw, &headers),
        };
        out.push(Kind::Fanout, copy).await?;
    }
    let Some(sender) = msg.from_addr.as_deref() else { return Ok(()) };
    let sender_member = member_of(&members, sender);
    if sender_member.is_some_and(|m| fanout::unsubscribed(m, &mutes)) {
        return Ok(());
    }
    let tz = zone(sender_member.and_then(|m| m.tz.as_deref()), ctx.app.config.server.timezone);
    let Some(receipt) = receipts::due(ctx.app.config.notify.receipts, &items, tz) else { return Ok(()) };
    let labels = receipt.labels();
    let what = if labels.is_empty() { format!("{} warning(s)", receipt.warnings.len()) } else { labels.join(", ") };
    let mut model = Model { title: format!("Recorded from “{}”", msg.subject), ..Default::default() };
    if receipt.lines.is_empty() {
        model.intro.push("Nothing was recorded from your message.".into());
    }
    model.section("Recorded", receipt.lines.iter().map(|l| Row::new(&l.label, &l.text, &l.detail)).collect());
    model.warnings = receipt.warnings.clone();
    model.footer.push(format!("{} · {}", space_address, ctx.app.config.http.base_url));
    let mut e = ctx.envelope(Some(&space), sender, format!("Recorded: {what} ({})", msg.subject));
    e.reply_to = Some(match sender_member {
        Some(m) => ctx.reply_address(&space.slug, msg.thread_id, m.id),
        None => space_address.clone(),
    });
    e.in_reply_to = msg.message_id.clone();
    e.references = msg.message_id.iter().cloned().collect();
    e.headers.push(("X-Loop", space_address.clone()));
    let receipt = ctx.generated(Kind::Receipt, format!("receipt:{}", msg.id), Some(&space), sender, e, &model);
    out.put(Kind::Receipt, receipt).await
}

/// The one notice a human sender is owed when their mail was not posted.
async fn sender_notices(ctx: &mut Ctx<'_>, report: &mut Report) -> Result<(), StoreError> {
    let pending = ctx.app.store.pending_notices().await?;
    if pending.is_empty() {
        return Ok(());
    }
    let mut tx = ctx.app.store.begin().await?;
    for n in pending {
        // A notice that cannot be rendered stays pending (tried again at every tick, shown by `docket check`).
        let m = match notice_mail(ctx, &n).await? {
            Ok(m) => m,
            Err(e) => {
                tracing::error!(notice.id = n.id, error = %e, "cannot render the sender notice; kept for the next tick");
                continue;
            }
        };
        if tx.enqueue(&m, ctx.ts()).await? {
            report.add(Kind::Notice, 1);
        }
        tx.mark_notice_sent(n.id, ctx.ts()).await?;
    }
    tx.commit().await
}

/// The mail owed for a sender notice, or why it cannot be rendered.
async fn notice_mail(ctx: &mut Ctx<'_>, n: &Notice) -> Result<Result<NewOutbound, RenderError>, StoreError> {
    let (space, members, _) = ctx.space(n.space_id).await?;
    let address = ctx.app.config.space_address(&space.slug);
    let mut model = Model { title: format!("Your message to {address} was not posted"), ..Default::default() };
    model.intro.push(n.detail.clone());
    // Only someone who is not a member is told to become one.
    if member_of(&members, &n.recipient).is_some() {
        model.intro.push("It is held for review; an admin of the space can release it.".into());
    } else {
        model.intro.push(format!("If you should be able to post to {address}, ask an admin of the space to add you as a member."));
    }
    let e = ctx.envelope(Some(&space), &n.recipient, format!("Not posted to {address}"));
    Ok(ctx.render(Kind::Notice, format!("notice:{}", n.id), Some(&space), &n.recipient, e, &model))
}

/// Mail kept because it cannot be rendered, for `docket check`: every pending sender notice is
/// rendered again (nothing is queued), mail to the commands address keeps the error of its last
/// try, and every other generated mail waits in `unrendered` with its last error (the first
/// [`CHECK_LIST`] named, the rest counted).
pub async fn unrenderable(app: &App, now: DateTime<Utc>) -> Result<Vec<String>, StoreError> {
    let mut ctx = Ctx::new(app, now);
    let mut out = Vec::new();
    for n in app.store.pending_notices().await? {
        if let Err(e) = notice_mail(&mut ctx, &n).await? {
            out.push(format!("sender notice #{} to {} cannot be rendered: {e}", n.id, n.recipient));
        }
    }
    for (id, mail_from, error) in app.store.unanswered_commands().await? {
        out.push(format!("mail #{id} to the commands address from {} cannot be answered: {error}", mail_from.as_deref().unwrap_or("<>")));
    }
    let kept = app.store.unrendered_after("", i64::try_from(CHECK_LIST).unwrap_or(20)).await?;
    for u in &kept {
        out.push(format!(
            "{} mail {} to {} cannot be rendered ({} attempt(s) since {}, tried again at every tick): {}",
            u.kind,
            u.dedup_key,
            u.recipient,
            u.attempts,
            DateTime::from_timestamp(u.created_at, 0).map_or_else(|| u.created_at.to_string(), |t| t.to_rfc3339()),
            u.error
        ));
    }
    let total = app.store.unrendered_count().await?;
    let more = total - i64::try_from(kept.len()).unwrap_or(0);
    if more > 0 {
        out.push(format!("{more} more generated mail(s) cannot be rendered (tried again at every tick)"));
    }
    Ok(out)
}

/// Answers mail to the commands address; automata get nothing (RFC 3834 §2).
async fn commands_mail(ctx: &mut Ctx<'_>, report: &mut Report) -> Result<(), StoreError> {
    for (id, raw, mail_from) in ctx.app.store.pending_commands().await? {
        let parsed = mime::parse(&raw);
        // With `security.require_dkim`, commands need it too: a forged From must not mute or
        // unsubscribe somebody. A check that cannot run now is retried at the next tick.
        let auth = crate::ingest::authenticate(ctx.app, &raw, &parsed).await;
        if matches!(auth, Some(crate::ingest::auth::Authentication::Unavailable(_))) {
            continue;
        }
        let facts = Facts {
            mail_from: mail_from.as_deref(),
            parsed: &parsed,
            from_is_member: true,
            token_member: None,
            accept_from: crate::config::AcceptFrom::Anyone,
            domain: ctx.domain(),
            auth: auth.as_ref(),
        };
        let verdict = policy::decide(&facts);
        let sender = parsed.from.as_ref().map(|f| f.email.to_ascii_lowercase());
        let (Verdict::Accept, Some(sender)) = (&verdict, sender) else {
            let why = match verdict {
                Verdict::Quarantine(r) | Verdict::Reject(r) => r.describe(),
                Verdict::Accept => "no sender".into(),
            };
            let mut tx = ctx.app.store.begin().await?;
            tx.mark_command(id, crate::store::states::CommandState::Ignored, Some(&why)).await?;
            tx.commit().await?;
            continue;
        };
        let visible = reply::visible_text(parsed.text.as_deref(), parsed.html.as_deref()).text;
        let command = commands::parse(&parsed.subject, &visible);
        let answer = commands::answer(ctx.app, &command, &sender, ctx.ts()).await?;
        let mut model = Model { title: answer.title.clone(), ..Default::default() };
        model.section("", answer.lines.iter().map(|l| Row::new("", l, "")).collect());
        let subject = if parsed.subject.is_empty() { command.name().to_string() } else { parsed.subject.clone() };
        let mut e = ctx.envelope(None, &sender, format!("Re: {}", crate::thread::base_subject(&subject).display));
        e.in_reply_to = parsed.message_id.clone();
        e.references = parsed.message_id.iter().cloned().collect();
        let mut mail = Vec::new();
        let mut built = Vec::new();
        // Someone who is no member gets one reply ever: a forged From cannot turn the commands
        // address into a source of backscatter.
        let member = !ctx.app.store.memberships(&sender).await?.is_empty();
        let key = if member { format!("command:{id}") } else { format!("command-stranger:{sender}") };
        // An answer that cannot be rendered leaves the mail pending with the error (tried again
        // at every tick, shown by `docket check`); its commands are idempotent.
        match ctx.render(Kind::Command, key, None, &sender, e, &model) {
            Ok(m) => mail.push((Kind::Command, Generated::Mail(m))),
            Err(err) => {
                tracing::error!(command.id = id, error = %err, "cannot render the answer; kept for the next tick");
                let mut tx = ctx.app.store.begin().await?;
                tx.mark_command(id, crate::store::states::CommandState::Pending, Some(&format!("cannot render the answer: {err}"))).await?;
                tx.commit().await?;
                continue;
            }
        }
        if answer.send_digest {
            for (member, _) in ctx.app.store.memberships(&sender).await? {
                let (space, _, _) = ctx.space(member.space_id).await?;
                let since = last_digest(ctx.app, member.id).await?.map_or(member.created_at - 1, |l| l.at);
                let looping = looping_threads(ctx).await?;
                if let Some(m) = digest_mail(ctx, &space, &member, since, &looping, true, format!("digest-now:{}:{id}", member.id)).await? {
                    mail.push((Kind::Digest, m));
                    built.push(member.id);
                }
            }
        }
        let mut tx = ctx.app.store.begin().await?;
        for (kind, m) in &mail {
            if put(&mut tx, m, ctx.ts()).await? {
                report.add(*kind, 1);
            }
        }
        for member in built {
            tx.set_digest_built(member, known_until(ctx.ts())).await?;
        }
        tx.mark_command(id, crate::store::states::CommandState::Answered, None).await?;
        tx.commit().await?;
    }
    Ok(())
}

/// A digest built at `now` tells what became known up to the second before: times are whole
/// seconds, and something arriving later within the same second belongs to the next digest.
fn known_until(now: i64) -> i64 {
    now - 1
}

async fn last_digest(app: &App, member_id: i64) -> Result<Option<digest::Last>, StoreError> {
    Ok(app.store.digest_slots(member_id, member_id).await?.first().map(|(_, slot, at)| digest::Last { slot: *slot, at: *at }))
}

async fn reminders_mail(ctx: &mut Ctx<'_>, report: &mut Report) -> Result<(), StoreError> {
    let cfg = ctx.app.config.reminders.clone();
    let before = i64::try_from(cfg.before.as_secs()).unwrap_or(0);
    let tasks = ctx.app.store.open_tasks_due_between(ctx.ts() - reminders::horizon(&cfg), ctx.ts() + before).await?;
    let due = reminders::due(&tasks, &cfg, ctx.ts());
    let known = ctx.app.store.known_keys(&due.iter().map(|r| r.key.clone()).collect::<Vec<_>>()).await?;
    let mut mail = Vec::new();
    for r in due.into_iter().filter(|r| !known.contains(&r.key)) {
        let (space, members, mutes) = ctx.space(r.task.space_id).await?;
        let Some(member) = member_of(&members, &r.recipient) else { continue };
        if fanout::unsubscribed(member, &mutes) {
            continue;
        }
        let tz = zone(member.tz.as_deref(), ctx.app.config.server.timezone);
        let label = format!("T-{}", r.task.id);
        let due = r.task.due.unwrap_or(r.at);
        let (state, headline) = match r.stage {
            reminders::Stage::Before => ("due soon".to_string(), format!("{label} is due {}", local_time(due, tz))),
            reminders::Stage::Due => ("due now".to_string(), format!("{label} is due now ({})", local_time(due, tz))),
            reminders::Stage::Overdue(n) => {
                (format!("overdue, reminder {n}"), format!("{label} was due {} and is still open", local_time(due, tz)))
            }
        };
        let mut model = Model { title: headline, item: label.clone(), ..Default::default() };
        model.section("Task", vec![Row::new(&label, &r.task.title, format!("in {}, {state}", space.slug))]);
        let mut e = ctx.envelope(Some(&space), &member.email, format!("Reminder: {label} {} ({state})", r.task.title));
        e.reply_to = Some(ctx.reply_address(&space.slug, r.task.thread_id, member.id));
        e.references = ctx.app.store.item_references(ItemTable::Tasks, r.task.id).await?;
        e.in_reply_to = e.references.last().cloned();
        e.headers = ctx.list_headers(&space, member);
        mail.push(ctx.generated(Kind::Reminder, r.key.clone(), Some(&space), &member.email, e, &model));
        if mail.len() >= QUEUE_BATCH {
            report.add(Kind::Reminder, put_all(ctx.app, &std::mem::take(&mut mail), ctx.ts()).await?);
        }
    }
    report.add(Kind::Reminder, put_all(ctx.app, &mail, ctx.ts()).await?);
    Ok(())
}

async fn proposal_mail(ctx: &mut Ctx<'_>, report: &mut Report) -> Result<(), StoreError> {
    let rows = ctx.app.store.proposals_closing_between(ctx.ts() - proposals::OUTCOME_WINDOW, ctx.ts() + proposals::NOTICE_BEFORE).await?;
    let mut with_objectors = Vec::with_capacity(rows.len());
    let mut objections = HashMap::new();
    for p in rows {
        let by = if p.status == crate::store::states::ProposalStatus::Blocked { ctx.app.store.objectors(p.id).await? } else { Vec::new() };
        objections.insert(p.id, ctx.app.store.objections(p.id).await?);
        with_objectors.push((p, by));
    }
    let mut mail = Vec::new();
    for n in proposals::notices(&with_objectors, ctx.ts()) {
        let p = &n.proposal;
        let (space, members, mutes) = ctx.space(p.space_id).await?;
        let label = format!("P-{}", p.id);
        let key = |email: &str| format!("proposal:{}:{}:{}", p.id, n.kind.key(), email);
        let known = ctx.app.store.known_keys(&members.iter().map(|m| key(&m.email)).collect::<Vec<_>>()).await?;
        let references = ctx.app.store.item_references(ItemTable::Proposals, p.id).await?;
        for member in members.iter().filter(|m| !fanout::unsubscribed(m, &mutes) && !known.contains(&key(&m.email))) {
            let tz = zone(member.tz.as_deref(), ctx.app.config.server.timezone);
            let closes = p.closes_at.map(|c| local_time(c, tz)).unwrap_or_default();
            let objected = objections.get(&p.id).map(Vec::as_slice).unwrap_or_default();
            let who = |o: &[(Option<String>, String)]| {
                o.iter().map(|(by, _)| by.clone().unwrap_or_else(|| "someone".into())).collect::<Vec<_>>().join(", ")
            };
            let (subject, title, detail) = match &n.kind {
                // An objection is on record: it will be blocked at closing, not adopted.
                proposals::NoticeKind::Closing if !objected.is_empty() => (
                    format!("Proposal {label} is blocked"),
                    format!("{label} is blocked: {} objected; it will not be adopted {closes}", who(objected)),
                    "open, blocked by an objection".to_string(),
                ),
                proposals::NoticeKind::Closing => (
                    format!("Proposal {label} closes {closes}"),
                    format!("{label} will be adopted {closes} unless someone objects"),
                    "open".to_string(),
                ),
                proposals::NoticeKind::Adopted { decision } => {
                    let d = decision.map_or("a decision".to_string(), |d| format!("D-{d}"));
                    (
                        format!("Proposal {label} adopted as {d}"),
                        format!("{label} was adopted as {d}"),
                        format!("no objections by {closes}"),
                    )
                }
                proposals::NoticeKind::Blocked { by } => {
                    let who = if by.is_empty() { "an objection".to_string() } else { by.join(", ") };
                    (format!("Proposal {label} blocked"), format!("{label} was blocked by {who}"), format!("objected before {closes}"))
                }
            };
            let mut model = Model { title, item: label.clone(), open: n.kind == proposals::NoticeKind::Closing, ..Default::default() };
            model.section("Proposal", vec![Row::new(&label, &p.text, detail)]);
            let quoted = objected.iter().map(|(by, text)| Row::new("", format!("“{text}”"), by.clone().unwrap_or_default())).collect();
            model.section("Objections", quoted);
            let mut e = ctx.envelope(Some(&space), &member.email, format!("{subject}: {}", p.text));
            e.reply_to = Some(ctx.reply_address(&space.slug, p.thread_id, member.id));
            e.in_reply_to = references.last().cloned();
            e.references = references.clone();
            e.headers = ctx.list_headers(&space, member);
            mail.push(ctx.generated(Kind::Proposal, key(&member.email), Some(&space), &member.email, e, &model));
            if mail.len() >= QUEUE_BATCH {
                report.add(Kind::Proposal, put_all(ctx.app, &std::mem::take(&mut mail), ctx.ts()).await?);
            }
        }
    }
    report.add(Kind::Proposal, put_all(ctx.app, &mail, ctx.ts()).await?);
    Ok(())
}

/// Looping threads of recently active threads, by space: (thread id, subject, rounds).
type Looping = HashMap<i64, Vec<(i64, String, i64)>>;

async fn active_threads(ctx: &Ctx<'_>) -> Result<(Vec<ThreadMessage>, Vec<LoopDecision>), StoreError> {
    let since = ctx.ts() - LOOP_WINDOW;
    Ok((ctx.app.store.messages_of_active_threads(since).await?, ctx.app.store.decisions_of_active_threads(since).await?))
}

async fn looping_threads(ctx: &Ctx<'_>) -> Result<Looping, StoreError> {
    let (messages, decisions) = active_threads(ctx).await?;
    let mut out: Looping = HashMap::new();
    let rounds = i64::try_from(ctx.app.config.threads.loop_rounds).unwrap_or(i64::MAX);
    for a in loops::due(&messages, &decisions, rounds) {
        out.entry(a.space_id).or_default().push((a.thread_id, a.subject, a.rounds));
    }
    Ok(out)
}

async fn loop_mail(ctx: &mut Ctx<'_>, report: &mut Report) -> Result<Looping, StoreError> {
    let (messages, decisions) = active_threads(ctx).await?;
    let rounds = i64::try_from(ctx.app.config.threads.loop_rounds).unwrap_or(i64::MAX);
    let mut looping: Looping = HashMap::new();
    let mut mail = Vec::new();
    for a in loops::due(&messages, &decisions, rounds) {
        looping.entry(a.space_id).or_default().push((a.thread_id, a.subject.clone(), a.rounds));
        let (space, members, mutes) = ctx.space(a.space_id).await?;
        let mut model = Model { title: format!("“{}” is going round in circles", a.subject), count: a.rounds, ..Default::default() };
        model.section("Open question", vec![Row::new("", &a.question, "")]);
        model.section("Participants", a.participants.iter().map(|p| Row::new("", p, "")).collect());
        let last = a.message_ids.last().cloned();
        // The thread's root and its latest messages (RFC 5322 §3.6.4 allows trimming the middle).
        let mut references: Vec<String> = a.message_ids.iter().rev().take(9).rev().cloned().collect();
        if let Some(root) = a.message_ids.first().filter(|r| !references.contains(r)) {
            references.insert(0, root.clone());
        }
        let known = ctx.app.store.known_keys(&a.participants.iter().map(|p| a.key(p)).collect::<Vec<_>>()).await?;
        for p in a.participants.iter().filter(|p| !known.contains(&a.key(p))) {
            let Some(member) = member_of(&members, p) else { continue };
            if fanout::unsubscribed(member, &mutes) || mutes.contains(&(member.id, a.thread_id)) {
                continue;
            }
            let mut e = ctx.envelope(Some(&space), &member.email, format!("Looping: {}", a.subject));
            e.reply_to = Some(ctx.reply_address(&space.slug, a.thread_id, member.id));
            e.in_reply_to = last.clone();
            e.references = references.clone();
            e.headers = ctx.list_headers(&space, member);
            mail.push(ctx.generated(Kind::Loop, a.key(&member.email), Some(&space), &member.email, e, &model));
            if mail.len() >= QUEUE_BATCH {
                report.add(Kind::Loop, put_all(ctx.app, &std::mem::take(&mut mail), ctx.ts()).await?);
            }
        }
    }
    report.add(Kind::Loop, put_all(ctx.app, &mail, ctx.ts()).await?);
    Ok(looping)
}

/// Digests due at `now`, member page by member page; each considered slot is recorded so that
/// the same slot is never planned twice, sent or (when empty) not.
async fn digests(ctx: &mut Ctx<'_>, report: &mut Report, looping: &Looping) -> Result<(), StoreError> {
    let mut after = 0;
    loop {
        let page = ctx.app.store.members_after(after, MEMBER_PAGE).await?;
        let (Some(first), Some(last)) = (page.first().map(|m| m.id), page.last().map(|m| m.id)) else { return Ok(()) };
        after = last;
        let slots: HashMap<i64, digest::Last> =
            ctx.app.store.digest_slots(first, last).await?.into_iter().map(|(m, slot, at)| (m, digest::Last { slot, at })).collect();
        let mut mail = Vec::new();
        let mut considered = Vec::new();
        for member in &page {
            let schedule = Schedule::of(member, &ctx.app.config);
            let Some(due) = digest::due(member, &schedule, slots.get(&member.id).copied(), ctx.ts()) else { continue };
            considered.push((member.id, due.slot));
            let (space, _, mutes) = ctx.space(member.space_id).await?;
            if fanout::unsubscribed(member, &mutes) {
                continue;
            }
            let key = format!("digest:{}:{}", member.id, due.slot);
            if let Some(m) = digest_mail(ctx, &space, member, due.since, looping, false, key).await? {
                mail.push(m);
            }
        }
        if considered.is_empty() {
            continue;
        }
        let mut tx = ctx.app.store.begin().await?;
        for m in &mail {
            if put(&mut tx, m, ctx.ts()).await? {
                report.add(Kind::Digest, 1);
            }
        }
        for (member, slot) in considered {
            tx.set_digest_slot(member, slot, known_until(ctx.ts())).await?;
        }
        tx.commit().await?;
    }
}

/// What a space's digests share for one `since`: its new decisions, active threads and the
/// proposals closing soon (loaded once per run and space, not once per member).
#[derive(Debug, Clone, Default)]
pub struct SpaceNews {
    decisions: Vec<DecisionRow>,
    active: Vec<crate::store::outbound::ActiveThread>,
    proposals: Vec<ProposalRow>,
}

pub async fn space_news(app: &App, space_id: i64, since: i64, now: i64) -> Result<SpaceNews, StoreError> {
    let proposals: Vec<ProposalRow> = app.store.proposals_closing_between(now, now + digest::PROPOSALS_WITHIN).await?;
    Ok(SpaceNews {
        decisions: app.store.decisions_since(space_id, since, known_until(now)).await?,
        active: app.store.active_threads(space_id, since, known_until(now)).await?,
        proposals: proposals.into_iter().filter(|p| p.space_id == space_id).collect(),
    })
}

/// The digest model for one member, or None when there is nothing to tell.
#[allow(clippy::too_many_arguments)]
pub async fn digest_model(
    app: &App,
    space: &Space,
    member: &Member,
    news: &SpaceNews,
    looping: &[(i64, String, i64)],
    now: i64,
    force: bool,
) -> Result<Option<(String, Model)>, StoreError> {
    let input = digest::Input {
        decisions: news.decisions.clone(),
        tasks: app.store.open_tasks_of_owner(space.id, &member.email).await?,
        proposals: news.proposals.clone(),
        looping: looping.to_vec(),
        active: news.active.clone(),
    };
    let Some(d) = digest::build(input, now, force) else { return Ok(None) };
    let tz = zone(member.tz.as_deref(), app.config.server.timezone);
    let day = local_time(now, tz).split(' ').take(3).collect::<Vec<_>>().join(" ");
    let mut summary = Vec::new();
    let count = |n: usize, one: &str, many: &str| if n == 1 { format!("1 {one}") } else { format!("{n} {many}") };
    if !d.decisions.is_empty() {
        summary.push(count(d.decisions.len(), "decision", "decisions"));
    }
    if !d.overdue.is_empty() {
        summary.push(count(d.overdue.len(), "overdue task", "overdue tasks"));
    }
    if !d.proposals.is_empty() {
        summary.push(count(d.proposals.len(), "proposal closing", "proposals closing"));
    }
    if !d.active.is_empty() {
        summary.push(count(d.active.len(), "active thread", "active threads"));
    }
    let subject = if summary.is_empty() {
        format!("[{}] Digest {day}", space.slug)
    } else {
        format!("[{}] Digest {day}: {}", space.slug, summary.join(", "))
    };
    let mut m = Model { title: format!("{} digest for {}, {day}", space.slug, member.handle), ..Default::default() };
    let task_row = |t: &crate::store::items::TaskRow| {
        let due = t.due.map_or("no due time".to_string(), |d| format!("due {}", local_time(d, tz)));
        Row::new(format!("T-{}", t.id), &t.title, due)
    };
    m.section(
        "New decisions",
        d.decisions
            .iter()
            .map(|x| {
                Row::new(
                    format!("D-{}", x.id),
                    &x.text,
                    format!("by {} {}", x.author.as_deref().unwrap_or("someone"), local_time(x.decided_at, tz)),
                )
            })
            .collect(),
    );
    m.section("Your overdue tasks", d.overdue.iter().map(task_row).collect());
    m.section("Your open tasks", d.open.iter().map(task_row).collect());
    m.section(
        "Proposals closing soon",
        d.proposals
            .iter()
            .map(|p| {
                Row::new(
                    format!("P-{}", p.id),
                    &p.text,
                    format!("adopted {} unless someone objects", p.closes_at.map(|c| local_time(c, tz)).unwrap_or_default()),
                )
            })
            .collect(),
    );
    m.section(
        "Looping threads",
        d.looping
            .iter()
            .map(|(id, subject, rounds)| Row::new(format!("#{id}"), subject, format!("{rounds} rounds without a decision")))
            .collect(),
    );
    m.section(
        "Active threads",
        d.active
            .iter()
            .map(|t| {
                Row::new(
                    format!("#{}", t.id),
                    &t.subject,
                    count(usize::try_from(t.new_messages).unwrap_or(0), "new message", "new messages"),
                )
            })
            .collect(),
    );
    m.footer
        .push(format!("Digest time and days: ask an admin (docket member set), or write 'help' to docket@{}.", app.config.server.domain));
    Ok(Some((subject, m)))
}

#[allow(clippy::too_many_arguments)]
async fn digest_mail(
    ctx: &mut Ctx<'_>,
    space: &Space,
    member: &Member,
    since: i64,
    looping: &Looping,
    force: bool,
    key: String,
) -> Result<Option<Generated>, StoreError> {
    let loops = looping.get(&space.id).map(Vec::as_slice).unwrap_or_default();
    let news_key = (space.id, since);
    if !ctx.news.contains_key(&news_key) {
        let news = space_news(ctx.app, space.id, since, ctx.ts()).await?;
        ctx.news.insert(news_key, news);
    }
    let empty = SpaceNews::default();
    let news = ctx.news.get(&news_key).unwrap_or(&empty);
    let Some((subject, model)) = digest_model(ctx.app, space, member, news, loops, ctx.ts(), force).await? else { return Ok(None) };
    let mut e = ctx.envelope(Some(space), &member.email, subject);
    e.reply_to = Some(format!("{}@{}", crate::ingest::address::COMMANDS, ctx.domain()));
    e.headers = ctx.list_headers(space, member);
    Ok(Some(ctx.generated(Kind::Digest, key, Some(space), &member.email, e, &model)))
}

/// `docket digest --preview EMAIL --now T`: what each of the address's memberships would get
/// (subject and text part); nothing is queued.
pub async fn preview(app: &App, email: &str, now: DateTime<Utc>) -> Result<Vec<(String, Option<(String, String)>)>, StoreError> {
    let ctx = Ctx::new(app, now);
    let looping = looping_threads(&ctx).await?;
    let mut out = Vec::new();
    for (member, slug) in app.store.memberships(email).await? {
        let space = app.store.space_by_id(member.space_id).await?;
        let since = last_digest(app, member.id).await?.map_or(member.created_at - 1, |l| l.at);
        let loops = looping.get(&space.id).map(Vec::as_slice).unwrap_or_default();
        let news = space_news(app, space.id, since, now.timestamp()).await?;
        let rendered = match digest_model(app, &space, &member, &news, loops, now.timestamp(), false).await? {
            Some((subject, model)) => {
                let (text, _) = render::parts(Kind::Digest, &model).map_err(|e| StoreError::Conflict(e.to_string()))?;
                Some((subject, text))
            }
            None => None,
        };
        out.push((slug, rendered));
    }
    Ok(out)
}

/// Digest planning and rendering for every member at `now` without queueing (the benchmark):
/// returns how many digests would go out.
pub async fn plan_digests(app: &App, now: DateTime<Utc>) -> Result<usize, StoreError> {
    let mut ctx = Ctx::new(app, now);
    let looping = looping_threads(&ctx).await?;
    let mut after = 0;
    let mut n = 0;
    loop {
        let page = app.store.members_after(after, MEMBER_PAGE).await?;
        let Some(last) = page.last().map(|m| m.id) else { return Ok(n) };
        after = last;
        for member in &page {
            let schedule = Schedule::of(member, &app.config);
            let Some(due) = digest::due(member, &schedule, None, now.timestamp()) else { continue };
            let (space, _, _) = ctx.space(member.space_id).await?;
            if digest_mail(&mut ctx, &space, member, due.since, &looping, false, String::new()).await?.is_some() {
                n += 1;
            }
        }
    }
}

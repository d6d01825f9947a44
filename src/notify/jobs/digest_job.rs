//! Digests due at `now`, member page by member page, and the digest of one member: what a
//! space's digests share is read once per run and space ([`SpaceNews`]); each member's reply
//! addresses are signed in memory.

use super::*;
use crate::app::App;
use crate::notify::NotifyError;
use crate::notify::digest::{self, DecisionNews, Digest, NewMessage, Schedule, ThreadNews};
use crate::notify::render::{Link, Model, Row};
use crate::notify::{Kind, fanout, local_time, zone};
use crate::store::items::{Ask, NotesView, ProposalRow, TaskRow};
use crate::store::spaces::{Member, Space};
use std::collections::HashMap;

/// Digests due at `now`, member page by member page; each considered slot is recorded so that
/// the same slot is never planned twice, sent or (when empty) not.
pub(super) async fn digests(ctx: &mut Ctx<'_>, report: &mut Report, looping: &Looping) -> Result<(), NotifyError> {
    let mut after = 0;
    loop {
        let page = ctx.app.store.members_after(after, MEMBER_PAGE).await?;
        let (Some(first), Some(last)) = (page.first().map(|m| m.id), page.last().map(|m| m.id)) else { return Ok(()) };
        after = last;
        let slots: HashMap<i64, digest::Last> =
            ctx.app.store.digest_slots(first, last).await?.into_iter().map(|(m, slot, at)| (m, digest::Last { slot, at })).collect();
        let mut considered = Vec::new();
        let mut owed = Vec::new();
        for member in &page {
            let schedule = Schedule::of(member, &ctx.app.config);
            let Some(due) = digest::due(member, &schedule, slots.get(&member.id).copied(), ctx.ts()) else { continue };
            considered.push((member.id, due.slot));
            let (_, _, mutes) = ctx.space(member.space_id).await?;
            if !fanout::unsubscribed(member, &mutes) {
                owed.push((member, due));
            }
        }
        if considered.is_empty() {
            continue;
        }
        // The open tasks of every member owed a digest on this page, in one read.
        let owners: Vec<(i64, String)> = owed.iter().map(|(m, _)| (m.space_id, m.email.clone())).collect();
        let mut tasks = if owners.is_empty() { HashMap::new() } else { ctx.app.store.open_tasks_of_owners(&owners).await? };
        let mut mail = Vec::new();
        for (member, due) in owed {
            let (space, _, _) = ctx.space(member.space_id).await?;
            let theirs = tasks.remove(&(member.space_id, member.email.clone())).unwrap_or_default();
            let key = format!("digest:{}:{}", member.id, due.slot);
            if let Some(m) = digest_mail(ctx, &space, member, due.since, looping, false, key, theirs).await? {
                mail.push(m);
            }
        }
        let mut tx = ctx.app.store.begin().await?;
        report.add(Kind::Digest, put_many(&mut tx, &mail, ctx.ts()).await?);
        tx.set_digest_slots(&considered, known_until(ctx.ts())).await?;
        tx.commit().await?;
    }
}

/// What a space's digests share: its decisions and messages that became known after the earliest
/// `since` asked for so far, and the proposals closing soon. Read once per run and space, never
/// per member: a member whose `since` is earlier than any before reads only the gap, and each
/// member's sections are made from these rows in memory.
#[derive(Debug, Clone, Default)]
pub struct SpaceNews {
    /// What became known in `(floor, until]` is held.
    floor: i64,
    until: i64,
    decisions: Vec<DecisionNews>,
    /// In arrival order.
    messages: Vec<NewMessage>,
    proposals: Vec<ProposalRow>,
    /// The space's open asks with their members.
    asks: Vec<Ask>,
    /// Meeting notes sent in `(floor, until]`, oldest first.
    notes: Vec<NotesView>,
    /// The active threads for the last `since` asked for (members of a space mostly share one).
    threads: Option<(i64, Vec<ThreadNews>)>,
}

impl SpaceNews {
    /// The news of a space since `since`; `members` are the space's (writers are named by handle).
    pub async fn load(app: &App, space_id: i64, members: &[Member], since: i64, now: i64) -> Result<SpaceNews, NotifyError> {
        let proposals: Vec<ProposalRow> = app.store.proposals_closing_between(now, now + digest::PROPOSALS_WITHIN).await?;
        let until = known_until(now);
        let mut news = SpaceNews {
            floor: until,
            until,
            proposals: proposals.into_iter().filter(|p| p.space_id == space_id).collect(),
            asks: app.store.open_asks_of_space(space_id).await?,
            ..Default::default()
        };
        news.reach(app, space_id, members, since).await?;
        Ok(news)
    }

    /// Whether what became known after `since` is already held.
    fn covers(&self, since: i64) -> bool {
        since >= self.floor
    }

    /// Makes the news reach back to `since`, reading only what lies before what is held.
    async fn reach(&mut self, app: &App, space_id: i64, members: &[Member], since: i64) -> Result<(), NotifyError> {
        if self.covers(since) {
            return Ok(());
        }
        let decisions = app.store.digest_decisions(space_id, since, self.floor).await?;
        let messages = app.store.digest_messages(space_id, since, self.floor).await?;
        self.notes.splice(0..0, app.store.notes_of_space(space_id, since, self.floor).await?);
        self.decisions.splice(0..0, decisions.into_iter().map(DecisionNews::of));
        self.decisions.sort_by_key(|d| (d.decision.decided_at, d.decision.id));
        // The gap arrived before everything held: arrival order stays.
        let handles: HashMap<String, &str> = members.iter().map(|m| (m.email.to_ascii_lowercase(), m.handle.as_str())).collect();
        let handle_of = |addr: &str| handles.get(&addr.to_ascii_lowercase()).map(|h| h.to_string());
        self.messages.splice(0..0, messages.into_iter().map(|m| NewMessage::of(m, handle_of)));
        self.floor = since;
        self.threads = None;
        Ok(())
    }

    /// The decisions known after `since` (and held: see [`SpaceNews::reach`]).
    fn decisions(&self, since: i64) -> Vec<DecisionNews> {
        self.decisions.iter().filter(|d| d.known > since && d.known <= self.until).cloned().collect()
    }

    /// The meeting notes sent after `since`.
    fn notes(&self, since: i64) -> Vec<NotesView> {
        self.notes.iter().filter(|n| n.known > since && n.known <= self.until).cloned().collect()
    }

    /// The threads active after `since`, made once per `since` in a row.
    fn threads(&mut self, since: i64) -> Vec<ThreadNews> {
        match &self.threads {
            Some((s, t)) if *s == since => t.clone(),
            _ => {
                let t = digest::threads(&self.messages, since);
                self.threads = Some((since, t.clone()));
                t
            }
        }
    }
}

/// The digest model for one member with their open tasks in the space (soonest due first, as
/// [`crate::store::Store::open_tasks_of_owner`] reads them), or None when there is nothing to tell.
/// `news` must reach back to `since` ([`SpaceNews::load`]).
#[allow(clippy::too_many_arguments)]
pub fn digest_model(
    app: &App,
    space: &Space,
    member: &Member,
    since: i64,
    news: &mut SpaceNews,
    looping: &[(i64, String, i64)],
    now: i64,
    force: bool,
    tasks: Vec<TaskRow>,
) -> Result<Option<(String, Model)>, NotifyError> {
    let input = digest::Input {
        decisions: news.decisions(since),
        tasks,
        proposals: news.proposals.clone(),
        looping: looping.to_vec(),
        active: news.threads(since),
        asks: news.asks.iter().filter(|a| digest::waits_for(a, &member.email)).cloned().collect(),
        notes: news.notes(since),
    };
    let Some(d) = digest::build(input, now, force) else { return Ok(None) };
    Ok(Some(model(app, space, member, &d, now)))
}

/// Subject and model of a member's digest.
fn model(app: &App, space: &Space, member: &Member, d: &Digest, now: i64) -> (String, Model) {
    let tz = zone(member.tz.as_deref(), app.config.server.timezone);
    let day = local_time(now, tz).split(' ').take(3).collect::<Vec<_>>().join(" ");
    let mut summary = Vec::new();
    if !d.decisions.is_empty() {
        summary.push(count(d.decisions.len(), "decision", "decisions"));
    }
    if !d.overdue.is_empty() {
        summary.push(count(d.overdue.len(), "overdue task", "overdue tasks"));
    }
    if !d.proposals.is_empty() {
        summary.push(count(d.proposals.len(), "proposal closing", "proposals closing"));
    }
    if !d.asks.is_empty() {
        summary.push(count(d.asks.len(), "ask waiting for you", "asks waiting for you"));
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
                let by = format!("by {} {}", x.decision.author.as_deref().unwrap_or("someone"), local_time(x.decision.decided_at, tz));
                Row::new(format!("D-{}", x.decision.id), &x.decision.text, by).lines(vec![x.context.clone()])
            })
            .collect(),
    );
    m.section(
        "Asks waiting for you",
        d.asks
            .iter()
            .map(|a| {
                let by = a.row.closes_at.map_or("no deadline".to_string(), |c| format!("answer by {}", local_time(c, tz)));
                let silence = a.row.default_action.as_deref().map_or("no default".to_string(), |x| format!("if nobody answers: {x}"));
                let address = reply_address(app, &space.slug, a.row.thread_id, member.id);
                let href = digest::mailto(&address, &a.row.text);
                Row::new(format!("A-{}", a.row.id), &a.row.text, format!("{by}; {silence}")).link(Link {
                    label: "Answer".into(),
                    text: address,
                    href,
                })
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
        "New meeting notes",
        d.notes
            .iter()
            .map(|n| {
                let items = if n.items.is_empty() { "no items".to_string() } else { n.items.join(", ") };
                Row::new(
                    &n.id,
                    &n.title,
                    format!("by {}, {}: {items}", n.author.as_deref().unwrap_or("someone"), local_time(n.date.timestamp(), tz)),
                )
            })
            .collect(),
    );
    m.section("Active threads", d.active.iter().map(|t| thread_row(app, space, member, t)).collect());
    m.footer
        .push(format!("Digest time and days: ask an admin (docket member set), or write 'help' to docket@{}.", app.config.server.domain));
    (subject, m)
}

/// An active thread: who wrote, the first lines of what they newly wrote, and the member's own
/// reply address for the thread (the one their copies carry as Reply-To), as a `mailto:` link.
fn thread_row(app: &App, space: &Space, member: &Member, t: &ThreadNews) -> Row {
    let detail = format!("{} from {}", count(t.new_messages, "new message", "new messages"), t.writers.join(", "));
    let mut lines = Vec::new();
    for (who, excerpt) in &t.excerpts {
        for (i, line) in excerpt.iter().enumerate() {
            lines.push(if i == 0 { format!("{who}: {line}") } else { format!("  {line}") });
        }
    }
    if t.unshown > 0 && !t.excerpts.is_empty() {
        lines.push(format!("({} not shown)", count(t.unshown, "more message", "more messages")));
    }
    let address = reply_address(app, &space.slug, t.id, member.id);
    let href = digest::mailto(&address, &t.subject);
    Row::new(format!("#{}", t.id), &t.subject, detail).lines(lines).link(Link { label: "Reply".into(), text: address, href })
}

fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 { format!("1 {one}") } else { format!("{n} {many}") }
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn digest_mail(
    ctx: &mut Ctx<'_>,
    space: &Space,
    member: &Member,
    since: i64,
    looping: &Looping,
    force: bool,
    key: String,
    tasks: Vec<TaskRow>,
) -> Result<Option<Generated>, NotifyError> {
    let loops = looping.get(&space.id).map(Vec::as_slice).unwrap_or_default();
    let app = ctx.app;
    let now = ctx.ts();
    if !ctx.news.get(&space.id).is_some_and(|n| n.covers(since)) {
        let (_, members, _) = ctx.space(space.id).await?;
        match ctx.news.get_mut(&space.id) {
            Some(news) => news.reach(app, space.id, &members, since).await?,
            None => {
                let news = SpaceNews::load(app, space.id, &members, since, now).await?;
                ctx.news.insert(space.id, news);
            }
        }
    }
    let Some(news) = ctx.news.get_mut(&space.id) else { return Ok(None) };
    let Some((subject, model)) = digest_model(app, space, member, since, news, loops, now, force, tasks)? else { return Ok(None) };
    let mut e = ctx.envelope(Some(space), &member.email, subject);
    e.reply_to = Some(format!("{}@{}", crate::identity::address::COMMANDS, ctx.domain()));
    e.headers = ctx.list_headers(space, member);
    Ok(Some(ctx.generated(Kind::Digest, key, Some(space), &member.email, e, &model)))
}

//! Digests due at `now`, member page by member page, and the digest of one member.

use super::*;
use crate::app::App;
use crate::notify::NotifyError;
use crate::notify::digest::{self, Schedule};
use crate::notify::render::{Model, Row};
use crate::notify::{Kind, fanout, local_time, zone};
use crate::store::items::DecisionRow;
use crate::store::items::ProposalRow;
use crate::store::items::TaskRow;
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

/// What a space's digests share for one `since`: its new decisions, active threads and the
/// proposals closing soon (loaded once per run and space, not once per member).
#[derive(Debug, Clone, Default)]
pub struct SpaceNews {
    decisions: Vec<DecisionRow>,
    active: Vec<crate::store::outbound::ActiveThread>,
    proposals: Vec<ProposalRow>,
}

pub async fn space_news(app: &App, space_id: i64, since: i64, now: i64) -> Result<SpaceNews, NotifyError> {
    let proposals: Vec<ProposalRow> = app.store.proposals_closing_between(now, now + digest::PROPOSALS_WITHIN).await?;
    Ok(SpaceNews {
        decisions: app.store.decisions_since(space_id, since, known_until(now)).await?,
        active: app.store.active_threads(space_id, since, known_until(now)).await?,
        proposals: proposals.into_iter().filter(|p| p.space_id == space_id).collect(),
    })
}

/// The digest model for one member with their open tasks in the space (soonest due first, as
/// [`crate::store::Store::open_tasks_of_owner`] reads them), or None when there is nothing to tell.
#[allow(clippy::too_many_arguments)]
pub fn digest_model(
    app: &App,
    space: &Space,
    member: &Member,
    news: &SpaceNews,
    looping: &[(i64, String, i64)],
    now: i64,
    force: bool,
    tasks: Vec<TaskRow>,
) -> Result<Option<(String, Model)>, NotifyError> {
    let input = digest::Input {
        decisions: news.decisions.clone(),
        tasks,
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
    let news_key = (space.id, since);
    if !ctx.news.contains_key(&news_key) {
        let news = space_news(ctx.app, space.id, since, ctx.ts()).await?;
        ctx.news.insert(news_key, news);
    }
    let empty = SpaceNews::default();
    let news = ctx.news.get(&news_key).unwrap_or(&empty);
    let Some((subject, model)) = digest_model(ctx.app, space, member, news, loops, ctx.ts(), force, tasks)? else { return Ok(None) };
    let mut e = ctx.envelope(Some(space), &member.email, subject);
    e.reply_to = Some(format!("{}@{}", crate::identity::address::COMMANDS, ctx.domain()));
    e.headers = ctx.list_headers(space, member);
    Ok(Some(ctx.generated(Kind::Digest, key, Some(space), &member.email, e, &model)))
}

//! Ask mail due at `now`: reminders to the asked members before the deadline, and the outcome of an
//! ask that closed unanswered (its default decided, to the space; or nobody answered, to the asker).

use super::*;
use crate::notify::NotifyError;
use crate::notify::asks::{self, NoticeKind};
use crate::notify::render::{Model, Row};
use crate::notify::{Kind, fanout, local_time, zone};
use crate::store::outbound::ItemTable;

pub(super) async fn ask_mail(ctx: &mut Ctx<'_>, report: &mut Report) -> Result<(), NotifyError> {
    let before = i64::try_from(ctx.app.config.reminders.before.as_secs()).unwrap_or(0);
    let rows = ctx.app.store.asks_closing_between(ctx.ts() - asks::OUTCOME_WINDOW, ctx.ts() + before).await?;
    let mut mail = Vec::new();
    for n in asks::notices(&rows, before, ctx.ts()) {
        let a = &n.ask.row;
        let (space, members, mutes) = ctx.space(a.space_id).await?;
        let label = format!("A-{}", a.id);
        let key = |email: &str| format!("ask:{}:{}:{}", a.id, n.kind.key(), email);
        let audience: Vec<&Member> =
            members.iter().filter(|m| asks::includes(&n.audience, &m.email) && !fanout::unsubscribed(m, &mutes)).collect();
        let known = ctx.app.store.known_keys(&audience.iter().map(|m| key(&m.email)).collect::<Vec<_>>()).await?;
        let references = ctx.app.store.item_references(ItemTable::Asks, a.id).await?;
        let asker =
            a.asked_by.as_deref().and_then(|e| member_of(&members, e)).map_or_else(|| "someone".to_string(), |m| format!("@{}", m.handle));
        let asked: Vec<String> =
            n.ask.asked_of.iter().map(|e| member_of(&members, e).map_or(e.clone(), |m| format!("@{}", m.handle))).collect();
        let asked = if asked.is_empty() { "anyone".to_string() } else { asked.join(", ") };
        for member in audience.into_iter().filter(|m| !known.contains(&key(&m.email))) {
            let tz = zone(member.tz.as_deref(), ctx.app.config.server.timezone);
            let closes = a.closes_at.map(|c| local_time(c, tz)).unwrap_or_default();
            let (subject, title, detail) = match n.kind {
                NoticeKind::Reminder => (
                    format!("Ask {label} closes {closes}"),
                    format!("{asker} asked {asked}; an answer is needed by {closes}"),
                    a.default_action
                        .as_deref()
                        .map_or("no default: the asker is told if nobody answers".to_string(), |d| format!("if nobody answers: {d}")),
                ),
                NoticeKind::Defaulted { decision } => {
                    let d = decision.map_or("a decision".to_string(), |d| format!("D-{d}"));
                    let action = a.default_action.clone().unwrap_or_default();
                    (
                        format!("Ask {label} unanswered: {d}"),
                        format!("No answer from {asked} by {closes}: {action} ({d})"),
                        format!("decided by default as {d}"),
                    )
                }
                NoticeKind::Expired => (
                    format!("Ask {label} closed unanswered"),
                    format!("Nobody answered {label} by {closes}"),
                    "no default was set; nothing was decided".to_string(),
                ),
            };
            let mut model = Model { title, item: label.clone(), open: n.kind == NoticeKind::Reminder, ..Default::default() };
            model.section("Ask", vec![Row::new(&label, &a.text, detail)]);
            let mut e = ctx.envelope(Some(&space), &member.email, format!("{subject}: {}", a.text));
            e.reply_to = Some(ctx.reply_address(&space.slug, a.thread_id, member.id));
            e.in_reply_to = references.last().cloned();
            e.references = references.clone();
            e.headers = ctx.list_headers(&space, member);
            mail.push(ctx.generated(Kind::Ask, key(&member.email), Some(&space), &member.email, e, &model));
            if mail.len() >= QUEUE_BATCH {
                report.add(Kind::Ask, put_all(ctx.app, &std::mem::take(&mut mail), ctx.ts()).await?);
            }
        }
    }
    report.add(Kind::Ask, put_all(ctx.app, &mail, ctx.ts()).await?);
    Ok(())
}

//! Task reminders due at `now`: before, at and after the due time.

use super::*;
use crate::notify::NotifyError;
use crate::notify::render::{Model, Row};
use crate::notify::{Kind, fanout, local_time, reminders, zone};
use crate::store::outbound::ItemTable;

pub(super) async fn reminders_mail(ctx: &mut Ctx<'_>, report: &mut Report) -> Result<(), NotifyError> {
    let cfg = ctx.app.config.reminders.clone();
    let before = i64::try_from(cfg.before.as_secs()).unwrap_or(0);
    let tasks = ctx.app.store.open_tasks_due_between(ctx.ts() - reminders::horizon(&cfg), ctx.ts() + before).await?;
    let due = reminders::due(&tasks, &cfg, ctx.ts());
    let known = ctx.app.store.known_keys(&due.iter().map(|r| r.key.clone()).collect::<Vec<_>>()).await?;
    let owed: Vec<reminders::Reminder> = due.into_iter().filter(|r| !known.contains(&r.key)).collect();
    for batch in owed.chunks(QUEUE_BATCH) {
        // The references of the whole batch in one read, not two per reminder.
        let ids: Vec<i64> = batch.iter().map(|r| r.task.id).collect();
        let references = ctx.app.store.items_references(ItemTable::Tasks, &ids).await?;
        let mut mail = Vec::new();
        for r in batch {
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
            e.references = references.get(&r.task.id).cloned().unwrap_or_default();
            e.in_reply_to = e.references.last().cloned();
            e.headers = ctx.list_headers(&space, member);
            mail.push(ctx.generated(Kind::Reminder, r.key.clone(), Some(&space), &member.email, e, &model));
        }
        report.add(Kind::Reminder, put_all(ctx.app, &mail, ctx.ts()).await?);
    }
    Ok(())
}

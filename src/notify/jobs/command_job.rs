//! Replies of the commands address: the intake ran each command and recorded the reply owed
//! (`ingest::commands`); this renders and queues it, with the digests a `digest` command asks for.

use super::*;
use crate::notify::Kind;
use crate::notify::NotifyError;
use crate::notify::render::{Model, Row};

/// Renders and queues the replies owed for mail to the commands address.
pub(super) async fn commands_mail(ctx: &mut Ctx<'_>, report: &mut Report) -> Result<(), NotifyError> {
    for (id, owed) in ctx.app.store.owed_command_replies().await? {
        let sender = owed.to.as_str();
        let mut model = Model { title: owed.title.clone(), ..Default::default() };
        model.section("", owed.lines.iter().map(|l| Row::new("", l, "")).collect());
        let mut e = ctx.envelope(None, sender, owed.subject.clone());
        e.in_reply_to = owed.in_reply_to.clone();
        e.references = owed.in_reply_to.iter().cloned().collect();
        let mut mail = Vec::new();
        let mut built = Vec::new();
        // Someone who is no member gets one reply ever: a forged From cannot turn the commands
        // address into a source of backscatter.
        let key = if owed.stranger { format!("command-stranger:{sender}") } else { format!("command:{id}") };
        // A reply that cannot be rendered leaves the mail pending with the error (tried again at
        // every tick, shown by `docket check`); the command itself ran once, at intake.
        match ctx.render(Kind::Command, key, None, sender, e, &model) {
            Ok(m) => mail.push((Kind::Command, Generated::Mail(m))),
            Err(err) => {
                tracing::error!(command.id = id, error = %err, "cannot render the answer; kept for the next tick");
                let mut tx = ctx.app.store.begin().await?;
                tx.mark_command(id, crate::store::states::CommandState::Pending, Some(&format!("cannot render the answer: {err}"))).await?;
                tx.commit().await?;
                continue;
            }
        }
        if owed.send_digest {
            for (member, _) in ctx.app.store.memberships(sender).await? {
                let (space, _, _) = ctx.space(member.space_id).await?;
                let since = last_digest(ctx.app, member.id).await?.map_or(member.created_at - 1, |l| l.at);
                let looping = looping_threads(ctx).await?;
                let tasks = ctx.app.store.open_tasks_of_owner(space.id, &member.email).await?;
                let key = format!("digest-now:{}:{id}", member.id);
                if let Some(m) = digest_mail(ctx, &space, &member, since, &looping, true, key, tasks).await? {
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

//! Answers to mail for the commands address, with the digests a `digest` command asks for.

use super::*;
use crate::ingest::policy::{self, Facts, Verdict};
use crate::notify::Kind;
use crate::notify::commands;
use crate::notify::render::{Model, Row};
use crate::parse::{mime, reply};
use crate::store::StoreError;

/// Answers mail to the commands address; automata get nothing (RFC 3834 §2).
pub(super) async fn commands_mail(ctx: &mut Ctx<'_>, report: &mut Report) -> Result<(), StoreError> {
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
            tx.mark_command(id, "ignored", Some(&why)).await?;
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
                tx.mark_command(id, "pending", Some(&format!("cannot render the answer: {err}"))).await?;
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
        tx.mark_command(id, "answered", None).await?;
        tx.commit().await?;
    }
    Ok(())
}

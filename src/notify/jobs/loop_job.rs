//! Loop alerts for recently active threads going round without a decision.

use super::*;
use crate::notify::NotifyError;
use crate::notify::render::{Model, Row};
use crate::notify::{Kind, fanout, loops};
use crate::store::outbound::{LoopDecision, ThreadMessage};
use std::collections::HashMap;

/// Looping threads of recently active threads, by space: (thread id, subject, rounds).
pub(super) type Looping = HashMap<i64, Vec<(i64, String, i64)>>;

pub(super) async fn active_threads(ctx: &Ctx<'_>) -> Result<(Vec<ThreadMessage>, Vec<LoopDecision>), NotifyError> {
    let since = ctx.ts() - LOOP_WINDOW;
    Ok((ctx.app.store.messages_of_active_threads(since).await?, ctx.app.store.decisions_of_active_threads(since).await?))
}

pub(super) async fn looping_threads(ctx: &Ctx<'_>) -> Result<Looping, NotifyError> {
    let (messages, decisions) = active_threads(ctx).await?;
    let mut out: Looping = HashMap::new();
    let rounds = i64::try_from(ctx.app.config.threads.loop_rounds).unwrap_or(i64::MAX);
    for a in loops::due(&messages, &decisions, rounds) {
        out.entry(a.space_id).or_default().push((a.thread_id, a.subject, a.rounds));
    }
    Ok(out)
}

pub(super) async fn loop_mail(ctx: &mut Ctx<'_>, report: &mut Report) -> Result<Looping, NotifyError> {
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

//! Proposal notices: closing soon, adopted, blocked.

use super::*;
use crate::notify::NotifyError;
use crate::notify::render::{Model, Row};
use crate::notify::{Kind, fanout, local_time, proposals, zone};
use crate::store::outbound::ItemTable;
use std::collections::HashMap;

pub(super) async fn proposal_mail(ctx: &mut Ctx<'_>, report: &mut Report) -> Result<(), NotifyError> {
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

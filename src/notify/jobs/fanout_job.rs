//! Fan-out copies and receipts for every message not planned yet (one transaction per message).

use super::*;
use crate::notify::NotifyError;
use crate::notify::render::{Model, Row};
use crate::notify::{Kind, fanout, receipts, zone};
use crate::parse::mime;
use crate::store::outbound::{MessageOut, NewOutbound};

/// Fan-out copies and receipts for every message not planned yet; each message is marked
/// planned in the transaction that queues its mail, and its copies are queued one by one, so
/// memory holds one message and one copy however large the attachments.
pub(super) async fn fan_out(ctx: &mut Ctx<'_>, report: &mut Report) -> Result<(), NotifyError> {
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

pub(super) async fn plan_message(ctx: &mut Ctx<'_>, msg: &MessageOut, out: &mut Queue<'_>) -> Result<(), NotifyError> {
    // Only the header decides (auto-reply, precedence, report); a whole parse would hold the
    // decoded bodies of a large message through every copy below.
    if !fanout::wanted(msg, &mime::parse(fanout::head(&msg.raw))) {
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
    // Nudges only for members: a stranger's mail is not coached.
    let nudge = ctx.app.config.notify.nudges && sender_member.is_some();
    let Some(receipt) = receipts::due(ctx.app.config.notify.receipts, nudge, &items, tz) else { return Ok(()) };
    let labels = receipt.labels();
    let about = labels.is_empty() && !receipt.nudges.is_empty();
    let (title, subject) = if about {
        (format!("About your message “{}”", msg.subject), format!("About your message: {}", msg.subject))
    } else {
        let warned = receipt.warnings.len() + receipt.unclear.len();
        let what = if labels.is_empty() { format!("{warned} warning(s)") } else { labels.join(", ") };
        (format!("Recorded from “{}”", msg.subject), format!("Recorded: {what} ({})", msg.subject))
    };
    let mut model = Model { title, ..Default::default() };
    if receipt.lines.is_empty() {
        model.intro.push("Nothing was recorded from your message.".into());
    }
    let recorded = receipt.lines.iter().map(|l| Row::new(&l.label, &l.text, &l.detail).with_undo(l.undo.clone().unwrap_or_default()));
    model.section("Recorded", recorded.collect());
    model.section("Could not understand", receipt.unclear.iter().map(|w| Row::new("", w, "")).collect());
    model.section("To make your message stand on its own", receipt.nudges.iter().map(|n| Row::new("", n, "")).collect());
    model.warnings = receipt.warnings.clone();
    model.footer.push(format!("{} · {}", space_address, ctx.app.config.http.base_url));
    let mut e = ctx.envelope(Some(&space), sender, subject);
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

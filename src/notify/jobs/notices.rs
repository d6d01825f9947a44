//! The one notice a human sender is owed when their mail was not posted.

use super::*;
use crate::notify::Kind;
use crate::notify::NotifyError;
use crate::notify::render::{Model, RenderError};
use crate::store::intake::Notice;
use crate::store::outbound::NewOutbound;

/// The one notice a human sender is owed when their mail was not posted.
pub(super) async fn sender_notices(ctx: &mut Ctx<'_>, report: &mut Report) -> Result<(), NotifyError> {
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
    Ok(tx.commit().await?)
}

/// The mail owed for a sender notice, or why it cannot be rendered.
pub(super) async fn notice_mail(ctx: &mut Ctx<'_>, n: &Notice) -> Result<Result<NewOutbound, RenderError>, NotifyError> {
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

//! Mail kept in `unrendered` rendered again at every run: what renders now is queued under its key.

use super::*;
use crate::notify::NotifyError;
use crate::store::unrendered::NewUnrendered;

/// Renders the mail kept in `unrendered` again: what renders now is queued under its key and
/// forgotten in one transaction; what still fails counts the attempt and keeps the newest error.
pub(super) async fn rerender(ctx: &mut Ctx<'_>, report: &mut Report) -> Result<(), NotifyError> {
    let mut after = String::new();
    loop {
        let page = ctx.app.store.unrendered_after(&after, RERENDER_PAGE).await?;
        let Some(last) = page.last() else { return Ok(()) };
        after = last.dedup_key.clone();
        let mut tx = ctx.app.store.begin().await?;
        for row in &page {
            match ctx.render_again(row) {
                Ok((kind, mail)) => {
                    if tx.enqueue(&mail, ctx.ts()).await? {
                        report.add(kind, 1);
                    }
                    tx.forget_unrendered(&row.dedup_key).await?;
                }
                Err(err) => {
                    let again = NewUnrendered {
                        dedup_key: row.dedup_key.clone(),
                        kind: row.kind.clone(),
                        space_id: row.space_id,
                        recipient: row.recipient.clone(),
                        plan: row.plan.clone(),
                        error: err.to_string(),
                    };
                    tx.record_unrendered(&again, ctx.ts()).await?;
                }
            }
        }
        tx.commit().await?;
    }
}

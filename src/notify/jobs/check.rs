//! `docket check`: the generated mail kept because it cannot be rendered, named one by one.

use super::*;
use crate::app::App;
use crate::notify::NotifyError;
use chrono::{DateTime, Utc};

/// Mail kept because it cannot be rendered, for `docket check`: every pending sender notice is
/// rendered again (nothing is queued), mail to the commands address keeps the error of its last
/// try, and every other generated mail waits in `unrendered` with its last error (the first
/// [`CHECK_LIST`] named, the rest counted).
pub async fn unrenderable(app: &App, now: DateTime<Utc>) -> Result<Vec<String>, NotifyError> {
    let mut ctx = Ctx::new(app, now);
    let mut out = Vec::new();
    for n in app.store.pending_notices().await? {
        if let Err(e) = notice_mail(&mut ctx, &n).await? {
            out.push(format!("sender notice #{} to {} cannot be rendered: {e}", n.id, n.recipient));
        }
    }
    for (id, mail_from, error) in app.store.unanswered_commands().await? {
        out.push(format!("mail #{id} to the commands address from {} cannot be answered: {error}", mail_from.as_deref().unwrap_or("<>")));
    }
    let kept = app.store.unrendered_after("", i64::try_from(CHECK_LIST).unwrap_or(20)).await?;
    for u in &kept {
        out.push(format!(
            "{} mail {} to {} cannot be rendered ({} attempt(s) since {}, tried again at every tick): {}",
            u.kind,
            u.dedup_key,
            u.recipient,
            u.attempts,
            DateTime::from_timestamp(u.created_at, 0).map_or_else(|| u.created_at.to_string(), |t| t.to_rfc3339()),
            u.error
        ));
    }
    let total = app.store.unrendered_count().await?;
    let more = total - i64::try_from(kept.len()).unwrap_or(0);
    if more > 0 {
        out.push(format!("{more} more generated mail(s) cannot be rendered (tried again at every tick)"));
    }
    Ok(out)
}

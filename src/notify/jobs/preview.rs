//! `docket digest --preview`: what each membership of an address would get, nothing queued.

use super::*;
use crate::app::App;
use crate::notify::Kind;
use crate::notify::NotifyError;
use crate::notify::render::{self};
use chrono::{DateTime, Utc};

/// `docket digest --preview EMAIL --now T`: what each of the address's memberships would get
/// (subject and text part); nothing is queued.
pub async fn preview(app: &App, email: &str, now: DateTime<Utc>) -> Result<Vec<(String, Option<(String, String)>)>, NotifyError> {
    let ctx = Ctx::new(app, now);
    let looping = looping_threads(&ctx).await?;
    let mut out = Vec::new();
    for (member, slug) in app.store.memberships(email).await? {
        let space = app.store.space_by_id(member.space_id).await?;
        let since = last_digest(app, member.id).await?.map_or(member.created_at - 1, |l| l.at);
        let loops = looping.get(&space.id).map(Vec::as_slice).unwrap_or_default();
        let members = app.store.members(&space).await?;
        let mut news = SpaceNews::load(app, space.id, &members, since, now.timestamp()).await?;
        let tasks = app.store.open_tasks_of_owner(space.id, &member.email).await?;
        let rendered = match digest_model(app, &space, &member, since, &mut news, loops, now.timestamp(), false, tasks)? {
            Some((subject, model)) => {
                let (text, _) = render::parts(Kind::Digest, &model)?;
                Some((subject, text))
            }
            None => None,
        };
        out.push((slug, rendered));
    }
    Ok(out)
}

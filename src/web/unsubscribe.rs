//! One-click unsubscribe (RFC 8058): `/unsubscribe/SPACE/TOKEN` is the URL in every mail's
//! `List-Unsubscribe`. GET shows a confirm button (a link scanner that fetches it changes
//! nothing); POST with `List-Unsubscribe=One-Click` unsubscribes the member from the space at once
//! and answers 200, again and again. No session: the signed token names the member. A token that
//! is not ours, or not for this space, is 404.

use super::{WebError, page};
use crate::app::App;
use crate::identity::token;
use crate::store::spaces::{Member, Space, UNSUBSCRIBED};
use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, State};
use axum::response::Html;
use axum::routing::get;
use std::collections::HashMap;

pub fn routes() -> Router<App> {
    Router::new().route("/unsubscribe/{space}/{token}", get(confirm).post(unsubscribe))
}

#[derive(Template)]
#[template(path = "web/unsubscribe.html")]
struct UnsubscribePage<'a> {
    space: &'a Space,
    token: &'a str,
    done: bool,
    /// Where to write to come back (`unmute SPACE`).
    commands: String,
}

/// The member a token names in a space (the mailed token signs member id with thread 0).
async fn member(app: &App, slug: &str, t: &str) -> Result<(Space, Member), WebError> {
    let slot = token::verify(app.secret.bytes(), t).filter(|s| s.thread_id == 0).ok_or(WebError::NotFound)?;
    let space = app.store.space(slug).await?.ok_or(WebError::NotFound)?;
    let member = app.store.member_by_id(space.id, slot.member_id).await?.ok_or(WebError::NotFound)?;
    Ok((space, member))
}

fn answer(app: &App, space: &Space, t: &str, done: bool) -> Result<Html<String>, WebError> {
    let commands = format!("{}@{}", crate::identity::address::COMMANDS, app.config.server.domain);
    page(&UnsubscribePage { space, token: t, done, commands })
}

async fn confirm(State(app): State<App>, Path((slug, t)): Path<(String, String)>) -> Result<Html<String>, WebError> {
    let (space, _) = member(&app, &slug, &t).await?;
    answer(&app, &space, &t, false)
}

async fn unsubscribe(
    State(app): State<App>,
    Path((slug, t)): Path<(String, String)>,
    Form(f): Form<HashMap<String, String>>,
) -> Result<Html<String>, WebError> {
    let (space, member) = member(&app, &slug, &t).await?;
    // RFC 8058 §3.1: the POST body is `List-Unsubscribe=One-Click`.
    if f.get("List-Unsubscribe").map(String::as_str) != Some("One-Click") {
        return Err(WebError::BadRequest("an unsubscribe request carries List-Unsubscribe=One-Click".into()));
    }
    let mut tx = app.store.begin().await?;
    tx.set_mute(member.id, UNSUBSCRIBED, true, app.now().timestamp()).await?;
    tx.commit().await?;
    tracing::info!(member.id = member.id, space = %space.slug, "unsubscribed by one-click link");
    answer(&app, &space, &t, true)
}

//! The member's start page `/` (their spaces, recent decisions, their open tasks) and a space's
//! threads `/s/SPACE`; and how pages show a time (the viewer's zone, machine-readable too).

use super::{Viewer, WebError, page};
use crate::app::App;
use crate::store::items::{DecisionView, TaskFilter, TaskView};
use crate::store::read::ThreadView;
use crate::store::spaces::Space;
use crate::store::states::TaskStatus;
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Html;
use axum::routing::get;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

pub fn routes() -> Router<App> {
    Router::new().route("/", get(home)).route("/s/{space}", get(space))
}

/// Decisions on the start page.
const RECENT_DECISIONS: i64 = 10;
/// Threads on a space's page.
const SPACE_THREADS: i64 = 200;

/// A time for a page: RFC 3339 UTC for `<time datetime>`, and as the viewer reads it.
#[derive(Debug, Clone)]
pub struct When {
    pub iso: String,
    pub local: String,
}

impl When {
    pub fn new(at: DateTime<Utc>, tz: Tz) -> When {
        When { iso: at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true), local: crate::space::local_time(at.timestamp(), tz) }
    }
}

/// The viewer's time zone: the one set on any of their memberships, else `server.timezone`.
pub async fn zone(app: &App, viewer: &Viewer) -> Result<Tz, WebError> {
    let set = app.store.memberships(&viewer.email).await?.into_iter().find_map(|(m, _)| m.tz);
    Ok(crate::space::zone(set.as_deref(), app.config.server.timezone))
}

#[derive(Template)]
#[template(path = "web/home.html")]
struct HomePage<'a> {
    v: &'a Viewer,
    decisions: Vec<(DecisionView, When)>,
    tasks: Vec<(TaskView, Option<When>)>,
}

async fn home(State(app): State<App>, v: Viewer) -> Result<Html<String>, WebError> {
    let tz = zone(&app, &v).await?;
    let mut decisions = Vec::new();
    for s in &v.spaces {
        decisions.extend(app.store.decisions(Some(&s.slug), None, Some(RECENT_DECISIONS)).await?);
    }
    decisions.sort_by(|a, b| b.decided_at.cmp(&a.decided_at).then_with(|| b.id.cmp(&a.id)));
    decisions.truncate(RECENT_DECISIONS as usize);
    let decisions = decisions.into_iter().map(|d| (When::new(d.decided_at, tz), d)).map(|(w, d)| (d, w)).collect();
    let mine = TaskFilter { owner: Some(v.email.clone()), status: Some(TaskStatus::Open), ..Default::default() };
    let tasks = app
        .store
        .tasks(&mine)
        .await?
        .into_iter()
        .filter(|t| v.space(&t.space).is_some())
        .map(|t| {
            let due = t.due.map(|d| When::new(d, tz));
            (t, due)
        })
        .collect();
    page(&HomePage { v: &v, decisions, tasks })
}

#[derive(Template)]
#[template(path = "web/space.html")]
struct SpacePage<'a> {
    v: &'a Viewer,
    space: &'a Space,
    address: String,
    threads: Vec<(ThreadView, When)>,
}

async fn space(State(app): State<App>, v: Viewer, Path(slug): Path<String>) -> Result<Html<String>, WebError> {
    let space = v.space(&slug).ok_or(WebError::NotFound)?;
    let tz = zone(&app, &v).await?;
    let threads = app.store.threads(Some(&space.slug), Some(SPACE_THREADS), app.config.threads.loop_rounds as i64).await?;
    let threads = threads.into_iter().map(|t| (When::new(t.last_activity_at, tz), t)).map(|(w, t)| (t, w)).collect();
    page(&SpacePage { v: &v, space, address: app.config.space_address(&space.slug), threads })
}

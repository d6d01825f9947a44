//! `/asks` (by status, with who was asked, the deadline, the default and how it ended; the ones
//! waiting for the viewer marked) and `/n/N-n` (one set of meeting notes with every item it
//! recorded).

use super::items::{DecisionItem, TaskItem, decision_items, task_items};
use super::tasks::Tab;
use super::{Choice, PAGE_ROWS, Stamp, given, newest, space_choices, space_filter, zone};
use crate::app::App;
use crate::store::items::{DecisionQuery, ItemKind, TaskQuery};
use crate::store::states::AskStatus;
use crate::web::{Viewer, WebError, page};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Html;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
pub struct Params {
    status: Option<String>,
    space: Option<String>,
}

struct AskItem {
    id: String,
    text: String,
    space: String,
    thread_id: i64,
    subject: String,
    asked_by: String,
    asked_of: String,
    closes: Option<Stamp>,
    default: Option<String>,
    status: String,
    answered_by: Option<String>,
    decision: Option<String>,
    /// Open, and the viewer is one of those asked.
    waiting: bool,
}

#[derive(Template)]
#[template(path = "web/asks.html")]
struct AsksPage {
    /// The signed-in member (the nav's sign-out form).
    v: Viewer,
    tabs: Vec<Tab>,
    asks: Vec<AskItem>,
    spaces: Vec<Choice>,
    status: String,
    more: bool,
}

pub async fn list(viewer: Viewer, State(app): State<App>, Query(p): Query<Params>) -> Result<Html<String>, WebError> {
    let status = match given(&p.status) {
        None => Some(AskStatus::Open),
        Some("all") => None,
        Some(s) => Some(
            s.parse::<AskStatus>()
                .map_err(|_| WebError::BadRequest(format!("status: '{s}' is not one of open, answered, defaulted, expired or all")))?,
        ),
    };
    let space = given(&p.space);
    let ids = space_filter(&viewer, space)?;
    let mut views = Vec::new();
    for s in viewer.spaces.iter().filter(|s| ids.contains(&s.id)) {
        views.extend(app.store.asks(Some(&s.slug), status, Some(PAGE_ROWS)).await?);
    }
    let (views, more) = newest(views, |v| &v.id);
    let tz = zone(&app, &viewer).await?;
    let subjects = app.store.thread_subjects(&views.iter().map(|v| v.thread_id).collect::<Vec<_>>()).await?;
    let asks = views
        .into_iter()
        .map(|a| {
            let mine =
                if a.asked_of.is_empty() { a.asked_by.as_deref() != Some(&viewer.email) } else { a.asked_of.contains(&viewer.email) };
            AskItem {
                subject: subjects.get(&a.thread_id).cloned().unwrap_or_default(),
                waiting: mine && a.status == AskStatus::Open,
                id: a.id,
                text: a.text,
                space: a.space.clone(),
                thread_id: a.thread_id,
                asked_by: a.asked_by.unwrap_or_else(|| "unknown".into()),
                asked_of: if a.asked_of.is_empty() { format!("everyone in {}", a.space) } else { a.asked_of.join(", ") },
                closes: a.closes_at.map(|c| Stamp::new(c, tz)),
                default: a.default,
                status: a.status.to_string(),
                answered_by: a.answered_by,
                decision: a.decision,
            }
        })
        .collect();
    let current = status.map_or("all", AskStatus::as_str);
    let tabs = AskStatus::ALL
        .iter()
        .map(|s| s.as_str())
        .chain(std::iter::once("all"))
        .map(|s| Tab { href: format!("/asks?status={s}"), label: s, current: s == current })
        .collect();
    page(&AsksPage { v: viewer.clone(), tabs, asks, spaces: space_choices(&viewer, space), status: current.to_string(), more })
}

/// An ask or proposal a set of notes recorded.
struct Other {
    id: String,
    href: String,
    text: String,
    status: String,
}

#[derive(Template)]
#[template(path = "web/notes.html")]
struct NotesPage {
    /// The signed-in member (the nav's sign-out form).
    v: Viewer,
    n: crate::store::items::NotesView,
    subject: String,
    author: String,
    date: Stamp,
    decisions: Vec<DecisionItem>,
    tasks: Vec<TaskItem>,
    others: Vec<Other>,
}

pub async fn notes(viewer: Viewer, State(app): State<App>, Path(id): Path<String>) -> Result<Html<String>, WebError> {
    let Some((ItemKind::Notes, n)) = ItemKind::parse_ref(&id) else { return Err(WebError::NotFound) };
    let notes = app.store.notes_by_id(n).await?.ok_or(WebError::NotFound)?;
    let space = viewer.space(&notes.space).ok_or(WebError::NotFound)?;
    let tz = zone(&app, &viewer).await?;
    let space_ids = vec![space.id];
    let decisions = app
        .store
        .decisions_where(&DecisionQuery { space_ids: space_ids.clone(), notes_id: Some(n), limit: PAGE_ROWS, ..Default::default() })
        .await?;
    let tasks = app.store.tasks_where(&TaskQuery { space_ids, notes_id: Some(n), limit: PAGE_ROWS, ..Default::default() }).await?;
    let mut others = Vec::new();
    for a in app.store.asks(Some(&notes.space), None, None).await?.into_iter().filter(|a| notes.items.contains(&a.id)) {
        others.push(Other { href: format!("/t/{}#{}", a.thread_id, a.id), id: a.id, text: a.text, status: a.status.to_string() });
    }
    for p in app.store.proposals(Some(&notes.space), None, None).await?.into_iter().filter(|p| notes.items.contains(&p.id)) {
        others.push(Other { href: format!("/t/{}#{}", p.thread_id, p.id), id: p.id, text: p.text, status: p.status.to_string() });
    }
    let subject = app.store.thread_subjects(&[notes.thread_id]).await?.remove(&notes.thread_id).unwrap_or_default();
    page(&NotesPage {
        v: viewer.clone(),
        subject,
        author: notes.author.clone().unwrap_or_else(|| "unknown".into()),
        date: Stamp::new(notes.date, tz),
        decisions: decision_items(&app, decisions, tz).await?,
        tasks: task_items(&app, tasks, tz, app.now()).await?,
        others,
        n: notes,
    })
}

//! `/decisions` (the viewer's spaces' decisions, filtered by space, goal and dates) and `/d/D-n`
//! (one decision with the messages of its thread that led to it, its tasks and its goal).

use super::items::{DecisionItem, TaskItem, decision_items, task_items};
use super::{Choice, PAGE_ROWS, Stamp, day_start, given, space_choices, space_filter, zone};
use crate::app::App;
use crate::store::items::{DecisionQuery, ItemKind, TaskFilter};
use crate::web::{Viewer, WebError, page};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Html;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
pub struct Params {
    space: Option<String>,
    goal: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

#[derive(Template)]
#[template(path = "web/decisions.html")]
struct ListPage {
    /// The signed-in member (the nav's sign-out form).
    v: Viewer,
    decisions: Vec<DecisionItem>,
    spaces: Vec<Choice>,
    goals: Vec<Choice>,
    from: String,
    to: String,
    /// Some filter is set.
    filtered: bool,
    /// The list reached its limit: older ones exist.
    more: bool,
}

pub async fn list(viewer: Viewer, State(app): State<App>, Query(p): Query<Params>) -> Result<Html<String>, WebError> {
    let tz = zone(&app, &viewer).await?;
    let (space, goal, from, to) = (given(&p.space), given(&p.goal), given(&p.from), given(&p.to));
    let query = DecisionQuery {
        space_ids: space_filter(&viewer, space)?,
        goal: goal.map(str::to_string),
        id: None,
        from: from.map(|d| day_start("from", d, tz, false)).transpose()?,
        until: to.map(|d| day_start("to", d, tz, true)).transpose()?,
        notes_id: None,
        limit: PAGE_ROWS,
    };
    let views = app.store.decisions_where(&query).await?;
    let more = views.len() as i64 >= PAGE_ROWS;
    let all: Vec<i64> = viewer.spaces.iter().map(|s| s.id).collect();
    let mut goals = vec![Choice::new("", "Any goal", goal.or(Some("")))];
    let mut seen = Vec::new();
    for g in app.store.goals_of(&all).await? {
        if !seen.contains(&g.slug) {
            let label = g.title.as_ref().map_or_else(|| g.slug.clone(), |t| format!("{t} ({})", g.slug));
            goals.push(Choice::new(g.slug.clone(), label, goal));
            seen.push(g.slug);
        }
    }
    page(&ListPage {
        v: viewer.clone(),
        decisions: decision_items(&app, views, tz).await?,
        spaces: space_choices(&viewer, space),
        goals,
        from: from.unwrap_or_default().to_string(),
        to: to.unwrap_or_default().to_string(),
        filtered: space.is_some() || goal.is_some() || from.is_some() || to.is_some(),
        more,
    })
}

/// A message of the decision's thread, up to the deciding one.
struct Said {
    id: i64,
    from: String,
    date: Stamp,
    subject: String,
    text: String,
    deciding: bool,
}

#[derive(Template)]
#[template(path = "web/decision.html")]
struct OnePage {
    /// The signed-in member (the nav's sign-out form).
    v: Viewer,
    d: DecisionItem,
    messages: Vec<Said>,
    tasks: Vec<TaskItem>,
}

pub async fn one(viewer: Viewer, State(app): State<App>, Path(id): Path<String>) -> Result<Html<String>, WebError> {
    let Some((ItemKind::Decision, n)) = ItemKind::parse_ref(&id) else { return Err(WebError::NotFound) };
    let query = DecisionQuery { space_ids: space_filter(&viewer, None)?, id: Some(n), limit: 1, ..Default::default() };
    let Some(view) = app.store.decisions_where(&query).await?.into_iter().next() else { return Err(WebError::NotFound) };
    let tz = zone(&app, &viewer).await?;
    let (message_id, decided_at, thread_id) = (view.message_id.clone(), view.decided_at, view.thread_id);
    let tasks = app.store.tasks(&TaskFilter { thread_id: Some(thread_id), ..Default::default() }).await?;
    let tasks: Vec<_> = tasks.into_iter().filter(|t| view.tasks.contains(&t.id)).collect();
    let thread = app.store.thread(thread_id, i64::try_from(app.config.threads.loop_rounds).unwrap_or(i64::MAX)).await?;
    let all = thread.messages.unwrap_or_default();
    // The thread up to the deciding message; a decision without one (an adopted proposal, a
    // default) is preceded by what was said until it was made.
    let deciding = all.iter().position(|m| m.message_id.is_some() && m.message_id == message_id);
    let cut = match deciding {
        Some(i) => i + 1,
        None => all.iter().take_while(|m| m.date <= decided_at).count(),
    };
    let messages = all
        .into_iter()
        .take(cut)
        .enumerate()
        .map(|(i, m)| Said {
            id: m.id,
            from: match (m.from_name, m.from) {
                (Some(name), Some(addr)) if !name.is_empty() => format!("{name} <{addr}>"),
                (_, Some(addr)) => addr,
                (name, None) => name.unwrap_or_else(|| "unknown".into()),
            },
            date: Stamp::new(m.date, tz),
            subject: m.subject,
            text: m.visible_text,
            deciding: deciding == Some(i),
        })
        .collect();
    let now = app.now();
    page(&OnePage {
        v: viewer.clone(),
        d: decision_items(&app, vec![view], tz).await?.pop().ok_or(WebError::NotFound)?,
        messages,
        tasks: task_items(&app, tasks, tz, now).await?,
    })
}

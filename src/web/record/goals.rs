//! `/g/SLUG`: a goal with its decisions and tasks (every space of the viewer's that has a goal
//! of that name; none is 404).

use super::items::{DecisionItem, TaskItem, decision_items, task_items};
use super::{PAGE_ROWS, Stamp, zone};
use crate::app::App;
use crate::store::items::{DecisionQuery, TaskQuery};
use crate::web::{Viewer, WebError, page};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::Html;

#[derive(Template)]
#[template(path = "web/goal.html")]
struct GoalPage {
    /// The signed-in member (the nav's sign-out form).
    v: Viewer,
    slug: String,
    title: String,
    spaces: Vec<String>,
    started: Stamp,
    decisions: Vec<DecisionItem>,
    tasks: Vec<TaskItem>,
}

pub async fn one(viewer: Viewer, State(app): State<App>, Path(slug): Path<String>) -> Result<Html<String>, WebError> {
    let visible: Vec<i64> = viewer.spaces.iter().map(|s| s.id).collect();
    let goals = app.store.goals_named(&slug, &visible).await?;
    let Some(first) = goals.first() else { return Err(WebError::NotFound) };
    let tz = zone(&app, &viewer).await?;
    let title = goals.iter().find_map(|g| g.title.clone()).unwrap_or_else(|| slug.clone());
    let started = Stamp::new(crate::store::read::to_utc(goals.iter().map(|g| g.created_at).min().unwrap_or(first.created_at)), tz);
    let space_ids: Vec<i64> = goals.iter().map(|g| g.space_id).collect();
    let decisions = app
        .store
        .decisions_where(&DecisionQuery { space_ids: space_ids.clone(), goal: Some(slug.clone()), limit: PAGE_ROWS, ..Default::default() })
        .await?;
    let tasks = app.store.tasks_where(&TaskQuery { space_ids, goal: Some(slug.clone()), limit: PAGE_ROWS, ..Default::default() }).await?;
    let now = app.now();
    page(&GoalPage {
        v: viewer.clone(),
        spaces: goals.iter().map(|g| g.space.clone()).collect(),
        slug,
        title,
        started,
        decisions: decision_items(&app, decisions, tz).await?,
        tasks: task_items(&app, tasks, tz, now).await?,
    })
}

//! Decisions and tasks as the record pages show them: the store's views with their thread's
//! subject and every time as a [`Stamp`] in the viewer's zone.

use super::Stamp;
use crate::app::App;
use crate::store::items::{DecisionView, TaskView};
use crate::store::states::TaskStatus;
use crate::web::WebError;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// One decision in a list or on its page.
#[derive(Debug, Clone)]
pub struct DecisionItem {
    pub id: String,
    pub text: String,
    pub space: String,
    pub thread_id: i64,
    pub subject: String,
    pub author: String,
    pub decided: Stamp,
    pub goal: Option<String>,
    pub tasks: Vec<String>,
    pub source: String,
    /// `standing` | `superseded`.
    pub status: String,
    /// The decision this one replaces.
    pub supersedes: Option<String>,
    /// The decision that replaced this one.
    pub superseded_by: Option<String>,
    /// The meeting notes it was recorded in.
    pub notes: Option<String>,
}

/// One task in a list.
#[derive(Debug, Clone)]
pub struct TaskItem {
    pub id: String,
    pub title: String,
    pub space: String,
    pub thread_id: i64,
    pub subject: String,
    pub owner: Option<String>,
    pub watchers: Vec<String>,
    pub due: Option<Stamp>,
    pub status: String,
    /// Open and past its due time.
    pub overdue: bool,
    pub goal: Option<String>,
    pub decision: Option<String>,
    pub done: Option<Stamp>,
}

pub async fn decision_items(app: &App, views: Vec<DecisionView>, tz: Tz) -> Result<Vec<DecisionItem>, WebError> {
    let subjects = app.store.thread_subjects(&views.iter().map(|d| d.thread_id).collect::<Vec<_>>()).await?;
    Ok(views
        .into_iter()
        .map(|d| DecisionItem {
            subject: subjects.get(&d.thread_id).cloned().unwrap_or_default(),
            id: d.id,
            text: d.text,
            space: d.space,
            thread_id: d.thread_id,
            author: d.author.unwrap_or_else(|| "unknown".into()),
            decided: Stamp::new(d.decided_at, tz),
            goal: d.goal,
            tasks: d.tasks,
            source: d.source.to_string(),
            status: d.status.to_string(),
            supersedes: d.supersedes,
            superseded_by: d.superseded_by,
            notes: d.notes,
        })
        .collect())
}

pub async fn task_items(app: &App, views: Vec<TaskView>, tz: Tz, now: DateTime<Utc>) -> Result<Vec<TaskItem>, WebError> {
    let subjects = app.store.thread_subjects(&views.iter().map(|t| t.thread_id).collect::<Vec<_>>()).await?;
    Ok(views
        .into_iter()
        .map(|t| TaskItem {
            subject: subjects.get(&t.thread_id).cloned().unwrap_or_default(),
            overdue: t.status == TaskStatus::Open && t.due.is_some_and(|d| d < now),
            id: t.id,
            title: t.title,
            space: t.space,
            thread_id: t.thread_id,
            owner: t.owner,
            watchers: t.watchers,
            due: t.due.map(|d| Stamp::new(d, tz)),
            status: t.status.to_string(),
            goal: t.goal,
            decision: t.decision,
            done: t.done_at.map(|d| Stamp::new(d, tz)),
        })
        .collect())
}

//! `/tasks` (tabs: mine, overdue, by owner, all; filters: status, owner, space) and `/proposals`
//! (by status, with closing time, objections and the decision an adopted one became).

use super::items::{TaskItem, task_items};
use super::{Choice, PAGE_ROWS, Stamp, given, newest, space_choices, space_filter, zone};
use crate::app::App;
use crate::store::items::TaskQuery;
use crate::store::states::{ProposalStatus, TaskStatus};
use crate::web::{Viewer, WebError, page};
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Html;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
pub struct TaskParams {
    view: Option<String>,
    status: Option<String>,
    owner: Option<String>,
    space: Option<String>,
}

/// A tab of a list page.
pub struct Tab {
    pub(super) href: String,
    pub(super) label: &'static str,
    pub(super) current: bool,
}

/// Tasks under one heading (the owner, on the "by owner" tab; else one untitled group).
struct Group {
    heading: Option<String>,
    tasks: Vec<TaskItem>,
}

#[derive(Template)]
#[template(path = "web/tasks.html")]
struct TasksPage {
    /// The signed-in member (the nav's sign-out form).
    v: Viewer,
    tabs: Vec<Tab>,
    view: &'static str,
    groups: Vec<Group>,
    statuses: Vec<Choice>,
    owners: Vec<Choice>,
    spaces: Vec<Choice>,
    more: bool,
}

const VIEWS: [(&str, &str); 4] = [("mine", "Mine"), ("overdue", "Overdue"), ("owner", "By owner"), ("all", "All")];

pub async fn list(viewer: Viewer, State(app): State<App>, Query(p): Query<TaskParams>) -> Result<Html<String>, WebError> {
    let view = match given(&p.view) {
        None => "mine",
        Some(v) => VIEWS.iter().map(|(v, _)| *v).find(|known| *known == v).ok_or_else(|| bad("view", v, "mine, overdue, owner or all"))?,
    };
    let status = match (view, given(&p.status)) {
        ("overdue", _) => Some(TaskStatus::Open),
        (_, None) => Some(TaskStatus::Open),
        (_, Some("any")) => None,
        (_, Some(s)) => Some(s.parse::<TaskStatus>().map_err(|_| bad("status", s, "open, done, cancelled or any"))?),
    };
    let (space, owner) = (given(&p.space), given(&p.owner));
    let now = app.now();
    let query = TaskQuery {
        space_ids: space_filter(&viewer, space)?,
        goal: None,
        owner: if view == "mine" { Some(viewer.email.clone()) } else { owner.map(str::to_ascii_lowercase) },
        status,
        overdue_at: (view == "overdue").then(|| now.timestamp()),
        notes_id: None,
        limit: PAGE_ROWS,
    };
    let tz = zone(&app, &viewer).await?;
    let views = app.store.tasks_where(&query).await?;
    let more = views.len() as i64 >= PAGE_ROWS;
    let mut tasks = task_items(&app, views, tz, now).await?;
    let groups = if view == "owner" {
        tasks.sort_by(|a, b| (a.owner.is_none(), &a.owner).cmp(&(b.owner.is_none(), &b.owner)));
        let mut groups: Vec<Group> = Vec::new();
        for t in tasks {
            let heading = Some(t.owner.clone().unwrap_or_else(|| "Unassigned".into()));
            match groups.last_mut() {
                Some(g) if g.heading == heading => g.tasks.push(t),
                _ => groups.push(Group { heading, tasks: vec![t] }),
            }
        }
        groups
    } else {
        vec![Group { heading: None, tasks }]
    };
    let all: Vec<i64> = viewer.spaces.iter().map(|s| s.id).collect();
    let mut owners = vec![Choice::new("", "Anyone", owner.or(Some("")))];
    owners.extend(app.store.task_owners(&all).await?.into_iter().map(|o| Choice::new(o.clone(), o, owner)));
    let current_status = if status.is_none() { Some("any") } else { status.map(TaskStatus::as_str) };
    let mut statuses: Vec<Choice> = TaskStatus::ALL.iter().map(|s| Choice::new(s.as_str(), s.as_str(), current_status)).collect();
    statuses.push(Choice::new("any", "any", current_status));
    page(&TasksPage {
        v: viewer.clone(),
        tabs: VIEWS.iter().map(|(v, label)| Tab { href: format!("/tasks?view={v}"), label, current: *v == view }).collect(),
        view,
        groups: groups.into_iter().filter(|g| !g.tasks.is_empty()).collect(),
        statuses,
        owners,
        spaces: space_choices(&viewer, space),
        more,
    })
}

fn bad(name: &str, value: &str, want: &str) -> WebError {
    WebError::BadRequest(format!("{name}: '{value}' is not one of {want}"))
}

#[derive(Debug, Default, Deserialize)]
pub struct ProposalParams {
    status: Option<String>,
    space: Option<String>,
}

struct Objection {
    by: String,
    at: Stamp,
    text: String,
}

struct ProposalItem {
    id: String,
    text: String,
    space: String,
    thread_id: i64,
    subject: String,
    closes: Option<Stamp>,
    status: String,
    objections: Vec<Objection>,
    decision: Option<String>,
}

#[derive(Template)]
#[template(path = "web/proposals.html")]
struct ProposalsPage {
    /// The signed-in member (the nav's sign-out form).
    v: Viewer,
    tabs: Vec<Tab>,
    proposals: Vec<ProposalItem>,
    spaces: Vec<Choice>,
    status: String,
    more: bool,
}

pub async fn proposals(viewer: Viewer, State(app): State<App>, Query(p): Query<ProposalParams>) -> Result<Html<String>, WebError> {
    let status = match given(&p.status) {
        None | Some("all") => None,
        Some(s) => Some(s.parse::<ProposalStatus>().map_err(|_| bad("status", s, "open, adopted, blocked, withdrawn or all"))?),
    };
    let space = given(&p.space);
    let ids = space_filter(&viewer, space)?;
    let mut views = Vec::new();
    for s in viewer.spaces.iter().filter(|s| ids.contains(&s.id)) {
        views.extend(app.store.proposals(Some(&s.slug), status, Some(PAGE_ROWS)).await?);
    }
    let (views, more) = newest(views, |v| &v.id);
    let tz = zone(&app, &viewer).await?;
    let subjects = app.store.thread_subjects(&views.iter().map(|v| v.thread_id).collect::<Vec<_>>()).await?;
    let proposals = views
        .into_iter()
        .map(|v| ProposalItem {
            subject: subjects.get(&v.thread_id).cloned().unwrap_or_default(),
            id: v.id,
            text: v.text,
            space: v.space,
            thread_id: v.thread_id,
            closes: v.closes_at.map(|c| Stamp::new(c, tz)),
            status: v.status.to_string(),
            objections: v
                .objections
                .into_iter()
                .map(|o| Objection { by: o.by.unwrap_or_else(|| "unknown".into()), at: Stamp::new(o.at, tz), text: o.text })
                .collect(),
            decision: v.decision,
        })
        .collect();
    let current = status.map_or("all", ProposalStatus::as_str);
    let tabs = std::iter::once("all")
        .chain(ProposalStatus::ALL.iter().map(|s| s.as_str()))
        .map(|s| Tab { href: format!("/proposals?status={s}"), label: s, current: s == current })
        .collect();
    page(&ProposalsPage { v: viewer.clone(), tabs, proposals, spaces: space_choices(&viewer, space), status: current.to_string(), more })
}

//! The `/api/v1/` handlers: each extracts the token's member and the query, calls the store (or
//! the index) for the same views `docket … --json` prints, keeps what the member may see, and
//! answers one page of it.

use super::{ApiError, ApiUser, Envelope, Page};
use crate::app::App;
use crate::index::hit::{Hit, MAX_LIMIT as SEARCH_MAX};
use crate::index::{IndexError, SearchOptions, Sort};
use crate::store::items::{DecisionView, ProposalView, TaskFilter, TaskView};
use crate::store::read::ThreadView;
use crate::store::spaces::SpaceView;
use crate::store::states::{ProposalStatus, TaskStatus};
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use std::collections::HashMap;

type Params = Result<Query<HashMap<String, String>>, QueryRejection>;

/// The query parameters, or a 400 saying the query string is malformed.
fn params(q: Params) -> Result<HashMap<String, String>, ApiError> {
    q.map(|Query(m)| m).map_err(|e| ApiError::BadRequest(format!("bad query string: {e}")))
}

fn page(p: &HashMap<String, String>) -> Result<Page, ApiError> {
    Page::parse(p.get("limit").map(String::as_str), p.get("cursor").map(String::as_str))
}

/// The one space a store query can be narrowed to (the `space` asked for, or the member's only
/// space) with a row bound, or every space unbounded (filtered afterwards).
fn scope<'a>(user: &'a ApiUser, space: Option<&'a String>, page: &Page) -> Result<(Option<&'a str>, Option<i64>), ApiError> {
    let needed = i64::try_from(page.needed()).unwrap_or(i64::MAX);
    match (space, user.spaces.as_slice()) {
        (Some(slug), _) => Ok((Some(user.space(slug)?.slug.as_str()), Some(needed))),
        (None, []) => Ok((None, Some(0))),
        (None, [only]) => Ok((Some(only.slug.as_str()), Some(needed))),
        (None, _) => Ok((None, None)),
    }
}

fn loop_rounds(app: &App) -> i64 {
    i64::try_from(app.config.threads.loop_rounds).unwrap_or(i64::MAX)
}

pub async fn spaces(State(app): State<App>, user: ApiUser, q: Params) -> Result<Json<Envelope<SpaceView>>, ApiError> {
    let p = params(q)?;
    let page = page(&p)?;
    let mut out = Vec::with_capacity(user.spaces.len());
    for s in user.spaces.iter().take(page.needed()) {
        let members = app.store.members(s).await?.len();
        out.push(SpaceView { slug: s.slug.clone(), name: s.name.clone(), address: app.config.space_address(&s.slug), members });
    }
    Ok(page.cut(out))
}

pub async fn threads(State(app): State<App>, user: ApiUser, q: Params) -> Result<Json<Envelope<ThreadView>>, ApiError> {
    let p = params(q)?;
    let page = page(&p)?;
    let (space, bound) = scope(&user, p.get("space"), &page)?;
    let mut list = app.store.threads(space, bound, loop_rounds(&app)).await?;
    list.retain(|t| user.sees(&t.space));
    Ok(page.cut(list))
}

pub async fn thread(State(app): State<App>, user: ApiUser, Path(id): Path<String>) -> Result<Json<ThreadView>, ApiError> {
    let missing = || ApiError::NotFound(format!("no thread {id}"));
    let n: i64 = id.parse().map_err(|_| missing())?;
    let t = app.store.thread(n, loop_rounds(&app)).await.map_err(|e| match ApiError::from(e) {
        ApiError::NotFound(_) => missing(),
        e => e,
    })?;
    if !user.sees(&t.space) {
        return Err(missing());
    }
    Ok(Json(t))
}

pub async fn decisions(State(app): State<App>, user: ApiUser, q: Params) -> Result<Json<Envelope<DecisionView>>, ApiError> {
    let p = params(q)?;
    let page = page(&p)?;
    let (space, bound) = scope(&user, p.get("space"), &page)?;
    let mut list = app.store.decisions(space, None, bound).await?;
    list.retain(|d| user.sees(&d.space));
    Ok(page.cut(list))
}

pub async fn tasks(State(app): State<App>, user: ApiUser, q: Params) -> Result<Json<Envelope<TaskView>>, ApiError> {
    let p = params(q)?;
    let page = page(&p)?;
    let status = match p.get("status") {
        None => None,
        Some(s) => {
            Some(s.parse::<TaskStatus>().map_err(|_| ApiError::BadRequest(format!("status must be open, done or cancelled, not '{s}'")))?)
        }
    };
    let overdue = match p.get("overdue").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => return Err(ApiError::BadRequest(format!("overdue must be true or false, not '{other}'"))),
    };
    let owner = p.get("owner").map(|o| o.trim().to_ascii_lowercase());
    let (space, bound) = scope(&user, p.get("space"), &page)?;
    let filter = TaskFilter {
        space: space.map(str::to_string),
        owner,
        status,
        overdue_at: overdue.then(|| app.now().timestamp()),
        thread_id: None,
        limit: bound,
    };
    let mut list = app.store.tasks(&filter).await?;
    list.retain(|t| user.sees(&t.space));
    Ok(page.cut(list))
}

pub async fn proposals(State(app): State<App>, user: ApiUser, q: Params) -> Result<Json<Envelope<ProposalView>>, ApiError> {
    let p = params(q)?;
    let page = page(&p)?;
    let status = match p.get("status") {
        None => None,
        Some(s) => Some(
            s.parse::<ProposalStatus>()
                .map_err(|_| ApiError::BadRequest(format!("status must be open, adopted, blocked or withdrawn, not '{s}'")))?,
        ),
    };
    let (space, bound) = scope(&user, p.get("space"), &page)?;
    let mut list = app.store.proposals(space, status, bound).await?;
    list.retain(|x| user.sees(&x.space));
    Ok(page.cut(list))
}

pub async fn search(State(app): State<App>, user: ApiUser, q: Params) -> Result<Json<Envelope<Hit>>, ApiError> {
    let p = params(q)?;
    let page = page(&p)?;
    let query = p.get("q").map(|s| s.trim()).filter(|s| !s.is_empty());
    let Some(query) = query else {
        return Err(ApiError::BadRequest("q is missing: words, \"phrases\", and from: space: kind: status: before: after: filters".into()));
    };
    let sort = match p.get("sort").map(String::as_str) {
        None | Some("relevance") => Sort::Relevance,
        Some("date") => Sort::Date,
        Some(other) => return Err(ApiError::BadRequest(format!("sort must be relevance or date, not '{other}'"))),
    };
    // `serve` keeps the index current; this picks up what arrived since its last pass.
    match app.index.catch_up(&app.store, app.now().timestamp()).await {
        Ok(_) | Err(IndexError::Locked(_)) => {}
        Err(e) => tracing::warn!(error = %e, "search index not brought up to date before an API search"),
    }
    // Hits from every space come back and the member's are kept, so ask for the most the index
    // gives (a page past the first SEARCH_MAX hits is empty).
    let opts = SearchOptions { limit: SEARCH_MAX, sort };
    let mut hits = app.index.search(&app.store, query, &opts).await?;
    hits.retain(|h| user.sees(&h.space));
    Ok(page.cut(hits))
}

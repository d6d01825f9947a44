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

/// The spaces a list reads, each with the same row bound: the `space` asked for, else every space
/// of the member. Each space's query is bounded by what the page needs, so a member of several big
/// spaces never reads whole lists; the handler merges them in the list's order and cuts the page.
fn scope<'a>(user: &'a ApiUser, space: Option<&'a String>, page: &Page) -> Result<(Vec<&'a str>, i64), ApiError> {
    let needed = i64::try_from(page.needed()).unwrap_or(i64::MAX);
    match space {
        Some(slug) => Ok((vec![user.space(slug)?.slug.as_str()], needed)),
        None => Ok((user.spaces.iter().map(|s| s.slug.as_str()).collect(), needed)),
    }
}

/// Rows of several spaces in one order, at most `needed` of them.
fn merged<T, K: Ord>(mut rows: Vec<T>, needed: i64, key: impl FnMut(&T) -> K) -> Vec<T> {
    rows.sort_by_key(key);
    rows.truncate(usize::try_from(needed).unwrap_or(usize::MAX));
    rows
}

/// The number of an item id (`D-12` → 12), for newest-first orders.
fn number(id: &str) -> i64 {
    crate::store::items::ItemKind::parse_ref(id).map_or(0, |(_, n)| n)
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
    let (spaces, bound) = scope(&user, p.get("space"), &page)?;
    let mut list = Vec::new();
    for space in spaces {
        list.extend(app.store.threads(Some(space), Some(bound), loop_rounds(&app)).await?);
    }
    Ok(page.cut(merged(list, bound, |t| std::cmp::Reverse((t.last_activity_at, t.id)))))
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
    let (spaces, bound) = scope(&user, p.get("space"), &page)?;
    let mut list = Vec::new();
    for space in spaces {
        list.extend(app.store.decisions(Some(space), None, Some(bound)).await?);
    }
    Ok(page.cut(merged(list, bound, |d| std::cmp::Reverse((d.decided_at, number(&d.id))))))
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
    let (spaces, bound) = scope(&user, p.get("space"), &page)?;
    let mut list = Vec::new();
    for space in spaces {
        let filter = TaskFilter {
            space: Some(space.to_string()),
            owner: owner.clone(),
            status,
            overdue_at: overdue.then(|| app.now().timestamp()),
            thread_id: None,
            limit: Some(bound),
        };
        list.extend(app.store.tasks(&filter).await?);
    }
    // The store's order: tasks with a due time first, soonest first, then by id.
    Ok(page.cut(merged(list, bound, |t| (t.due.is_none(), t.due, number(&t.id)))))
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
    let (spaces, bound) = scope(&user, p.get("space"), &page)?;
    let mut list = Vec::new();
    for space in spaces {
        list.extend(app.store.proposals(Some(space), status, Some(bound)).await?);
    }
    Ok(page.cut(merged(list, bound, |x| std::cmp::Reverse(number(&x.id)))))
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

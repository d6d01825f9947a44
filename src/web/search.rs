//! `/search?q=`: the search language of `docket search` over the viewer's spaces only (each
//! space searched with the query plus `space:SLUG`, as the commands address does), hits with
//! their matches in `<mark>` and links to the message or item in its thread.

use super::record::{Stamp, zone};
use super::{Viewer, WebError, page};
use crate::app::App;
use crate::index::{Hit, HitId, IndexError, SearchOptions};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

/// Most hits a page shows.
const PAGE_HITS: usize = 50;

#[derive(Debug, Default, Deserialize)]
pub struct Params {
    q: Option<String>,
}

struct HitItem {
    kind: &'static str,
    id: String,
    /// The message or item in its thread (`/t/7#m12`, `/t/7#D-3`).
    link: String,
    /// A decision's own page.
    page: Option<String>,
    space: String,
    subject: String,
    date: Stamp,
    /// The snippet cut into (text, matched) parts.
    parts: Vec<(String, bool)>,
}

#[derive(Template)]
#[template(path = "web/search.html")]
struct SearchPage {
    /// The signed-in member (the nav's sign-out form).
    v: Viewer,
    q: String,
    hits: Vec<HitItem>,
    error: Option<String>,
    searched: bool,
}

pub async fn search(viewer: Viewer, State(app): State<App>, Query(p): Query<Params>) -> Result<Response, WebError> {
    let q = p.q.unwrap_or_default().trim().to_string();
    if q.is_empty() {
        return Ok(page(&SearchPage { v: viewer.clone(), q, hits: Vec::new(), error: None, searched: false })?.into_response());
    }
    let hits = match visible_hits(&app, &viewer, &q).await {
        Ok(hits) => hits,
        Err(e) if e.is_query() => {
            let page = page(&SearchPage { v: viewer.clone(), q, hits: Vec::new(), error: Some(e.to_string()), searched: false })?;
            return Ok((StatusCode::BAD_REQUEST, page).into_response());
        }
        Err(IndexError::Store(e)) => return Err(e.into()),
        Err(e) => return Err(WebError::Internal(format!("search failed: {e}"))),
    };
    let tz = zone(&app, &viewer).await?;
    let hits = hits
        .into_iter()
        .map(|h| HitItem {
            kind: h.kind,
            id: h.id.to_string(),
            link: h.link(""),
            page: match &h.id {
                HitId::Item(id) if h.kind == "decision" => Some(format!("/d/{id}")),
                _ => None,
            },
            parts: h.snippet_parts().into_iter().map(|(s, m)| (s.to_string(), m)).collect(),
            space: h.space,
            subject: h.subject,
            date: Stamp::new(h.date, tz),
        })
        .collect();
    Ok(page(&SearchPage { v: viewer.clone(), q, hits, error: None, searched: true })?.into_response())
}

/// The best hits of the viewer's spaces: never another space's, whatever the query says.
async fn visible_hits(app: &App, viewer: &Viewer, q: &str) -> Result<Vec<Hit>, IndexError> {
    let slugs: Vec<&str> = viewer.spaces.iter().map(|s| s.slug.as_str()).collect();
    let opts = SearchOptions { limit: PAGE_HITS, ..Default::default() };
    app.index.search_spaces(&app.store, q, &slugs, &opts, app.now().timestamp()).await
}

//! `/api/v1/`: the record as JSON for scripts, in the same shapes `docket … --json` prints (the
//! handlers serialise the store's own view structs). Bearer tokens (`docket token create`), a
//! member's spaces only (other spaces' items are 404, lists leave them out), `?limit=&cursor=`
//! pages in an `{items, next_cursor}` envelope, errors as `{"error": "…"}`.

mod handlers;
pub mod openapi;

use crate::app::App;
use crate::identity::api_key;
use crate::store::spaces::Space;
use axum::Json;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use data_encoding::BASE64URL_NOPAD;
use serde::Serialize;

/// Where the API is nested in the site.
pub const PREFIX: &str = "/api/v1";

/// Items in a page when `limit` is not given, and the most a page may hold.
pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 500;

/// Every API route (relative to [`PREFIX`]) with its handler: the router is built from this list,
/// and the test that checks the OpenAPI document walks it too.
pub fn endpoints() -> Vec<(&'static str, MethodRouter<App>)> {
    vec![
        ("/spaces", get(handlers::spaces)),
        ("/threads", get(handlers::threads)),
        ("/threads/{id}", get(handlers::thread)),
        ("/decisions", get(handlers::decisions)),
        ("/tasks", get(handlers::tasks)),
        ("/proposals", get(handlers::proposals)),
        ("/search", get(handlers::search)),
        ("/openapi.json", get(openapi::document)),
    ]
}

/// The API's routes, to be nested at [`PREFIX`]; unknown paths under it are JSON 404s.
pub fn routes() -> Router<App> {
    endpoints().into_iter().fold(Router::new(), |r, (path, handler)| r.route(path, handler)).fallback(unknown)
}

async fn unknown() -> ApiError {
    ApiError::NotFound("no such API route (see /api/v1/openapi.json)".into())
}

/// What an API request can fail with; each is a JSON `{"error": message}` with its status.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No token, a malformed one, or one that is unknown or revoked.
    #[error("{0}")]
    Unauthorized(String),
    /// Absent, or in a space the token's member is not in (the same answer).
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("the database is unavailable; try again in a moment")]
    Unavailable,
    #[error("internal error; the details are in the server log")]
    Internal(String),
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        use crate::store::StoreError as S;
        match e {
            S::NotFound(m) => ApiError::NotFound(m),
            e if e.is_temporary() => ApiError::Unavailable,
            e => ApiError::Internal(e.to_string()),
        }
    }
}

impl From<crate::index::IndexError> for ApiError {
    fn from(e: crate::index::IndexError) -> Self {
        use crate::index::IndexError as I;
        match e {
            I::Query(q) => ApiError::BadRequest(format!("bad search: {q}")),
            I::Store(s) => s.into(),
            I::Missing(_) => ApiError::Unavailable,
            e => ApiError::Internal(e.to_string()),
        }
    }
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(detail) = &self {
            tracing::error!(error = %detail, "API request failed");
        }
        let status = self.status();
        let mut response = (status, Json(serde_json::json!({ "error": self.to_string() }))).into_response();
        if status == StatusCode::UNAUTHORIZED {
            // RFC 6750 §3: the scheme, and why the token presented (if any) was not taken.
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"docket\""));
        }
        response
    }
}

/// The member a bearer token acts as, and the spaces they may read.
#[derive(Debug, Clone)]
pub struct ApiUser {
    pub email: String,
    pub spaces: Vec<Space>,
}

impl ApiUser {
    /// The space with this slug if the member is in it; otherwise the same 404 as a missing one.
    pub fn space(&self, slug: &str) -> Result<&Space, ApiError> {
        self.spaces.iter().find(|s| s.slug == slug).ok_or_else(|| ApiError::NotFound(format!("no space '{slug}'")))
    }

    pub fn sees(&self, slug: &str) -> bool {
        self.spaces.iter().any(|s| s.slug == slug)
    }
}

impl FromRequestParts<App> for ApiUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let header = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(str::trim);
        let Some(header) = header else {
            return Err(ApiError::Unauthorized("send a token: Authorization: Bearer TOKEN (from `docket token create EMAIL`)".into()));
        };
        let token = match header.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
            _ => return Err(ApiError::Unauthorized("the Authorization header must be: Bearer TOKEN".into())),
        };
        let invalid = || ApiError::Unauthorized("the token is not valid (revoked, mistyped, or from another server)".into());
        if !api_key::looks_like_token(token) {
            return Err(invalid());
        }
        let Some(record) = app.store.use_api_token(&api_key::hash(token), app.now().timestamp()).await? else {
            return Err(invalid());
        };
        let spaces = app.store.spaces_of(&record.email).await?;
        Ok(ApiUser { email: record.email, spaces })
    }
}

/// `?limit=&cursor=` of a list request: how many items, and where the page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub limit: usize,
    pub offset: usize,
}

impl Page {
    pub fn parse(limit: Option<&str>, cursor: Option<&str>) -> Result<Page, ApiError> {
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(s) => s
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| ApiError::BadRequest(format!("limit must be a whole number from 1 to {MAX_LIMIT}, not '{s}'")))?,
        };
        let offset = match cursor {
            None | Some("") => 0,
            Some(c) => decode_cursor(c).ok_or_else(|| {
                ApiError::BadRequest("cursor is not one this API gave out (pass next_cursor from the previous page as it is)".into())
            })?,
        };
        Ok(Page { limit, offset })
    }

    /// How many rows a query must return to fill this page and know whether another follows.
    pub fn needed(&self) -> usize {
        self.offset.saturating_add(self.limit).saturating_add(1)
    }

    /// This page of `all` (every row up to at least `needed()`), in the envelope.
    pub fn cut<T: Serialize>(&self, all: Vec<T>) -> Json<Envelope<T>> {
        let more = all.len() > self.offset.saturating_add(self.limit);
        let items: Vec<T> = all.into_iter().skip(self.offset).take(self.limit).collect();
        let next_cursor = more.then(|| encode_cursor(self.offset + self.limit));
        Json(Envelope { items, next_cursor })
    }
}

/// A page of a list: its items, and the cursor of the next page (null on the last).
#[derive(Debug, Serialize)]
pub struct Envelope<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

fn encode_cursor(offset: usize) -> String {
    BASE64URL_NOPAD.encode(format!("v1:{offset}").as_bytes())
}

fn decode_cursor(c: &str) -> Option<usize> {
    let bytes = BASE64URL_NOPAD.decode(c.as_bytes()).ok()?;
    let text = std::str::from_utf8(&bytes).ok()?;
    text.strip_prefix("v1:")?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_and_cursors() {
        let p = Page::parse(Some("2"), None).unwrap();
        let first = p.cut(vec![1, 2, 3, 4, 5]).0;
        assert_eq!(first.items, [1, 2]);
        let next = Page::parse(Some("2"), first.next_cursor.as_deref()).unwrap();
        assert_eq!(next, Page { limit: 2, offset: 2 });
        let last = Page::parse(Some("2"), Some(&encode_cursor(4))).unwrap().cut(vec![1, 2, 3, 4, 5]).0;
        assert_eq!((last.items, last.next_cursor), (vec![5], None));
        assert_eq!(Page::parse(None, Some("")).unwrap(), Page { limit: DEFAULT_LIMIT, offset: 0 });
        for (limit, cursor) in
            [(Some("0"), None), (Some("501"), None), (Some("-1"), None), (Some("x"), None), (None, Some("!!")), (None, Some("djE6eA"))]
        {
            assert!(matches!(Page::parse(limit, cursor), Err(ApiError::BadRequest(_))), "{limit:?} {cursor:?}");
        }
    }
}

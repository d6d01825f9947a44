//! The web door: `docket serve`'s HTTP server on `http.listen` — the router, the security headers
//! every answer carries, the signed-in viewer, and the error pages handlers answer with.

pub mod api;
pub mod feeds;
pub mod health;
pub mod home;
pub mod login;
pub mod metrics;
pub mod record;
pub mod sanitize;
pub mod search;
pub mod thread;
pub mod unsubscribe;
pub mod viewer;

use crate::app::App;
use askama::Template;
use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

pub use viewer::Viewer;

/// Every route docket serves. Handlers take `State<App>`; areas add their routes here.
pub fn router(app: App) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .merge(record::routes())
        .route("/search", get(search::search))
        .route("/metrics", get(metrics::metrics))
        .route("/static/docket.css", get(stylesheet))
        .nest(api::PREFIX, api::routes())
        .merge(feeds::routes())
        .merge(login::routes())
        .merge(home::routes())
        .merge(thread::routes())
        .merge(unsubscribe::routes())
        .fallback(not_found)
        .layer(middleware::from_fn(security_headers))
        .with_state(app)
}

/// What a handler can fail with; each becomes a page with the right status.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// Absent, or not the viewer's to see (the same answer, so nothing can be probed).
    #[error("not found")]
    NotFound,
    /// The page needs a session.
    #[error("sign in to see this page")]
    SignIn,
    /// A form POST without the session's CSRF token.
    #[error("this form has expired; go back, reload the page and try again")]
    Csrf,
    #[error("{0}")]
    BadRequest(String),
    #[error("the database is unavailable; try again in a moment")]
    Unavailable,
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<crate::store::StoreError> for WebError {
    fn from(e: crate::store::StoreError) -> Self {
        use crate::store::StoreError as S;
        match e {
            S::NotFound(_) => WebError::NotFound,
            e if e.is_temporary() => WebError::Unavailable,
            e => WebError::Internal(e.to_string()),
        }
    }
}

impl From<askama::Error> for WebError {
    fn from(e: askama::Error) -> Self {
        WebError::Internal(format!("cannot render the page: {e}"))
    }
}

impl WebError {
    pub fn status(&self) -> StatusCode {
        match self {
            WebError::NotFound => StatusCode::NOT_FOUND,
            WebError::SignIn => StatusCode::UNAUTHORIZED,
            WebError::Csrf => StatusCode::FORBIDDEN,
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

#[derive(Template)]
#[template(path = "web/error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    message: String,
    sign_in: bool,
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let WebError::Internal(detail) = &self {
            tracing::error!(error = %detail, "web request failed");
        }
        // Internal details go to the log, not to the visitor.
        let message = match &self {
            WebError::Internal(_) => "Something went wrong on our side; the error is in the server log.".to_string(),
            e => e.to_string(),
        };
        let page = ErrorPage { title: status.canonical_reason().unwrap_or("Error"), message, sign_in: matches!(self, WebError::SignIn) };
        match page.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(_) => (status, page.message).into_response(),
        }
    }
}

/// Renders a page template into a response (render errors are errors, not blank pages).
pub fn page(t: &impl Template) -> Result<Html<String>, WebError> {
    Ok(Html(t.render()?))
}

async fn not_found() -> WebError {
    WebError::NotFound
}

const STYLESHEET: &str = include_str!("../../templates/web/docket.css");

async fn stylesheet() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")], STYLESHEET)
}

/// The policy every answer carries: no inline or remote script or style, no framing, no referrer
/// to other sites, no content sniffing. Mail HTML is sanitised as well; this is the second wall.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'";

async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let set = |headers: &mut axum::http::HeaderMap, name: header::HeaderName, value: &'static str| {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    };
    set(headers, header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY);
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    set(headers, header::REFERRER_POLICY, "same-origin");
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    response
}

//! Sign-in by magic link and sign-out: `GET /login` asks for an address; `POST /login` mails a
//! member a single-use link valid 15 minutes (the same answer for any address, so membership
//! cannot be probed; strangers get no mail; every answer waits until [`ANSWER_FLOOR`] has passed,
//! so a member's extra work — a token written, a mail queued — does not show in the timing); `GET /login/TOKEN` only shows a button (link
//! scanners that fetch it spend nothing); `POST /login/TOKEN` spends the token once and starts a
//! session; `POST /logout` (with the CSRF token) ends it.

use super::viewer::{self, Viewer};
use super::{WebError, page};
use crate::app::App;
use crate::notify::login::{self as mail, Mailed};
use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

/// `POST /login` answers no sooner than this after the request came in, member or not: long
/// enough to cover the member path's writes on a healthy database.
pub const ANSWER_FLOOR: std::time::Duration = std::time::Duration::from_millis(250);

pub fn routes() -> Router<App> {
    Router::new().route("/login", get(form).post(request)).route("/login/{token}", get(confirm).post(spend)).route("/logout", post(logout))
}

#[derive(Template)]
#[template(path = "web/login.html")]
struct LoginPage<'a> {
    /// Signed in already as this address.
    signed_in: Option<&'a str>,
    csrf: &'a str,
    /// The address a link was asked for (the "check your mail" answer).
    asked: Option<&'a str>,
    error: Option<&'a str>,
    minutes: i64,
}

#[derive(Template)]
#[template(path = "web/login_confirm.html")]
struct ConfirmPage<'a> {
    token: &'a str,
    /// False: the link is unknown, spent or expired.
    valid: bool,
}

#[derive(Debug, Deserialize)]
pub struct EmailForm {
    #[serde(default)]
    email: String,
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

fn login_page(signed_in: Option<&Viewer>, asked: Option<&str>, error: Option<&str>) -> Result<Html<String>, WebError> {
    let (signed_in, csrf) = match signed_in {
        Some(v) => (Some(v.email.as_str()), v.csrf.as_str()),
        None => (None, ""),
    };
    page(&LoginPage { signed_in, csrf, asked, error, minutes: mail::LINK_SECS / 60 })
}

async fn form(viewer: Option<Viewer>) -> Result<Html<String>, WebError> {
    login_page(viewer.as_ref(), None, None)
}

/// A form posted from another site is refused (login CSRF: signing a visitor in as someone
/// else). Browsers say where a request comes from in `Sec-Fetch-Site`, else in `Origin`.
fn same_site(headers: &HeaderMap) -> Result<(), WebError> {
    let value = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if value("sec-fetch-site").is_some_and(|s| s.eq_ignore_ascii_case("cross-site")) {
        return Err(WebError::Csrf);
    }
    if let (Some(origin), Some(host)) = (value("origin"), value("host")) {
        let origin_host = origin.split("://").nth(1).unwrap_or(origin);
        if origin != "null" && !origin_host.eq_ignore_ascii_case(host) {
            return Err(WebError::Csrf);
        }
    }
    Ok(())
}

async fn request(State(app): State<App>, headers: HeaderMap, Form(f): Form<EmailForm>) -> Result<Response, WebError> {
    let answer_at = tokio::time::Instant::now() + ANSWER_FLOOR;
    let answer = asked(&app, &headers, &f).await;
    tokio::time::sleep_until(answer_at).await;
    answer
}

async fn asked(app: &App, headers: &HeaderMap, f: &EmailForm) -> Result<Response, WebError> {
    same_site(headers)?;
    let Ok(email) = crate::space::email(&f.email) else {
        let page = login_page(None, None, Some("That is not an email address; check it and try again."))?;
        return Ok((StatusCode::BAD_REQUEST, page).into_response());
    };
    // Strangers get the same answer and no mail; only members are sent a link.
    if !app.store.spaces_of(&email).await?.is_empty() {
        let token = viewer::new_token()?;
        let link = format!("{}/login/{token}", app.config.http.base_url.trim_end_matches('/'));
        match mail::queue(app, &email, &viewer::token_hash(&token), &link, app.now()).await {
            Ok(Mailed::Queued) => tracing::info!("sign-in link queued"),
            Ok(Mailed::Limited) => tracing::info!("sign-in link not sent: too many asked for lately"),
            Err(e) => return Err(WebError::Internal(e.to_string())),
        }
    }
    Ok(login_page(None, Some(&email), None)?.into_response())
}

/// A login token as mailed: 64 hex digits (anything else is no token of ours).
fn well_formed(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

async fn confirm(State(app): State<App>, Path(token): Path<String>) -> Result<Response, WebError> {
    let valid = well_formed(&token) && app.store.login_token(&viewer::token_hash(&token), app.now().timestamp()).await?.is_some();
    let html = page(&ConfirmPage { token: &token, valid })?;
    Ok((if valid { StatusCode::OK } else { StatusCode::GONE }, html).into_response())
}

async fn spend(State(app): State<App>, headers: HeaderMap, Path(token): Path<String>) -> Result<Response, WebError> {
    same_site(&headers)?;
    let now = app.now().timestamp();
    let email = if well_formed(&token) { app.store.spend_login_token(&viewer::token_hash(&token), now).await? } else { None };
    let Some(email) = email else {
        return Ok((StatusCode::GONE, page(&ConfirmPage { token: &token, valid: false })?).into_response());
    };
    let session = viewer::new_token()?;
    let csrf = viewer::new_token()?;
    app.store.create_web_session(&viewer::token_hash(&session), &email, &csrf, now, now + viewer::SESSION_SECS).await?;
    tracing::info!("signed in by magic link");
    let cookie = viewer::session_cookie(&session, secure(&app));
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response())
}

async fn logout(State(app): State<App>, viewer: Viewer, Form(f): Form<CsrfForm>) -> Result<Response, WebError> {
    viewer.check_csrf(&f.csrf)?;
    app.store.end_web_session(&viewer.session, app.now().timestamp()).await?;
    Ok(([(header::SET_COOKIE, viewer::cleared_cookie(secure(&app)))], Redirect::to("/login")).into_response())
}

/// Cookies are Secure when the site is served over https (`http.base_url`).
fn secure(app: &App) -> bool {
    app.config.http.base_url.to_ascii_lowercase().starts_with("https://")
}

//! Who is asking: the session cookie turned into the signed-in member and the spaces they may
//! read. Pages take a `Viewer` (no session: "sign in"); `Option<Viewer>` where signing in is optional.
//! Sessions live in the database (hashed), so several nodes share them.

use super::WebError;
use crate::app::App;
use crate::identity::api_key::{self, constant_time_eq};
use crate::store::spaces::Space;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};

/// What the database keeps of a token: its SHA-256, hex.
pub use crate::identity::api_key::hash as token_hash;

/// The cookie that carries the session token (the database keeps only its SHA-256).
pub const SESSION_COOKIE: &str = "docket_session";
/// How long a session lasts after sign-in.
pub const SESSION_SECS: i64 = 30 * 24 * 3600;

/// The signed-in member.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub email: String,
    /// The spaces they are a member of: everything else is 404 to them.
    pub spaces: Vec<Space>,
    /// The session's CSRF token: every form carries it, every POST is checked against it.
    pub csrf: String,
    /// SHA-256 (hex) of the session token, for signing out.
    pub session: String,
}

impl Viewer {
    pub fn can_see(&self, space_id: i64) -> bool {
        self.spaces.iter().any(|s| s.id == space_id)
    }

    pub fn space(&self, slug: &str) -> Option<&Space> {
        self.spaces.iter().find(|s| s.slug == slug)
    }

    /// Ok when a submitted form's token is this session's.
    pub fn check_csrf(&self, submitted: &str) -> Result<(), WebError> {
        if !submitted.is_empty() && constant_time_eq(submitted.as_bytes(), self.csrf.as_bytes()) { Ok(()) } else { Err(WebError::Csrf) }
    }
}

impl FromRequestParts<App> for Viewer {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(WebError::SignIn);
        };
        let hash = token_hash(&token);
        let Some(session) = app.store.web_session(&hash, app.now().timestamp()).await? else {
            return Err(WebError::SignIn);
        };
        let spaces = app.store.spaces_of(&session.email).await?;
        Ok(Viewer { email: session.email, spaces, csrf: session.csrf, session: hash })
    }
}

impl axum::extract::OptionalFromRequestParts<App> for Viewer {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Option<Self>, Self::Rejection> {
        match <Viewer as FromRequestParts<App>>::from_request_parts(parts, app).await {
            Ok(v) => Ok(Some(v)),
            Err(WebError::SignIn) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// A new random token (256 bits, hex): session tokens, CSRF tokens, login links.
pub fn new_token() -> Result<String, WebError> {
    api_key::random_hex().map_err(|e| WebError::Internal(format!("no randomness: {e}")))
}

/// The value of cookie `name` in the request's Cookie headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"').to_string())
        .filter(|v| !v.is_empty())
}

/// The Set-Cookie value for a session token: HttpOnly, SameSite=Lax, Secure when the site is https.
pub fn session_cookie(token: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={SESSION_SECS}{secure}")
}

/// The Set-Cookie value that ends a session in the browser.
pub fn cleared_cookie(secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn cookie_finds_the_session_among_others_and_ignores_empty_values() {
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, HeaderValue::from_static("theme=dark; docket_session=abc123"));
        h.append(header::COOKIE, HeaderValue::from_static("other=1"));
        assert_eq!(cookie(&h, SESSION_COOKIE).as_deref(), Some("abc123"));
        assert_eq!(cookie(&h, "missing"), None);
        let mut empty = HeaderMap::new();
        empty.insert(header::COOKIE, HeaderValue::from_static("docket_session="));
        assert_eq!(cookie(&empty, SESSION_COOKIE), None);
    }

    #[test]
    fn tokens_are_random_and_stored_only_as_hashes() {
        let (a, b) = (new_token().unwrap(), new_token().unwrap());
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
        assert!(session_cookie(&a, true).contains("HttpOnly; SameSite=Lax"));
        assert!(session_cookie(&a, true).ends_with("; Secure"));
        assert!(!session_cookie(&a, false).contains("Secure"));
    }
}

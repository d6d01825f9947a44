//! The member feeds under `docket serve`, on SQLite and PostgreSQL, read back with real parsers:
//! Atom (atom_syndication) lists the decisions of the member's spaces with tag: ids and links to
//! `/d/D-n`; iCalendar (icalendar's parser) has a VTODO per open task of theirs with DUE in UTC
//! and a VEVENT per open proposal or ask closing; a wrong or rotated key is 404.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use docket::app::App;
use docket::serve::{self, Running};
use docket::space::MemberSettings;
use std::sync::Arc;
use support::{Mail, TestApp, backends, http, t0};

const BASE: &str = "https://docket.example.org";

async fn start(t: &TestApp) -> (App, Running) {
    let mut c = (*t.app.config).clone();
    c.smtp.listen = "127.0.0.1:0".parse().unwrap();
    c.http.listen = "127.0.0.1:0".parse().unwrap();
    c.http.base_url = format!("{BASE}/");
    let app = App { config: Arc::new(c), ..t.app.clone() };
    let now = t0().timestamp();
    for (slug, members) in [("eng", &["alice", "bob"][..]), ("hr", &["hank"])] {
        let space = app.store.add_space(slug, slug, now).await.unwrap();
        for m in members {
            app.store.add_member(&space, &format!("{m}@example.org"), m, &MemberSettings::default(), now).await.unwrap();
        }
    }
    let body = "#decision Ship it, with care; and \\ tests.\n#decision Use <Rust> & tokio.\n\
                #action Write docs, tests; and more @alice due 2026-11-27 17:00\n#action Review @bob due 2026-11-28\n\
                #action Someday @alice\n#propose Rename the repo by 2026-11-26 12:00\n";
    t.ingest(&Mail::new("e1@x", "Launch").body(body).raw(), "eng").await;
    t.ingest(&Mail::new("h1@x", "Salaries").from("hank@example.org").body("#decision Salary bands are secret.\n").raw(), "hr").await;
    let running = serve::start(app.clone()).await.unwrap();
    (app, running)
}

/// The path part of a feed URL.
fn path(url: &str) -> String {
    url.strip_prefix(BASE).unwrap().to_string()
}

#[tokio::test]
async fn the_atom_feed_lists_the_members_decisions() {
    for t in backends().await {
        let (app, running) = start(&t).await;
        let key = docket::web::feeds::member_key(&app, "alice@example.org", false).await.unwrap();
        let (atom_url, _) = docket::web::feeds::urls(&app, &key);
        let r = http::get(&running.http, &path(&atom_url), &[]).await;
        assert_eq!(r.status, 200, "{}: {r:?}", t.backend);
        assert!(r.header("content-type").unwrap().starts_with("application/atom+xml"), "{r:?}");
        let feed = atom_syndication::Feed::read_from(r.body.as_bytes()).unwrap_or_else(|e| panic!("not Atom: {e}\n{}", r.body));
        assert!(feed.id().starts_with("tag:"), "{}", feed.id());
        assert!(!feed.title().as_str().is_empty());
        assert!(feed.links().iter().any(|l| l.rel() == "self" && l.href() == atom_url));
        let decisions = app.store.decisions(Some("eng"), None, None).await.unwrap();
        assert_eq!(feed.entries().len(), 2, "{}: only eng's decisions: {}", t.backend, r.body);
        assert_eq!(feed.updated().to_utc(), decisions[0].decided_at);
        for (entry, d) in feed.entries().iter().zip(&decisions) {
            assert!(entry.id().starts_with("tag:") && entry.id().ends_with(&d.id), "{}", entry.id());
            assert_eq!(entry.links()[0].href(), format!("{BASE}/d/{}", d.id));
            assert_eq!(entry.updated().to_utc(), d.decided_at);
            assert!(entry.title().as_str().contains(&d.text), "{:?}", entry.title());
            assert!(entry.content().unwrap().value().unwrap().contains(&d.text));
            assert_eq!(entry.authors()[0].name(), "alice@example.org");
        }
        assert!(!r.body.contains("Salary"), "{}", r.body);
        running.stop().await;
    }
}

#[tokio::test]
async fn the_calendar_has_the_members_open_tasks_and_closing_proposals() {
    for t in backends().await {
        let (app, running) = start(&t).await;
        let ask = "#ask Is the hall booked? @bob by 2026-11-27 12:00 default: we meet online\n";
        t.ingest(&Mail::new("e2@x", "Offsite").body(ask).raw(), "eng").await;
        let key = docket::web::feeds::member_key(&app, "alice@example.org", false).await.unwrap();
        let (_, ics_url) = docket::web::feeds::urls(&app, &key);
        let r = http::get(&running.http, &path(&ics_url), &[]).await;
        assert_eq!(r.status, 200, "{}: {r:?}", t.backend);
        assert!(r.header("content-type").unwrap().starts_with("text/calendar"), "{r:?}");
        for line in r.body.split_inclusive('\n') {
            assert!(line.ends_with("\r\n"), "not CRLF: {line:?}");
            assert!(line.len() <= 77, "longer than 75 octets: {line:?}");
        }
        let unfolded = icalendar::parser::unfold(&r.body);
        let cal = icalendar::parser::read_calendar(&unfolded).unwrap_or_else(|e| panic!("not iCalendar: {e}\n{}", r.body));
        let prop = |name: &str| cal.properties.iter().find(|p| p.name.as_str() == name).map(|p| p.val.as_str().to_string());
        assert_eq!(prop("VERSION").as_deref(), Some("2.0"));
        assert!(prop("PRODID").unwrap().contains("docket"));
        let todos: Vec<_> = cal.components.iter().filter(|c| c.name.as_str() == "VTODO").collect();
        let events: Vec<_> = cal.components.iter().filter(|c| c.name.as_str() == "VEVENT").collect();
        assert_eq!(todos.len(), 2, "{}: alice's two open tasks, not bob's: {}", t.backend, r.body);
        let tasks = app
            .store
            .tasks(&docket::store::items::TaskFilter { owner: Some("alice@example.org".into()), ..Default::default() })
            .await
            .unwrap();
        let with_due = tasks.iter().find(|t| t.due.is_some()).unwrap();
        let todo = todos.iter().find(|c| c.find_prop("DUE").is_some()).expect("a VTODO with DUE");
        let due = todo.find_prop("DUE").unwrap().val.as_str().to_string();
        assert!(due.ends_with('Z'), "DUE in UTC: {due}");
        assert_eq!(due, with_due.due.unwrap().format("%Y%m%dT%H%M%SZ").to_string());
        for c in &todos {
            for p in ["UID", "DTSTAMP", "SUMMARY", "URL"] {
                assert!(c.find_prop(p).is_some(), "VTODO without {p}");
            }
        }
        let summary = todo.find_prop("SUMMARY").unwrap().val.clone().unescape_text();
        assert_eq!(summary.as_str(), format!("{}: {}", with_due.id, with_due.title));
        assert!(with_due.title.contains(',') && with_due.title.contains(';'), "the test escapes something: {}", with_due.title);
        assert_eq!(todo.find_prop("URL").unwrap().val.as_str(), format!("{BASE}/t/{}#{}", with_due.thread_id, with_due.id));
        assert_eq!(events.len(), 2, "the proposal and the ask: {}", r.body);
        let proposal = &app.store.proposals(Some("eng"), None, None).await.unwrap()[0];
        let start = events[0].find_prop("DTSTART").unwrap().val.as_str().to_string();
        assert_eq!(start, proposal.closes_at.unwrap().format("%Y%m%dT%H%M%SZ").to_string());
        assert!(events[0].find_prop("UID").unwrap().val.as_str().starts_with(&proposal.id));
        let ask = &app.store.asks(Some("eng"), None, None).await.unwrap()[0];
        assert_eq!(events[1].find_prop("DTSTART").unwrap().val.as_str(), ask.closes_at.unwrap().format("%Y%m%dT%H%M%SZ").to_string());
        let summary = events[1].find_prop("SUMMARY").unwrap().val.clone().unescape_text();
        assert_eq!(summary.as_str(), "A-1 needs an answer: Is the hall booked?");
        running.stop().await;
    }
}

#[tokio::test]
async fn wrong_and_rotated_keys_are_404() {
    for t in backends().await {
        let (app, running) = start(&t).await;
        let old = docket::web::feeds::member_key(&app, "alice@example.org", false).await.unwrap();
        assert_eq!(docket::web::feeds::member_key(&app, "alice@example.org", false).await.unwrap(), old, "printed again, the same");
        let hank = docket::web::feeds::member_key(&app, "hank@example.org", false).await.unwrap();
        assert_ne!(hank, old);
        let fetch = |key: String, file: &'static str| {
            let addr = running.http.clone();
            async move { http::get(&addr, &format!("/feeds/{key}/{file}"), &[]).await.status }
        };
        for file in ["decisions.atom", "tasks.ics"] {
            assert_eq!(fetch(old.clone(), file).await, 200, "{}", t.backend);
            assert_eq!(fetch("0".repeat(64), file).await, 404);
            assert_eq!(fetch("short".into(), file).await, 404);
            assert_eq!(fetch(old.to_uppercase(), file).await, 404);
        }
        let new = docket::web::feeds::member_key(&app, "alice@example.org", true).await.unwrap();
        assert_ne!(new, old);
        for file in ["decisions.atom", "tasks.ics"] {
            assert_eq!(fetch(old.clone(), file).await, 404, "{}: the rotated key still works", t.backend);
            assert_eq!(fetch(new.clone(), file).await, 200);
            assert_eq!(fetch(hank.clone(), file).await, 200, "others' keys are untouched");
        }
        assert!(docket::web::feeds::member_key(&app, "eve@example.org", false).await.is_err());
        running.stop().await;
    }
}

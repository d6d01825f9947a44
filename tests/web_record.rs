//! The record pages over HTTP on SQLite and PostgreSQL: decisions with their filters and their
//! page, tasks by tab, proposals by status, goals, search with highlights; each page shows only
//! the viewer's spaces (another space's decision or goal is 404) and needs a session.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use chrono::{TimeZone, Utc};
use docket::space::MemberSettings;
use docket::web::viewer;
use support::http::{self, Response};
use support::{Mail, TestApp, backends};

/// Spaces eng (alice in Berlin, bob in Los Angeles) and ops (olga), and their record:
/// eng: thread "Launch plan" (three messages, then D-1 with T-1 for bob and goal launch-v2, then a
/// reply after it); thread "Status page" (D-2 and T-2 for alice, overdue); proposals P-1 and P-2
/// (objected to by bob). ops: D-3 "Secret ops plan zebra" and T-3 under its own goal launch-v2.
async fn record(t: &TestApp) {
    let eng = t.app.store.add_space("eng", "Engineering", 0).await.unwrap();
    let ops = t.app.store.add_space("ops", "Operations", 0).await.unwrap();
    let berlin = MemberSettings { tz: Some(chrono_tz::Europe::Berlin), ..Default::default() };
    let la = MemberSettings { tz: Some(chrono_tz::America::Los_Angeles), ..Default::default() };
    t.app.store.add_member(&eng, "alice@example.org", "alice", &berlin, 0).await.unwrap();
    t.app.store.add_member(&eng, "bob@example.org", "bob", &la, 0).await.unwrap();
    t.app.store.add_member(&ops, "olga@example.org", "olga", &MemberSettings::default(), 0).await.unwrap();
    let bob = "Bob <bob@example.org>";
    let mails = [
        Mail::new("m0@x", "Launch plan").date("Mon, 23 Nov 2026 09:00:00 +0000").body("Shall we ship the beta on Dec 10?\n"),
        Mail::new("m1@x", "Re: Launch plan")
            .reply_to("m0@x")
            .from(bob)
            .date("Mon, 23 Nov 2026 11:00:00 +0000")
            .body("Fine by me, but the guide must be ready first.\n"),
        Mail::new("m2@x", "Re: Launch plan").refs(&["m0@x", "m1@x"]).date("Tue, 24 Nov 2026 10:00:00 +0100").body(
            "Agreed.\n\n#goal launch-v2 Launch v2\n#decision Ship the beta on Dec 10.\n#action Write the migration guide @bob due friday\n",
        ),
        Mail::new("m3@x", "Re: Launch plan")
            .refs(&["m0@x", "m1@x", "m2@x"])
            .from(bob)
            .date("Tue, 24 Nov 2026 12:00:00 +0000")
            .body("Great, on it.\n"),
        Mail::new("s1@x", "Status page")
            .date("Sat, 21 Nov 2026 10:00:00 +0000")
            .body("#decision Keep the old status page until launch.\n#action Update the status page @alice due 2026-11-20\n"),
        Mail::new("p1@x", "Freeze")
            .date("Tue, 24 Nov 2026 08:00:00 +0000")
            .body("#propose Freeze merges during launch week by 2026-11-26 12:00\n"),
        Mail::new("p2@x", "Tabs").date("Tue, 24 Nov 2026 08:00:00 +0000").body("#proposal Tabs over spaces by 2026-11-26 12:00\n"),
        Mail::new("p3@x", "Re: Tabs").reply_to("p2@x").from(bob).date("Tue, 24 Nov 2026 08:30:00 +0000").body("#object No, please.\n"),
    ];
    for m in mails {
        t.ingest(&m.raw(), "eng").await;
    }
    let secret = Mail::new("o1@x", "Ops plan")
        .from("olga@example.org")
        .body("#goal launch-v2 Ops launch\n#decision Secret ops plan zebra.\n#action Rotate keys @olga\n");
    t.ingest(&secret.raw(), "ops").await;
}

/// The web door alone on an ephemeral port (no SMTP, no scheduler: the test ticks itself).
async fn web(t: &TestApp) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let router = docket::web::router(t.app.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

/// A signed-in session for `email`: the cookie header value.
async fn session(t: &TestApp, email: &str) -> String {
    let token = viewer::new_token().unwrap();
    let now = t.app.now().timestamp();
    t.app.store.create_web_session(&viewer::token_hash(&token), email, "csrf", now, now + 3600).await.unwrap();
    format!("{}={token}", viewer::SESSION_COOKIE)
}

async fn get(addr: &str, path: &str, cookie: &str) -> Response {
    http::get(addr, path, &[("Cookie", cookie)]).await
}

/// A page that answered 200 with HTML.
async fn page(addr: &str, path: &str, cookie: &str) -> String {
    let r = get(addr, path, cookie).await;
    assert_eq!(r.status, 200, "{path}: {}", r.body);
    assert!(r.header("content-type").unwrap().starts_with("text/html"), "{path}: {r:?}");
    r.body
}

fn has(body: &str, want: &[&str], not: &[&str], what: &str) {
    for w in want {
        assert!(body.contains(w), "{what}: missing {w:?} in\n{body}");
    }
    for n in not {
        assert!(!body.contains(n), "{what}: {n:?} must not be shown in\n{body}");
    }
}

#[tokio::test]
async fn pages_need_a_session_and_hide_other_spaces() {
    for t in backends().await {
        record(&t).await;
        let addr = web(&t).await;
        for path in ["/decisions", "/d/D-1", "/tasks", "/proposals", "/g/launch-v2", "/search?q=beta"] {
            let r = http::get(&addr, path, &[]).await;
            assert_eq!(r.status, 401, "[{}] {path} without a session", t.backend);
            assert!(r.body.contains("href=\"/login\""), "{path}: {}", r.body);
            let r = http::get(&addr, path, &[("Cookie", "docket_session=forged")]).await;
            assert_eq!(r.status, 401, "[{}] {path} with an unknown session", t.backend);
        }
        let alice = session(&t, "alice@example.org").await;
        // Another space's decision and goal answer as if they did not exist.
        for path in ["/d/D-3", "/d/D-99", "/d/T-1", "/d/bogus", "/g/nope", "/decisions?space=ops", "/decisions?space=nope"] {
            let r = get(&addr, path, &alice).await;
            assert_eq!(r.status, 404, "[{}] {path}: {}", t.backend, r.body);
        }
        let olga = session(&t, "olga@example.org").await;
        has(&page(&addr, "/d/D-3", &olga).await, &["Secret ops plan zebra."], &["Ship the beta"], "olga's D-3");
        has(&page(&addr, "/decisions", &olga).await, &["D-3"], &["Ship the beta", "Keep the old status page"], "olga's decisions");
        let goal = page(&addr, "/g/launch-v2", &olga).await;
        has(&goal, &["Ops launch", "Secret ops plan zebra.", "Rotate keys"], &["Ship the beta", "migration guide"], "olga's goal");
        // A member of no space sees empty lists, not anyone's record.
        let nobody = session(&t, "nobody@example.org").await;
        has(&page(&addr, "/decisions", &nobody).await, &["No decisions"], &["D-1", "D-3"], "nobody's decisions");
        assert_eq!(get(&addr, "/g/launch-v2", &nobody).await.status, 404);
    }
}

#[tokio::test]
async fn decisions_list_filters_by_space_goal_and_dates_in_the_viewers_zone() {
    for t in backends().await {
        record(&t).await;
        let addr = web(&t).await;
        let alice = session(&t, "alice@example.org").await;
        let all = page(&addr, "/decisions", &alice).await;
        has(
            &all,
            &[
                "Ship the beta on Dec 10.",
                "Keep the old status page until launch.",
                "href=\"/d/D-1\"",
                "href=\"/g/launch-v2\"",
                "standing",
                // Alice is in Berlin: 09:00 UTC is 10:00 CET; the machine-readable time is UTC.
                "<time datetime=\"2026-11-24T09:00:00Z\">Tue 24 Nov 2026 10:00 CET</time>",
                "<label for=\"f-space\">",
                "<label for=\"f-from\">",
                "class=\"stack record\"",
            ],
            &["zebra"],
            "all decisions",
        );
        assert!(all.find("Ship the beta").unwrap() < all.find("Keep the old status page").unwrap(), "newest first");
        let goal = page(&addr, "/decisions?goal=launch-v2", &alice).await;
        has(&goal, &["Ship the beta"], &["Keep the old status page", "zebra"], "goal filter");
        let from = page(&addr, "/decisions?from=2026-11-23&to=", &alice).await;
        has(&from, &["Ship the beta", "value=\"2026-11-23\""], &["Keep the old status page"], "from filter");
        let to = page(&addr, "/decisions?to=2026-11-22", &alice).await;
        has(&to, &["Keep the old status page"], &["Ship the beta"], "to filter");
        let space = page(&addr, "/decisions?space=eng&goal=", &alice).await;
        has(&space, &["Ship the beta", "<option value=\"eng\" selected>"], &[], "space filter");
        let none = page(&addr, "/decisions?from=2026-12-01", &alice).await;
        has(&none, &["No decisions match these filters"], &["Ship the beta"], "empty filter");
        let bad = get(&addr, "/decisions?from=24.11.2026", &alice).await;
        assert_eq!(bad.status, 400, "[{}] {}", t.backend, bad.body);
        assert!(bad.body.contains("2026-11-24"), "the error says how to write a date: {}", bad.body);
    }
}

#[tokio::test]
async fn a_decision_page_shows_the_messages_that_led_to_it_and_its_tasks() {
    for t in backends().await {
        record(&t).await;
        let addr = web(&t).await;
        let alice = session(&t, "alice@example.org").await;
        let d = page(&addr, "/d/D-1", &alice).await;
        has(
            &d,
            &[
                "Ship the beta on Dec 10.",
                "Shall we ship the beta on Dec 10?",
                "Fine by me, but the guide must be ready first.",
                "decided here",
                "T-1",
                "Write the migration guide",
                "bob@example.org",
                "href=\"/g/launch-v2\"",
                "standing",
                "/t/",
            ],
            &["Great, on it.", "zebra"],
            "D-1",
        );
        let order = ["Shall we ship", "Fine by me", "decided here"].map(|s| d.find(s).unwrap());
        assert!(order[0] < order[1] && order[1] < order[2], "oldest first, ending at the deciding message");
        // Bob's friday is 17:00 in Alice's Berlin (16:00 UTC).
        assert!(d.contains("<time datetime=\"2026-11-27T16:00:00Z\">Fri 27 Nov 2026 17:00 CET</time>"), "{d}");
    }
}

#[tokio::test]
async fn tasks_by_tab_and_filter() {
    for t in backends().await {
        record(&t).await;
        let addr = web(&t).await;
        let alice = session(&t, "alice@example.org").await;
        let mine = page(&addr, "/tasks", &alice).await;
        has(
            &mine,
            &["Update the status page", "overdue", "aria-current=\"page\">Mine"],
            &["Write the migration guide", "Rotate keys"],
            "mine",
        );
        let overdue = page(&addr, "/tasks?view=overdue", &alice).await;
        has(&overdue, &["Update the status page", "class=\"warn\""], &["Write the migration guide"], "overdue");
        let by_owner = page(&addr, "/tasks?view=owner", &alice).await;
        has(
            &by_owner,
            &["<h2>alice@example.org</h2>", "<h2>bob@example.org</h2>", "Write the migration guide"],
            &["Rotate keys"],
            "by owner",
        );
        let bobs = page(&addr, "/tasks?view=all&owner=bob%40example.org", &alice).await;
        has(&bobs, &["Write the migration guide"], &["Update the status page"], "owner filter");
        let done = page(&addr, "/tasks?view=all&status=done", &alice).await;
        has(&done, &["No tasks here"], &["Write the migration guide", "Update the status page"], "status filter");
        let any = page(&addr, "/tasks?view=all&status=any&space=eng", &alice).await;
        has(&any, &["Write the migration guide", "Update the status page"], &["Rotate keys"], "any status");
        assert_eq!(get(&addr, "/tasks?status=finished", &alice).await.status, 400);
        assert_eq!(get(&addr, "/tasks?space=ops", &alice).await.status, 404);
    }
}

#[tokio::test]
async fn proposals_show_closing_time_objections_and_outcome() {
    for t in backends().await {
        record(&t).await;
        let addr = web(&t).await;
        let alice = session(&t, "alice@example.org").await;
        let open = page(&addr, "/proposals?status=open", &alice).await;
        // 2026-11-26 12:00 in Alice's Berlin is 11:00 UTC.
        has(
            &open,
            &[
                "Freeze merges during launch week",
                "Tabs over spaces",
                "closes",
                "datetime=\"2026-11-26T11:00:00Z\"",
                "No, please.",
                "bob@example.org",
            ],
            &[],
            "open proposals",
        );
        docket::tick::tick(&t.app, Utc.with_ymd_and_hms(2026, 11, 27, 0, 0, 0).unwrap()).await.unwrap();
        let all = page(&addr, "/proposals", &alice).await;
        has(&all, &["adopted", "blocked", "became <a href=\"/d/D-4\">D-4</a>", "No, please."], &[], "after the close");
        let blocked = page(&addr, "/proposals?status=blocked", &alice).await;
        has(&blocked, &["Tabs over spaces"], &["Freeze merges"], "blocked");
        has(&page(&addr, "/proposals?status=open", &alice).await, &["No proposals here"], &["Tabs over spaces"], "none open");
        assert_eq!(get(&addr, "/proposals?status=maybe", &alice).await.status, 400);
        let decisions = page(&addr, "/decisions", &alice).await;
        has(&decisions, &["Freeze merges during launch week"], &[], "the adopted proposal is a decision");
    }
}

#[tokio::test]
async fn a_goal_page_lists_its_decisions_and_tasks() {
    for t in backends().await {
        record(&t).await;
        let addr = web(&t).await;
        let alice = session(&t, "alice@example.org").await;
        let goal = page(&addr, "/g/launch-v2", &alice).await;
        has(
            &goal,
            &["Launch v2", "Ship the beta on Dec 10.", "Write the migration guide", "href=\"/d/D-1\""],
            &["Keep the old status page", "Update the status page", "zebra", "Rotate keys", "Ops launch"],
            "goal",
        );
    }
}

#[tokio::test]
async fn search_highlights_matches_in_the_viewers_spaces_only() {
    for t in backends().await {
        record(&t).await;
        let addr = web(&t).await;
        let alice = session(&t, "alice@example.org").await;
        let beta = page(&addr, "/search?q=beta", &alice).await;
        has(&beta, &["<mark>beta</mark>", "href=\"/t/", "#m", "result"], &["zebra"], "beta");
        let decisions = page(&addr, "/search?q=beta+kind%3Adecision", &alice).await;
        has(&decisions, &["decision D-1", "href=\"/d/D-1\"", "#D-1\""], &["message</span>"], "kind filter");
        let zebra = page(&addr, "/search?q=zebra", &alice).await;
        has(&zebra, &["No results"], &["Secret ops plan", "<mark>"], "another space's words");
        let forced = page(&addr, "/search?q=zebra+space%3Aops", &alice).await;
        has(&forced, &["No results"], &["Secret ops plan"], "space: cannot reach another space");
        let olga = session(&t, "olga@example.org").await;
        has(&page(&addr, "/search?q=zebra", &olga).await, &["<mark>zebra</mark>"], &["beta"], "olga's zebra");
        let bad = get(&addr, "/search?q=%22unbalanced", &alice).await;
        assert_eq!(bad.status, 400, "[{}] {}", t.backend, bad.body);
        assert!(bad.body.contains("unbalanced quote"), "{}", bad.body);
        // Markup in a query is text, never markup.
        let hostile = page(&addr, "/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E", &alice).await;
        assert!(!hostile.contains("<script>") && hostile.contains("&#60;script&#62;"), "{hostile}");
        has(&page(&addr, "/search", &alice).await, &["<label for=\"search-q\">"], &["No results"], "empty search");
    }
}

#[tokio::test]
async fn asks_notes_and_superseded_decisions_have_their_pages() {
    for t in backends().await {
        let b = t.backend;
        record(&t).await;
        let notes = "Present: alice, bob.\n\n#decision Ship the beta on Dec 11 supersedes D-1\n#action Tell support @bob due friday\n\
                     #ask Is the venue booked? @bob by 2026-11-27 12:00 default: we meet online\n";
        t.ingest(&Mail::new("n1@x", "[notes] Launch sync").date("Wed, 25 Nov 2026 09:00:00 +0000").body(notes).raw(), "eng").await;
        let secret =
            Mail::new("o2@x", "[notes] Ops sync").from("olga@example.org").body("#ask Rotate the zebra keys? by 2026-11-27 12:00\n");
        t.ingest(&secret.raw(), "ops").await;
        let addr = web(&t).await;
        for path in ["/asks", "/n/N-1"] {
            assert_eq!(http::get(&addr, path, &[]).await.status, 401, "[{b}] {path} without a session");
        }
        let bob = session(&t, "bob@example.org").await;
        let asks = page(&addr, "/asks", &bob).await;
        has(
            &asks,
            &["A-1", "Is the venue booked?", "waiting for you", "we meet online", "datetime=\"2026-11-27T11:00:00Z\""],
            &["zebra"],
            "bob's asks",
        );
        let alice = session(&t, "alice@example.org").await;
        has(&page(&addr, "/asks", &alice).await, &["Is the venue booked?"], &["waiting for you", "zebra"], "alice asked it");
        assert_eq!(get(&addr, "/asks?status=maybe", &bob).await.status, 400, "[{b}]");
        assert_eq!(get(&addr, "/asks?space=ops", &bob).await.status, 404, "[{b}]");

        let n = page(&addr, "/n/N-1", &bob).await;
        has(
            &n,
            &["Launch sync", "Ship the beta on Dec 11", "Tell support", "Is the venue booked?", "D-4, T-4, A-1"],
            &["zebra"],
            "notes page",
        );
        for path in ["/n/N-2", "/n/N-9", "/n/D-1", "/n/x"] {
            assert_eq!(get(&addr, path, &bob).await.status, 404, "[{b}] {path}");
        }
        let d1 = page(&addr, "/d/D-1", &bob).await;
        has(&d1, &["superseded", "Superseded by", "href=\"/d/D-4\""], &[], "the superseded decision");
        let d4 = page(&addr, "/d/D-4", &bob).await;
        has(&d4, &["Supersedes", "href=\"/d/D-1\"", "href=\"/n/N-1\""], &[], "the new decision");
        has(&page(&addr, "/decisions", &bob).await, &["class=\"superseded\"", "superseded by <a href=\"/d/D-4\">"], &[], "the list");

        // At the deadline the default is decided: the ask shows it.
        docket::tick::tick(&t.app, Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap()).await.unwrap();
        // Lazy consensus runs first: P-1 becomes D-5, then the ask's default D-6.
        has(
            &page(&addr, "/asks?status=defaulted", &bob).await,
            &["Is the venue booked?", "decided as <a href=\"/d/D-6\">"],
            &[],
            "defaulted",
        );
        has(&page(&addr, "/d/D-6", &bob).await, &["we meet online", "(default)"], &[], "the default's decision");
        has(&page(&addr, "/asks", &bob).await, &["No asks here"], &["Is the venue booked?"], "none open");
    }
}

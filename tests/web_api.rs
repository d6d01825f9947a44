//! `/api/v1/` under `docket serve`, on SQLite and PostgreSQL: bearer tokens (401 without a valid
//! one), a token sees exactly its member's spaces, the JSON is the CLI's (`--json`) shape and
//! value, pages follow `next_cursor`, bad parameters are JSON 400s, and the OpenAPI document
//! names every route and every route it names answers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use docket::app::App;
use docket::identity::api_key;
use docket::serve::{self, Running};
use docket::space::MemberSettings;
use docket::store::items::TaskFilter;
use serde_json::Value;
use std::sync::Arc;
use support::{Mail, TestApp, backends, http, t0};

/// The server on ephemeral ports with spaces eng (alice, bob), ops (bob, olga) and hr (hank), and
/// a thread with items in each; eng has five threads.
async fn start(t: &TestApp) -> (App, Running) {
    let mut c = (*t.app.config).clone();
    c.smtp.listen = "127.0.0.1:0".parse().unwrap();
    c.http.listen = "127.0.0.1:0".parse().unwrap();
    let app = App { config: Arc::new(c), ..t.app.clone() };
    let now = t0().timestamp();
    for (slug, members) in [("eng", &["alice", "bob"][..]), ("ops", &["bob", "olga"]), ("hr", &["hank"])] {
        let space = app.store.add_space(slug, slug, now).await.unwrap();
        for m in members {
            app.store.add_member(&space, &format!("{m}@example.org"), m, &MemberSettings::default(), now).await.unwrap();
        }
    }
    let items = "#decision Ship it.\n#action Write docs @alice due 2026-11-27 17:00\n#propose Rename the repo by 2026-11-26 12:00\n";
    t.ingest(&Mail::new("e1@x", "Launch").body(items).raw(), "eng").await;
    for n in 2..=5 {
        t.ingest(&Mail::new(&format!("e{n}@x"), &format!("Note {n}")).date(&format!("Tue, 24 Nov 2026 0{n}:00:00 +0000")).raw(), "eng")
            .await;
    }
    let ops = "#decision Rotate keys monthly.\n#action Rotate keys @olga due 2026-11-28\n";
    t.ingest(&Mail::new("o1@x", "Keys").from("olga@example.org").body(ops).raw(), "ops").await;
    t.ingest(&Mail::new("h1@x", "Salaries").from("hank@example.org").body("#decision Salary bands are secret.\n").raw(), "hr").await;
    let running = serve::start(app.clone()).await.unwrap();
    (app, running)
}

async fn token(app: &App, who: &str) -> String {
    let token = api_key::new_token().unwrap();
    app.store.create_api_token(&format!("{who}@example.org"), None, &api_key::hash(&token), t0().timestamp()).await.unwrap();
    token
}

async fn get(running: &Running, path: &str, token: Option<&str>) -> (u16, Value, http::Response) {
    let auth = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("Authorization", a.as_str())).collect();
    let r = http::get(&running.http, path, &headers).await;
    assert!(r.header("content-type").unwrap_or_default().starts_with("application/json"), "{path}: {r:?}");
    let v: Value = serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{path}: {e}: {}", r.body));
    (r.status, v, r)
}

async fn ok(running: &Running, path: &str, token: &str) -> Value {
    let (status, v, _) = get(running, path, Some(token)).await;
    assert_eq!(status, 200, "{path}: {v}");
    v
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap_or_else(|| panic!("not an object: {v}")).keys().cloned().collect();
    k.sort();
    k
}

fn sorted(k: &[&str]) -> Vec<String> {
    let mut k: Vec<String> = k.iter().map(|s| s.to_string()).collect();
    k.sort();
    k
}

const THREAD: &[&str] = &[
    "id",
    "space",
    "subject",
    "started_at",
    "last_activity_at",
    "message_count",
    "participants",
    "rounds",
    "status",
    "decisions",
    "tasks",
];
const MESSAGE: &[&str] = &["id", "message_id", "from", "date", "subject", "visible_text", "attachments"];
const DECISION: &[&str] =
    &["id", "text", "space", "thread_id", "message_id", "author", "decided_at", "goal", "tasks", "source", "status", "supersedes", "notes"];
const TASK: &[&str] = &[
    "id",
    "title",
    "space",
    "owner",
    "watchers",
    "due",
    "status",
    "thread_id",
    "message_id",
    "created_by",
    "created_at",
    "done_at",
    "decision",
    "goal",
    "notes",
];
const PROPOSAL: &[&str] = &["id", "text", "closes_at", "status", "objections", "decision"];
const HIT: &[&str] = &["kind", "id", "message_id", "thread_id", "space", "subject", "snippet", "date", "score"];

fn items(v: &Value) -> &Vec<Value> {
    assert_eq!(keys(v), ["items", "next_cursor"], "{v}");
    v["items"].as_array().unwrap()
}

#[tokio::test]
async fn without_a_valid_token_every_route_is_401_with_a_json_error() {
    for t in backends().await {
        let (app, running) = start(&t).await;
        let good = token(&app, "alice").await;
        let revoked = token(&app, "alice").await;
        let id = app.store.api_tokens().await.unwrap().last().unwrap().id;
        app.store.revoke_api_token(id).await.unwrap();
        let forged = format!("dkt_{}", "0".repeat(64));
        for (path, _) in docket::web::api::endpoints() {
            if path == "/openapi.json" {
                continue;
            }
            let path = format!("/api/v1{}", path.replace("{id}", "1"));
            for bad in [None, Some(revoked.as_str()), Some(forged.as_str()), Some("not-a-token"), Some(&good[..20])] {
                let (status, v, r) = get(&running, &path, bad).await;
                assert_eq!(status, 401, "{}: {path} with {bad:?}: {v}", t.backend);
                assert_eq!(keys(&v), ["error"]);
                assert!(!v["error"].as_str().unwrap().is_empty());
                assert!(r.header("www-authenticate").unwrap().starts_with("Bearer"), "{r:?}");
            }
            // Another scheme is no token either.
            let r = http::get(&running.http, &path, &[("Authorization", &format!("Basic {good}"))]).await;
            assert_eq!(r.status, 401, "{path}");
        }
        let (status, _, _) = get(&running, "/api/v1/spaces", Some(&good)).await;
        assert_eq!(status, 200, "{}", t.backend);
        let (status, v, _) = get(&running, "/api/v1/no-such-route", Some(&good)).await;
        assert_eq!((status, keys(&v)), (404, vec!["error".to_string()]));
        running.stop().await;
    }
}

/// A token sees its member's spaces and nothing else; each list says the same as the store's views
/// (which `docket … --json` prints), key for key and value for value.
#[tokio::test]
async fn a_token_sees_its_members_spaces_in_the_cli_shapes() {
    for t in backends().await {
        let (app, running) = start(&t).await;
        let alice = token(&app, "alice").await;
        let bob = token(&app, "bob").await;
        let b = t.backend;

        let spaces = ok(&running, "/api/v1/spaces", &alice).await;
        assert_eq!(items(&spaces).len(), 1);
        assert_eq!(keys(&items(&spaces)[0]), ["address", "members", "name", "slug"]);
        assert_eq!((items(&spaces)[0]["slug"].as_str(), items(&spaces)[0]["members"].as_i64()), (Some("eng"), Some(2)));
        let slugs: Vec<Value> = items(&ok(&running, "/api/v1/spaces", &bob).await).iter().map(|s| s["slug"].clone()).collect();
        assert_eq!(slugs, ["eng", "ops"]);

        let threads = ok(&running, "/api/v1/threads", &alice).await;
        assert_eq!(items(&threads).len(), 5, "{b}: {threads}");
        for th in items(&threads) {
            assert_eq!(keys(th), sorted(THREAD));
            assert_eq!(th["space"], "eng");
        }
        let want = serde_json::to_value(app.store.threads(Some("eng"), None, 3).await.unwrap()).unwrap();
        assert_eq!(&Value::Array(items(&threads).clone()), &want, "{b}: the API and the CLI agree");
        let bob_threads = ok(&running, "/api/v1/threads", &bob).await;
        let mut seen: Vec<&str> = items(&bob_threads).iter().map(|t| t["space"].as_str().unwrap()).collect();
        seen.dedup();
        seen.sort();
        assert_eq!(seen, ["eng", "ops"], "{b}");

        // One thread with its messages; another space's thread is the same 404 as a missing one.
        let all = app.store.threads(None, None, 3).await.unwrap();
        let launch = all.iter().find(|t| t.subject == "Launch").unwrap().id;
        let salaries = all.iter().find(|t| t.subject == "Salaries").unwrap().id;
        let one = ok(&running, &format!("/api/v1/threads/{launch}"), &alice).await;
        let mut with_messages = sorted(THREAD);
        with_messages.push("messages".into());
        with_messages.sort();
        assert_eq!(keys(&one), with_messages);
        assert_eq!(keys(&one["messages"][0]), sorted(MESSAGE));
        assert_eq!(one, serde_json::to_value(app.store.thread(launch, 3).await.unwrap()).unwrap());
        for path in [format!("/api/v1/threads/{salaries}"), "/api/v1/threads/999999".into(), "/api/v1/threads/abc".into()] {
            let (status, v, _) = get(&running, &path, Some(&alice)).await;
            assert_eq!((status, keys(&v)), (404, vec!["error".to_string()]), "{b}: {path}");
        }
        let (h404, missing) = (
            get(&running, &format!("/api/v1/threads/{salaries}"), Some(&alice)).await,
            get(&running, "/api/v1/threads/999999", Some(&alice)).await,
        );
        assert_eq!(
            h404.1["error"].as_str().map(|e| e.replace(&salaries.to_string(), "N")),
            missing.1["error"].as_str().map(|e| e.replace("999999", "N"))
        );

        let decisions = ok(&running, "/api/v1/decisions", &alice).await;
        assert_eq!(items(&decisions).len(), 1, "{b}: {decisions}");
        assert_eq!(keys(&items(&decisions)[0]), sorted(DECISION));
        assert_eq!(
            Value::Array(items(&decisions).clone()),
            serde_json::to_value(app.store.decisions(Some("eng"), None, None).await.unwrap()).unwrap()
        );
        let bob_decisions = ok(&running, "/api/v1/decisions", &bob).await;
        let texts: Vec<&str> = items(&bob_decisions).iter().map(|d| d["text"].as_str().unwrap()).collect();
        assert_eq!(texts.len(), 2, "{b}: {texts:?}");
        assert!(!texts.iter().any(|t| t.contains("Salary")), "{b}: bob sees hr: {texts:?}");
        let (status, _, _) = get(&running, "/api/v1/decisions?space=hr", Some(&bob)).await;
        assert_eq!(status, 404, "{b}: a space of others is 404");
        let ops_only = ok(&running, "/api/v1/decisions?space=ops", &bob).await;
        assert_eq!(items(&ops_only).len(), 1);

        let tasks = ok(&running, "/api/v1/tasks", &alice).await;
        assert_eq!(items(&tasks).len(), 1, "{b}: {tasks}");
        assert_eq!(keys(&items(&tasks)[0]), sorted(TASK));
        let want = app.store.tasks(&TaskFilter { space: Some("eng".into()), ..Default::default() }).await.unwrap();
        assert_eq!(Value::Array(items(&tasks).clone()), serde_json::to_value(want).unwrap());
        assert_eq!(items(&ok(&running, "/api/v1/tasks?owner=olga@example.org", &bob).await).len(), 1);
        assert_eq!(items(&ok(&running, "/api/v1/tasks?status=done", &bob).await).len(), 0);
        assert_eq!(items(&ok(&running, "/api/v1/tasks?overdue=true", &bob).await).len(), 0);

        let proposals = ok(&running, "/api/v1/proposals", &alice).await;
        assert_eq!(items(&proposals).len(), 1, "{b}: {proposals}");
        assert_eq!(keys(&items(&proposals)[0]), sorted(PROPOSAL));
        assert_eq!(items(&ok(&running, "/api/v1/proposals", &bob).await).len(), 1);
        assert_eq!(items(&ok(&running, "/api/v1/proposals?status=adopted", &bob).await).len(), 0);

        let hits = ok(&running, "/api/v1/search?q=ship", &alice).await;
        assert!(!items(&hits).is_empty(), "{b}: {hits}");
        for h in items(&hits) {
            assert_eq!(keys(h), sorted(HIT));
            assert_eq!(h["space"], "eng");
        }
        for q in ["salary", "space:hr", "bands"] {
            let hidden = ok(&running, &format!("/api/v1/search?q={q}"), &alice).await;
            assert!(items(&hidden).is_empty(), "{b}: alice finds hr's mail with {q}: {hidden}");
        }
        assert!(!items(&ok(&running, "/api/v1/search?q=salary", &token(&app, "hank").await).await).is_empty(), "{b}: hank finds it");
        running.stop().await;
    }
}

#[tokio::test]
async fn pages_follow_next_cursor_and_bad_parameters_are_400() {
    for t in backends().await {
        let (app, running) = start(&t).await;
        let alice = token(&app, "alice").await;
        let bob = token(&app, "bob").await;
        // Bob is in two spaces: each list is read space by space, bounded, and merged in its order.
        for list in ["threads", "decisions", "tasks", "proposals"] {
            for who in [&alice, &bob] {
                let whole = items(&ok(&running, &format!("/api/v1/{list}"), who).await).clone();
                let mut paged = Vec::new();
                let mut path = format!("/api/v1/{list}?limit=1");
                loop {
                    let page = ok(&running, &path, who).await;
                    let got = items(&page);
                    assert!(got.len() <= 1);
                    paged.extend(got.iter().cloned());
                    match page["next_cursor"].as_str() {
                        Some(c) => path = format!("/api/v1/{list}?limit=1&cursor={c}"),
                        None => break,
                    }
                    assert!(paged.len() <= whole.len(), "{}: {list}: pages never end", t.backend);
                }
                assert_eq!(paged, whole, "{}: {list}", t.backend);
            }
        }
        let bobs: Vec<String> =
            items(&ok(&running, "/api/v1/decisions", &bob).await).iter().map(|d| d["space"].as_str().unwrap().to_string()).collect();
        assert_eq!(bobs, ["ops", "eng"], "{}: both spaces, newest first", t.backend);
        assert!(ok(&running, "/api/v1/threads?limit=5", &alice).await["next_cursor"].is_null());
        for path in [
            "/api/v1/threads?limit=0",
            "/api/v1/threads?limit=501",
            "/api/v1/threads?limit=two",
            "/api/v1/decisions?cursor=garbage!",
            "/api/v1/tasks?status=later",
            "/api/v1/tasks?overdue=maybe",
            "/api/v1/proposals?status=pending",
            "/api/v1/search",
            "/api/v1/search?q=ship&sort=random",
            "/api/v1/search?q=before:someday",
        ] {
            let (status, v, _) = get(&running, path, Some(&alice)).await;
            assert_eq!(status, 400, "{}: {path}: {v}", t.backend);
            assert_eq!(keys(&v), ["error"]);
        }
        running.stop().await;
    }
}

/// The document names every route the router has, and every path it names answers (with the
/// token, not 404), with the properties its schemas list.
#[tokio::test]
async fn the_openapi_document_matches_the_routes() {
    for t in backends().await {
        let (app, running) = start(&t).await;
        let alice = token(&app, "alice").await;
        let (status, doc, _) = get(&running, "/api/v1/openapi.json", None).await;
        assert_eq!(status, 200);
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{doc}");
        let paths = doc["paths"].as_object().unwrap();
        let routes: Vec<String> =
            docket::web::api::endpoints().into_iter().map(|(p, _)| format!("{}{p}", docket::web::api::PREFIX)).collect();
        for r in &routes {
            assert!(paths.contains_key(r), "{r} is not in openapi.json");
        }
        let thread = app.store.threads(Some("eng"), Some(1), 3).await.unwrap()[0].id;
        for (path, item) in paths {
            assert!(routes.contains(path), "openapi.json names {path}, which the router does not have");
            let op = &item["get"];
            let mut url = path.replace("{id}", &thread.to_string());
            let required: Vec<&str> = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "query" && p["required"] == true)
                .map(|p| p["name"].as_str().unwrap())
                .collect();
            if !required.is_empty() {
                url.push('?');
                url.push_str(&required.iter().map(|n| format!("{n}=ship")).collect::<Vec<_>>().join("&"));
            }
            let (status, v, _) = get(&running, &url, Some(&alice)).await;
            assert_eq!(status, 200, "{}: {url}: {v}", t.backend);
            // The schema's properties are the keys sent.
            let schema = &op["responses"]["200"]["content"]["application/json"]["schema"];
            let resolve = |s: &Value| -> Value {
                match s["$ref"].as_str() {
                    Some(r) => doc.pointer(&r.replacen('#', "", 1)).unwrap().clone(),
                    None => s.clone(),
                }
            };
            let schema = resolve(schema);
            let Some(props) = schema["properties"].as_object() else { continue };
            let mut want: Vec<String> = props.keys().cloned().collect();
            want.sort();
            assert_eq!(keys(&v), want, "{url}");
            if let Some(item_ref) = props.get("items").map(|i| resolve(&i["items"])) {
                let first = &v["items"][0];
                let mut want: Vec<String> = item_ref["properties"].as_object().unwrap().keys().cloned().collect();
                want.sort();
                assert_eq!(keys(first), want, "{url}: items");
            }
        }
        running.stop().await;
    }
}

#[tokio::test]
async fn a_token_records_when_it_was_last_used() {
    for t in backends().await {
        let (app, running) = start(&t).await;
        let alice = token(&app, "alice").await;
        assert!(app.store.api_tokens().await.unwrap()[0].last_used_at.is_none());
        ok(&running, "/api/v1/spaces", &alice).await;
        let used = app.store.api_tokens().await.unwrap()[0].last_used_at;
        assert_eq!(used, Some(app.now()), "{}", t.backend);
        running.stop().await;
    }
}

//! Search on every backend: each form of the query language, item changes reaching the index,
//! reindex equivalence, recovery from a deleted or corrupt index, the writer lock, bad queries,
//! `serve` keeping the index current, and the CLI's `search` / `reindex`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use docket::index::{Hit, HitId, Index, IndexError, QueryError, SearchOptions, Sort};
use docket::space::MemberSettings;
use std::process::Command;
use support::{Mail, TestApp, backends};

async fn catch_up(t: &TestApp) -> u64 {
    t.app.index.catch_up(&t.app.store, t.app.now().timestamp()).await.unwrap_or_else(|e| panic!("[{}] catch-up: {e}", t.backend)).documents
}

async fn find(t: &TestApp, q: &str) -> Vec<Hit> {
    t.app.index.search(&t.app.store, q, &SearchOptions::default()).await.unwrap_or_else(|e| panic!("[{}] {q}: {e}", t.backend))
}

/// Ids of the hits, as text (`12`, `D-1`), in result order.
async fn ids(t: &TestApp, q: &str) -> Vec<String> {
    find(t, q).await.iter().map(|h| h.id.to_string()).collect()
}

/// Ids of the hits, sorted (for queries where the order does not matter).
async fn set(t: &TestApp, q: &str) -> Vec<String> {
    let mut v = ids(t, q).await;
    v.sort();
    v
}

async fn stored(t: &TestApp, mail: Mail, space: &str) -> i64 {
    match t.ingest(&mail.raw(), space).await {
        docket::ingest::Outcome::Stored(m) => m.id,
        other => panic!("[{}] not stored: {other:?}", t.backend),
    }
}

/// Two spaces, members, and a small conversation with a decision and a task.
async fn conversation(t: &TestApp) -> Vec<i64> {
    let eng = t.space("eng").await;
    let ops = t.space("ops").await;
    let space = t.app.store.require_space(&eng).await.unwrap();
    t.app.store.add_member(&space, "alice@example.org", "alice", &MemberSettings::default(), 0).await.unwrap();
    t.app.store.add_member(&space, "bob@example.org", "bob", &MemberSettings::default(), 0).await.unwrap();
    let m1 = stored(
        t,
        Mail::new("m1@x", "Budget for Q3").date("Mon, 02 Nov 2026 09:00:00 +0000").body("We need to decide the hosting budget.\n"),
        &eng,
    )
    .await;
    let m2 = stored(
        t,
        Mail::new("m2@x", "Re: Budget for Q3")
            .reply_to("m1@x")
            .from("Bob Builder <bob@example.org>")
            .date("Tue, 10 Nov 2026 09:00:00 +0000")
            .body("Deciding now.\n\n#decision The hosting budget is 400 EUR a month.\n\n#action Tell finance about the budget @alice\n"),
        &eng,
    )
    .await;
    let m3 = stored(
        t,
        Mail::new("m3@x", "Release plan")
            .from("Carol <carol@example.org>")
            .date("Fri, 20 Nov 2026 09:00:00 +0000")
            .body("The release plan is ready. Rollout starts with the canary hosts.\n"),
        &ops,
    )
    .await;
    let m4 = stored(
        t,
        Mail::new("m4@x", "会议记录").date("Sat, 21 Nov 2026 09:00:00 +0000").body("今天的会议记录在这里。東京タワーで会いましょう。\n"),
        &ops,
    )
    .await;
    vec![m1, m2, m3, m4]
}

#[tokio::test]
async fn every_query_form() {
    for t in backends().await {
        let m = conversation(&t).await;
        let (m1, m2, m3, m4) = (m[0].to_string(), m[1].to_string(), m[2].to_string(), m[3].to_string());
        assert_eq!(catch_up(&t).await, 6, "[{}] 4 messages, 1 decision, 1 task", t.backend);
        let b = t.backend;
        // Words (AND), stemming, subject and body.
        assert_eq!(set(&t, "hosting budget").await, [m1.clone(), m2.clone(), "D-1".into()], "[{b}]");
        assert_eq!(set(&t, "decided").await, [m1.clone(), m2.clone()], "[{b}] decide/deciding stem alike");
        assert_eq!(set(&t, "rollouts").await, vec![m3.clone()], "[{b}]");
        assert_eq!(set(&t, "finance").await, [m2.clone(), "T-1".into()], "[{b}]");
        // Phrases.
        assert_eq!(set(&t, "\"release plan\"").await, vec![m3.clone()], "[{b}]");
        assert!(set(&t, "\"plan release\"").await.is_empty(), "[{b}] phrase order matters");
        // Filters.
        assert_eq!(set(&t, "from:bob@example.org").await, [m2.clone(), "D-1".into(), "T-1".into()], "[{b}]");
        assert_eq!(set(&t, "from:\"bob builder\"").await, vec![m2.clone()], "[{b}] display name");
        assert_eq!(set(&t, "from:carol budget").await, Vec::<String>::new(), "[{b}]");
        assert_eq!(set(&t, "space:ops").await, [m3.clone(), m4.clone()], "[{b}]");
        assert_eq!(set(&t, "kind:decision").await, ["D-1"], "[{b}]");
        assert_eq!(set(&t, "kind:task budget").await, ["T-1"], "[{b}]");
        assert_eq!(set(&t, "kind:message budget").await, [m1.clone(), m2.clone()], "[{b}]");
        assert_eq!(set(&t, "status:open").await, ["T-1"], "[{b}]");
        assert_eq!(set(&t, "after:2026-11-10 before:2026-11-21").await, [m2.clone(), m3.clone(), "D-1".into(), "T-1".into()], "[{b}]");
        assert_eq!(set(&t, "before:2026-11-03").await, vec![m1.clone()], "[{b}]");
        assert_eq!(set(&t, "budget -kind:message").await, ["D-1", "T-1"], "[{b}] negation");
        assert_eq!(set(&t, "budget -finance").await, [m1.clone(), "D-1".into()], "[{b}]");
        // CJK: any run of characters is found as a phrase.
        assert_eq!(set(&t, "会议").await, vec![m4.clone()], "[{b}]");
        assert_eq!(set(&t, "東京タワー").await, vec![m4.clone()], "[{b}]");
        assert!(set(&t, "议会").await.is_empty(), "[{b}]");
        // Only punctuation: nothing to match, no error.
        assert!(set(&t, "!!!").await.is_empty(), "[{b}]");

        // Ranking: the subject counts double, so the message titled "Budget" comes before the one
        // that mentions it once; snippets highlight the matched words.
        let hits = find(&t, "budget").await;
        assert_eq!(hits.len(), 4, "[{b}]");
        assert!(hits.windows(2).all(|w| w[0].score >= w[1].score), "[{b}] ordered by score");
        let d = hits.iter().find(|h| h.id == HitId::Item("D-1".into())).unwrap();
        assert_eq!(d.kind, "decision");
        assert_eq!(d.subject, "Budget for Q3", "[{b}] an item shows its thread's subject");
        assert_eq!(d.message_id.as_deref(), Some("m2@x"));
        assert_eq!(d.snippet_marked("[", "]"), "The hosting [budget] is 400 EUR a month", "[{b}]");
        let json = serde_json::to_value(d).unwrap();
        assert_eq!(json["id"], "D-1");
        assert_eq!(json["space"], "eng");
        assert_eq!(json["date"], "2026-11-10T09:00:00Z");
        let msg = hits.iter().find(|h| h.kind == "message").unwrap();
        assert!(serde_json::to_value(msg).unwrap()["id"].is_i64());

        // --sort date: newest first, still scored.
        let by_date = t.app.index.search(&t.app.store, "budget", &SearchOptions { limit: 10, sort: Sort::Date }).await.unwrap();
        let dates: Vec<_> = by_date.iter().map(|h| h.date).collect();
        assert!(dates.windows(2).all(|w| w[0] >= w[1]), "[{b}] {dates:?}");
        assert!(by_date.iter().all(|h| h.score > 0.0));
        // Filters alone are ordered newest first; --limit is honoured.
        assert_eq!(ids(&t, "space:ops").await, [m4.clone(), m3.clone()], "[{b}]");
        let one = t.app.index.search(&t.app.store, "budget", &SearchOptions { limit: 1, sort: Sort::Relevance }).await.unwrap();
        assert_eq!(one.len(), 1);
    }
}

#[tokio::test]
async fn item_changes_and_new_mail_reach_the_index() {
    for t in backends().await {
        conversation(&t).await;
        catch_up(&t).await;
        assert_eq!(set(&t, "status:done").await, Vec::<String>::new());
        // Alice closes her task by mail: the history row makes the index replace T-1.
        stored(&t, Mail::new("m5@x", "Re: Budget for Q3").reply_to("m2@x").body("Told them.\n\n#done T-1\n"), "eng").await;
        let n = catch_up(&t).await;
        assert_eq!(n, 2, "[{}] the new message and the changed task", t.backend);
        assert_eq!(set(&t, "status:done").await, ["T-1"], "[{}]", t.backend);
        assert!(set(&t, "status:open").await.is_empty());
        assert_eq!(set(&t, "told").await.len(), 1);
        // Nothing new: nothing written, and T-1 is still one document.
        assert_eq!(catch_up(&t).await, 0);
        assert_eq!(set(&t, "kind:task").await, ["T-1"]);
    }
}

#[tokio::test]
async fn an_index_built_bit_by_bit_equals_a_rebuilt_one() {
    for t in backends().await {
        let eng = t.space("eng").await;
        let space = t.app.store.require_space(&eng).await.unwrap();
        t.app.store.add_member(&space, "alice@example.org", "alice", &MemberSettings::default(), 0).await.unwrap();
        // One message at a time, catching up after each (as `serve` does).
        for i in 0..12 {
            let mut mail = Mail::new(&format!("b{i}@x"), &format!("Topic {}", i % 4)).body(&format!("Note number {i} about widgets.\n"));
            if i % 3 == 0 {
                mail = mail.body(&format!("Plan {i}.\n\n#action Check widget {i}\n"));
            }
            if i == 7 {
                mail = mail.body("#decision Widgets ship in blue.\n\n#done T-1\n");
            }
            stored(&t, mail, &eng).await;
            catch_up(&t).await;
        }
        let incremental = t.app.index.stored_documents().unwrap();
        let keys: Vec<&str> = incremental.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(incremental.len(), 12 + 4 + 1, "[{}] messages, tasks, decision: {keys:?}", t.backend);
        // Same documents, so the same hits (the order of ties may differ: BM25 statistics count
        // replaced documents until segments merge).
        let before = set(&t, "widgets").await;
        let rebuilt = t.app.index.reindex(&t.app.store, t.app.now().timestamp(), &|_| {}).await.unwrap();
        assert_eq!(rebuilt.documents, 18, "17 rows, and T-1 once more for its history");
        assert_eq!(t.app.index.stored_documents().unwrap(), incremental, "[{}]", t.backend);
        assert_eq!(set(&t, "widgets").await, before);
        // A second process's view of the same directory, after this one lets go, is the same.
        t.app.index.release().await;
        let other = Index::new(t.app.index.dir().to_path_buf());
        assert_eq!(other.catch_up(&t.app.store, 0).await.unwrap().documents, 0, "the watermark survived");
        assert_eq!(other.stored_documents().unwrap(), incremental);
    }
}

#[tokio::test]
async fn a_deleted_or_corrupt_index_is_rebuilt_from_the_database() {
    for t in backends().await {
        conversation(&t).await;
        catch_up(&t).await;
        let dir = t.app.index.dir().to_path_buf();
        let want = set(&t, "budget").await;
        assert_eq!(want.len(), 4);
        t.app.index.release().await;

        // Deleted: the next start finds no index and rebuilds it.
        std::fs::remove_dir_all(&dir).unwrap();
        let fresh = Index::new(dir.clone());
        let caught = fresh.catch_up(&t.app.store, 0).await.unwrap();
        assert!(caught.rebuilt);
        assert_eq!(caught.documents, 6);
        let hits = fresh.search(&t.app.store, "budget", &SearchOptions::default()).await.unwrap();
        assert_eq!(hits.len(), 4, "[{}]", t.backend);
        fresh.release().await;

        // Corrupt meta.json.
        std::fs::write(dir.join("meta.json"), b"{ not json").unwrap();
        let again = Index::new(dir.clone());
        assert!(again.catch_up(&t.app.store, 0).await.unwrap().rebuilt);
        assert_eq!(again.search(&t.app.store, "budget", &SearchOptions::default()).await.unwrap().len(), 4);
        again.release().await;

        // A segment file gone (a crash mid-copy, a bad disk).
        let segment = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|x| x == "idx" || x == "store"))
            .expect("a segment file");
        std::fs::remove_file(&segment).unwrap();
        let third = Index::new(dir.clone());
        assert!(third.catch_up(&t.app.store, 0).await.unwrap().rebuilt);
        assert_eq!(third.search(&t.app.store, "budget", &SearchOptions::default()).await.unwrap().len(), 4);
        third.release().await;

        // An index whose watermark is ahead of the database (another database) is rebuilt too.
        let other = support::sqlite().await;
        let elsewhere = Index::new(dir.clone());
        let caught = elsewhere.catch_up(&other.app.store, 0).await.unwrap();
        assert!(caught.rebuilt);
        assert_eq!(caught.documents, 0);
        assert!(elsewhere.search(&other.app.store, "budget", &SearchOptions::default()).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn one_writer_per_directory_and_readers_still_search() {
    for t in backends().await {
        conversation(&t).await;
        catch_up(&t).await;
        let second = Index::new(t.app.index.dir().to_path_buf());
        match second.catch_up(&t.app.store, 0).await {
            Err(e @ IndexError::Locked(_)) => {
                let text = e.to_string();
                assert!(text.contains("another docket process") && text.contains("docket serve"), "{text}");
            }
            other => panic!("[{}] expected the lock to refuse a second writer, got {other:?}", t.backend),
        }
        assert!(second.reindex(&t.app.store, 0, &|_| {}).await.is_err());
        // The second one reads what the writer committed.
        let hits = second.search(&t.app.store, "budget", &SearchOptions::default()).await.unwrap();
        assert_eq!(hits.len(), 4);
        // Once the writer lets go, the second one may write.
        t.app.index.release().await;
        assert!(second.catch_up(&t.app.store, 0).await.is_ok());
    }
}

#[tokio::test]
async fn bad_queries_get_a_clear_error_never_a_panic() {
    for t in backends().await {
        conversation(&t).await;
        catch_up(&t).await;
        let bad = |q: String| {
            let t = &t;
            async move { t.app.index.search(&t.app.store, &q, &SearchOptions::default()).await }
        };
        assert!(matches!(bad("\"hosting budget".into()).await, Err(IndexError::Query(QueryError::UnbalancedQuote(_)))));
        assert!(matches!(bad("subject:budget".into()).await, Err(IndexError::Query(QueryError::UnknownField(_)))));
        assert!(matches!(bad("x".repeat(10 * 1024)).await, Err(IndexError::Query(QueryError::TooLong(10240)))));
        assert!(matches!(bad("kind:email".into()).await, Err(IndexError::Query(QueryError::BadKind(_)))));
        assert!(matches!(bad("before:someday".into()).await, Err(IndexError::Query(QueryError::BadDate(..)))));
        assert!(matches!(bad("".into()).await, Err(IndexError::Query(QueryError::Empty))));
        let e = bad("\"open".into()).await.unwrap_err();
        assert!(e.is_query());
        assert!(e.to_string().starts_with("bad search: unbalanced quote"), "{e}");
        // Odd but valid input never panics.
        for q in ["\"\"\"\"", "-", "- -", "a:b:c", "from:\"x y\" -\"a b\"", "\u{0}", "😀", "after:2026 before:2025", "10/11", "O'Brien"] {
            let _ = bad(q.to_string()).await;
        }
        let long_word = "a".repeat(1000);
        assert!(bad(long_word).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn hits_follow_threads_that_merged_after_indexing() {
    for t in backends().await {
        let eng = t.space("eng").await;
        // The reply arrives first (its own thread), then its parent: they merge.
        stored(&t, Mail::new("c1@x", "Re: Widgets").refs(&["p1@x"]).body("Blue widgets please.\n"), &eng).await;
        catch_up(&t).await;
        stored(&t, Mail::new("p1@x", "Widgets").body("Which colour?\n"), &eng).await;
        catch_up(&t).await;
        let child = find(&t, "blue").await;
        let parent = find(&t, "colour").await;
        assert_eq!(child[0].thread_id, parent[0].thread_id, "[{}] one thread after the merge", t.backend);
        assert_eq!(t.app.store.thread(child[0].thread_id, 3).await.unwrap().message_count, 2);
    }
}

#[tokio::test]
async fn serve_indexes_mail_as_it_arrives() {
    for t in backends().await {
        let eng = t.space("eng").await;
        let mut c = (*t.app.config).clone();
        c.smtp.listen = "127.0.0.1:0".parse().unwrap();
        let app = docket::app::App { config: std::sync::Arc::new(c), ..t.app.clone() };
        let running = docket::serve::start(app.clone()).await.unwrap();
        stored(&t, Mail::new("s1@x", "Zeppelin").body("The zeppelin lands at noon.\n"), &eng).await;
        let mut found = false;
        for _ in 0..100 {
            if app.index.search(&app.store, "zeppelin", &SearchOptions::default()).await.map(|h| h.len()).unwrap_or(0) == 1 {
                found = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(found, "[{}] serve's indexer made the new mail searchable", t.backend);
        // While serve holds the writer, another writer is refused with a clear error.
        let other = Index::new(app.index.dir().to_path_buf());
        assert!(matches!(other.reindex(&app.store, 0, &|_| {}).await, Err(IndexError::Locked(_))));
        running.stop().await;
        // After the stop, the lock is free again.
        assert!(other.catch_up(&app.store, 0).await.is_ok(), "[{}]", t.backend);
    }
}

#[test]
fn cli_search_and_reindex() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let docket = |args: &[&str], stdin: Option<&[u8]>| {
        use std::io::Write;
        let mut child = Command::new(env!("CARGO_BIN_EXE_docket"))
            .current_dir(d)
            .args(args)
            .env_remove("DOCKET_CONFIG")
            .env("DOCKET__SERVER__DATA_DIR", d.join("data"))
            .env("DOCKET__SECURITY__DMARC", "false") // no real DNS in tests
            .env("DOCKET__NOTIFY__NUDGES", "false")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin.unwrap_or_default()).unwrap();
        child.wait_with_output().unwrap()
    };
    assert!(docket(&["space", "add", "eng"], None).status.success());
    assert!(docket(&["member", "add", "alice@example.org", "--space", "eng"], None).status.success());
    let mail = Mail::new("c1@x", "Quarterly budget").body("#decision The budget is approved.\n").raw();
    assert!(docket(&["ingest", "--space", "eng"], Some(&mail)).status.success());
    // `search` catches the index up by itself.
    let out = docket(&["search", "--json", "budget"], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let hits: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let hits = hits.as_array().unwrap();
    assert_eq!(hits.len(), 2);
    for h in hits {
        let mut keys: Vec<&str> = h.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(keys, ["date", "id", "kind", "message_id", "score", "snippet", "space", "subject", "thread_id"]);
    }
    assert!(hits.iter().any(|h| h["id"] == "D-1" && h["kind"] == "decision"));
    assert!(hits.iter().any(|h| h["id"] == 1 && h["kind"] == "message"));
    // Words given as separate arguments, --limit, --sort date, and the human listing.
    // Options after the query words are options (the README's form), not words.
    let after: serde_json::Value = serde_json::from_slice(&docket(&["search", "budget", "--json", "--limit", "1"], None).stdout).unwrap();
    assert_eq!(after.as_array().map(Vec::len), Some(1), "{after}");
    let excluded = String::from_utf8(docket(&["search", "--json", "--", "budget", "-kind:message"], None).stdout).unwrap();
    assert!(!excluded.contains("\"kind\": \"message\""), "{excluded}");
    let out = docket(&["search", "--limit", "1", "--sort", "date", "kind:decision", "approved"], None);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(text.starts_with("D-1"), "{text}");
    assert!(text.contains("approved"), "{text}");
    // A bad query: one line on stderr, exit 64 (usage), nothing on stdout.
    let out = docket(&["search", "\"budget"], None);
    assert_eq!(out.status.code(), Some(64));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("unbalanced quote"), "{err}");
    // reindex: no progress bar when stderr is not a terminal.
    let out = docket(&["reindex"], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("indexed 2 messages, decisions and tasks"));
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    // A deleted index: the next search rebuilds it.
    std::fs::remove_dir_all(d.join("data/index")).unwrap();
    let out = docket(&["search", "--json", "approved"], None);
    let hits: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(hits.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn import_indexes_what_it_stores() {
    for t in backends().await {
        let eng = t.space("eng").await;
        let mut mbox = Vec::new();
        for i in 0..40 {
            mbox.extend_from_slice(b"From someone@example.org Tue Nov 24 08:00:00 2026\n");
            let raw = Mail::new(&format!("imp{i}@x"), &format!("Archive {i}")).body(&format!("Old note {i} about gearboxes.\n")).raw();
            mbox.extend_from_slice(&String::from_utf8(raw).unwrap().replace("\r\n", "\n").into_bytes());
            mbox.extend_from_slice(b"\n");
        }
        let file = t.dir.path().join("old.mbox");
        std::fs::write(&file, &mbox).unwrap();
        let opts = docket::ingest::import::ImportOptions { space: Some(eng), progress: false };
        let report = docket::ingest::import::import(&t.app, &[file], &opts).await.unwrap();
        assert_eq!((report.stored, report.indexed), (40, 40), "[{}] {report:?}", t.backend);
        assert_eq!(find(&t, "gearboxes").await.len(), 20, "[{}] the default limit", t.backend);
        assert_eq!(set(&t, "\"old note 17\"").await.len(), 1);
    }
}

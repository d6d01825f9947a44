//! The `docket` binary as users and MTAs run it: exit codes, error lines, and the JSON shapes of docs/cli.md.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use support::Mail;

fn docket(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Output {
    docket_env(dir, args, stdin, &[])
}

fn docket_env(dir: &Path, args: &[&str], stdin: Option<&[u8]>, env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_docket"));
    cmd.current_dir(dir).args(args).env_remove("DOCKET_CONFIG").env("DOCKET__SERVER__DATA_DIR", dir.join("data"));
    // The binary's DMARC check would ask real DNS about the test domains: tests never do.
    cmd.env("DOCKET__SECURITY__DMARC", "false");
    // Nudge receipts would add to the outbox the tests count (tests/nudges.rs tests them).
    cmd.env("DOCKET__NOTIFY__NUDGES", "false");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(stdin.unwrap_or_default()).unwrap();
    child.wait_with_output().unwrap()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn keys(v: &serde_json::Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

#[test]
fn ingest_speaks_sysexits() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert_eq!(code(&docket(d, &["space", "add", "eng"], None)), 0);
    assert_eq!(code(&docket(d, &["member", "add", "alice@example.org", "--space", "eng"], None)), 0);
    let mail = Mail::new("p1@x", "Pipe").raw();
    let first = docket(d, &["ingest", "--space", "eng"], Some(&mail));
    assert_eq!(code(&first), 0, "{}", text(&first));
    assert!(text(&first).contains("stored message"));
    let again = docket(d, &["ingest", "--space", "eng"], Some(&mail));
    assert_eq!(code(&again), 0);
    assert!(text(&again).contains("already stored"));
    assert_eq!(code(&docket(d, &["ingest", "--space", "eng"], Some(b""))), 65);
    let unknown = docket(d, &["ingest", "--space", "ghost"], Some(&mail));
    assert_eq!(code(&unknown), 67);
    assert!(text(&unknown).contains("docket space add ghost"), "{}", text(&unknown));
    // No --space: the recipient decides. team@docket.test is not a space here.
    assert_eq!(code(&docket_env(d, &["ingest"], Some(&mail), &[("DOCKET__SERVER__DOMAIN", "docket.test")])), 67);
    let routed = Mail::new("p2@x", "Routed").raw();
    let ok = docket_env(d, &["ingest", "--recipient", "eng+abc@docket.test"], Some(&routed), &[("DOCKET__SERVER__DOMAIN", "docket.test")]);
    assert_eq!(code(&ok), 0, "{}", text(&ok));
    // Whatever the MTA's client macros expand to (empty, `unknown`, garbage), the mail is taken.
    for (i, address) in ["", "unknown", "not-an-ip", "192.0.2.1"].iter().enumerate() {
        let m = Mail::new(&format!("c{i}@x"), "Client").raw();
        let out = docket(d, &["ingest", "--space", "eng", "--client-address", address, "--helo", ""], Some(&m));
        assert_eq!(code(&out), 0, "--client-address {address:?}: {}", text(&out));
    }
    // The pipe applies the sender policy: a stranger's mail is kept for review, not posted.
    let stranger = Mail::new("p3@x", "Hello").from("Mallory <mallory@evil.test>").raw();
    let held = docket(d, &["ingest", "--space", "eng", "--sender", "mallory@evil.test"], Some(&stranger));
    assert_eq!(code(&held), 0, "{}", text(&held));
    assert!(text(&held).contains("held for review") && text(&held).contains("not a member"), "{}", text(&held));
    let listed = text(&docket(d, &["quarantine", "list"], None));
    assert!(listed.contains("not-member"), "{listed}");
}

#[test]
fn ingest_into_an_unusable_data_dir_is_a_temporary_failure_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("a-file");
    std::fs::write(&blocker, b"").unwrap();
    let mail = Mail::new("p@x", "x").raw();
    for data_dir in [blocker.join("data"), Path::new("/proc/docket-test").to_path_buf()] {
        let o =
            docket_env(dir.path(), &["ingest", "--space", "eng"], Some(&mail), &[("DOCKET__SERVER__DATA_DIR", data_dir.to_str().unwrap())]);
        assert_eq!(code(&o), 75, "{}", text(&o));
        assert!(text(&o).contains("cannot use data directory"), "{}", text(&o));
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "nothing half-written");
}

#[test]
fn bad_configuration_lists_every_problem() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("docket.toml"), "[server]\ntimezone = \"Nowhere/City\"\nport = 25\n[digest]\ndays = \"someday\"\n")
        .unwrap();
    let o = docket(dir.path(), &["check"], None);
    assert_ne!(code(&o), 0);
    let t = text(&o);
    for key in ["server.timezone", "server.port", "digest.days"] {
        assert!(t.contains(key), "{key} not named in: {t}");
    }
    let o = docket(dir.path(), &["--config", "/nonexistent.toml", "threads"], None);
    assert!(text(&o).contains("does not exist"), "{}", text(&o));
}

#[test]
fn member_settings_are_validated() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    docket(d, &["space", "add", "eng"], None);
    let o = docket(d, &["member", "add", "bob@x.org", "--space", "eng", "--tz", "Mars/Olympus", "--delivery", "often"], None);
    assert_ne!(code(&o), 0);
    assert!(text(&o).contains("Mars/Olympus") && text(&o).contains("often"), "{}", text(&o));
    let o = docket(
        d,
        &["member", "add", "bob@x.org", "--space", "eng", "--tz", "America/Los_Angeles", "--digest-days", "mon,thu", "--json"],
        None,
    );
    assert_eq!(code(&o), 0, "{}", text(&o));
    let m: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (m["handle"].as_str(), m["tz"].as_str(), m["digest_days"].as_str()),
        (Some("bob"), Some("America/Los_Angeles"), Some("mon,thu"))
    );
    let o = docket(d, &["member", "set", "bob@x.org", "--space", "eng", "--delivery", "mentions"], None);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let list: serde_json::Value = serde_json::from_slice(&docket(d, &["member", "list", "--space", "eng", "--json"], None).stdout).unwrap();
    assert_eq!(list[0]["delivery"], "mentions");
    assert_eq!(code(&docket(d, &["member", "remove", "bob@x.org", "--space", "eng"], None)), 0);
    assert_ne!(code(&docket(d, &["member", "remove", "bob@x.org", "--space", "eng"], None)), 0);
}

#[test]
fn demo_then_threads_and_thread_in_the_spec_shapes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let o = docket(d, &["demo"], None);
    assert_eq!(code(&o), 0, "{}", text(&o));
    // The sample conversation is history: no copy of it is fanned out to its example addresses.
    #[allow(clippy::disallowed_methods)] // the demo runs on wall time
    let now = chrono::Utc::now().to_rfc3339();
    let tick = docket(d, &["tick", "--now", &now], None);
    assert_eq!(code(&tick), 0, "{}", text(&tick));
    for mail in std::fs::read_dir(d.join("data/outbox/new")).into_iter().flatten() {
        let raw = std::fs::read_to_string(mail.unwrap().path()).unwrap();
        assert!(raw.contains("Auto-Submitted: auto-generated"), "a demo message was fanned out:\n{raw}");
    }
    let threads: serde_json::Value = serde_json::from_slice(&docket(d, &["threads", "--json"], None).stdout).unwrap();
    let threads = threads.as_array().unwrap();
    assert_eq!(threads.len(), 2);
    let spec_thread = [
        "decisions",
        "id",
        "last_activity_at",
        "message_count",
        "participants",
        "rounds",
        "space",
        "started_at",
        "status",
        "subject",
        "tasks",
    ];
    assert_eq!(keys(&threads[0]), spec_thread);
    let id = threads.iter().find(|t| t["message_count"] == 4).unwrap()["id"].as_i64().unwrap().to_string();
    let thread: serde_json::Value = serde_json::from_slice(&docket(d, &["thread", &id, "--json"], None).stdout).unwrap();
    let mut with_messages: Vec<&str> = spec_thread.to_vec();
    with_messages.push("messages");
    with_messages.sort();
    assert_eq!(keys(&thread), with_messages);
    assert_eq!(keys(&thread["messages"][0]), ["attachments", "date", "from", "id", "message_id", "subject", "visible_text"]);
    assert_eq!(thread["messages"][0]["message_id"], "launch-1@demo.example");
    assert!(thread["started_at"].as_str().unwrap().ends_with('Z'));
    let human = text(&docket(d, &["thread", &id], None));
    assert!(human.contains("Launch date for the v2 beta") && human.contains("Carol"), "{human}");
    // Issue 15: what trimming removed is stored and named in the text view.
    assert!(human.contains("   [hidden] attribution, quote (2 lines)"), "{human}");
    assert_eq!(code(&docket(d, &["thread", "9999"], None)), 1);
    let limited: serde_json::Value = serde_json::from_slice(&docket(d, &["threads", "--limit", "1", "--json"], None).stdout).unwrap();
    assert_eq!(limited.as_array().unwrap().len(), 1);
    let check = docket(d, &["check", "--json"], None);
    assert_eq!(code(&check), 0, "{}", text(&check));
}

#[test]
fn parse_tasks_decisions_proposals_and_tick() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    docket(d, &["space", "add", "eng"], None);
    docket(d, &["member", "add", "alice@example.org", "--space", "eng", "--tz", "Europe/Berlin"], None);
    docket(d, &["member", "add", "bob@example.org", "--space", "eng", "--handle", "bob"], None);
    let mail = Mail::new("t1@x", "Plan")
        .from("Alice <alice@example.org>")
        .body("#decision Ship it.\n#action Write docs @bob due friday\n#action Ping @zed\n#propose Rename the repo by 2026-11-25\n")
        .raw();
    // parse: nothing stored; --space checks handles.
    let o = docket(d, &["parse", "--json", "--space", "eng"], Some(&mail));
    assert_eq!(code(&o), 0, "{}", text(&o));
    let p: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(keys(&p), ["date", "from", "items", "message_id", "nudges", "subject", "visible_text", "warnings"]);
    // Only tags, no prose: the one part a thread-starting message lacks is its context.
    assert_eq!(p["nudges"], serde_json::json!(["context"]));
    let item_keys = [
        "asked_of",
        "closes_at",
        "default",
        "due",
        "due_text",
        "goal",
        "kind",
        "owner",
        "refs",
        "supersedes",
        "target",
        "text",
        "verb",
        "watchers",
    ];
    assert_eq!(keys(&p["items"][0]), item_keys);
    assert_eq!(p["items"][1]["due"], "2026-11-27T16:00:00Z", "friday 17:00 in Berlin (member zone)");
    assert!(p["warnings"].to_string().contains("@zed is not a member"), "{}", p["warnings"]);
    let tz = docket(d, &["parse", "--json", "--tz", "Asia/Tokyo"], Some(&mail));
    let p: serde_json::Value = serde_json::from_slice(&tz.stdout).unwrap();
    assert_eq!(p["items"][1]["due"], "2026-11-27T08:00:00Z", "--tz wins");
    let reply = Mail::new("t2@x", "Re: Plan").reply_to("t1@x").body("ok").raw();
    let p: serde_json::Value = serde_json::from_slice(&docket(d, &["parse", "--json"], Some(&reply)).stdout).unwrap();
    assert_eq!(p["nudges"], serde_json::json!([]), "a reply is never nudged");
    assert_eq!(code(&docket(d, &["parse", "--tz", "Mars/Base"], Some(&mail))), 1);
    let tasks: serde_json::Value = serde_json::from_slice(&docket(d, &["tasks", "--json"], None).stdout).unwrap();
    assert_eq!(tasks.as_array().unwrap().len(), 0, "parse stored nothing");

    assert_eq!(code(&docket(d, &["ingest", "--space", "eng"], Some(&mail))), 0);
    let tasks: serde_json::Value =
        serde_json::from_slice(&docket(d, &["tasks", "--json", "--owner", "bob@example.org"], None).stdout).unwrap();
    let spec_task = [
        "created_at",
        "created_by",
        "decision",
        "done_at",
        "due",
        "goal",
        "id",
        "message_id",
        "notes",
        "owner",
        "space",
        "status",
        "thread_id",
        "title",
        "watchers",
    ];
    assert_eq!(keys(&tasks[0]), spec_task);
    assert_eq!(tasks.as_array().unwrap().len(), 1);
    let decisions: serde_json::Value = serde_json::from_slice(&docket(d, &["decisions", "--json"], None).stdout).unwrap();
    let spec_decision = [
        "author",
        "decided_at",
        "goal",
        "id",
        "message_id",
        "notes",
        "source",
        "space",
        "status",
        "supersedes",
        "tasks",
        "text",
        "thread_id",
    ];
    assert_eq!(keys(&decisions[0]), spec_decision);
    assert_eq!(decisions[0]["tasks"], serde_json::json!(["T-1", "T-2"]));
    let proposals: serde_json::Value = serde_json::from_slice(&docket(d, &["proposals", "--json"], None).stdout).unwrap();
    assert_eq!(keys(&proposals[0]), ["closes_at", "decision", "id", "objections", "status", "text"]);
    assert_eq!(code(&docket(d, &["tasks", "--status", "maybe"], None)), 1);

    let o = docket(d, &["tick", "--now", "2026-11-26T00:00:00Z", "--json"], None);
    let tick: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(tick["adopted"][0], serde_json::json!({"proposal": "P-1", "decision": "D-2"}), "{}", text(&o));
    assert_eq!(code(&docket(d, &["tick", "--now", "tomorrow"], None)), 1);
    assert_eq!(code(&docket(d, &["tasks", "--overdue"], None)), 0);
}

/// The JSON array a listing command prints.
fn json(d: &Path, args: &[&str]) -> serde_json::Value {
    let o = docket(d, args, None);
    assert_eq!(code(&o), 0, "{args:?}: {}", text(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn issue12_demo_twice_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let first = docket(d, &["demo"], None);
    assert_eq!(code(&first), 0, "{}", text(&first));
    assert!(text(&first).contains("(1 message)") && text(&first).contains("(4 messages)"), "{}", text(&first));
    let before: Vec<serde_json::Value> = ["threads", "decisions", "tasks"].iter().map(|c| json(d, &[c, "--json"])).collect();
    // The binary runs on wall time and Date headers have whole seconds: a later second is what
    // made the second run's conversation differ from the first (and be stored again).
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let again = docket(d, &["demo"], None);
    assert_eq!(code(&again), 0, "{}", text(&again));
    assert!(text(&again).contains("already set up: nothing changed"), "{}", text(&again));
    let after: Vec<serde_json::Value> = ["threads", "decisions", "tasks"].iter().map(|c| json(d, &[c, "--json"])).collect();
    assert_eq!(before, after, "a second demo adds no thread, decision or task");
    assert_eq!(after[1].as_array().unwrap().len(), 1, "one D-1, no D-2");
}

#[test]
fn issue12_tick_without_now_runs_at_the_current_time() {
    let dir = tempfile::tempdir().unwrap();
    let o = docket(dir.path(), &["tick"], None);
    assert_eq!(code(&o), 0, "{}", text(&o));
    #[allow(clippy::disallowed_methods)] // the binary runs on wall time
    let year = chrono::Utc::now().format("nothing due at %Y-").to_string();
    assert!(text(&o).contains(&year), "{}", text(&o));
}

#[test]
fn issue12_quarantine_json_times_are_rfc3339_and_listings_have_headers() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    docket(d, &["space", "add", "eng"], None);
    docket(d, &["member", "add", "alice@example.org", "--space", "eng"], None);
    let stranger = Mail::new("q1@x", "Hello").from("Mallory <mallory@evil.test>").raw();
    assert_eq!(code(&docket(d, &["ingest", "--space", "eng", "--sender", "mallory@evil.test"], Some(&stranger))), 0);
    let held = json(d, &["quarantine", "list", "--json"]);
    let at = held[0]["received_at"].as_str().unwrap_or_else(|| panic!("received_at is not a string: {held}"));
    assert!(chrono::DateTime::parse_from_rfc3339(at).is_ok() && at.ends_with('Z'), "{at}");
    let mail =
        Mail::new("h1@x", "Plan").from("Alice <alice@example.org>").body("#decision Ship it.\n#action Write docs due 2026-12-01\n").raw();
    assert_eq!(code(&docket(d, &["ingest", "--space", "eng"], Some(&mail))), 0);
    for (args, header) in [
        (&["threads"][..], "ID  SPACE"),
        (&["decisions"][..], "ID     DECIDED"),
        (&["tasks"][..], "ID     STATUS"),
        (&["quarantine", "list"][..], "RECEIVED (UTC)"),
        (&["space", "list"][..], "SLUG"),
        (&["member", "list", "--space", "eng"][..], "EMAIL"),
    ] {
        let out = text(&docket(d, args, None));
        assert!(out.lines().next().is_some_and(|l| l.contains(header)), "{args:?} starts with a header row:\n{out}");
    }
    let json_tasks = json(d, &["tasks", "--json"]);
    assert!(json_tasks.is_array(), "--json prints no header row");
}

#[test]
fn issue12_thread_lists_its_decisions_and_tasks() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    docket(d, &["demo"], None);
    let threads = json(d, &["threads", "--json"]);
    let decided = threads.as_array().unwrap().iter().find(|t| t["status"] == "decided").unwrap();
    let out = text(&docket(d, &["thread", &decided["id"].to_string()], None));
    assert!(out.contains("decided"), "{out}");
    assert!(out.contains("Decisions\n  D-1  Beta launches on Dec 10.  [T-1]"), "{out}");
    assert!(out.contains("Tasks\n  T-1  [open] Finish the migration guide (bob@example.com, due "), "{out}");
}

#[test]
fn issue12_import_names_missing_paths_and_counts_in_good_english() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    docket(d, &["space", "add", "eng"], None);
    let o = docket(d, &["import", "nowhere.mbox", "gone/", "--space", "eng"], None);
    assert_eq!(code(&o), 66, "EX_NOINPUT, like other Unix tools: {}", text(&o));
    assert!(text(&o).contains("do not exist: nowhere.mbox, gone/"), "{}", text(&o));
    assert_eq!(json(d, &["threads", "--json"]).as_array().unwrap().len(), 0, "nothing imported");
    let mut mbox = b"From alice@example.org Tue Nov 24 09:00:00 2026\n".to_vec();
    mbox.extend(Mail::new("i1@x", "One").raw().iter().filter(|b| **b != b'\r'));
    std::fs::write(d.join("one.mbox"), &mbox).unwrap();
    let o = docket(d, &["import", "one.mbox", "--space", "eng"], None);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert!(text(&o).contains("1 file, 1 message: 1 stored"), "{}", text(&o));
    let o = docket(d, &["import", "one.mbox", "--space", "eng"], None);
    assert!(text(&o).contains("1 file was already imported"), "{}", text(&o));
}

#[test]
fn issue12_receipts_name_watchers_and_the_goal_and_the_outbox_names_the_recipient() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    docket(d, &["space", "add", "eng"], None);
    for who in ["alice", "bob", "carol"] {
        docket(d, &["member", "add", &format!("{who}@example.org"), "--space", "eng"], None);
    }
    let mail = Mail::new("r1@x", "Launch")
        .from("Alice <alice@example.org>")
        .body("#goal launch The v2 launch\n#todo Book the hall @bob @carol due 2026-12-01\n")
        .raw();
    assert_eq!(code(&docket(d, &["ingest", "--space", "eng"], Some(&mail))), 0);
    let o = docket(d, &["tick", "--now", "2026-11-24T10:00:00Z"], None);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let files: Vec<String> =
        std::fs::read_dir(d.join("data/outbox/new")).unwrap().map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap()).collect();
    let receipt = files.iter().find(|f| f.contains("X-Docket-Kind: receipt")).unwrap_or_else(|| panic!("no receipt in {files:?}"));
    assert!(
        receipt.starts_with("Return-Path: <")
            && receipt.contains("\r\nDelivered-To: alice@example.org\r\nX-Original-To: alice@example.org\r\n")
    );
    let text = docket::parse::mime::parse(receipt.as_bytes()).text.unwrap();
    assert!(text.contains("T-1 Book the hall"), "{text}");
    assert!(text.contains("task, owner bob@example.org, watchers carol@example.org, due "), "{text}");
    assert!(text.contains("goal launch (The v2 launch)"), "{text}");
    for copy in files.iter().filter(|f| f.contains("X-Docket-Kind: fanout") || !f.contains("X-Docket-Kind")) {
        let to = if copy.contains("Delivered-To: bob@example.org") { "bob" } else { "carol" };
        assert!(copy.contains(&format!("X-Original-To: {to}@example.org")), "{copy}");
    }
}

#[test]
fn issue12_every_flag_in_help_is_documented() {
    let dir = tempfile::tempdir().unwrap();
    for command in subcommands(dir.path()) {
        let mut args: Vec<&str> = command.split(' ').collect();
        args.push("--help");
        let help = text(&docket(dir.path(), &args, None));
        for line in help.lines().filter(|l| l.starts_with("  ") && l.trim_start().starts_with(['-', '<', '['])) {
            let flag = line.trim_start();
            if flag.starts_with("-h, --help") || flag.starts_with("-V, --version") {
                continue;
            }
            // clap pads the flag column and puts the description after it on the same line.
            let described = flag.split_once("  ").is_some_and(|(_, about)| !about.trim().is_empty());
            assert!(described, "`docket {command}`: {} has no description:\n{help}", flag.trim_end());
        }
    }
}

/// Every command path (`member set`, `tick`) from `docket help` and the groups' own help.
fn subcommands(d: &Path) -> Vec<String> {
    fn names(help: &str) -> Vec<String> {
        help.split("Commands:")
            .nth(1)
            .unwrap_or_default()
            .split("\n\n")
            .next()
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split_whitespace().next().map(str::to_string))
            .filter(|n| n != "help")
            .collect()
    }
    let mut out = Vec::new();
    for top in names(&text(&docket(d, &["--help"], None))) {
        let nested = names(&text(&docket(d, &[&top, "--help"], None)));
        if nested.is_empty() {
            out.push(top);
        } else {
            out.extend(nested.into_iter().map(|n| format!("{top} {n}")));
        }
    }
    assert!(out.len() > 20 && out.contains(&"member set".to_string()), "{out:?}");
    out
}

#[tokio::test]
async fn issue12_member_list_and_digest_preview_tell_who_is_muted_or_unsubscribed() {
    let t = support::sqlite().await;
    t.space("eng").await;
    for who in ["ann", "bob", "cem"] {
        t.member("eng", &format!("{who}@example.org"), docket::space::MemberSettings::default()).await;
    }
    let eng = t.app.store.require_space("eng").await.unwrap();
    let members = t.app.store.members(&eng).await.unwrap();
    let id = |who: &str| members.iter().find(|m| m.email == format!("{who}@example.org")).unwrap().id;
    let (bob, cem) = (id("bob"), id("cem"));
    let mut tx = t.app.store.begin().await.unwrap();
    tx.set_mute(bob, docket::notify::fanout::UNSUBSCRIBED, true, t.clock_now()).await.unwrap();
    tx.set_mute(cem, docket::notify::fanout::MUTE_SPACE, true, t.clock_now()).await.unwrap();
    tx.commit().await.unwrap();
    t.app.store.close().await;
    let data = t.dir.path().to_str().unwrap();
    let run = |args: &[&str]| docket_env(t.dir.path(), args, None, &[("DOCKET__SERVER__DATA_DIR", data)]);
    let listed = text(&run(&["member", "list", "--space", "eng"]));
    let row = |who: &str| listed.lines().find(|l| l.starts_with(who)).unwrap_or_default().to_string();
    assert!(row("ann@").ends_with("gets mail"), "{listed}");
    assert!(row("bob@").ends_with("unsubscribed"), "{listed}");
    assert!(row("cem@").ends_with("space muted"), "{listed}");
    let members: serde_json::Value = serde_json::from_slice(&run(&["member", "list", "--space", "eng", "--json"]).stdout).unwrap();
    assert_eq!((members[1]["unsubscribed"].as_bool(), members[2]["muted"].as_bool()), (Some(true), Some(true)), "{members}");
    let preview = text(&run(&["digest", "--preview", "bob@example.org"]));
    assert!(preview.contains("unsubscribed") && !preview.contains("nothing new"), "{preview}");
}

#[test]
fn issue12_docs_cli_md_covers_every_command_and_flag() {
    let dir = tempfile::tempdir().unwrap();
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/cli.md")).unwrap();
    for command in subcommands(dir.path()) {
        let heading = format!("### `docket {command}`");
        let start = doc.find(&heading).unwrap_or_else(|| panic!("docs/cli.md has no section {heading}"));
        let body = &doc[start + heading.len()..];
        let section = &body[..body.find("\n#").unwrap_or(body.len())];
        let mut args: Vec<&str> = command.split(' ').collect();
        args.push("--help");
        let help = text(&docket(dir.path(), &args, None));
        for flag in help.split_whitespace().filter(|w| w.starts_with("--") && w.len() > 2) {
            let flag = flag.trim_end_matches(',');
            if ["--help", "--config", "--version"].contains(&flag) {
                continue;
            }
            assert!(section.contains(flag), "docs/cli.md, `docket {command}`: {flag} is not documented");
        }
    }
}

/// Issue 11: a subject or body can carry terminal sequences (clear the screen, set the title); no
/// listing prints them raw.
#[test]
fn control_characters_from_mail_are_escaped_in_every_listing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert_eq!(code(&docket(d, &["space", "add", "eng"], None)), 0);
    assert_eq!(code(&docket(d, &["member", "add", "alice@example.org", "--space", "eng"], None)), 0);
    let mut mail = Mail::new("esc1@x", "Plan \u{1b}]0;pwned\u{7} \u{1b}[2J");
    mail.body = "Read this.\u{1b}[2J\u{1b}]0;owned\u{7}\nSecond line.\n".into();
    assert_eq!(code(&docket(d, &["ingest", "--space", "eng"], Some(&mail.raw()))), 0);
    let stranger = Mail { id: Some("esc2@x".into()), from: "Mallory <mallory@evil.test>".into(), ..mail }.raw();
    assert_eq!(code(&docket(d, &["ingest", "--space", "eng", "--sender", "mallory@evil.test"], Some(&stranger))), 0);
    let threads: serde_json::Value = serde_json::from_slice(&docket(d, &["threads", "--json"], None).stdout).unwrap();
    let id = threads[0]["id"].as_i64().unwrap().to_string();
    let held: serde_json::Value = serde_json::from_slice(&docket(d, &["quarantine", "list", "--json"], None).stdout).unwrap();
    let held_id = held[0]["id"].as_i64().unwrap().to_string();
    for args in [vec!["threads"], vec!["thread", &id], vec!["quarantine", "list"], vec!["quarantine", "show", &held_id]] {
        let o = docket(d, &args, None);
        assert_eq!(code(&o), 0, "{args:?}: {}", text(&o));
        let out = String::from_utf8(o.stdout).unwrap();
        assert!(!out.contains(['\u{1b}', '\u{7}']), "{args:?} printed a control character: {out:?}");
        // The list shows no subject; the others show it, escaped.
        assert!(args.get(1) == Some(&"list") || out.contains("␛"), "{args:?} shows the escape: {out}");
    }
}

/// Issue 11: `docket threads | head -1` — the reader goes away; docket stops quietly.
#[test]
fn a_closed_output_pipe_ends_the_command_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert_eq!(code(&docket(d, &["demo"], None)), 0);
    for args in [&["threads"][..], &["threads", "--json"], &["decisions"]] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_docket"))
            .current_dir(d)
            .args(args)
            .env_remove("DOCKET_CONFIG")
            .env("DOCKET__SERVER__DATA_DIR", d.join("data"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take()); // the reader closes before docket has written anything
        let o = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(!stderr.contains("panicked") && !stderr.contains("Broken pipe"), "{args:?}: {stderr}");
        assert_eq!(o.status.code(), Some(0), "{args:?}: {stderr}");
    }
}

/// Issue 11: a permanent store error is not "try again later" (75), which an MTA retries for days.
#[test]
fn ingest_exits_70_with_the_reason_on_a_permanent_store_error() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert_eq!(code(&docket(d, &["space", "add", "eng"], None)), 0);
    assert_eq!(code(&docket(d, &["member", "add", "alice@example.org", "--space", "eng"], None)), 0);
    // A schema that no longer matches (migrations recorded as applied, the table gone): every try fails the same way.
    let url = format!("sqlite://{}?mode=rwc", d.join("data/docket.db").display());
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let store = docket::store::Store::open(&url).await.unwrap();
        sqlx::query("ALTER TABLE inbound RENAME TO inbound_gone").execute(store.pool()).await.unwrap();
        store.close().await;
    });
    let o = docket(d, &["ingest", "--space", "eng"], Some(&Mail::new("perm@x", "Hi").raw()));
    assert_eq!(code(&o), 70, "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("docket: database error") && stderr.contains("inbound"), "{stderr}");
}

/// Issue 11: a relay password never goes out in clear text; `docket check` says so before `serve` would.
#[test]
fn check_refuses_relay_credentials_without_tls() {
    let dir = tempfile::tempdir().unwrap();
    let url = ("DOCKET__OUTBOUND__SMTP_URL", "smtp://docket:s3cret@relay.example.org:587");
    for args in [&["check"][..], &["serve"]] {
        let o = docket_env(dir.path(), args, None, &[url]);
        assert_eq!(code(&o), 78, "{args:?}: {}", text(&o));
        let t = text(&o);
        assert!(t.contains("outbound.smtp_url") && t.contains("without TLS") && t.contains("tls=required"), "{t}");
        assert!(!t.contains("s3cret"), "{t}");
    }
    let ok = docket_env(
        dir.path(),
        &["check"],
        None,
        &[("DOCKET__OUTBOUND__SMTP_URL", "smtp://docket:s3cret@relay.example.org:587?tls=required")],
    );
    assert_eq!(code(&ok), 0, "{}", text(&ok));
}

/// Issue 11: a NUL byte in the body hid every header, so a member's mail was refused as having no From.
#[test]
fn a_member_mail_with_a_nul_byte_in_its_body_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert_eq!(code(&docket(d, &["space", "add", "eng"], None)), 0);
    assert_eq!(code(&docket(d, &["member", "add", "alice@example.org", "--space", "eng"], None)), 0);
    let mut mail = Mail::new("nul@x", "Binary paste");
    mail.body = "see the dump: \u{0}\u{0}\u{1} end\n".into();
    let o = docket(d, &["ingest", "--space", "eng", "--sender", "alice@example.org"], Some(&mail.raw()));
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert!(text(&o).contains("stored message"), "{}", text(&o));
}

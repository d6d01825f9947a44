//! The fault suite: the real `docket` binary through SIGKILL under load, a database that goes down
//! and comes back, a relay that is down, a relay that defers then refuses, and a clock that jumps
//! (DST changes and steps backwards). Every scenario counts: each acknowledged message is stored
//! exactly once, each queued mail is sent exactly once, errors are clear and the server recovers
//! without a restart. Each scenario prints its figures (`faults: …`) after its assertions passed.
//!
//! Adding a scenario: start the binary with `support::process` (`docket`, `serve`, `send`), load
//! it with `flood`, break something, then count rows with `support::process::count`/`strings`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use chrono::{DateTime, Duration as Span, TimeZone, Utc};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::Mail;
use support::cluster::Cluster;
use support::process::{count, docket, ok, send, serve, setup, signal, sqlite_url, strings, text};
use support::sink::Sink;

// ---- load ------------------------------------------------------------------------------------

/// What the SMTP clients of a load run saw, by Message-ID.
#[derive(Debug, Default)]
struct Tally {
    sent: usize,
    /// Got a 250 after the final dot.
    acked: Vec<String>,
    /// Got a 4xx (try again later) at any step.
    deferred: Vec<String>,
    /// Got a 5xx: a permanent refusal, which no fault on the server side may cause.
    refused: Vec<String>,
    /// The connection broke (the server was killed).
    broken: usize,
}

type Shared = Arc<Mutex<Tally>>;

/// `clients` concurrent senders, one message per session, until `stop` is set (or, with
/// `until_broken`, until their connection breaks).
fn flood(
    addr: &str,
    clients: usize,
    prefix: &str,
    stop: &Arc<AtomicBool>,
    tally: &Shared,
    until_broken: bool,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..clients)
        .map(|c| {
            let (addr, prefix, stop, tally) = (addr.to_string(), prefix.to_string(), stop.clone(), tally.clone());
            tokio::spawn(async move {
                for i in 0.. {
                    if stop.load(Ordering::SeqCst) {
                        return;
                    }
                    let id = format!("{prefix}-{c}-{i}@example.org");
                    let raw = Mail::new(&id, &format!("{prefix} {c} {i}")).body(&format!("message {i}\n{}\n", "x".repeat(2000))).raw();
                    tally.lock().unwrap().sent += 1;
                    let reply = send(&addr, &raw).await;
                    let pause = {
                        let mut t = tally.lock().unwrap();
                        match reply {
                            Ok(r) if r.starts_with("250") => {
                                t.acked.push(id);
                                false
                            }
                            Ok(r) if r.starts_with('4') => {
                                t.deferred.push(format!("{id}: {}", r.trim()));
                                true
                            }
                            Ok(r) => {
                                t.refused.push(format!("{id}: {}", r.trim()));
                                true
                            }
                            Err(_) => {
                                t.broken += 1;
                                if until_broken {
                                    return;
                                }
                                true
                            }
                        }
                    };
                    if pause {
                        tokio::time::sleep(Duration::from_millis(20)).await; // no hot loop on refusals
                    }
                }
            })
        })
        .collect()
}

/// Polls `done` every 20 ms for up to 60 s (a generous bound, never a timing assertion).
async fn until(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..3000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("gave up waiting for {what}");
}

async fn stop_all(stop: &AtomicBool, clients: Vec<tokio::task::JoinHandle<()>>) {
    stop.store(true, Ordering::SeqCst);
    for c in clients {
        c.await.unwrap();
    }
}

/// Every acknowledged id is one delivery in `inbound` and, once processed, one message.
async fn assert_stored_once(url: &str, acked: &[String], processed: bool) {
    let inbound: HashSet<String> = strings(url, "SELECT dedup_key FROM inbound").await.into_iter().collect();
    for id in acked {
        assert!(inbound.contains(&format!("mid:{id}")), "{id} got a 250 but is not in inbound");
    }
    if processed {
        let mut stored: HashMap<String, usize> = HashMap::new();
        for id in strings(url, "SELECT message_id FROM messages WHERE message_id IS NOT NULL").await {
            *stored.entry(id).or_default() += 1;
        }
        for id in acked {
            assert_eq!(stored.get(id), Some(&1), "{id} got a 250 but is not stored exactly once");
        }
        assert_eq!(count(url, "SELECT COUNT(*) FROM inbound WHERE state <> 'stored'").await, 0);
        assert_eq!(count(url, "SELECT COUNT(*) FROM messages").await, count(url, "SELECT COUNT(*) FROM inbound").await);
    }
}

// ---- SIGKILL ---------------------------------------------------------------------------------

/// Three rounds of: serve, 8 clients flooding, `kill -9` after 150 acknowledgements, restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_load_loses_no_acknowledged_message() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    setup(&data);
    let url = sqlite_url(&data);
    let mut acked = Vec::new();
    let mut figures = Vec::new();
    for round in 0..3 {
        // Starting again recovers what the previous kill interrupted (deliveries left `received`).
        let (mut child, addr) = serve(&mut docket(&data));
        let (stop, tally) = (Arc::new(AtomicBool::new(false)), Shared::default());
        let clients = flood(&addr, 8, &format!("kill{round}"), &stop, &tally, true);
        until("150 acknowledged messages", || tally.lock().unwrap().acked.len() >= 150).await;
        signal(&child, "-KILL");
        child.wait().unwrap();
        stop_all(&stop, clients).await;
        let t = std::mem::take(&mut *tally.lock().unwrap());
        assert!(t.refused.is_empty(), "refused under load: {:?}", &t.refused[..t.refused.len().min(5)]);
        assert_stored_once(&url, &t.acked, false).await;
        figures.push(format!(
            "round {round}: {} sent, {} acked, {} deferred, {} cut by the kill",
            t.sent,
            t.acked.len(),
            t.deferred.len(),
            t.broken
        ));
        acked.extend(t.acked);
    }
    let (child, _) = serve(&mut docket(&data));
    signal(&child, "-TERM");
    assert!(child.wait_with_output().unwrap().status.success());
    assert_stored_once(&url, &acked, true).await;
    let stored = count(&url, "SELECT COUNT(*) FROM messages").await;
    println!("faults: sigkill: {}; {} acked in all, {stored} stored, each acked one stored exactly once", figures.join("; "), acked.len());
}

// ---- database down and up --------------------------------------------------------------------

/// PostgreSQL stops (immediate: like a crash) under load and starts again: while it is down the
/// SMTP door answers 4xx (never 250 for mail it could not store, never 5xx), and once it is back
/// the same server process accepts and stores mail again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_down_and_up_loses_nothing_and_recovers_without_restart() {
    let dir = tempfile::tempdir().unwrap();
    let Some(pg) = Cluster::create(dir.path()) else { return };
    let (data, url) = (dir.path().join("data"), pg.url());
    let on_pg = |data: &Path| {
        let mut cmd = docket(data);
        cmd.env("DOCKET__DATABASE__URL", &url);
        cmd
    };
    ok(on_pg(&data).args(["space", "add", "eng"]));
    ok(on_pg(&data).args(["member", "add", "alice@example.org", "--space", "eng"]));
    let (child, addr) = serve(&mut on_pg(&data));
    let (stop, tally) = (Arc::new(AtomicBool::new(false)), Shared::default());
    let clients = flood(&addr, 4, "pg", &stop, &tally, false);
    let acked = || tally.lock().unwrap().acked.len();
    let deferred = || tally.lock().unwrap().deferred.len();

    until("100 acknowledged messages", || acked() >= 100).await;
    pg.stop();
    let at_down = acked();
    until("8 deferred messages while the database is down", || deferred() >= 8).await;
    pg.start();
    let (at_up, deferred_down) = (acked(), deferred());
    until("100 more acknowledged messages after the database is back", || acked() >= at_up + 100).await;
    stop_all(&stop, clients).await;
    signal(&child, "-TERM");
    assert!(child.wait_with_output().unwrap().status.success());

    let t = std::mem::take(&mut *tally.lock().unwrap());
    assert!(t.refused.is_empty(), "permanent refusals during the outage: {:?}", &t.refused[..t.refused.len().min(5)]);
    assert!(t.deferred.iter().all(|d| d.contains(": 4")), "{:?}", t.deferred);
    assert_stored_once(&url, &t.acked, true).await;
    // A deferred message was not taken: the client keeps it and sends it again.
    let inbound: HashSet<String> = strings(&url, "SELECT dedup_key FROM inbound").await.into_iter().collect();
    let deferred_ids: Vec<&str> = t.deferred.iter().filter_map(|d| d.split(": ").next()).collect();
    let taken = deferred_ids.iter().filter(|id| inbound.contains(&format!("mid:{id}"))).count();
    println!(
        "faults: database down/up: {} sent, {} acked ({at_down} before the stop, {} while down, {} after the restart of PostgreSQL), \
         {deferred_down} deferred while down ({} in all, {taken} of them stored anyway), {} connections broken; every acked stored exactly once",
        t.sent,
        t.acked.len(),
        at_up - at_down,
        t.acked.len() - at_up,
        t.deferred.len(),
        t.broken,
    );
}

// ---- relay faults (the scheduler's `tick --now`) ----------------------------------------------

/// `docket tick --now AT --json` (the scheduler run `serve` does every minute) on `data`.
async fn tick(data: &Path, env: &[(&str, &str)], at: DateTime<Utc>) -> serde_json::Value {
    let mut cmd = docket(data);
    cmd.args(["tick", "--now", &at.to_rfc3339(), "--json"]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    // Blocking: the relay sink runs on this test's runtime.
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap();
    assert!(out.status.success(), "tick failed: {}", text(&out));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("tick --json printed {}: {e}", text(&out)))
}

fn sent_retrying_failed(v: &serde_json::Value) -> (u64, u64, u64) {
    let n = |k: &str| v[k].as_u64().unwrap_or_else(|| panic!("no {k} in {v}"));
    (n("sent"), n("retrying"), n("failed"))
}

/// Space eng with alice and bob; alice posts, so a tick owes bob a fan-out copy and alice a
/// receipt. Returns the wall time of the post (the binary stamps arrivals with wall time).
fn team_with_a_post(data: &Path, env: &[(&str, &str)]) -> DateTime<Utc> {
    let cmd = |args: &[&str]| {
        let mut c = docket(data);
        c.args(args);
        for (k, v) in env {
            c.env(k, v);
        }
        c
    };
    ok(&mut cmd(&["space", "add", "eng"]));
    ok(&mut cmd(&["member", "add", "alice@example.org", "--space", "eng"]));
    ok(&mut cmd(&["member", "add", "bob@example.org", "--space", "eng"]));
    let now = wall();
    let mail =
        Mail::new("relay-1@example.org", "Launch").date(&now.to_rfc2822()).body("#action Write the plan @bob due 2030-01-02\n").raw();
    let mut ingest = cmd(&["ingest", "--space", "eng"]);
    let mut child = ingest.stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped()).spawn().unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), &mail).unwrap();
    assert!(child.wait().unwrap().success());
    now
}

/// A `digest.time` twelve hours from now, so that no digest falls into a scenario's first hours.
fn far_from_now() -> String {
    (wall() + Span::hours(12)).format("%H:%M").to_string()
}

#[allow(clippy::disallowed_methods)] // the binary stamps arrivals with wall time
fn wall() -> DateTime<Utc> {
    Utc::now()
}

fn states(v: &[String]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for s in v {
        *out.entry(s.clone()).or_default() += 1;
    }
    out
}

/// The relay is down at the first tick: the mail stays queued, the next ticks before the retry
/// time send nothing, and the first tick after the relay is back sends each mail once.
#[tokio::test]
async fn relay_down_then_up_sends_each_mail_exactly_once() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port(); // closed again: down
    let relay = format!("smtp://127.0.0.1:{port}");
    let digest_time = far_from_now();
    let env = [("DOCKET__OUTBOUND__SMTP_URL", relay.as_str()), ("DOCKET__DIGEST__TIME", digest_time.as_str())];
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let t = team_with_a_post(&data, &env) + Span::minutes(5);
    let url = sqlite_url(&data);

    assert_eq!(sent_retrying_failed(&tick(&data, &env, t).await), (0, 2, 0), "relay down: both mails deferred");
    assert_eq!(states(&strings(&url, "SELECT state FROM outbound").await), BTreeMap::from([("queued".into(), 2)]));
    let sink = Sink::start_on(port).await;
    assert_eq!(sent_retrying_failed(&tick(&data, &env, t + Span::seconds(30)).await), (0, 0, 0), "not due before the backoff");
    assert_eq!(sent_retrying_failed(&tick(&data, &env, t + Span::minutes(2)).await), (2, 0, 0));
    for later in [Span::minutes(3), Span::hours(1), Span::hours(6)] {
        assert_eq!(sent_retrying_failed(&tick(&data, &env, t + later).await), (0, 0, 0), "nothing is sent twice");
    }
    let mut to: Vec<String> = sink.messages().iter().flat_map(|m| m.rcpt_to.clone()).collect();
    to.sort();
    assert_eq!(to, ["alice@example.org", "bob@example.org"], "each queued mail reached the relay exactly once");
    assert_eq!(states(&strings(&url, "SELECT state FROM outbound").await), BTreeMap::from([("sent".into(), 2)]));
    println!("faults: relay down/up: 2 queued, 2 deferred while down, {} received by the relay after it came back, 0 twice", to.len());
}

/// 4xx replies are retried with backoff; a 5xx then fails the mail for good with the relay's reply,
/// which `docket check` shows (exit 1); a relay that accepts again later gets nothing.
#[tokio::test]
async fn relay_4xx_is_retried_and_5xx_fails_with_a_clear_error() {
    let sink = Sink::start().await;
    sink.refuse_with("451 4.7.1 greylisted, try again later");
    let relay = sink.url();
    let digest_time = far_from_now();
    let env = [("DOCKET__OUTBOUND__SMTP_URL", relay.as_str()), ("DOCKET__DIGEST__TIME", digest_time.as_str())];
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let t = team_with_a_post(&data, &env) + Span::minutes(5);

    assert_eq!(sent_retrying_failed(&tick(&data, &env, t).await), (0, 2, 0), "451: retry");
    assert_eq!(sent_retrying_failed(&tick(&data, &env, t + Span::minutes(2)).await), (0, 2, 0), "451 again: retry");
    sink.refuse_with("550 5.1.1 mailbox unavailable");
    assert_eq!(sent_retrying_failed(&tick(&data, &env, t + Span::minutes(10)).await), (0, 0, 2), "550: failed for good");
    sink.refuse_with("250 2.1.5 ok");
    let url = sqlite_url(&data);
    let given_up = "SELECT dedup_key || ' ' || state || ' ' || attempts FROM outbound WHERE kind IN ('fanout', 'receipt') ORDER BY 1";
    for later in [Span::hours(1), Span::days(3)] {
        tick(&data, &env, t + later).await; // later ticks may queue and send new mail (digests)
        assert_eq!(
            strings(&url, given_up).await,
            ["fanout:1:bob@example.org failed 3", "receipt:1 failed 3"],
            "a failed mail is never retried"
        );
    }
    let sent = count(&url, "SELECT COUNT(*) FROM outbound WHERE state = 'sent'").await;
    assert_eq!(sink.messages().len() as i64, sent, "the relay got exactly the mail marked sent: {:?}", sink.messages());
    let out = docket(&data).envs(env).arg("check").output().unwrap();
    let report = text(&out);
    assert_eq!(out.status.code(), Some(1), "{report}");
    for who in ["alice@example.org", "bob@example.org"] {
        let line = report
            .lines()
            .find(|l| l.contains(who) && l.contains("failed after"))
            .unwrap_or_else(|| panic!("no failure for {who}: {report}"));
        assert!(line.contains("after 3 attempt(s)") && line.contains("550"), "{line}");
    }
    println!(
        "faults: relay 4xx/5xx: 2 queued, 2x2 deferred (451), 2 failed on 550 after 3 attempts and never sent; {sent} later mail(s) sent once each; check exit 1 names both"
    );
}

// ---- clock jumps -----------------------------------------------------------------------------

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

/// Space eng: alice posts two tasks for bob, due on the two 2027 DST change days in Berlin; bob
/// (Europe/Berlin) gets a digest every day at 02:30, a time that does not exist on 2027-03-28 and
/// exists twice on 2027-10-31. Mail goes to the outbox (zero config).
fn dst_team(data: &Path) {
    ok(docket(data).args(["space", "add", "eng"]));
    ok(docket(data).args(["member", "add", "alice@example.org", "--space", "eng", "--tz", "Europe/Berlin"]));
    ok(docket(data).args([
        "member",
        "add",
        "bob@example.org",
        "--space",
        "eng",
        "--tz",
        "Europe/Berlin",
        "--digest-time",
        "02:30",
        "--digest-days",
        "mon-sun",
    ]));
    let body = "#action Freeze the branch @bob due 2027-03-28 17:00\n#action Cut the release @bob due 2027-10-31 17:00\n";
    let mail = Mail::new("dst-1@example.org", "Release").date(&wall().to_rfc2822()).body(body).raw();
    let mut child = docket(data)
        .args(["ingest", "--space", "eng"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), &mail).unwrap();
    assert!(child.wait().unwrap().success());
}

/// Runs the scheduler at each instant, in the order given.
async fn ticks(data: &Path, at: &[DateTime<Utc>]) {
    for t in at {
        tick(data, &[], *t).await;
    }
}

/// (dedup key, state) of every outbound mail.
async fn outbound(data: &Path) -> Vec<(String, String)> {
    let url = sqlite_url(data);
    let keys = strings(&url, "SELECT dedup_key FROM outbound ORDER BY dedup_key").await;
    let states = strings(&url, "SELECT state FROM outbound ORDER BY dedup_key").await;
    keys.into_iter().zip(states).collect()
}

/// The scheduler run on a clock that steps backwards (by minutes and by a day) around both DST
/// changes sends exactly what the same run on a steady clock sends: one digest per day (at 03:00
/// CEST on the spring day, at the first 02:30 on the autumn day), each reminder stage once.
#[tokio::test]
async fn clock_jumps_and_dst_neither_repeat_nor_lose_mail() {
    let steady: Vec<DateTime<Utc>> = vec![
        utc(2027, 3, 26, 12, 0),
        utc(2027, 3, 27, 1, 30), // 02:30 CET
        utc(2027, 3, 27, 15, 0), // a day before the first task is due
        utc(2027, 3, 28, 0, 59),
        utc(2027, 3, 28, 1, 0), // 03:00 CEST: the first valid time after 02:30
        utc(2027, 3, 28, 1, 30),
        utc(2027, 3, 28, 15, 0), // due
        utc(2027, 3, 29, 0, 30), // 02:30 CEST
        utc(2027, 3, 29, 15, 0), // overdue 1
        utc(2027, 3, 30, 15, 0), // overdue 2
        utc(2027, 10, 30, 15, 0),
        utc(2027, 10, 31, 0, 30), // the first 02:30 (CEST)
        utc(2027, 10, 31, 1, 30), // the second 02:30 (CET): not another digest
        utc(2027, 10, 31, 16, 0), // due
        utc(2027, 11, 1, 1, 30),
    ];
    // The same instants, with the clock stepping back after some of them.
    let jumpy: Vec<DateTime<Utc>> = vec![
        utc(2027, 3, 26, 12, 0),
        utc(2027, 3, 27, 1, 30),
        utc(2027, 3, 27, 15, 0),
        utc(2027, 3, 26, 15, 0), // a day back
        utc(2027, 3, 28, 0, 59),
        utc(2027, 3, 28, 1, 0),
        utc(2027, 3, 28, 0, 45), // back across the digest time
        utc(2027, 3, 28, 1, 30),
        utc(2027, 3, 28, 1, 0),
        utc(2027, 3, 28, 15, 0),
        utc(2027, 3, 28, 14, 0), // back across the due time
        utc(2027, 3, 29, 0, 30),
        utc(2027, 3, 29, 15, 0),
        utc(2027, 3, 28, 15, 0),
        utc(2027, 3, 30, 15, 0),
        utc(2027, 10, 30, 15, 0),
        utc(2027, 10, 31, 0, 30),
        utc(2027, 10, 31, 1, 30),
        utc(2027, 10, 31, 0, 40), // back into the repeated hour
        utc(2027, 10, 31, 1, 30),
        utc(2027, 10, 31, 16, 0),
        utc(2027, 10, 31, 15, 0),
        utc(2027, 11, 1, 1, 30),
    ];
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (steady_dir, jumpy_dir) = (a.path().join("data"), b.path().join("data"));
    dst_team(&steady_dir);
    dst_team(&jumpy_dir);
    ticks(&steady_dir, &steady).await;
    ticks(&jumpy_dir, &jumpy).await;

    let want = outbound(&steady_dir).await;
    let got = outbound(&jumpy_dir).await;
    // Task and member ids are the same in both databases (same setup), so the keys compare.
    assert_eq!(got, want, "a jumping clock changed what was sent");
    assert!(want.iter().all(|(_, state)| state == "sent"), "{want:?}");
    for dir in [&steady_dir, &jumpy_dir] {
        assert_eq!(std::fs::read_dir(dir.join("outbox/new")).unwrap().count(), want.len(), "one outbox file per mail");
    }

    let keys: Vec<&str> = want.iter().map(|(k, _)| k.as_str()).collect();
    let digests_of =
        |slot: DateTime<Utc>| keys.iter().filter(|k| k.starts_with("digest:") && k.ends_with(&format!(":{}", slot.timestamp()))).count();
    assert_eq!(digests_of(utc(2027, 3, 28, 1, 0)), 1, "spring: the digest at 02:30 (not a local time) comes at 03:00 CEST: {keys:?}");
    assert_eq!(digests_of(utc(2027, 10, 31, 0, 30)), 1, "autumn: the digest at the first 02:30: {keys:?}");
    assert_eq!(digests_of(utc(2027, 10, 31, 1, 30)), 0, "autumn: no second digest at the repeated 02:30: {keys:?}");
    let first_due = utc(2027, 3, 28, 15, 0).timestamp();
    for stage in ["before", "due", "overdue1", "overdue2"] {
        let n = keys.iter().filter(|k| k.contains(&format!(":{first_due}:{stage}:bob@example.org"))).count();
        assert_eq!(n, 1, "reminder {stage} for the spring task: {keys:?}");
    }
    let digests = keys.iter().filter(|k| k.starts_with("digest:")).count();
    let reminders = keys.iter().filter(|k| k.starts_with("reminder:")).count();
    println!(
        "faults: clock jumps: {} steady ticks and {} jumping ticks ({} steps back) each sent {} mails ({digests} digests, {reminders} reminders), the same keys, none twice",
        steady.len(),
        jumpy.len(),
        jumpy.windows(2).filter(|w| w[1] < w[0]).count(),
        want.len()
    );
}

//! The memory budget as a user sees it: a real `docket serve` process under concurrent large DATA,
//! its peak RSS (VmHWM) read from /proc, and every message stored exactly once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;
use support::process::{self, docket};

const MIB: u64 = 1024 * 1024;

/// A field of /proc/PID/status (VmRSS, VmHWM) in KiB.
fn proc_kib(pid: u32, key: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status.lines().find_map(|l| l.strip_prefix(key)?.strip_prefix(':')?.split_whitespace().next()?.parse().ok()).unwrap()
}

/// A message from alice of about `size` bytes of plain text, all of it new (the visible text is
/// as large as the message).
fn message(k: usize, size: usize) -> Vec<u8> {
    let mut m =
        format!("From: Alice <alice@example.org>\r\nTo: eng@docket.test\r\nSubject: big {k}\r\nMessage-ID: <big.{k}@example.org>\r\n\r\n")
            .into_bytes();
    let mut i = 0;
    while m.len() < size {
        m.extend_from_slice(
            format!("line {i:08} of message {k:02}: we agreed to ship on Friday after the review of the draft\r\n").as_bytes(),
        );
        i += 1;
    }
    m
}

/// Sends until the server takes it: 452 4.3.1 (budget used) means try again, as an MTA would.
async fn deliver(addr: String, raw: Vec<u8>) -> usize {
    for attempt in 1..=5000 {
        let reply = process::send(&addr, &raw).await.unwrap();
        if reply.starts_with("250") {
            return attempt;
        }
        assert!(reply.starts_with("452 4.3.1"), "{reply}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("never accepted");
}

/// Issue 11: with a 6 MiB size limit and a 64 MiB budget, eight clients sending 5 MiB messages
/// at once keep the server's peak RSS under its idle RSS plus the budget, fan-out to a second
/// member included; each message gets 250 (after 452s, retried), is stored once and copied once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_11_rss_stays_under_the_budget_with_concurrent_large_data() {
    const CLIENTS: usize = 8;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    process::setup(data);
    // A second member, so every message is also fanned out: the planner's copy and its queue row
    // count against the readers' room too.
    process::ok(docket(data).args(["member", "add", "bob@example.org", "--space", "eng"]));
    let budget = 64 * MIB;
    let (mut child, addr) = process::serve(
        docket(data)
            .env("DOCKET__SMTP__MEMORY_BUDGET", budget.to_string())
            .env("DOCKET__SMTP__MAX_MESSAGE_BYTES", (6 * MIB).to_string())
            .env("DOCKET__SMTP__MAX_CONNECTIONS", "100"),
    );
    let pid = child.id();
    let url = process::sqlite_url(data);

    // Warm up with one message of the size sent below (pools, statements, SQLite's page caches,
    // the index writer), then take the idle baseline.
    let size = (5 * MIB) as usize;
    assert!(process::send(&addr, &message(99, size)).await.unwrap().starts_with("250"));
    while process::count(&url, "SELECT COUNT(*) FROM messages").await < 1 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let fanned = "SELECT COUNT(*) FROM outbound WHERE kind = 'fanout' AND recipient = 'bob@example.org' AND state = 'sent'";
    while process::count(&url, fanned).await < 1 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await; // an indexer round
    let idle = proc_kib(pid, "VmRSS") * 1024;

    let sends: Vec<_> = (0..CLIENTS).map(|k| tokio::spawn(deliver(addr.clone(), message(k, size)))).collect();
    let mut attempts = Vec::new();
    for send in sends {
        attempts.push(send.await.unwrap());
    }
    while process::count(&url, "SELECT COUNT(*) FROM messages").await < 1 + CLIENTS as i64 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await; // the indexer reads them too
    while process::count(&url, fanned).await < 1 + CLIENTS as i64 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let peak = proc_kib(pid, "VmHWM") * 1024;
    process::signal(&child, "-TERM");
    assert!(child.wait().unwrap().success());

    eprintln!("idle RSS {} KiB, peak RSS {} KiB, attempts per client {attempts:?}", idle / 1024, peak / 1024);
    assert!(
        peak <= idle + budget,
        "peak RSS {:.1} MiB over idle {:.1} MiB + budget {} MiB (attempts per client: {attempts:?})",
        peak as f64 / MIB as f64,
        idle as f64 / MIB as f64,
        budget / MIB
    );
    for k in 0..CLIENTS {
        let sql = format!("SELECT COUNT(*) FROM inbound WHERE dedup_key = 'mid:big.{k}@example.org' AND state = 'stored'");
        assert_eq!(process::count(&url, &sql).await, 1, "message {k}");
    }
    assert_eq!(process::count(&url, "SELECT COUNT(*) FROM inbound").await, 1 + CLIENTS as i64, "nothing stored twice");
    assert_eq!(process::count(&url, "SELECT COUNT(*) FROM messages").await, 1 + CLIENTS as i64);
}

/// `lines` numbered lines of new text (none a quote, a signature or a question), then `last`.
fn long_text(lines: usize, last: &str) -> String {
    let mut text: String = (0..lines).map(|i| format!("note {i:07} about the hosting plan for next quarter\n")).collect();
    text.push_str(last);
    text.push('\n');
    text
}

/// Stores a message in space `eng` (made on first use).
async fn stored(t: &support::TestApp, id: &str, body: &str) -> i64 {
    if t.app.store.space("eng").await.unwrap().is_none() {
        t.space("eng").await;
    }
    match t.ingest(&support::Mail::new(id, "Hosting").body(body).raw(), "eng").await {
        docket::ingest::Outcome::Stored(m) => m.id,
        other => panic!("[{}] not stored: {other:?}", t.backend),
    }
}

/// Issue 11: the search indexer reads the first 256 Ki characters of a message's visible text,
/// however long the text (a whole 40 MiB text took four times its size to index).
#[tokio::test]
async fn issue_11_the_indexer_reads_the_start_of_a_huge_text() {
    for t in support::backends().await {
        let text = long_text(6000, "zebrafinal");
        assert!(text.len() > 300_000);
        let id = stored(&t, "huge@x", &text).await;
        let rows = t.app.store.search_rows(docket::store::search::Feed::Messages, &[id]).await.unwrap();
        assert_eq!(rows[0].body.chars().count(), 262_144, "[{}]", t.backend);
        assert!(text.starts_with(&rows[0].body), "[{}]", t.backend);
    }
}

/// Issue 11: the fan-out planner reads pages of at most 16 MiB of raw mail and text (one message
/// when a message is larger), not 16 messages however large.
#[tokio::test]
async fn issue_11_planning_reads_large_messages_a_few_at_a_time() {
    for t in support::backends().await {
        let text = long_text(60_000, "the end"); // ~3.4 MB raw, as much visible text
        for k in 0..3 {
            stored(&t, &format!("big{k}@x"), &text).await;
        }
        for k in 0..3 {
            stored(&t, &format!("small{k}@x"), "a short note\n").await;
        }
        let page = t.app.store.messages_unplanned(0, 16).await.unwrap();
        assert_eq!(page.len(), 2, "[{}] two messages of ~7 MB fit in 16 MiB, a third does not", t.backend);
        let rest = t.app.store.messages_unplanned(page[1].id, 16).await.unwrap();
        assert_eq!(rest.len(), 4, "[{}] the last large one and the small ones", t.backend);
    }
}

/// Issue 11: the loop check (every tick, every message of every active thread) reads the last
/// 64 Ki characters of a long visible text: enough for its last question.
#[tokio::test]
async fn issue_11_the_loop_check_reads_the_end_of_a_long_text() {
    for t in support::backends().await {
        let text = long_text(3000, "so which host do we take?");
        stored(&t, "long@x", &text).await;
        let messages = t.app.store.messages_of_active_threads(0).await.unwrap();
        let seen = &messages[0].visible_text;
        assert_eq!(seen.chars().count(), 65_536, "[{}]", t.backend);
        assert!(seen.trim_end().ends_with("so which host do we take?"), "[{}] {:?}", t.backend, &seen[seen.len() - 40..]);
    }
}

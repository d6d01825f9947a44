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
/// at once keep the server's peak RSS under its idle RSS plus the budget; each message gets 250
/// (after 452s, retried) and is stored once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_11_rss_stays_under_the_budget_with_concurrent_large_data() {
    const CLIENTS: usize = 8;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    process::setup(data);
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

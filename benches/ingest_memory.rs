//! Memory of each stage of storing one large message, in process: `cargo bench --bench
//! ingest_memory` (INGEST_MEMORY_MIB, default 40; INGEST_MEMORY_HTML=1 for a text + HTML message)
//! prints, per stage, the RSS before it and its peak above that (VmHWM, reset through
//! /proc/self/clear_refs before each stage), in MiB and in multiples of the message size. These
//! are the figures behind `ingest::budget::COST_FACTOR`.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use docket::app::App;
use docket::config::Config;
use docket::ingest::{self, Source};
use docket::space::MemberSettings;
use docket::store::messages::{NewInbound, RawInsert};

fn kib(key: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status.lines().find_map(|l| l.strip_prefix(key)?.strip_prefix(':')?.split_whitespace().next()?.parse().ok()).unwrap()
}

fn reset() -> u64 {
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
    kib("VmRSS")
}

fn report(stage: &str, before: u64, size: usize) {
    let hwm = kib("VmHWM");
    let rss = kib("VmRSS");
    let mib = size as f64 / 1048576.0;
    println!(
        "{stage:<28} rss before {:7.1} MiB, peak +{:7.1} MiB ({:.2}x), after {:7.1} MiB",
        before as f64 / 1024.0,
        (hwm - before) as f64 / 1024.0,
        (hwm - before) as f64 / 1024.0 / mib,
        rss as f64 / 1024.0
    );
}

fn message(mib: usize, html: bool) -> Vec<u8> {
    let mut m = b"From: Alice <alice@example.org>\r\nTo: eng@docket.test\r\nSubject: big\r\nMessage-ID: <big@example.org>\r\n".to_vec();
    if html {
        m.extend_from_slice(
            b"MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n",
        );
    } else {
        m.extend_from_slice(b"\r\n");
    }
    let line = b"decision agreed ship Friday review the draft budget owner next week please t\r\n";
    let n = mib * 1024 * 1024 / line.len();
    let part = if html { n / 2 } else { n };
    for _ in 0..part {
        m.extend_from_slice(line);
    }
    if html {
        m.extend_from_slice(b"--b\r\nContent-Type: text/html\r\n\r\n");
        for _ in 0..part {
            m.extend_from_slice(b"<p>decision agreed ship Friday review the draft budget owner next week p</p>\r\n");
        }
        m.extend_from_slice(b"--b--\r\n");
    }
    m
}

fn main() {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap().block_on(stages());
}

async fn stages() {
    let html = std::env::var("INGEST_MEMORY_HTML").is_ok_and(|v| v == "1");
    let mib: usize = std::env::var("INGEST_MEMORY_MIB").ok().and_then(|v| v.parse().ok()).unwrap_or(40);
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::defaults_in(dir.path()).unwrap();
    config.server.domain = "docket.test".into();
    let app = App::open(config).await.unwrap();
    let space = app.store.add_space("eng", "Engineering", 0).await.unwrap();
    app.store.add_member(&space, "alice@example.org", "alice", &MemberSettings::default(), 0).await.unwrap();

    let raw = message(mib, html);
    let size = raw.len();
    println!("message {:.1} MiB html={html}", size as f64 / 1048576.0);

    let b = reset();
    let parsed = docket::parse::mime::parse(&raw);
    report("mime::parse", b, size);
    drop(parsed);

    let b = reset();
    let prepared = ingest::prepare(&raw);
    report("prepare (parse+visible)", b, size);

    let b = reset();
    let (raw, prepared2) = ingest::prepare_off_runtime(raw).await;
    report("prepare_off_runtime", b, size);
    drop(prepared2);

    let b = reset();
    let mut tx = app.store.begin().await.unwrap();
    let insert = tx
        .insert_inbound(&NewInbound {
            space_id: space.id,
            dedup_key: &prepared.dedup_key,
            content_hash: &prepared.content_hash,
            raw: &raw,
            source: Source::Smtp.as_str(),
            mail_from: Some("alice@example.org"),
            rcpt_to: "[\"eng@docket.test\"]",
            received_at: 0,
        })
        .await
        .unwrap();
    report("insert_inbound", b, size);
    let b = reset();
    tx.commit().await.unwrap();
    report("commit inbound", b, size);
    let RawInsert::Inserted(id) = insert else { panic!("the message was stored before") };
    drop(raw);

    let b = reset();
    let stored = ingest::process_logged(&app, &space, id, &prepared, &["eng@docket.test".to_string()], 0).await.unwrap();
    report("process_logged", b, size);
    assert!(stored.is_some());
    drop(prepared);

    let b = reset();
    let caught = app.index.catch_up(&app.store, 0).await.unwrap();
    report("index catch_up", b, size);
    assert_eq!(caught.documents, 1);
    println!("idle after: {:.1} MiB", kib("VmRSS") as f64 / 1024.0);
}

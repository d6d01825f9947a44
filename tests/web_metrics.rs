//! `/metrics` under `docket serve`: after mail was received over SMTP and by pipe and searched, a
//! scrape parses line by line against the text exposition format and the counters moved.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use docket::app::App;
use docket::index::SearchOptions;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use support::http;
use support::{Mail, backends};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Every sample line as (metric name with labels, value), checking the grammar on the way: each
/// sample's family has HELP and TYPE before it; histogram buckets are cumulative and end in +Inf
/// equal to `_count`.
fn parse(text: &str) -> HashMap<String, f64> {
    let (mut help, mut kind) = (HashSet::new(), HashMap::new());
    let mut samples = HashMap::new();
    let mut last_bucket: Option<(String, f64)> = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            help.insert(rest.split(' ').next().unwrap().to_string());
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, t) = rest.split_once(' ').unwrap();
            assert!(["counter", "gauge", "histogram"].contains(&t), "{line}");
            assert!(help.contains(name), "TYPE before HELP: {line}");
            kind.insert(name.to_string(), t.to_string());
            continue;
        }
        assert!(!line.starts_with('#') && !line.is_empty(), "stray line {line:?}");
        let (key, value) = line.rsplit_once(' ').unwrap();
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("bad value in {line}"));
        let name = key.split('{').next().unwrap();
        assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'), "{line}");
        if let Some(labels) = key.strip_prefix(name)
            && !labels.is_empty()
        {
            assert!(labels.starts_with('{') && labels.ends_with('}'), "{line}");
            for pair in labels[1..labels.len() - 1].split(',') {
                let (k, v) = pair.split_once('=').unwrap();
                assert!(k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && v.starts_with('"') && v.ends_with('"'), "{line}");
            }
        }
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| name.strip_suffix(s))
            .filter(|f| kind.get(*f).map(String::as_str) == Some("histogram"));
        let family = family.unwrap_or(name);
        assert!(kind.contains_key(family) && help.contains(family), "no HELP/TYPE for {line}");
        if name.ends_with("_bucket") {
            if let Some((f, prev)) = &last_bucket
                && f == family
            {
                assert!(value >= *prev, "buckets not cumulative: {line}");
            }
            last_bucket = Some((family.to_string(), value));
        }
        if name.ends_with("_count") && kind.get(family).map(String::as_str) == Some("histogram") {
            assert_eq!(samples.get(&format!("{family}_bucket{{le=\"+Inf\"}}")), Some(&value), "+Inf bucket equals the count: {line}");
        }
        samples.insert(key.to_string(), value);
    }
    samples
}

#[tokio::test]
async fn a_scrape_parses_and_its_counters_move() {
    for t in backends().await {
        let mut c = (*t.app.config).clone();
        c.smtp.listen = "127.0.0.1:0".parse().unwrap();
        c.http.listen = "127.0.0.1:0".parse().unwrap();
        let app = App { config: Arc::new(c), ..t.app.clone() };
        app.store.add_space("eng", "Engineering", 0).await.unwrap();
        let running = docket::serve::start(app.clone()).await.unwrap();
        let before = parse(&http::get(&running.http, "/metrics", &[]).await.body);
        // One SMTP session, one piped message with a decision, one search.
        let mut smtp = tokio::net::TcpStream::connect(&running.smtp).await.unwrap();
        let mut buf = [0u8; 512];
        let n = smtp.read(&mut buf).await.unwrap();
        assert!(buf[..n].starts_with(b"220"), "{:?}", String::from_utf8_lossy(&buf[..n]));
        smtp.write_all(b"QUIT\r\n").await.unwrap();
        let _ = smtp.read(&mut buf).await.unwrap();
        t.ingest(&Mail::new("m1@x", "Budget").body("#decision Spend less on budget lines.\n").raw(), "eng").await;
        app.index.catch_up(&app.store, app.now().timestamp()).await.unwrap();
        app.index.search(&app.store, "budget", &SearchOptions::default()).await.unwrap();
        let r = http::get(&running.http, "/metrics", &[]).await;
        assert_eq!(r.status, 200, "[{}] {}", t.backend, r.body);
        assert!(r.header("content-type").unwrap().starts_with("text/plain; version=0.0.4"), "{r:?}");
        let after = parse(&r.body);
        let moved = |key: &str| after.get(key).copied().unwrap_or(0.0) - before.get(key).copied().unwrap_or(0.0);
        assert_eq!(after.get("docket_database_up"), Some(&1.0), "{}", r.body);
        assert_eq!(moved("docket_mail_received_total{source=\"pipe\"}"), 1.0, "[{}] {}", t.backend, r.body);
        assert_eq!(moved("docket_mail_stored_total"), 1.0, "{}", r.body);
        assert!(moved("docket_smtp_sessions_total{door=\"smtp\"}") >= 1.0, "{}", r.body);
        assert!(moved("docket_ingest_duration_seconds_count") >= 1.0, "{}", r.body);
        assert!(moved("docket_search_duration_seconds_count") >= 1.0, "{}", r.body);
        for family in
            ["docket_intake_backlog", "docket_outbound_waiting", "docket_outbound_queued_total", "docket_smtp_sessions_open{door=\"smtp\"}"]
        {
            assert!(after.contains_key(family), "{family} missing in {}", r.body);
        }
        running.stop().await;
    }
}

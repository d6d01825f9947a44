//! Outbound claims on every backend: a claim names its node and a lease, only the owner of a claim
//! records its result, a restarted node takes its own claims back at once, another node takes an
//! expired one over; a retry sends the same bytes (same Message-ID), one mail per SMTP connection.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use docket::notify::mailer::{Envelope, Mailer, SendError, SendFuture};
use docket::notify::outbound::{self, LEASE};
use docket::store::outbound::NewOutbound;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use support::sink::Sink;
use support::{TestApp, backends, t0};

fn mail(n: usize) -> NewOutbound {
    let raw = format!("Message-ID: <copy-{n}@docket.test>\r\nSubject: copy {n}\r\n\r\nHello.\r\n");
    NewOutbound {
        dedup_key: format!("test:{n}"),
        kind: "test".into(),
        space_id: None,
        recipient: format!("r{n}@example.org"),
        mail_from: "eng@docket.test".into(),
        raw: raw.into_bytes(),
    }
}

async fn queue(t: &TestApp, n: usize) {
    let all: Vec<NewOutbound> = (0..n).map(mail).collect();
    assert_eq!(outbound::queue(&t.app, &all, t0().timestamp()).await.unwrap(), n);
}

async fn row(t: &TestApp, id: i64) -> (String, Option<String>) {
    sqlx::query_as("SELECT state, claimed_by FROM outbound WHERE id = $1").bind(id).fetch_one(t.app.store.pool()).await.unwrap()
}

#[tokio::test]
async fn only_the_owner_of_a_live_claim_records_a_result() {
    for t in backends().await {
        let b = t.backend;
        queue(&t, 1).await;
        let now = t0().timestamp();
        let store = &t.app.store;
        let first = store.claim_outbound("a", now, now + 10, 10).await.unwrap();
        assert_eq!(first.len(), 1, "[{b}]");
        let id = first[0].id;
        assert_eq!(row(&t, id).await, ("sending".into(), Some("a".into())), "[{b}]");
        // Node b sees a's claim as live and leaves it; a non-owner's results are no-ops.
        assert!(store.claim_outbound("b", now + 5, now + 15, 10).await.unwrap().is_empty(), "[{b}]");
        assert!(!store.outbound_sent("b", id, now).await.unwrap(), "[{b}]");
        assert!(!store.outbound_failed("b", id, "x").await.unwrap(), "[{b}]");
        // a's lease ran out and b took the mail over: a's late results change nothing.
        let taken = store.claim_outbound("b", now + 11, now + 100, 10).await.unwrap();
        assert_eq!(taken.iter().map(|m| m.id).collect::<Vec<_>>(), vec![id], "[{b}]");
        assert!(!store.outbound_sent("a", id, now + 12).await.unwrap(), "[{b}]");
        assert!(!store.outbound_retry("a", id, now + 60, "deferred").await.unwrap(), "[{b}]");
        assert!(!store.outbound_failed("a", id, "refused").await.unwrap(), "[{b}]");
        assert_eq!(row(&t, id).await, ("sending".into(), Some("b".into())), "[{b}]");
        assert!(store.outbound_sent("b", id, now + 13).await.unwrap(), "[{b}]");
        assert_eq!(row(&t, id).await.0, "sent", "[{b}]");
        // A result for a row nobody is sending (already sent) is a no-op too.
        assert!(!store.outbound_retry("b", id, now + 60, "late").await.unwrap(), "[{b}]");
        assert_eq!(row(&t, id).await.0, "sent", "[{b}]");
    }
}

#[tokio::test]
async fn a_restarted_node_takes_its_own_claims_back_at_once() {
    for t in backends().await {
        let b = t.backend;
        queue(&t, 3).await;
        let now = t0().timestamp();
        let store = &t.app.store;
        let mine = store.claim_outbound("a", now, now + LEASE, 2).await.unwrap();
        let theirs = store.claim_outbound("b", now, now + LEASE, 2).await.unwrap();
        assert_eq!((mine.len(), theirs.len()), (2, 1), "[{b}]");
        // "a" is killed and starts again well inside its lease: its two rows are queued again at
        // once, b's live claim is left alone.
        assert_eq!(store.reclaim_own_outbound("a").await.unwrap(), 2, "[{b}]");
        for m in &mine {
            assert_eq!(row(&t, m.id).await, ("queued".into(), None), "[{b}]");
        }
        assert_eq!(row(&t, theirs[0].id).await, ("sending".into(), Some("b".into())), "[{b}]");
        let again = store.claim_outbound("a", now + 1, now + 1 + LEASE, 10).await.unwrap();
        assert_eq!(again.iter().map(|m| m.id).collect::<Vec<_>>(), mine.iter().map(|m| m.id).collect::<Vec<_>>(), "[{b}]");
        assert_eq!(store.reclaim_own_outbound("c").await.unwrap(), 0, "[{b}]");
    }
}

#[tokio::test]
async fn another_node_takes_over_a_claim_whose_lease_ran_out() {
    for t in backends().await {
        let b = t.backend;
        queue(&t, 2).await;
        let now = t0().timestamp();
        let store = &t.app.store;
        let dead = store.claim_outbound("a", now, now + LEASE, 10).await.unwrap();
        assert_eq!(dead.len(), 2, "[{b}]");
        assert!(store.claim_outbound("b", now + LEASE - 1, now + 2 * LEASE, 10).await.unwrap().is_empty(), "[{b}]");
        let taken = store.claim_outbound("b", now + LEASE + 1, now + 2 * LEASE, 10).await.unwrap();
        assert_eq!(taken.len(), 2, "[{b}]");
        for m in &taken {
            assert_eq!(row(&t, m.id).await, ("sending".into(), Some("b".into())), "[{b}]");
        }
    }
}

/// A relay that accepts every mail but whose first answer is lost (the connection drops after
/// the data went through): the one window where a copy can arrive twice.
#[derive(Debug, Default)]
struct LostFirstAnswer {
    seen: Mutex<Vec<Vec<u8>>>,
}

impl Mailer for LostFirstAnswer {
    fn send<'a>(&'a self, _envelope: &'a Envelope, raw: &'a [u8]) -> SendFuture<'a> {
        Box::pin(async move {
            let mut seen = self.seen.lock().unwrap();
            seen.push(raw.to_vec());
            if seen.len() == 1 { Err(SendError::Temporary("connection lost after DATA".into())) } else { Ok(()) }
        })
    }

    fn describe(&self) -> String {
        "lost first answer".into()
    }
}

fn message_id(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    text.lines().find_map(|l| l.strip_prefix("Message-ID: ")).unwrap().to_string()
}

#[tokio::test]
async fn a_retry_sends_the_same_bytes_with_the_same_message_id() {
    for t in backends().await {
        let b = t.backend;
        let relay = Arc::new(LostFirstAnswer::default());
        let app = t.app.clone().with_mailer(relay.clone());
        queue(&t, 1).await;
        assert_eq!(outbound::deliver(&app, t0()).await.unwrap().retrying, 1, "[{b}]");
        let later = t0() + chrono::Duration::seconds(outbound::backoff(1));
        assert_eq!(outbound::deliver(&app, later).await.unwrap().sent, 1, "[{b}]");
        let seen = relay.seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 2, "[{b}]");
        assert_eq!(seen[0], seen[1], "[{b}]");
        assert_eq!(message_id(&seen[0]), "<copy-0@docket.test>", "[{b}]");
    }
}

#[tokio::test]
async fn each_mail_goes_over_its_own_smtp_connection() {
    let mut t = support::sqlite().await;
    let sink = Sink::start().await;
    let env = HashMap::from([
        ("DOCKET__SERVER__DATA_DIR".to_string(), t.dir.path().display().to_string()),
        ("DOCKET__DATABASE__URL".to_string(), t.app.config.database.url.clone()),
        ("DOCKET__OUTBOUND__SMTP_URL".to_string(), sink.url()),
        ("DOCKET__NOTIFY__NUDGES".to_string(), "false".to_string()),
    ]);
    let config = docket::config::Config::load_with_env(None, env).unwrap();
    let mailer = docket::notify::mailer::from_config(&config).unwrap();
    t.app = docket::app::App { config: Arc::new(config), ..t.app.clone() }.with_mailer(mailer);
    queue(&t, 3).await;
    assert_eq!(outbound::deliver(&t.app, t0()).await.unwrap().sent, 3);
    assert_eq!(sink.messages().len(), 3);
    // A pooled connection would carry all three: then a lost `sent` mark could repeat several.
    assert_eq!(sink.connections.load(std::sync::atomic::Ordering::SeqCst), 3);
}

#[test]
fn the_node_id_is_configured_and_checked() {
    let load =
        |v: &str| docket::config::Config::load_with_env(None, HashMap::from([("DOCKET__SERVER__NODE_ID".to_string(), v.to_string())]));
    assert_eq!(load("mx-1").unwrap().server.node_id, "mx-1");
    for bad in ["two words", "tab\there"] {
        let err = load(bad).unwrap_err().to_string();
        assert!(err.contains("server.node_id"), "{bad:?}: {err}");
    }
    let default = docket::config::Config::load_with_env(None, HashMap::new()).unwrap().server.node_id;
    assert!(!default.is_empty() && !default.contains(char::is_whitespace), "{default:?}");
}

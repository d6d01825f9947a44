//! The statements one scheduler run sends to the database do not grow with the members owed a
//! digest or the tasks owed a reminder: their reads are batched and their queue rows go in
//! multi-row inserts (`cargo bench --bench digest` regressed threefold on one or two statements
//! per member and per mail). Counted from sqlx's statement log (`sqlx::query` events), on SQLite.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{TimeZone, Utc};
use docket::app::App;
use docket::config::Config;
use std::sync::atomic::{AtomicUsize, Ordering};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

static STATEMENTS: AtomicUsize = AtomicUsize::new(0);

/// Counts every statement sqlx logs, on whatever thread runs it.
struct Count;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Count {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: tracing_subscriber::layer::Context<'_, S>) {
        if event.metadata().target() == "sqlx::query" {
            STATEMENTS.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// A data dir with `members` members in two spaces, each with one overdue task (owed a
/// reminder) and one due next week, at a time when every member's digest is due.
async fn app_with(dir: &std::path::Path, members: usize, now: i64) -> App {
    let env = std::collections::HashMap::from([
        ("DOCKET__SERVER__DATA_DIR".to_string(), dir.display().to_string()),
        // One mail handed over per run: the run's delivery costs the same for both sizes.
        ("DOCKET__OUTBOUND__MAX_PER_MINUTE".to_string(), "1".to_string()),
    ]);
    let app = App::open(Config::load_with_env(None, env).unwrap()).await.unwrap();
    let pool = app.store.pool();
    let joined = now - 30 * 86_400;
    for s in 0..2 {
        sqlx::query("INSERT INTO spaces (slug, name, created_at) VALUES ($1, $1, $2)")
            .bind(format!("space{s}"))
            .bind(joined)
            .execute(pool)
            .await
            .unwrap();
        sqlx::query("INSERT INTO threads (space_id, subject, base_subject, started_at, last_activity_at) VALUES ($1, 'T', 'T', $2, $2)")
            .bind(s + 1)
            .bind(joined)
            .execute(pool)
            .await
            .unwrap();
    }
    for m in 0..members {
        let space = (m % 2) as i64 + 1;
        let email = format!("member{m}@example.org");
        sqlx::query(
            "INSERT INTO members (space_id, email, handle, tz, delivery, role, created_at) VALUES ($1, $2, $3, NULL, 'each', 'member', $4)",
        )
        .bind(space)
        .bind(&email)
        .bind(format!("member{m}"))
        .bind(joined)
        .execute(pool)
        .await
        .unwrap();
        for due in [now - 7200, now + 7 * 86_400] {
            sqlx::query(
                "INSERT INTO tasks (space_id, thread_id, title, owner, watchers, due, status, created_by, created_at) \
                 VALUES ($1, $1, 'A task', $2, '[]', $3, 'open', 'a@x', $4)",
            )
            .bind(space)
            .bind(&email)
            .bind(due)
            .bind(joined)
            .execute(pool)
            .await
            .unwrap();
        }
    }
    app
}

/// Statements of one run over `members` members, and what it queued.
async fn run(members: usize) -> (usize, Vec<(&'static str, usize)>) {
    let dir = tempfile::tempdir().unwrap();
    // Monday 08:00 UTC: every member's digest time (default 08:00, UTC, mon-fri).
    let now = Utc.with_ymd_and_hms(2026, 11, 30, 8, 0, 0).unwrap();
    let app = app_with(dir.path(), members, now.timestamp()).await;
    let before = STATEMENTS.load(Ordering::SeqCst);
    let report = docket::tick::tick(&app, now).await.unwrap();
    (STATEMENTS.load(Ordering::SeqCst) - before, report.outbound.queued)
}

#[tokio::test]
async fn a_run_for_more_members_sends_hardly_more_statements() {
    tracing_subscriber::registry().with(Count).init();
    let (small, queued_small) = run(100).await;
    let (large, queued_large) = run(200).await;
    let queued = |q: &[(&str, usize)], kind: &str| q.iter().find(|(k, _)| *k == kind).map_or(0, |(_, n)| *n);
    assert_eq!((queued(&queued_small, "digest"), queued(&queued_small, "reminder")), (100, 100), "{queued_small:?}");
    assert_eq!((queued(&queued_large, "digest"), queued(&queued_large, "reminder")), (200, 200), "{queued_large:?}");
    assert!(small > 0, "no statement was counted: the count does not see sqlx's log");
    // 100 more digests and 100 more reminders: a statement or two per queue chunk, not per mail.
    assert!(large - small < 20, "{small} statements for 100 members, {large} for 200");
}

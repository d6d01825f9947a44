//! Digest benchmark: `cargo bench --bench digest` builds a SQLite data dir with 10,000 members in 20
//! spaces, 50,000 open tasks (a fifth overdue), 500 messages in 100 threads and 100 decisions, then
//! times the scheduler run at one instant where every member's digest is due (the worst case):
//! `tick`, the real path, which plans, renders and queues the digests and the reminders the
//! overdue tasks are owed, printing seconds and the peak memory of the phase (VmHWM, reset after
//! setup); then the cost of an idle tick over the same data.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use chrono::{TimeZone, Utc};
use docket::app::App;
use docket::config::Config;
use std::time::Instant;

const SPACES: usize = 20;
const MEMBERS: usize = 10_000;
const TASKS: usize = 50_000;
const THREADS: usize = 100;
const MESSAGES: usize = 500;
const DECISIONS: usize = 100;

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

/// Resets VmHWM to the current RSS (Linux ≥ 4.0), so each phase reports its own peak.
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

async fn setup(app: &App, now: i64) {
    let pool = app.store.pool();
    let joined = now - 30 * 86_400;
    let mut tx = pool.begin().await.unwrap();
    for s in 0..SPACES {
        sqlx::query("INSERT INTO spaces (slug, name, created_at) VALUES ($1, $1, $2)")
            .bind(format!("space{s}"))
            .bind(joined)
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    for m in 0..MEMBERS {
        sqlx::query(
            "INSERT INTO members (space_id, email, handle, tz, delivery, role, created_at) VALUES ($1, $2, $3, NULL, 'each', 'member', $4)",
        )
        .bind((m % SPACES) as i64 + 1)
        .bind(format!("member{m}@example.org"))
        .bind(format!("member{m}"))
        .bind(joined)
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    for t in 0..THREADS {
        sqlx::query("INSERT INTO threads (space_id, subject, base_subject, started_at, last_activity_at) VALUES ($1, $2, $2, $3, $4)")
            .bind((t % SPACES) as i64 + 1)
            .bind(format!("Thread {t}"))
            .bind(now - 5 * 86_400)
            .bind(now - 3600)
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    for n in 0..MESSAGES {
        let thread = (n % THREADS) as i64 + 1;
        let space = ((n % THREADS) % SPACES) as i64 + 1;
        let (inbound,): (i64,) = sqlx::query_as(
            "INSERT INTO inbound (space_id, dedup_key, sha256, raw, source, rcpt_to, received_at, state) \
             VALUES ($1, $2, 'x', $3, 'smtp', '[]', $4, 'stored') RETURNING id",
        )
        .bind(space)
        .bind(format!("mid:bench-{n}"))
        .bind(b"Subject: x\r\n\r\nbody\r\n".to_vec())
        .bind(now - 86_400)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO messages (space_id, thread_id, inbound_id, message_id, from_addr, subject, date, visible_text, flags) \
             VALUES ($1, $2, $3, $4, $5, 'x', $6, 'Is this the right way?', '[]')",
        )
        .bind(space)
        .bind(thread)
        .bind(inbound)
        .bind(format!("bench-{n}@example.org"))
        .bind(format!("member{}@example.org", n % 7))
        .bind(now - 86_400 + n as i64)
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    for d in 0..DECISIONS {
        sqlx::query("INSERT INTO decisions (space_id, thread_id, text, author, decided_at, source) VALUES ($1, $2, $3, 'a@x', $4, 'tag')")
            .bind((d % SPACES) as i64 + 1)
            .bind((d % THREADS) as i64 + 1)
            .bind(format!("Decision number {d}"))
            .bind(now - 2 * 86_400 + d as i64)
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    for t in 0..TASKS {
        let member = t % MEMBERS;
        // A fifth overdue, the rest due over the next weeks.
        let due = if t % 5 == 0 { now - 3600 * (t % 48) as i64 - 60 } else { now + 3600 * (t % 500) as i64 };
        sqlx::query(
            "INSERT INTO tasks (space_id, thread_id, title, owner, watchers, due, status, created_by, created_at) \
             VALUES ($1, $2, $3, $4, '[]', $5, 'open', 'a@x', $6)",
        )
        .bind((member % SPACES) as i64 + 1)
        .bind((t % THREADS) as i64 + 1)
        .bind(format!("Task number {t} with a title of ordinary length"))
        .bind(format!("member{member}@example.org"))
        .bind(due)
        .bind(now - 10 * 86_400)
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    // The messages are history (as after an upgrade): no fan-out for them.
    sqlx::query("UPDATE outbound_cursors SET value = (SELECT MAX(id) FROM messages) WHERE name = 'messages'")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

fn main() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let app = App::open(Config::defaults_in(dir.path()).unwrap()).await.unwrap();
        // Monday 2026-11-30 08:00 UTC: every member's digest time (default 08:00, UTC, mon-fri).
        let now = Utc.with_ymd_and_hms(2026, 11, 30, 8, 0, 0).unwrap();
        let started = Instant::now();
        setup(&app, now.timestamp()).await;
        println!("setup: {MEMBERS} members, {TASKS} open tasks, {MESSAGES} messages, {DECISIONS} decisions in {:.1?}", started.elapsed());

        // The scheduler run (the real path): plans, renders and queues every digest (and records
        // each member's slot) and the reminders the overdue tasks are owed; the outbox write is
        // left out (no delivery budget).
        reset_peak();
        let base = peak_rss_kib();
        let started = Instant::now();
        let app = App { config: std::sync::Arc::new(no_delivery(dir.path())), ..app };
        let report = docket::tick::tick(&app, now).await.unwrap();
        let secs = started.elapsed().as_secs_f64();
        let digests = report.outbound.queued.iter().find(|(k, _)| *k == "digest").map_or(0, |(_, n)| *n);
        assert!(digests > 0, "the tick queued no digests: {:?}", report.outbound.queued);
        println!(
            "tick (plan + render + queue, all planners): {digests} digests for {MEMBERS} members ({:.0} members/s), queued {:?} in {secs:.2} s, peak RSS {:.0} MiB (phase start {:.0} MiB)",
            MEMBERS as f64 / secs,
            report.outbound.queued,
            peak_rss_kib() as f64 / 1024.0,
            base as f64 / 1024.0,
        );
        let again = Instant::now();
        docket::tick::tick(&app, now).await.unwrap();
        println!("second tick at the same time (nothing due): {:.2} s", again.elapsed().as_secs_f64());
    });
}

/// The bench's config with a delivery budget of one mail a minute, so `tick` measures planning
/// and queueing rather than 10,000 outbox writes.
fn no_delivery(dir: &std::path::Path) -> Config {
    let env = std::collections::HashMap::from([
        ("DOCKET__SERVER__DATA_DIR".to_string(), dir.display().to_string()),
        ("DOCKET__OUTBOUND__MAX_PER_MINUTE".to_string(), "1".to_string()),
    ]);
    Config::load_with_env(None, env).unwrap()
}

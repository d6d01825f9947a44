//! `docket migrate`, `docket check` and `docket demo`.

use super::{CliResult, Failure, count, print_json};
use clap::Args;
use docket::app::App;
use docket::config::Config;
use serde::Serialize;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct DemoArgs {}

pub async fn migrate(app: &App, args: MigrateArgs) -> CliResult {
    let versions = app.store.migration_versions().await?;
    if args.json {
        return print_json(&serde_json::json!({ "applied": versions }));
    }
    println!("database is up to date: migrations {versions:?} applied ({})", docket::store::redact(&app.config.database.url));
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Serialize)]
struct CheckReport {
    ok: bool,
    config: &'static str,
    data_dir: String,
    database: String,
    migrations: Vec<i64>,
    /// Where outbound mail goes.
    outbound: String,
    counts: Vec<(String, i64)>,
    problems: Vec<String>,
}

/// Validates the configuration (already loaded) and the database; exits 1 when anything is wrong.
pub async fn check(config: Config, args: CheckArgs) -> CliResult {
    let mut report = CheckReport {
        ok: true,
        config: "ok",
        data_dir: config.server.data_dir.display().to_string(),
        database: docket::store::redact(&config.database.url),
        migrations: Vec::new(),
        outbound: String::new(),
        counts: Vec::new(),
        problems: Vec::new(),
    };
    match App::open(config).await {
        Err(e) => report.problems.push(format!("{e}")),
        Ok(app) => {
            report.migrations = app.store.migration_versions().await?;
            report.counts = app.store.counts().await?;
            for (name, n) in &report.counts {
                if name == "inbound failed" && *n > 0 {
                    report.problems.push(format!("{n} stored deliveries failed to process (raw mail is kept)"));
                }
            }
            for (state, n) in app.store.outbound_counts().await? {
                report.counts.push((format!("outbound {state}"), n));
            }
            for f in app.store.outbound_failures(20).await? {
                report.problems.push(format!(
                    "outbound mail #{} ({}) to {} failed after {} attempt(s): {}",
                    f.id,
                    f.kind,
                    f.recipient,
                    f.attempts,
                    f.last_error.as_deref().unwrap_or("unknown error")
                ));
            }
            // Four failed tries span about 15 minutes of backoff: the relay is not coming back by itself.
            for f in app.store.outbound_retrying(4, 20).await? {
                report.problems.push(format!(
                    "outbound mail #{} ({}) to {} still not sent after {} attempts (retrying): {}",
                    f.id,
                    f.kind,
                    f.recipient,
                    f.attempts,
                    f.last_error.as_deref().unwrap_or("unknown error")
                ));
            }
            report.problems.extend(docket::notify::jobs::unrenderable(&app, app.now()).await?);
            report.outbound = app.mailer.describe();
        }
    }
    report.ok = report.problems.is_empty();
    if args.json {
        print_json(&report)?;
    } else {
        println!("config: ok\ndata dir: {}\ndatabase: {} (migrations {:?})", report.data_dir, report.database, report.migrations);
        println!("outbound: {}", report.outbound);
        for (name, n) in &report.counts {
            println!("  {name}: {n}");
        }
        for p in &report.problems {
            println!("problem: {p}");
        }
    }
    if report.ok {
        Ok(ExitCode::SUCCESS)
    } else {
        Err(Failure { error: anyhow::anyhow!("check found {} problem(s)", report.problems.len()), code: 1 })
    }
}

pub async fn demo(app: &App, _args: DemoArgs) -> CliResult {
    let report = docket::demo::run(app).await.map_err(|e| Failure { code: e.exit_code(), error: e.into() })?;
    let stored = count(report.stored as u64, "message", "messages");
    match (report.created, report.stored) {
        (true, _) => println!("created space '{}' with 3 members and {stored}", docket::demo::SLUG),
        (false, 0) => println!("space '{}' is already set up: nothing changed", docket::demo::SLUG),
        (false, _) => println!("space '{}' already existed; added {stored} it was missing", docket::demo::SLUG),
    }
    let threads = app.store.threads(Some(docket::demo::SLUG), None, app.config.threads.loop_rounds as i64).await?;
    for t in &threads {
        println!("  thread {:>4}: {} ({})", t.id, t.subject, count(t.message_count as u64, "message", "messages"));
    }
    if let Some(first) = threads.last() {
        println!("\nnext: docket thread {}   ·   docket threads --json   ·   docket member list --space demo", first.id);
    }
    Ok(ExitCode::SUCCESS)
}

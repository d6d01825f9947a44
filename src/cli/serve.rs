//! `docket serve` and `docket quarantine list|show|release`.

use super::{CliResult, Failure, print_json};
use clap::{Args, Subcommand};
use docket::app::App;
use docket::ingest::{self, prepare};
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct ServeArgs {}

#[derive(Debug, Subcommand)]
pub enum QuarantineCmd {
    /// List held messages, newest first.
    List {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// At most N rows (default: all).
        #[arg(long)]
        limit: Option<i64>,
    },
    /// Show one held message: why it was held, its headers and what it says.
    Show {
        /// The id `quarantine list` shows.
        id: i64,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Post a held message as if it had been accepted (threads it, records its tags).
    Release {
        /// The id `quarantine list` shows.
        id: i64,
    },
}

pub async fn serve(app: App, _args: ServeArgs) -> CliResult {
    docket::serve::run(app).await?;
    Ok(ExitCode::SUCCESS)
}

pub async fn quarantine(app: &App, cmd: QuarantineCmd) -> CliResult {
    match cmd {
        QuarantineCmd::List { json, limit } => {
            let held = app.store.quarantined(limit).await?;
            if json {
                return print_json(&held);
            }
            if held.is_empty() {
                println!("quarantine is empty");
            } else {
                println!("{:>6}  {:<16}  {:<10} {:<16} ENVELOPE FROM  DETAIL", "ID", "RECEIVED (UTC)", "SPACE", "REASON");
            }
            for q in held {
                let from = q.mail_from.as_deref().map(|f| if f.is_empty() { "<>" } else { f }).unwrap_or("-");
                println!("{:>6}  {}  {:<10} {:<16} {}  {}", q.id, time(q.received_at), q.space, q.reason, from, q.detail);
            }
            Ok(ExitCode::SUCCESS)
        }
        QuarantineCmd::Show { id, json } => {
            let (q, raw, _) = held(app, id).await?;
            let p = prepare(&raw);
            if json {
                return print_json(&serde_json::json!({
                    "quarantine": q,
                    "from": p.parsed.from.as_ref().map(|f| f.email.clone()),
                    "subject": p.parsed.subject,
                    "message_id": p.parsed.message_id,
                    "text": p.visible,
                }));
            }
            println!("held #{} in {} since {}: {} ({})", q.id, q.space, time(q.received_at), q.reason, q.detail);
            println!("envelope from: {}", q.mail_from.as_deref().unwrap_or("-"));
            println!("from: {}", p.parsed.from.as_ref().map(|f| f.email.as_str()).unwrap_or("-"));
            println!("subject: {}", p.parsed.subject);
            println!("message-id: {}", p.parsed.message_id.as_deref().unwrap_or("-"));
            println!();
            println!("{}", p.visible);
            println!();
            println!("release it with: docket quarantine release {}", q.id);
            Ok(ExitCode::SUCCESS)
        }
        QuarantineCmd::Release { id } => {
            let (q, raw, rcpt) = held(app, id).await?;
            let mut tx = app.store.begin().await?;
            tx.release(id).await?;
            tx.commit().await?;
            let space = app.store.require_space(&q.space).await?;
            let rcpt: Vec<String> = serde_json::from_str(&rcpt).unwrap_or_default();
            let stored = ingest::process_logged(app, &space, id, &prepare(&raw), &rcpt, app.now().timestamp()).await?;
            match stored {
                Some(m) => println!("released #{id}: message {} in thread {} of {}", m.id, m.thread_id, m.space),
                None => println!("#{id} was already processed"),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn held(app: &App, id: i64) -> Result<(docket::store::intake::QuarantinedView, Vec<u8>, String), Failure> {
    app.store
        .quarantined_one(id)
        .await?
        .ok_or_else(|| Failure::from(anyhow::anyhow!("no held message #{id} (see `docket quarantine list`)")))
}

fn time(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0).map(|d| d.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()
}

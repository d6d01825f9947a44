//! `docket asks` and `docket notes`: the asks waiting for answers and the meeting notes, with the
//! items each set of notes recorded.

use super::{CliResult, print_json};
use clap::Args;
use docket::app::App;
use docket::store::states::AskStatus;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct AsksArgs {
    /// Only this space (its slug).
    #[arg(long)]
    space: Option<String>,
    /// open | answered | defaulted | expired
    #[arg(long)]
    status: Option<String>,
    /// At most N rows (default: all).
    #[arg(long)]
    limit: Option<i64>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct NotesArgs {
    /// Only this space (its slug).
    #[arg(long)]
    space: Option<String>,
    /// At most N rows (default: all).
    #[arg(long)]
    limit: Option<i64>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

pub async fn asks(app: &App, args: AsksArgs) -> CliResult {
    let status = match args.status.as_deref().map(str::parse::<AskStatus>) {
        Some(Err(e)) => return Err(anyhow::anyhow!("--status must be open, answered, defaulted or expired, not '{}'", e.value).into()),
        status => status.and_then(Result::ok),
    };
    let list = app.store.asks(args.space.as_deref(), status, args.limit).await?;
    if args.json {
        return print_json(&list);
    }
    if list.is_empty() {
        println!("no asks (write `#ask … @who by friday default: …` in a message)");
    } else {
        println!("{:<6} {:<9} {:<20} {:<28} TEXT", "ID", "STATUS", "CLOSES", "ASKED");
    }
    for a in list {
        let closes = a.closes_at.map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_else(|| "no deadline".into());
        let asked = if a.asked_of.is_empty() { format!("everyone in {}", a.space) } else { a.asked_of.join(",") };
        let outcome = match (&a.answered_by, &a.decision, &a.default) {
            (Some(by), _, _) => format!(" (answered by {by})"),
            (None, Some(d), _) => format!(" (default decided as {d})"),
            (None, None, Some(d)) => format!(" (default: {d})"),
            _ => String::new(),
        };
        println!("{:<6} {:<9} {:<20} {:<28} {}{outcome}", a.id, a.status, closes, asked, a.text);
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn notes(app: &App, args: NotesArgs) -> CliResult {
    let list = app.store.notes(args.space.as_deref(), None, args.limit).await?;
    if args.json {
        return print_json(&list);
    }
    if list.is_empty() {
        println!("no meeting notes (send notes with a `[notes]` subject or a `#notes` line)");
    } else {
        println!("{:<6} {:<10}  {:<12} {:<20} TITLE", "ID", "DATE", "SPACE", "ITEMS");
    }
    for n in list {
        let items = if n.items.is_empty() { "-".to_string() } else { n.items.join(",") };
        println!("{:<6} {}  {:<12} {:<20} {}", n.id, n.date.format("%Y-%m-%d"), n.space, items, n.title);
    }
    Ok(ExitCode::SUCCESS)
}

//! `docket threads` and `docket thread ID`.

use super::{CliResult, print_json};
use askama::Template;
use clap::Args;
use docket::app::App;
use docket::store::read::ThreadView;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct ThreadsArgs {
    #[arg(long)]
    space: Option<String>,
    #[arg(long)]
    limit: Option<i64>,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct ThreadArgs {
    id: i64,
    #[arg(long)]
    json: bool,
}

/// The human view of one thread.
#[derive(Template)]
#[template(path = "cli/thread.txt")]
struct ThreadText<'a> {
    t: &'a ThreadView,
}

pub async fn threads(app: &App, args: ThreadsArgs) -> CliResult {
    if let Some(slug) = &args.space {
        app.store.require_space(slug).await?;
    }
    let threads = app.store.threads(args.space.as_deref(), args.limit, app.config.threads.loop_rounds as i64).await?;
    if args.json {
        return print_json(&threads);
    }
    if threads.is_empty() {
        println!("no threads yet (send mail to a space, `docket import` an archive, or try `docket demo`)");
    }
    for t in threads {
        println!(
            "{:>6}  {:<12} {:>3} msgs {:>3} rounds  {}  {}",
            t.id,
            t.space,
            t.message_count,
            t.rounds,
            t.last_activity_at.format("%Y-%m-%d %H:%M"),
            t.subject
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn thread(app: &App, args: ThreadArgs) -> CliResult {
    let t = app.store.thread(args.id, app.config.threads.loop_rounds as i64).await?;
    if args.json {
        return print_json(&t);
    }
    println!("{}", ThreadText { t: &t }.render()?);
    Ok(ExitCode::SUCCESS)
}

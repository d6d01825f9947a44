//! `docket threads` and `docket thread ID`.

use super::{CliResult, print_json};
use askama::Template;
use clap::Args;
use docket::app::App;
use docket::store::items::{DecisionView, TaskFilter, TaskView};
use docket::store::read::ThreadView;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct ThreadsArgs {
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

#[derive(Debug, Args)]
pub struct ThreadArgs {
    /// The thread's id (`docket threads` lists them).
    id: i64,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// The human view of one thread.
#[derive(Template)]
#[template(path = "cli/thread.txt")]
struct ThreadText<'a> {
    t: &'a ThreadView,
    /// The thread's decisions and tasks, oldest first, so "decided" says what was decided.
    decisions: Vec<DecisionView>,
    tasks: Vec<TaskView>,
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
    } else {
        println!("{:>6}  {:<12} {:>4} {:>6}  {:<8} {:<16}  SUBJECT", "ID", "SPACE", "MSGS", "ROUNDS", "STATUS", "LAST ACTIVITY");
    }
    for t in threads {
        println!(
            "{:>6}  {:<12} {:>4} {:>6}  {:<8} {:<16}  {}",
            t.id,
            t.space,
            t.message_count,
            t.rounds,
            t.status,
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
    let mut decisions = app.store.decisions(None, Some(t.id), None).await?;
    decisions.reverse();
    let mut tasks = app.store.tasks(&TaskFilter { thread_id: Some(t.id), ..Default::default() }).await?;
    tasks.sort_by_key(|task| task.created_at);
    println!("{}", ThreadText { t: &t, decisions, tasks }.render()?);
    Ok(ExitCode::SUCCESS)
}

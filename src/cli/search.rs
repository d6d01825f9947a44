//! `docket search QUERY` and `docket reindex`: full-text search over messages, decisions and
//! tasks (docs/cli.md), and the rebuild of the search index from the database.

use super::{CliResult, Failure, print_json};
use clap::{Args, ValueEnum};
use docket::app::App;
use docket::index::{IndexError, SearchOptions, Sort};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Words, "phrases", -excluded, and filters: from: space: kind: status: before: after: goal:
    /// (options may come before or after; put a -word after `--`, or quote the whole query).
    #[arg(required = true, num_args = 1..)]
    query: Vec<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    /// Most hits to show (default 20).
    #[arg(long)]
    limit: Option<usize>,
    /// Order: relevance (default) or date (newest first).
    #[arg(long, value_enum, default_value_t = SortArg::Relevance)]
    sort: SortArg,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum SortArg {
    Relevance,
    Date,
}

#[derive(Debug, Args)]
pub struct ReindexArgs {
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

fn failure(e: IndexError) -> Failure {
    let code = if e.is_query() { 64 } else { 1 };
    Failure { error: e.into(), code }
}

pub async fn search(app: &App, args: SearchArgs) -> CliResult {
    let query = args.query.join(" ");
    // Bring the index up to date first; when `serve` holds it, serve keeps it current.
    match app.index.catch_up(&app.store, app.now().timestamp()).await {
        Ok(_) => {}
        Err(IndexError::Locked(_)) => tracing::debug!("search index held by another process; searching read-only"),
        Err(e) => eprintln!("docket: warning: the search index was not updated: {e}"),
    }
    let sort = match args.sort {
        SortArg::Relevance => Sort::Relevance,
        SortArg::Date => Sort::Date,
    };
    let opts = SearchOptions { limit: args.limit.unwrap_or(docket::index::hit::DEFAULT_LIMIT), sort };
    let hits = app.index.search(&app.store, &query, &opts).await.map_err(failure)?;
    if args.json {
        return print_json(&hits);
    }
    if hits.is_empty() {
        println!("no results for: {query}");
        return Ok(ExitCode::SUCCESS);
    }
    let (open, close) = if std::io::stdout().is_terminal() { ("\x1b[1m", "\x1b[0m") } else { ("", "") };
    for h in &hits {
        println!("{:<8} {:<8} {:<12} {}  thread {:<5} {}", h.id, h.kind, h.space, h.date.format("%Y-%m-%d %H:%M"), h.thread_id, h.subject);
        if !h.snippet.is_empty() {
            // Each part escaped on its own, so only our own bold sequences reach the terminal.
            let parts = h.snippet_parts().into_iter().map(|(s, hit)| {
                let s = docket::display::text(s);
                if hit { format!("{open}{s}{close}") } else { s.into_owned() }
            });
            super::print_raw(&format!("         {}", parts.collect::<String>()))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn reindex(app: &App, args: ReindexArgs) -> CliResult {
    let total = app.store.searchable_count().await?;
    let bar = if std::io::stderr().is_terminal() && !args.json { ProgressBar::new(total) } else { ProgressBar::hidden() };
    if let Ok(style) = ProgressStyle::with_template("indexing [{bar:30}] {pos}/{len} ({per_sec}, {eta})") {
        bar.set_style(style.progress_chars("=> "));
    }
    let start = Instant::now();
    let tick = |n: u64| bar.inc(n);
    app.index.reindex(&app.store, app.now().timestamp(), &tick).await.map_err(failure)?;
    bar.finish_and_clear();
    let secs = start.elapsed().as_secs_f64();
    let documents = app.index.document_count().map_err(failure)?;
    app.index.release().await;
    if args.json {
        return print_json(&serde_json::json!({ "documents": documents, "seconds": secs, "index": app.index.dir() }));
    }
    println!("indexed {documents} messages, decisions and tasks in {secs:.1} s into {}", app.index.dir().display());
    Ok(ExitCode::SUCCESS)
}

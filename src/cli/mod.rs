//! Command definitions (clap) and dispatch. Each command module extracts its arguments, calls one
//! domain function and prints the result, human-readable or `--json`.

/// `println!` for every command (this macro shadows the standard one in `cli/`): the line goes
/// through `display::text`, so a subject or body cannot send control sequences to the operator's
/// terminal, and a failed write (the reader of a pipe went away: `docket threads | head -1`) ends
/// the command with the error, which `main` turns into a quiet exit, instead of panicking.
macro_rules! println {
    () => {
        println!("")
    };
    ($($arg:tt)*) => {
        $crate::cli::print_raw(&docket::display::text(&format!($($arg)*)))?
    };
}

mod admin;
mod asks;
mod items;
mod mail;
mod read;
mod search;
mod serve;
mod spaces;
mod tokens;

use anyhow::Context;
use clap::{Parser, Subcommand};
use docket::app::App;
use docket::config::Config;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "docket",
    version,
    about = "Email-native async gateway: threads replies, keeps what each person newly wrote, records decisions and tasks"
)]
pub struct Cli {
    /// Configuration file (TOML); default ./docket.toml when present.
    #[arg(long, global = true, env = "DOCKET_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

impl Cli {
    /// `[log]` of the configuration this command will use (defaults when it does not load: the
    /// command itself reports why), and whether the command is `serve`.
    pub fn log_settings(&self) -> (docket::config::Log, bool) {
        let log = Config::load(self.config.as_deref())
            .map(|c| c.log)
            .unwrap_or(docket::config::Log { format: docket::config::LogFormat::Text, level: "info".into() });
        (log, self.serving())
    }

    /// Whether this run is `docket serve` (a long-lived process).
    pub fn serving(&self) -> bool {
        matches!(self.command, Command::Serve(_))
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the SMTP (and LMTP) server and the scheduler until SIGTERM.
    Serve(serve::ServeArgs),
    /// Messages held back by the sender policy: list, show, release.
    #[command(subcommand)]
    Quarantine(serve::QuarantineCmd),
    /// Manage spaces (teams or projects with a list address).
    #[command(subcommand)]
    Space(spaces::SpaceCmd),
    /// Manage the members of a space.
    #[command(subcommand)]
    Member(spaces::MemberCmd),
    /// Store one message from stdin (for an MTA pipe). Exit 0 ok, 65 bad data, 67 unknown recipient, 75 try later.
    Ingest(mail::IngestArgs),
    /// Import archives: mbox files, Maildirs, .eml files or directories of them. Resumable.
    Import(mail::ImportArgs),
    /// Print the visible text of a message (what the sender newly wrote).
    Trim(mail::TrimArgs),
    /// Show what a message would record (nothing is stored).
    Parse(items::ParseArgs),
    /// List decisions, newest first.
    Decisions(items::DecisionsArgs),
    /// List tasks.
    Tasks(items::TasksArgs),
    /// List proposals and their objections.
    Proposals(items::ProposalsArgs),
    /// List asks: open, answered, defaulted (their default became a decision) or expired.
    Asks(asks::AsksArgs),
    /// List meeting notes and the items each recorded.
    Notes(asks::NotesArgs),
    /// Run the scheduler once at a given time: lazy consensus, then every outbound planner, and send.
    Tick(items::TickArgs),
    /// Show the digest a member would get (nothing is sent).
    Digest(items::DigestArgs),
    /// List threads, most recent first.
    Threads(read::ThreadsArgs),
    /// Show one thread with its messages.
    Thread(read::ThreadArgs),
    /// Search messages, decisions and tasks: words, "phrases", from: space: kind: status: before: after:
    Search(search::SearchArgs),
    /// Rebuild the search index from the database.
    Reindex(search::ReindexArgs),
    /// Apply database migrations.
    Migrate(admin::MigrateArgs),
    /// Check the configuration and the database.
    Check(admin::CheckArgs),
    /// Create a sample space with a short conversation.
    Demo(admin::DemoArgs),
    /// Bearer tokens for the JSON API: create, list, revoke.
    #[command(subcommand)]
    Token(tokens::TokenCmd),
}

/// An error with the exit code it should produce.
#[derive(Debug)]
pub struct Failure {
    pub error: anyhow::Error,
    pub code: u8,
}

impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure { error: e.into(), code: 1 }
    }
}

pub type CliResult = Result<ExitCode, Failure>;

pub async fn run(cli: Cli) -> CliResult {
    let config = Config::load(cli.config.as_deref()).map_err(|e| Failure { error: e.into(), code: 78 })?;
    match cli.command {
        Command::Serve(args) => serve::serve(open(config).await?, args).await,
        Command::Quarantine(cmd) => serve::quarantine(&open(config).await?, cmd).await,
        Command::Space(cmd) => spaces::space(&open(config).await?, cmd).await,
        Command::Member(cmd) => spaces::member(&open(config).await?, cmd).await,
        Command::Ingest(args) => mail::ingest(config, args).await,
        Command::Import(args) => mail::import(&open(config).await?, args).await,
        Command::Trim(args) => mail::trim(args),
        Command::Parse(args) => items::parse(config, args).await,
        Command::Decisions(args) => items::decisions(&open(config).await?, args).await,
        Command::Tasks(args) => items::tasks(&open(config).await?, args).await,
        Command::Proposals(args) => items::proposals(&open(config).await?, args).await,
        Command::Asks(args) => asks::asks(&open(config).await?, args).await,
        Command::Notes(args) => asks::notes(&open(config).await?, args).await,
        Command::Tick(args) => items::tick(&open(config).await?, args).await,
        Command::Digest(args) => items::digest(&open(config).await?, args).await,
        Command::Threads(args) => read::threads(&open(config).await?, args).await,
        Command::Thread(args) => read::thread(&open(config).await?, args).await,
        Command::Search(args) => search::search(&open(config).await?, args).await,
        Command::Reindex(args) => search::reindex(&open(config).await?, args).await,
        Command::Migrate(args) => admin::migrate(&open(config).await?, args).await,
        Command::Check(args) => admin::check(config, args).await,
        Command::Demo(args) => admin::demo(&open(config).await?, args).await,
        Command::Token(cmd) => tokens::token(&open(config).await?, cmd).await,
    }
}

async fn open(config: Config) -> Result<App, Failure> {
    App::open(config).await.context("cannot open docket's data").map_err(Failure::from)
}

/// "1 message", "2 messages": a count with its noun in the right number.
fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Writes one line as it is; only for a line whose parts were escaped one by one.
fn print_raw(line: &str) -> std::io::Result<()> {
    use std::io::Write;
    writeln!(std::io::stdout().lock(), "{line}")
}

/// Prints a value as one JSON document.
fn print_json<T: serde::Serialize>(value: &T) -> CliResult {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(ExitCode::SUCCESS)
}

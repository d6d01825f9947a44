//! `docket ingest` and `docket import`: the pipe and archive doors of the inbound pipeline.

use super::{CliResult, Failure, count, print_json};
use clap::Args;
use docket::app::App;
use docket::config::Config;
use docket::ingest::auth::Client;
use docket::ingest::import::{self, ImportOptions};
use docket::ingest::pipe;
use docket::ingest::{Envelope, Outcome};
use docket::parse::{mime, reply};
use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// The space to store into (default: the recipient address's space).
    #[arg(long)]
    space: Option<String>,
    /// Envelope recipient from the MTA (e.g. Postfix pipe `${recipient}`); repeatable.
    #[arg(long = "recipient")]
    recipients: Vec<String>,
    /// Envelope sender from the MTA (e.g. Postfix pipe `${sender}`).
    #[arg(long)]
    sender: Option<String>,
    /// Sending host's IP (Postfix `${client_address}`), for SPF.
    #[arg(long, value_name = "IP")]
    client_address: Option<String>,
    /// Sending host's HELO name (Postfix `${client_helo}`), for SPF.
    #[arg(long, value_name = "NAME")]
    helo: Option<String>,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// mbox files, Maildir directories, .eml files or directories of .eml files.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// The space to import into (default: the space each message's recipient names).
    #[arg(long)]
    space: Option<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct TrimArgs {
    /// Message files (.eml); stdin when none.
    files: Vec<PathBuf>,
    /// One `{"file","text"}` JSON object per line, for many files.
    #[arg(long)]
    jsonl: bool,
}

/// The visible text of one raw message.
fn visible(raw: &[u8]) -> String {
    let parsed = mime::parse(raw);
    reply::visible_text(parsed.text.as_deref(), parsed.html.as_deref()).text
}

pub fn trim(args: TrimArgs) -> CliResult {
    if !args.jsonl {
        let raw = match args.files.as_slice() {
            [] => {
                let mut raw = Vec::new();
                std::io::stdin().lock().read_to_end(&mut raw)?;
                raw
            }
            [file] => std::fs::read(file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?,
            _ => return Err(anyhow::anyhow!("give one FILE, or --jsonl for several").into()),
        };
        println!("{}", visible(&raw));
        return Ok(ExitCode::SUCCESS);
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut failed = 0;
    for file in &args.files {
        // A file that cannot be read still gets its line, so a batch never loses its place.
        let text = match std::fs::read(file) {
            Ok(raw) => visible(&raw),
            Err(e) => {
                eprintln!("docket: cannot read {}: {e}", file.display());
                failed += 1;
                String::new()
            }
        };
        let line = serde_json::json!({ "file": file.display().to_string(), "text": text });
        writeln!(out, "{line}")?;
    }
    out.flush()?;
    Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::from(66) })
}

pub async fn ingest(config: Config, args: IngestArgs) -> CliResult {
    let max = config.smtp.max_message_bytes;
    let app = match App::open(config).await {
        Ok(app) => app,
        Err(e) => return Err(Failure { code: if e.is_temporary() { 75 } else { 78 }, error: e.into() }),
    };
    let raw = pipe::read_limited(std::io::stdin().lock(), max).map_err(|e| Failure { error: e.into(), code: 75 })?;
    // Whatever the MTA's macro expands to, the message is still taken: an address that does not
    // parse only means SPF cannot be checked.
    let ip = args.client_address.as_deref().map(str::trim).filter(|a| !a.is_empty() && !a.eq_ignore_ascii_case("unknown")).and_then(|a| {
        let parsed = a.trim_start_matches("ipv6:").parse::<std::net::IpAddr>();
        if parsed.is_err() {
            tracing::warn!(client_address = a, "--client-address is not an IP address; SPF not checked");
        }
        parsed.ok()
    });
    let helo = args.helo.filter(|h| !h.trim().is_empty() && ip.is_some());
    let client = Client { ip, helo, mail_from: args.sender.clone() };
    let envelope = Envelope { mail_from: args.sender, rcpt_to: args.recipients };
    match pipe::ingest_from(&app, raw, args.space.as_deref(), envelope, client).await {
        Ok(Outcome::Stored(m)) => {
            let flags: Vec<&str> = m.flags.iter().map(|f| f.as_str()).collect();
            let note = if flags.is_empty() { String::new() } else { format!(" (flagged: {})", flags.join(", ")) };
            println!("stored message {} in thread {} of {}{note}", m.id, m.thread_id, m.space);
            Ok(ExitCode::SUCCESS)
        }
        Ok(Outcome::Duplicate { space }) => {
            println!("already stored in {space}: nothing changed");
            Ok(ExitCode::SUCCESS)
        }
        Ok(Outcome::Quarantined { space, reason }) => {
            println!("held for review in {space} (not posted): {reason}; see `docket quarantine list`");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => Err(Failure { code: e.exit_code(), error: e.into() }),
    }
}

pub async fn import(app: &App, args: ImportArgs) -> CliResult {
    // Like cp or tar: a path that is not there is an error that names it, and nothing is imported.
    let missing: Vec<String> = args.paths.iter().filter(|p| !p.exists()).map(|p| p.display().to_string()).collect();
    if !missing.is_empty() {
        let what = if missing.len() == 1 { "path does not exist" } else { "paths do not exist" };
        return Err(Failure { error: anyhow::anyhow!("nothing imported: {what}: {}", missing.join(", ")), code: 66 });
    }
    let opts = ImportOptions { space: args.space, progress: std::io::stderr().is_terminal() && !args.json };
    let report = import::import(app, &args.paths, &opts).await.map_err(|e| Failure { code: e.exit_code(), error: e.into() })?;
    if args.json {
        print_json(&report)?;
    } else {
        println!(
            "{}, {}: {} stored, {} already there{}",
            count(report.files, "file", "files"),
            count(report.messages, "message", "messages"),
            report.stored,
            report.duplicates,
            if report.already_imported > 0 {
                format!(", {} already imported", count(report.already_imported, "file was", "files were"))
            } else {
                String::new()
            }
        );
        for p in &report.problems {
            match p.offset {
                Some(offset) => eprintln!("  {} at byte {offset}: {}", p.path, p.error),
                None => eprintln!("  {}: {}", p.path, p.error),
            }
        }
    }
    Ok(if report.problems.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(65) })
}

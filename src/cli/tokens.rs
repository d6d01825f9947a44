//! `docket token create|list|revoke` (bearer tokens for the JSON API) and `docket member feeds`
//! (the member's Atom and iCalendar feed URLs, and rotating their key).

use super::{CliResult, print_json};
use clap::Subcommand;
use docket::app::App;
use docket::identity::api_key;
use serde::Serialize;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum TokenCmd {
    /// Create an API token acting as a member; it is printed once and kept only as a hash.
    Create {
        /// The member's address (a member of at least one space).
        email: String,
        /// A label to tell tokens apart, e.g. "laptop script".
        #[arg(long)]
        name: Option<String>,
        /// Print the token and its record as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List tokens: id, member, label, created, last used (never the token).
    List {
        /// Print a JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token: requests carrying it are refused from now on.
    Revoke {
        /// The token's id (`docket token list`).
        id: i64,
    },
}

#[derive(Debug, Serialize)]
struct Created {
    token: String,
    #[serde(flatten)]
    record: docket::store::tokens::ApiToken,
}

pub async fn token(app: &App, cmd: TokenCmd) -> CliResult {
    match cmd {
        TokenCmd::Create { email, name, json } => {
            let email = docket::space::email(&email)?;
            let token = api_key::new_token().map_err(|e| anyhow::anyhow!("no randomness for a token: {e}"))?;
            let label = name.as_deref().map(str::trim).filter(|l| !l.is_empty());
            let record = app.store.create_api_token(&email, label, &api_key::hash(&token), app.now().timestamp()).await?;
            if json {
                return print_json(&Created { token, record });
            }
            println!("{token}");
            eprintln!("docket: token {} for {email} created; it is shown only this once (use: Authorization: Bearer TOKEN)", record.id);
            Ok(ExitCode::SUCCESS)
        }
        TokenCmd::List { json } => {
            let list = app.store.api_tokens().await?;
            if json {
                return print_json(&list);
            }
            if list.is_empty() {
                println!("no API tokens (create one with `docket token create EMAIL`)");
            } else {
                println!("{:>5}  {:<32} {:<20} {:<17} LAST USED", "ID", "MEMBER", "LABEL", "CREATED");
            }
            for t in list {
                let used = t.last_used_at.map(|d| d.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_else(|| "never".into());
                println!(
                    "{:>5}  {:<32} {:<20} {:<17} {used}",
                    t.id,
                    t.email,
                    t.label.as_deref().unwrap_or("-"),
                    t.created_at.format("%Y-%m-%d %H:%M")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        TokenCmd::Revoke { id } => {
            let t = app.store.revoke_api_token(id).await?;
            println!("revoked token {} of {}", t.id, t.email);
            Ok(ExitCode::SUCCESS)
        }
    }
}

#[derive(Debug, Serialize)]
struct Feeds {
    email: String,
    decisions: String,
    tasks: String,
}

/// `docket member feeds EMAIL [--rotate]`: prints the feed URLs; `--rotate` makes a new key first.
pub async fn feeds(app: &App, email: &str, rotate: bool, json: bool) -> CliResult {
    let email = docket::space::email(email)?;
    let key = docket::web::feeds::member_key(app, &email, rotate).await?;
    let (decisions, tasks) = docket::web::feeds::urls(app, &key);
    let out = Feeds { decisions, tasks, email: email.clone() };
    if json {
        return print_json(&out);
    }
    if rotate {
        eprintln!("docket: new feed key for {email}; the old feed URLs no longer work");
    }
    println!("decisions (Atom):     {}", out.decisions);
    println!("tasks (iCalendar):    {}", out.tasks);
    Ok(ExitCode::SUCCESS)
}

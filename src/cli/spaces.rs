//! `docket space …` and `docket member …`.

use super::{CliResult, print_json};
use clap::{Args, Subcommand};
use docket::app::App;
use docket::space::{self, MemberSettings};
use docket::store::spaces::Member;
use serde::Serialize;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum SpaceCmd {
    /// Create a space; its address is SLUG@DOMAIN.
    Add {
        slug: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// List spaces.
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum MemberCmd {
    /// Add a member to a space.
    Add(MemberArgs),
    /// List the members of a space.
    List {
        #[arg(long)]
        space: String,
        #[arg(long)]
        json: bool,
    },
    /// Change a member's settings (only the flags given).
    Set(MemberArgs),
    /// Remove a member from a space.
    Remove {
        email: String,
        #[arg(long)]
        space: String,
    },
}

#[derive(Debug, Args)]
pub struct MemberArgs {
    email: String,
    #[arg(long)]
    space: String,
    /// Handle for @mentions (default: the address's local part).
    #[arg(long)]
    handle: Option<String>,
    /// IANA time zone, e.g. Europe/Berlin.
    #[arg(long)]
    tz: Option<String>,
    /// each | digest | mentions
    #[arg(long)]
    delivery: Option<String>,
    /// HH:MM local time of the digest.
    #[arg(long)]
    digest_time: Option<String>,
    /// Digest days, e.g. mon-fri or mon,wed,fri.
    #[arg(long)]
    digest_days: Option<String>,
    /// member | admin
    #[arg(long)]
    role: Option<String>,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
struct SpaceJson {
    slug: String,
    name: String,
    address: String,
    members: usize,
}

#[derive(Debug, Serialize)]
struct MemberJson {
    space: String,
    email: String,
    handle: String,
    tz: Option<String>,
    delivery: String,
    digest_time: Option<String>,
    digest_days: Option<String>,
    role: String,
}

fn member_json(space: &str, m: Member) -> MemberJson {
    MemberJson {
        space: space.to_string(),
        email: m.email,
        handle: m.handle,
        tz: m.tz,
        delivery: m.delivery,
        digest_time: m.digest_time,
        digest_days: m.digest_days,
        role: m.role,
    }
}

pub async fn space(app: &App, cmd: SpaceCmd) -> CliResult {
    match cmd {
        SpaceCmd::Add { slug, name, json } => {
            let slug = space::slug(&slug)?;
            let created = app.store.add_space(&slug, name.as_deref().unwrap_or(&slug), app.now().timestamp()).await?;
            let out = SpaceJson { address: app.config.space_address(&created.slug), slug: created.slug, name: created.name, members: 0 };
            if json {
                return print_json(&out);
            }
            println!("created space {} <{}>", out.slug, out.address);
            Ok(ExitCode::SUCCESS)
        }
        SpaceCmd::List { json } => {
            let mut out = Vec::new();
            for s in app.store.spaces().await? {
                let members = app.store.members(&s).await?.len();
                out.push(SpaceJson { address: app.config.space_address(&s.slug), slug: s.slug, name: s.name, members });
            }
            if json {
                return print_json(&out);
            }
            if out.is_empty() {
                println!("no spaces yet (create one with `docket space add SLUG`, or try `docket demo`)");
            }
            for s in out {
                println!("{:<20} {:<28} {:<32} {} members", s.slug, s.name, s.address, s.members);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn settings(a: &MemberArgs) -> Result<MemberSettings, space::SpaceError> {
    MemberSettings::parse(
        a.handle.as_deref(),
        a.tz.as_deref(),
        a.delivery.as_deref(),
        a.digest_time.as_deref(),
        a.digest_days.as_deref(),
        a.role.as_deref(),
    )
}

pub async fn member(app: &App, cmd: MemberCmd) -> CliResult {
    match cmd {
        MemberCmd::Add(args) => {
            let email = space::email(&args.email)?;
            let settings = settings(&args)?;
            let target = app.store.require_space(&args.space).await?;
            let handle = settings.handle.clone().unwrap_or_else(|| space::default_handle(&email));
            let m = app.store.add_member(&target, &email, &handle, &settings, app.now().timestamp()).await?;
            show_member(&target.slug, m, args.json, "added")
        }
        MemberCmd::Set(args) => {
            let email = space::email(&args.email)?;
            let settings = settings(&args)?;
            let target = app.store.require_space(&args.space).await?;
            let m = app.store.set_member(&target, &email, &settings).await?;
            show_member(&target.slug, m, args.json, "updated")
        }
        MemberCmd::List { space, json } => {
            let target = app.store.require_space(&space).await?;
            let members: Vec<MemberJson> = app.store.members(&target).await?.into_iter().map(|m| member_json(&target.slug, m)).collect();
            if json {
                return print_json(&members);
            }
            if members.is_empty() {
                println!("no members in '{}' (add one with `docket member add EMAIL --space {}`)", target.slug, target.slug);
            }
            for m in members {
                println!(
                    "{:<32} @{:<16} {:<20} {:<8} digest {} {}",
                    m.email,
                    m.handle,
                    m.tz.as_deref().unwrap_or("(server zone)"),
                    m.delivery,
                    m.digest_time.as_deref().unwrap_or("(default)"),
                    m.digest_days.as_deref().unwrap_or(""),
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        MemberCmd::Remove { email, space } => {
            let email = space::email(&email)?;
            let target = app.store.require_space(&space).await?;
            app.store.remove_member(&target, &email).await?;
            println!("removed {email} from {}", target.slug);
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn show_member(space: &str, m: Member, json: bool, verb: &str) -> CliResult {
    let m = member_json(space, m);
    if json {
        return print_json(&m);
    }
    println!("{verb} {} (@{}) in {}", m.email, m.handle, m.space);
    Ok(ExitCode::SUCCESS)
}

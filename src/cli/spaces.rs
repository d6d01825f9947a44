//! `docket space …` and `docket member …`.

use super::{CliResult, print_json};
use clap::{Args, Subcommand};
use docket::app::App;
use docket::space::{self, MemberSettings};
use docket::store::spaces::{Member, SpaceView};
use serde::Serialize;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum SpaceCmd {
    /// Create a space; its address is SLUG@DOMAIN.
    Add {
        /// Lower-case letters, digits and '-', starting with a letter or digit.
        slug: String,
        /// Display name (default: the slug).
        #[arg(long)]
        name: Option<String>,
        /// Print the new space as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List spaces.
    List {
        /// Print a JSON array.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum MemberCmd {
    /// Add a member to a space.
    Add(MemberArgs),
    /// List the members of a space, with what mail they get (muted, unsubscribed).
    List {
        /// The space's slug.
        #[arg(long)]
        space: String,
        /// Print a JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Change a member's settings (only the flags given).
    Set(MemberArgs),
    /// Print a member's feed URLs (Atom decisions, iCalendar tasks); --rotate makes new ones.
    Feeds {
        /// The member's address.
        email: String,
        /// Make a new feed key first: the old URLs stop working.
        #[arg(long)]
        rotate: bool,
        /// Print the URLs as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Remove a member from a space.
    Remove {
        /// The member's address.
        email: String,
        /// The space's slug.
        #[arg(long)]
        space: String,
    },
}

#[derive(Debug, Args)]
pub struct MemberArgs {
    /// The member's address.
    email: String,
    /// The space's slug.
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
    /// Working hours HH:MM-HH:MM on the digest days, e.g. 09:00-17:00 (default: notify.working_hours).
    #[arg(long)]
    hours: Option<String>,
    /// Print the member as JSON.
    #[arg(long)]
    json: bool,
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
    /// Working hours `HH:MM-HH:MM`; null = the server's `notify.working_hours`.
    hours: Option<String>,
    /// Unsubscribed from the space (`unsubscribe SPACE` by mail, or the List-Unsubscribe link): no mail at all.
    unsubscribed: bool,
    /// Space muted (`mute SPACE`): no copies of messages; digests and notices still come.
    muted: bool,
    /// Threads muted one by one (`mute thread N`).
    muted_threads: Vec<i64>,
}

/// What a member's mutes say, from the space's (member id, thread id) mute rows.
fn mail_state(j: &mut MemberJson, member_id: i64, mutes: &[(i64, i64)]) {
    use docket::notify::fanout::{MUTE_SPACE, UNSUBSCRIBED};
    for &(_, thread) in mutes.iter().filter(|(m, _)| *m == member_id) {
        match thread {
            UNSUBSCRIBED => j.unsubscribed = true,
            MUTE_SPACE => j.muted = true,
            t => j.muted_threads.push(t),
        }
    }
    j.muted_threads.sort_unstable();
}

/// The MAIL column of `member list`.
fn mail_column(m: &MemberJson) -> String {
    if m.unsubscribed {
        return "unsubscribed".into();
    }
    let mut parts = Vec::new();
    if m.muted {
        parts.push("space muted".to_string());
    }
    if !m.muted_threads.is_empty() {
        let ids: Vec<String> = m.muted_threads.iter().map(i64::to_string).collect();
        parts.push(format!("muted threads {}", ids.join(",")));
    }
    if parts.is_empty() { "gets mail".into() } else { parts.join("; ") }
}

fn member_json(space: &str, m: Member) -> MemberJson {
    MemberJson {
        unsubscribed: false,
        muted: false,
        muted_threads: Vec::new(),
        space: space.to_string(),
        email: m.email,
        handle: m.handle,
        tz: m.tz,
        delivery: m.delivery,
        digest_time: m.digest_time,
        digest_days: m.digest_days,
        role: m.role,
        hours: m.hours,
    }
}

pub async fn space(app: &App, cmd: SpaceCmd) -> CliResult {
    match cmd {
        SpaceCmd::Add { slug, name, json } => {
            let slug = space::slug(&slug)?;
            let created = app.store.add_space(&slug, name.as_deref().unwrap_or(&slug), app.now().timestamp()).await?;
            let out = SpaceView { address: app.config.space_address(&created.slug), slug: created.slug, name: created.name, members: 0 };
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
                out.push(SpaceView { address: app.config.space_address(&s.slug), slug: s.slug, name: s.name, members });
            }
            if json {
                return print_json(&out);
            }
            if out.is_empty() {
                println!("no spaces yet (create one with `docket space add SLUG`, or try `docket demo`)");
            } else {
                println!("{:<20} {:<28} {:<32} MEMBERS", "SLUG", "NAME", "ADDRESS");
            }
            for s in out {
                println!("{:<20} {:<28} {:<32} {}", s.slug, s.name, s.address, s.members);
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
        a.hours.as_deref(),
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
            let mutes = app.store.mutes(target.id).await?;
            let mut members = Vec::new();
            for m in app.store.members(&target).await? {
                let id = m.id;
                let mut j = member_json(&target.slug, m);
                mail_state(&mut j, id, &mutes);
                members.push(j);
            }
            if json {
                return print_json(&members);
            }
            if members.is_empty() {
                println!("no members in '{}' (add one with `docket member add EMAIL --space {}`)", target.slug, target.slug);
            } else {
                println!(
                    "{:<32} {:<17} {:<20} {:<8} {:<20} {:<11} {:<7} MAIL",
                    "EMAIL", "HANDLE", "TIME ZONE", "DELIVERY", "DIGEST", "HOURS", "ROLE"
                );
            }
            for m in members {
                let digest = format!("{} {}", m.digest_time.as_deref().unwrap_or("(default)"), m.digest_days.as_deref().unwrap_or(""))
                    .trim_end()
                    .to_string();
                println!(
                    "{:<32} @{:<16} {:<20} {:<8} {:<20} {:<11} {:<7} {}",
                    m.email,
                    m.handle,
                    m.tz.as_deref().unwrap_or("(server zone)"),
                    m.delivery,
                    digest,
                    m.hours.as_deref().unwrap_or("(default)"),
                    m.role,
                    mail_column(&m),
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        MemberCmd::Feeds { email, rotate, json } => super::tokens::feeds(app, &email, rotate, json).await,
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

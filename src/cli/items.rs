//! `docket parse`, `decisions`, `tasks`, `proposals` and `tick`: the tag language and its records.

use super::{CliResult, print_json};
use anyhow::Context as _;
use chrono::{DateTime, Utc};
use clap::Args;
use docket::app::App;
use docket::clock::Clock;
use docket::config::{self, Config};
use docket::parse::{mime, reply};
use docket::record;
use docket::store::items::TaskFilter;
use docket::store::states::{ProposalStatus, TaskStatus};
use serde::Serialize;
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct ParseArgs {
    /// The message (.eml); stdin when absent.
    file: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    /// "Now" for relative dates when the message has no Date header (RFC 3339).
    #[arg(long)]
    now: Option<String>,
    /// The sender's time zone (IANA name), instead of their member setting or the Date offset.
    #[arg(long)]
    tz: Option<String>,
    /// Check handles and item refs against this space (nothing is stored).
    #[arg(long)]
    space: Option<String>,
}

#[derive(Debug, Args)]
pub struct DecisionsArgs {
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
pub struct TasksArgs {
    /// Only this space (its slug).
    #[arg(long)]
    space: Option<String>,
    /// Owner's address.
    #[arg(long)]
    owner: Option<String>,
    /// open | done | cancelled
    #[arg(long)]
    status: Option<String>,
    /// Only open tasks past their due time.
    #[arg(long)]
    overdue: bool,
    /// At most N rows (default: all).
    #[arg(long)]
    limit: Option<i64>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct ProposalsArgs {
    /// Only this space (its slug).
    #[arg(long)]
    space: Option<String>,
    /// open | adopted | blocked | withdrawn
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
pub struct TickArgs {
    /// The time to run the scheduler at (RFC 3339); default: the current time (for cron).
    #[arg(long)]
    now: Option<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct DigestArgs {
    /// The member's address: print the digest each of their spaces would send them.
    #[arg(long, value_name = "EMAIL")]
    preview: String,
    /// The time to plan it at (RFC 3339); default now.
    #[arg(long)]
    now: Option<String>,
}

/// docs/cli.md JSON parse result.
#[derive(Debug, Serialize)]
struct ParseJson {
    message_id: Option<String>,
    from: Option<String>,
    subject: String,
    date: Option<DateTime<Utc>>,
    visible_text: String,
    items: Vec<docket::parse::tags::Item>,
    warnings: Vec<String>,
    /// The parts a thread-starting message lacks; [] for a reply.
    nudges: Vec<&'static str>,
}

fn rfc3339(flag: &str, s: &str) -> anyhow::Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .with_context(|| format!("{flag} '{s}' is not an RFC 3339 time like 2026-11-24T09:00:00Z"))
}

pub async fn parse(config: Config, args: ParseArgs) -> CliResult {
    let raw = match &args.file {
        Some(file) => std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?,
        None => {
            let mut raw = Vec::new();
            std::io::stdin().lock().read_to_end(&mut raw)?;
            raw
        }
    };
    let tz = args.tz.as_deref().map(config::time_zone).transpose().map_err(|e| anyhow::anyhow!("--tz: {e}"))?;
    let now = match &args.now {
        Some(s) => rfc3339("--now", s)?,
        None => docket::clock::SystemClock.now(),
    };
    let parsed = mime::parse(&raw);
    let visible = reply::visible_text(parsed.text.as_deref(), parsed.html.as_deref()).text;
    let sender = parsed.from.as_ref().map(|f| f.email.clone());
    let app = match &args.space {
        Some(_) => Some(App::open(config.clone()).await.context("cannot open docket's data")?),
        None => None,
    };
    let mut members = Vec::new();
    let mut space = None;
    if let (Some(app), Some(slug)) = (&app, &args.space) {
        let s = app.store.require_space(slug).await?;
        members = app.store.members(&s).await?;
        space = Some(s);
    }
    let member_tz = members.iter().find(|m| Some(&m.email) == sender.as_ref()).and_then(|m| m.tz.clone());
    let zone_name = tz.map(|t| t.name().to_string()).or(member_tz);
    let dates = record::date_context(&config, zone_name.as_deref(), parsed.date, now);
    let extraction = record::extract(&visible, &parsed.subject, &dates);
    let mut warnings = extraction.warnings.clone();
    if let (Some(app), Some(space)) = (&app, &space) {
        let check = docket::hours::Check {
            members: &members,
            sender: sender.as_deref(),
            sender_tz: tz.unwrap_or_else(|| docket::hours::sender_zone(&members, sender.as_deref(), &config)),
            now: dates.now.timestamp(),
            config: &config,
        };
        warnings.extend(check_against_space(app, space, &check, &extraction.items).await?);
    }
    // A message starts a thread when it names no parent and its subject is no reply (`Re:`).
    let starts_thread = parsed.parents().is_empty() && !docket::thread::base_subject(&parsed.subject).is_reply;
    let nudges = docket::parse::nudges::nudges(&docket::parse::nudges::NudgeInput {
        visible_text: &visible,
        items: &extraction.items,
        starts_thread,
    });
    let out = ParseJson {
        message_id: parsed.message_id.clone(),
        from: sender,
        subject: parsed.subject.clone(),
        date: parsed.date.map(|d| d.with_timezone(&Utc)),
        visible_text: visible,
        items: extraction.items,
        warnings,
        nudges: nudges.iter().map(|n| n.code()).collect(),
    };
    if args.json {
        return print_json(&out);
    }
    println!("{}", out.visible_text);
    println!("──");
    for item in &out.items {
        println!("{}", serde_json::to_string(item)?);
    }
    for w in &out.warnings {
        println!("warning: {w}");
    }
    for n in &nudges {
        println!("nudge: {}", n.line());
    }
    Ok(ExitCode::SUCCESS)
}

/// The warnings `record` would give for unknown handles and refs and for deadlines that leave
/// someone too few working hours, without storing anything.
async fn check_against_space(
    app: &App,
    space: &docket::store::spaces::Space,
    check: &docket::hours::Check<'_>,
    items: &[docket::parse::tags::Item],
) -> anyhow::Result<Vec<String>> {
    use docket::parse::tags::Verb;
    let members = check.members;
    let mut warnings = Vec::new();
    let mut tx = app.store.begin().await?;
    for item in items {
        warnings.extend(check.item(item));
        if let (Some(verb @ (Verb::Due | Verb::Assign)), Some(reference)) = (item.verb, item.target.as_deref())
            && let Ok((docket::store::items::ItemKind::Task, id)) = record::check_ref(&mut tx, space.id, reference).await?
            && let Some(task) = tx.task(id).await?
        {
            warnings.extend(match verb {
                Verb::Due => check.task(task.owner.as_deref(), item.due.map(|d| d.timestamp())),
                _ => check.task(item.owner.as_deref().and_then(|o| record::find_member(members, o)).map(|m| m.email.as_str()), task.due),
            });
        }
        for mention in item.owner.iter().chain(&item.watchers).chain(&item.asked_of) {
            if record::find_member(members, mention).is_none() {
                warnings.push(format!("@{mention} is not a member of {}", space.slug));
            }
        }
        for reference in item.refs.iter().chain(&item.target) {
            if let Err(warning) = record::check_ref(&mut tx, space.id, reference).await? {
                warnings.push(warning);
            }
        }
    }
    drop(tx); // read only: rolled back
    Ok(warnings)
}

pub async fn decisions(app: &App, args: DecisionsArgs) -> CliResult {
    let list = app.store.decisions(args.space.as_deref(), None, args.limit).await?;
    if args.json {
        return print_json(&list);
    }
    if list.is_empty() {
        println!("no decisions yet (write `#decision …` in a reply)");
    } else {
        println!("{:<6} {:<10}  {:<12} {:<10} {:<12} TEXT", "ID", "DECIDED", "SPACE", "STATUS", "TASKS");
    }
    for d in list {
        let tasks = if d.tasks.is_empty() { "-".to_string() } else { d.tasks.join(",") };
        let mut text = d.text.clone();
        if let Some(old) = &d.supersedes {
            text.push_str(&format!(" (supersedes {old})"));
        }
        if let Some(new) = &d.superseded_by {
            text.push_str(&format!(" (superseded by {new})"));
        }
        println!("{:<6} {}  {:<12} {:<10} {:<12} {}", d.id, d.decided_at.format("%Y-%m-%d"), d.space, d.status, tasks, text);
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn tasks(app: &App, args: TasksArgs) -> CliResult {
    let owner = args.owner.as_deref().map(docket::space::email).transpose()?;
    let status = match args.status.as_deref().map(str::parse::<TaskStatus>) {
        Some(Err(e)) => return Err(anyhow::anyhow!("--status must be open, done or cancelled, not '{}'", e.value).into()),
        status => status.and_then(Result::ok),
    };
    let filter = TaskFilter {
        space: args.space,
        owner,
        status,
        overdue_at: args.overdue.then(|| app.now().timestamp()),
        thread_id: None,
        limit: args.limit,
    };
    let list = app.store.tasks(&filter).await?;
    if args.json {
        return print_json(&list);
    }
    if list.is_empty() {
        println!("no tasks match");
    } else {
        println!("{:<6} {:<9} {:<28} {:<22} TITLE", "ID", "STATUS", "OWNER", "DUE");
    }
    for t in list {
        let due = t.due.map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_else(|| "no due date".into());
        println!("{:<6} {:<9} {:<28} {:<22} {}", t.id, t.status, t.owner.as_deref().unwrap_or("(unassigned)"), due, t.title);
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn proposals(app: &App, args: ProposalsArgs) -> CliResult {
    let list = match args.status.as_deref().map(str::parse::<ProposalStatus>) {
        // No proposal is in a state that is not one.
        Some(Err(_)) => Vec::new(),
        status => app.store.proposals(args.space.as_deref(), status.and_then(Result::ok), args.limit).await?,
    };
    if args.json {
        return print_json(&list);
    }
    if list.is_empty() {
        println!("no proposals (write `#propose … by friday` in a reply)");
    } else {
        println!("{:<6} {:<9} {:<20} {:>10}  TEXT", "ID", "STATUS", "CLOSES", "OBJECTIONS");
    }
    for p in list {
        let closes = p.closes_at.map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_else(|| "no closing date".into());
        println!("{:<6} {:<9} {:<20} {:>10}  {}", p.id, p.status, closes, p.objections.len(), p.text);
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn tick(app: &App, args: TickArgs) -> CliResult {
    let now = match &args.now {
        Some(s) => rfc3339("--now", s)?,
        None => app.now(),
    };
    let report = docket::tick::tick(app, now).await?;
    let out = &report.outbound;
    if args.json {
        let adopted: Vec<_> = report.adopted.iter().map(|(p, d)| serde_json::json!({"proposal": p, "decision": d})).collect();
        let defaulted: Vec<_> = report.defaulted.iter().map(|(a, d)| serde_json::json!({"ask": a, "decision": d})).collect();
        let queued: serde_json::Map<String, serde_json::Value> = out.queued.iter().map(|(k, n)| (k.to_string(), (*n).into())).collect();
        return print_json(&serde_json::json!({
            "adopted": adopted,
            "blocked": report.blocked,
            "defaulted": defaulted,
            "expired": report.expired,
            "queued": queued,
            "sent": out.delivery.sent,
            "retrying": out.delivery.retrying,
            "failed": out.delivery.failed,
            "rate_limited": out.delivery.rate_limited,
        }));
    }
    for (kind, n) in &out.queued {
        println!("queued {n} {kind}");
    }
    let d = &out.delivery;
    if d.sent + d.retrying + d.failed > 0 {
        println!("sent {} via {}; {} to retry, {} failed", d.sent, app.mailer.describe(), d.retrying, d.failed);
    }
    if d.rate_limited {
        println!("outbound.max_per_minute reached: the rest goes out at the next tick");
    }
    for (p, d) in &report.adopted {
        println!("{p} adopted as {d}");
    }
    for p in &report.blocked {
        println!("{p} blocked by objections");
    }
    for (a, d) in &report.defaulted {
        println!("{a} unanswered: its default was decided as {d}");
    }
    for a in &report.expired {
        println!("{a} closed unanswered (no default)");
    }
    let changed = !(report.adopted.is_empty() && report.blocked.is_empty() && report.defaulted.is_empty() && report.expired.is_empty());
    if !changed && out.queued.is_empty() && d.sent + d.retrying + d.failed == 0 {
        println!("nothing due at {}", now.to_rfc3339());
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn digest(app: &App, args: DigestArgs) -> CliResult {
    let now = match &args.now {
        Some(s) => rfc3339("--now", s)?,
        None => app.now(),
    };
    let email = docket::space::email(&args.preview)?;
    let previews = docket::notify::jobs::preview(app, &email, now).await?;
    if previews.is_empty() {
        return Err(anyhow::anyhow!("{email} is not a member of any space (see `docket member list --space S`)").into());
    }
    let mut unsubscribed = Vec::new();
    for (member, slug) in app.store.memberships(&email).await? {
        if docket::notify::fanout::unsubscribed(&member, &app.store.mutes(member.space_id).await?) {
            unsubscribed.push(slug);
        }
    }
    for (space, rendered) in previews {
        if unsubscribed.contains(&space) {
            println!("{space}: no digest for {email}: unsubscribed from {space} (mail 'unmute {space}' to the commands address to undo)\n");
            continue;
        }
        match rendered {
            Some((subject, text)) => println!("To: {email}\nSubject: {subject}\n\n{}\n", text.trim_end()),
            None => println!("{space}: no digest for {email} at {} (nothing new, nothing due)\n", now.to_rfc3339()),
        }
    }
    Ok(ExitCode::SUCCESS)
}

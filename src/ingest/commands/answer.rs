//! Runs one command of the commands address for its sender and returns the reply: `help`,
//! `tasks`, `decisions`, `search QUERY`, `digest`, `mute`/`unmute` (a thread or a space),
//! `unsubscribe`. Mutes change here; the reply goes to the sender only, never to an automaton
//! (the stage checks that before).

use super::parse::{Command, Scope};
use crate::app::App;
use crate::space::{local_time, zone};
use crate::store::StoreError;
use crate::store::items::TaskFilter;
use crate::store::spaces::{MUTE_SPACE, Member, UNSUBSCRIBED};

/// The reply to one command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub title: String,
    pub lines: Vec<String>,
    /// `digest`: send the sender's digests now (the outbound run builds them).
    pub send_digest: bool,
}

impl Answer {
    fn new(title: impl Into<String>, lines: Vec<String>) -> Self {
        Answer { title: title.into(), lines, send_digest: false }
    }
}

pub fn help(domain: &str) -> Answer {
    Answer::new(
        "docket commands",
        vec![
            format!("Write to docket@{domain} with one command as the subject or the first line:"),
            "help — this list".into(),
            "tasks — your open tasks".into(),
            "decisions — the latest decisions of your spaces".into(),
            "search WORDS — search the record".into(),
            "digest — send your digest now".into(),
            "mute SPACE / mute thread N — no more copies of that space or thread (unmute to undo)".into(),
            "unsubscribe SPACE — no more mail from that space".into(),
        ],
    )
}

/// Runs a command for `sender` (an address, lower-cased).
pub async fn answer(app: &App, command: &Command, sender: &str, now: i64) -> Result<Answer, StoreError> {
    let domain = &app.config.server.domain;
    let spaces = app.store.memberships(sender).await?;
    let tz = spaces.first().map_or(app.config.server.timezone, |(m, _)| zone(m.tz.as_deref(), app.config.server.timezone));
    let not_member = || Answer::new("Not a member", vec![format!("{sender} is not a member of any space on {domain}.")]);
    Ok(match command {
        Command::Help => help(domain),
        Command::Unknown(what) => {
            let mut a = help(domain);
            a.title = "Unknown command".into();
            a.lines.insert(0, format!("docket did not understand '{what}'."));
            a
        }
        _ if spaces.is_empty() => not_member(),
        Command::Search(query) => search(app, query, &spaces, now).await,
        Command::Tasks => {
            let tasks = app
                .store
                .tasks(&TaskFilter {
                    owner: Some(sender.into()),
                    status: Some(crate::store::states::TaskStatus::Open),
                    ..Default::default()
                })
                .await?;
            let mut lines: Vec<String> = tasks
                .iter()
                .map(|t| {
                    let due = t.due.map_or(String::new(), |d| format!(" — due {}", local_time(d.timestamp(), tz)));
                    let late = if t.due.is_some_and(|d| d.timestamp() <= now) { " (overdue)" } else { "" };
                    format!("{} [{}] {}{due}{late}", t.id, t.space, t.title)
                })
                .collect();
            if lines.is_empty() {
                lines.push("You have no open tasks.".into());
            }
            Answer::new("Your open tasks", lines)
        }
        Command::Decisions => {
            let mut lines = Vec::new();
            for (_, slug) in &spaces {
                for d in app.store.decisions(Some(slug), None, Some(10)).await? {
                    lines.push(format!("{} [{}] {} — {}", d.id, d.space, d.text, local_time(d.decided_at.timestamp(), tz)));
                }
            }
            if lines.is_empty() {
                lines.push("No decisions recorded yet.".into());
            }
            Answer::new("Latest decisions", lines)
        }
        Command::Digest => Answer { send_digest: true, ..Answer::new("Digest", vec!["Your digest follows in a separate mail.".into()]) },
        Command::Mute(scope) | Command::Unmute(scope) => {
            let on = matches!(command, Command::Mute(_));
            mute(app, &spaces, scope, on, now).await?
        }
        Command::Unsubscribe(slug) => {
            let chosen: Vec<&(Member, String)> = spaces.iter().filter(|(_, s)| slug.as_ref().is_none_or(|want| want == s)).collect();
            if chosen.is_empty() {
                return Ok(Answer::new("Unsubscribe", vec![format!("You are not a member of '{}'.", slug.as_deref().unwrap_or(""))]));
            }
            let mut tx = app.store.begin().await?;
            let mut lines = Vec::new();
            for (m, s) in chosen {
                tx.set_mute(m.id, UNSUBSCRIBED, true, now).await?;
                lines.push(format!("You will get no more mail from {s}@{domain}. Write 'unmute {s}' to come back."));
            }
            tx.commit().await?;
            Answer::new("Unsubscribed", lines)
        }
    })
}

/// Most hits in a search answered by mail.
const MAIL_HITS: usize = 10;

/// `search QUERY` by mail: the best hits of the sender's own spaces (never another space's), with
/// links.
async fn search(app: &App, query: &str, spaces: &[(Member, String)], now: i64) -> Answer {
    use crate::index::{SearchOptions, render_text};
    let slugs: Vec<&str> = spaces.iter().map(|(_, slug)| slug.as_str()).collect();
    let opts = SearchOptions { limit: MAIL_HITS, ..Default::default() };
    let hits = match app.index.search_spaces(&app.store, query, &slugs, &opts, now).await {
        Ok(hits) => hits,
        Err(e) if e.is_query() => {
            let syntax = "Use words, \"a phrase\", and filters like from:alice kind:decision status:open after:2026-11-01.";
            return Answer::new("Search", vec![format!("docket could not read the search: {e}"), syntax.into()]);
        }
        Err(e) => {
            tracing::warn!(error = %e, "search by mail failed");
            return Answer::new("Search", vec!["Search is not available right now; please try again later.".into()]);
        }
    };
    let text = render_text(query, &hits, &app.config.http.base_url);
    Answer::new(format!("Search: {query}"), text.lines().map(str::to_string).collect())
}

async fn mute(app: &App, spaces: &[(Member, String)], scope: &Scope, on: bool, now: i64) -> Result<Answer, StoreError> {
    let verb = if on { "Muted" } else { "Unmuted" };
    let (member, thread, what) = match scope {
        Scope::Thread(id) => {
            let Some((space_id, subject)) = app.store.thread_space(*id).await? else {
                return Ok(Answer::new(verb, vec![format!("There is no thread {id}.")]));
            };
            let Some((m, _)) = spaces.iter().find(|(m, _)| m.space_id == space_id) else {
                return Ok(Answer::new(verb, vec![format!("Thread {id} is not in one of your spaces.")]));
            };
            (m, *id, format!("thread {id} ({subject})"))
        }
        Scope::Space(slug) => {
            let found: Vec<&(Member, String)> = spaces.iter().filter(|(_, s)| slug.as_ref().is_none_or(|want| want == s)).collect();
            match found.as_slice() {
                [(m, s)] => (m, MUTE_SPACE, format!("space {s}")),
                [] => return Ok(Answer::new(verb, vec![format!("You are not a member of '{}'.", slug.as_deref().unwrap_or(""))])),
                _ => {
                    let names: Vec<&str> = found.iter().map(|(_, s)| s.as_str()).collect();
                    return Ok(Answer::new(verb, vec![format!("Name the space: you are in {}.", names.join(", "))]));
                }
            }
        }
    };
    let mut tx = app.store.begin().await?;
    tx.set_mute(member.id, thread, on, now).await?;
    if !on && thread == MUTE_SPACE {
        // Unmuting a space also undoes an unsubscribe from it.
        tx.set_mute(member.id, UNSUBSCRIBED, false, now).await?;
    }
    tx.commit().await?;
    let line =
        if on { format!("No more copies of {what}; digests and reminders continue.") } else { format!("Copies of {what} are back on.") };
    Ok(Answer::new(verb, vec![line]))
}

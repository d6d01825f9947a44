//! `/feeds/KEY/decisions.atom` and `/feeds/KEY/tasks.ics`: a member's record for feed readers and
//! calendar apps, opened by the member's feed key (`docket member feeds EMAIL`) instead of a
//! session. A wrong, old (rotated) or foreign key is 404, like a missing page.

mod atom;
mod ics;

use super::WebError;
use crate::app::App;
use crate::identity::api_key;
use crate::store::items::TaskFilter;
use crate::store::spaces::Space;
use crate::store::states::{AskStatus, ProposalStatus, TaskStatus};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

/// Most decisions one Atom feed lists (the newest).
const MAX_ENTRIES: i64 = 100;
/// The date part of every `tag:` URI docket mints (RFC 4151): fixed, so ids never change.
const TAG_DATE: &str = "2026";

pub fn routes() -> Router<App> {
    Router::new().route("/feeds/{key}/decisions.atom", get(decisions)).route("/feeds/{key}/tasks.ics", get(tasks))
}

/// `email`'s feed key (what `docket member feeds` prints), made anew first when `rotate`: the
/// previous key stops working. The address must be a member of some space.
pub async fn member_key(app: &App, email: &str, rotate: bool) -> Result<String, crate::store::StoreError> {
    let current = app.store.feed_generation(email).await?;
    let generation = if rotate { current + 1 } else { current };
    let key = api_key::feed_key(app.secret.bytes(), email, generation);
    app.store.set_feed_key(email, generation, &api_key::hash(&key), app.now().timestamp()).await?;
    Ok(key)
}

/// The feed URLs of a key: (Atom decisions, iCalendar tasks).
pub fn urls(app: &App, key: &str) -> (String, String) {
    let base = base(app);
    (format!("{base}/feeds/{key}/decisions.atom"), format!("{base}/feeds/{key}/tasks.ics"))
}

/// The member a feed key belongs to and their spaces; anything else is 404.
async fn owner(app: &App, key: &str) -> Result<(String, Vec<Space>), WebError> {
    if !api_key::looks_like_feed_key(key) {
        return Err(WebError::NotFound);
    }
    let Some((email, generation)) = app.store.feed_owner(&api_key::hash(key)).await? else {
        return Err(WebError::NotFound);
    };
    // The key must still be the one the secret derives (a changed secret ends old keys too).
    let expected = api_key::feed_key(app.secret.bytes(), &email, generation);
    if !api_key::constant_time_eq(expected.as_bytes(), key.as_bytes()) {
        return Err(WebError::NotFound);
    }
    let spaces = app.store.spaces_of(&email).await?;
    Ok((email, spaces))
}

fn base(app: &App) -> &str {
    app.config.http.base_url.trim_end_matches('/')
}

fn tag(app: &App, what: &str) -> String {
    format!("tag:{},{TAG_DATE}:{what}", app.config.server.domain)
}

async fn decisions(State(app): State<App>, Path(key): Path<String>) -> Result<impl IntoResponse, WebError> {
    let (email, spaces) = owner(&app, &key).await?;
    let mut all = Vec::new();
    for s in &spaces {
        all.extend(app.store.decisions(Some(&s.slug), None, Some(MAX_ENTRIES)).await?);
    }
    all.sort_by(|a, b| b.decided_at.cmp(&a.decided_at).then_with(|| b.id.cmp(&a.id)));
    all.truncate(usize::try_from(MAX_ENTRIES).unwrap_or(usize::MAX));
    let base = base(&app);
    let entries = all
        .iter()
        .map(|d| {
            let mut content = format!("{}\n\nSpace: {}", d.text, d.space);
            if !d.tasks.is_empty() {
                content.push_str(&format!("\nTasks: {}", d.tasks.join(", ")));
            }
            if let Some(goal) = &d.goal {
                content.push_str(&format!("\nGoal: {goal}"));
            }
            atom::Entry {
                id: tag(&app, &format!("decision/{}", d.id)),
                title: format!("{}: {}", d.id, atom::title_of(&d.text, 80)),
                updated: d.decided_at,
                link: format!("{base}/d/{}", d.id),
                author: d.author.clone(),
                content,
            }
        })
        .collect();
    let feed = atom::Feed {
        id: tag(&app, &format!("feed/decisions/{email}")),
        title: format!("Decisions — docket ({email})"),
        updated: all.first().map(|d| d.decided_at).unwrap_or_else(|| spaces_epoch(&spaces)),
        self_url: format!("{base}/feeds/{key}/decisions.atom"),
        alternate: format!("{base}/decisions"),
        entries,
    };
    Ok((
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8"), (header::CACHE_CONTROL, "private, max-age=300")],
        atom::render(&feed),
    ))
}

/// A stable `updated` for a feed without entries: when the newest of the spaces was created.
fn spaces_epoch(spaces: &[Space]) -> chrono::DateTime<chrono::Utc> {
    crate::store::read::to_utc(spaces.iter().map(|s| s.created_at).max().unwrap_or(0))
}

async fn tasks(State(app): State<App>, Path(key): Path<String>) -> Result<impl IntoResponse, WebError> {
    use ics::Value::{Text, Time, Uri};
    let (email, spaces) = owner(&app, &key).await?;
    let base = base(&app);
    let now = app.now();
    let domain = &app.config.server.domain;
    let sees = |slug: &str| spaces.iter().any(|s| s.slug == slug);
    let mut components = Vec::new();
    if !spaces.is_empty() {
        let filter = TaskFilter { owner: Some(email.clone()), status: Some(TaskStatus::Open), ..Default::default() };
        for t in app.store.tasks(&filter).await?.into_iter().filter(|t| sees(&t.space)) {
            let mut properties = vec![
                ("UID", Text(format!("{}@{domain}", t.id))),
                ("DTSTAMP", Time(now)),
                ("CREATED", Time(t.created_at)),
                ("SUMMARY", Text(format!("{}: {}", t.id, t.title))),
            ];
            if let Some(due) = t.due {
                properties.push(("DUE", Time(due)));
            }
            properties.push(("STATUS", Text("NEEDS-ACTION".into())));
            properties.push(("DESCRIPTION", Text(format!("Task {} in {} (docket)", t.id, t.space))));
            properties.push(("URL", Uri(format!("{base}/t/{}#{}", t.thread_id, t.id))));
            components.push(ics::Component { kind: "VTODO", properties });
        }
    }
    // An event at the closing time of an open proposal or ask.
    let closing = |id: &str, closes, summary, description, url| ics::Component {
        kind: "VEVENT",
        properties: vec![
            ("UID", Text(format!("{id}@{domain}"))),
            ("DTSTAMP", Time(now)),
            ("DTSTART", Time(closes)),
            ("SUMMARY", Text(summary)),
            ("DESCRIPTION", Text(description)),
            ("URL", Uri(url)),
        ],
    };
    for s in &spaces {
        for p in app.store.proposals(Some(&s.slug), Some(ProposalStatus::Open), None).await? {
            let Some(closes) = p.closes_at else { continue };
            let id = &p.id;
            let summary = format!("{id} closes: {}", atom::title_of(&p.text, 80));
            let description = format!("Proposal {id} in {}: {}", p.space, p.text);
            components.push(closing(id, closes, summary, description, format!("{base}/t/{}#{id}", p.thread_id)));
        }
        for a in app.store.asks(Some(&s.slug), Some(AskStatus::Open), None).await? {
            let Some(closes) = a.closes_at else { continue };
            let id = &a.id;
            let outcome = a.default.as_deref().map_or("nothing is decided".to_string(), |d| format!("the default is decided: {d}"));
            let summary = format!("{id} needs an answer: {}", atom::title_of(&a.text, 80));
            let description = format!("Ask {id} in {}: {}. Without an answer by then, {outcome}.", a.space, a.text);
            components.push(closing(id, closes, summary, description, format!("{base}/t/{}#{id}", a.thread_id)));
        }
    }
    let body = ics::render(&format!("docket — {email}"), &components);
    Ok(([(header::CONTENT_TYPE, "text/calendar; charset=utf-8"), (header::CACHE_CONTROL, "private, max-age=300")], body))
}

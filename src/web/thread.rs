//! A thread `/t/ID`: each message's visible text (links clickable, `>` quotes set apart), what the
//! reply trimmer removed behind "show quoted text", the mail's own HTML sanitised (re-read from the
//! stored raw message), attachments, the thread's items and the viewer's reply address; and the
//! message's inline `cid:` images at `/t/ID/m/MSG/cid/CID` and its attachments (as downloads) at
//! `/t/ID/m/MSG/a/N`. Only members of the thread's space see
//! any of it; everyone else gets the same 404 as for a thread that does not exist.

use super::home::{When, zone};
use super::{Viewer, WebError, page, sanitize};
use crate::app::App;
use crate::identity::token::{self, ReplySlot};
use crate::store::items::{DecisionView, ProposalView, TaskFilter, TaskView};
use crate::store::read::{AttachmentView, MessageView};
use crate::store::spaces::Space;
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use std::collections::HashMap;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/t/{id}", get(thread))
        .route("/t/{id}/m/{msg}/cid/{cid}", get(inline_image))
        .route("/t/{id}/m/{msg}/a/{n}", get(attachment))
}

/// Inline parts served as images (never SVG, which can carry script).
const IMAGE_TYPES: [&str; 5] = ["image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp"];

/// One message as the page shows it.
#[derive(Debug)]
struct Shown {
    id: i64,
    from: String,
    when: When,
    /// The visible text as HTML (escaped, links, quote blocks).
    text: String,
    /// What the trimmer removed, as HTML, and its summary ("quote (5 lines)").
    removed: Vec<String>,
    removed_summary: String,
    /// The mail's HTML part, sanitised.
    html: Option<String>,
    attachments: Vec<AttachmentView>,
}

#[derive(Template)]
#[template(path = "web/thread.html")]
struct ThreadPage<'a> {
    v: &'a Viewer,
    thread_id: i64,
    space: &'a Space,
    subject: &'a str,
    status: String,
    messages: Vec<Shown>,
    decisions: Vec<DecisionView>,
    tasks: Vec<(TaskView, Option<When>)>,
    proposals: Vec<ProposalView>,
    /// Where the viewer's reply lands in this thread (`SPACE+TOKEN@DOMAIN`).
    reply_to: Option<String>,
}

/// The space of thread `id` if the viewer may see it; 404 otherwise (absent or not theirs).
async fn visible<'v>(app: &App, v: &'v Viewer, id: i64) -> Result<&'v Space, WebError> {
    let (space_id, _) = app.store.thread_space(id).await?.ok_or(WebError::NotFound)?;
    v.spaces.iter().find(|s| s.id == space_id).ok_or(WebError::NotFound)
}

async fn thread(State(app): State<App>, v: Viewer, Path(id): Path<String>) -> Result<Html<String>, WebError> {
    // `/t/abc` is a page that does not exist, not a malformed request.
    let id: i64 = id.parse().map_err(|_| WebError::NotFound)?;
    let space = visible(&app, &v, id).await?;
    let tz = zone(&app, &v).await?;
    let t = app.store.thread(id, app.config.threads.loop_rounds as i64).await?;
    let raws: HashMap<i64, Vec<u8>> = app.store.thread_raw(id).await?.into_iter().collect();
    let messages = t
        .messages
        .unwrap_or_default()
        .into_iter()
        .map(|m| {
            let raw = raws.get(&m.id).map(Vec::as_slice);
            shown(id, m, raw, tz)
        })
        .collect();
    let decisions = app.store.decisions(None, Some(id), None).await?;
    let tasks = app.store.tasks(&TaskFilter { thread_id: Some(id), ..Default::default() }).await?;
    let tasks = tasks.into_iter().map(|t| (t.due.map(|d| When::new(d, tz)), t)).map(|(d, t)| (t, d)).collect();
    let proposals = app.store.thread_proposals(id).await?;
    let reply_to = app.store.member(space.id, &v.email).await?.map(|m| {
        let t = token::sign(app.secret.bytes(), ReplySlot { thread_id: id, member_id: m.id });
        format!("{}+{t}@{}", space.slug, app.config.server.domain)
    });
    page(&ThreadPage {
        v: &v,
        thread_id: id,
        space,
        subject: &t.subject,
        status: t.status.to_string(),
        messages,
        decisions,
        tasks,
        proposals,
        reply_to,
    })
}

fn shown(thread: i64, m: MessageView, raw: Option<&[u8]>, tz: chrono_tz::Tz) -> Shown {
    let from = match (&m.from_name, &m.from) {
        (Some(name), Some(addr)) if !name.trim().is_empty() => format!("{name} <{addr}>"),
        (_, Some(addr)) => addr.clone(),
        (Some(name), None) => name.clone(),
        (None, None) => "(unknown sender)".into(),
    };
    let html = raw.and_then(|raw| mail_html(thread, m.id, raw));
    Shown {
        id: m.id,
        from,
        when: When::new(m.date, tz),
        text: sanitize::text_html(&m.visible_text),
        removed: m.removed.iter().map(|r| sanitize::text_html(&r.text)).collect(),
        removed_summary: if m.removed.is_empty() { String::new() } else { m.removed_summary() },
        html,
        attachments: m.attachments,
    }
}

/// The sanitised HTML part of a stored message, if it has one.
fn mail_html(thread: i64, message: i64, raw: &[u8]) -> Option<String> {
    // Most mail is plain text: only a message that names text/html is parsed again.
    if !raw.windows(9).any(|w| w.eq_ignore_ascii_case(b"text/html")) {
        return None;
    }
    let (_, html) = crate::parse::mime::bodies(raw);
    let clean = sanitize::mail_html(&html?, &format!("/t/{thread}/m/{message}/cid/"));
    (!clean.trim().is_empty()).then_some(clean)
}

/// An attachment, always as a download (`Content-Disposition: attachment`), never rendered in
/// the page's origin: a mailed HTML or SVG file cannot run as docket.
async fn attachment(State(app): State<App>, v: Viewer, Path((id, msg, n)): Path<(String, String, String)>) -> Result<Response, WebError> {
    let (Ok(id), Ok(msg), Ok(n)) = (id.parse::<i64>(), msg.parse::<i64>(), n.parse::<usize>()) else {
        return Err(WebError::NotFound);
    };
    visible(&app, &v, id).await?;
    let raw = app.store.message_raw(id, msg).await?.ok_or(WebError::NotFound)?;
    let (name, kind, bytes) = crate::parse::mime::attachment_part(&raw, n).ok_or(WebError::NotFound)?;
    let name = name.unwrap_or_else(|| format!("attachment-{}", n + 1));
    // RFC 6266: an ASCII fallback name and the UTF-8 one, percent-encoded.
    let ascii: String = name.chars().map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' }).collect();
    let encoded: String = name
        .bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect();
    let disposition = format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}");
    let kind = if kind.contains(['\r', '\n']) { "application/octet-stream".to_string() } else { kind };
    Ok((
        [
            (header::CONTENT_TYPE, kind),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "private, max-age=86400".to_string()),
        ],
        bytes,
    )
        .into_response())
}

async fn inline_image(
    State(app): State<App>,
    v: Viewer,
    Path((id, msg, cid)): Path<(String, String, String)>,
) -> Result<Response, WebError> {
    let (Ok(id), Ok(msg)) = (id.parse::<i64>(), msg.parse::<i64>()) else {
        return Err(WebError::NotFound);
    };
    visible(&app, &v, id).await?;
    let raw = app.store.message_raw(id, msg).await?.ok_or(WebError::NotFound)?;
    let (kind, bytes) = crate::parse::mime::inline_part(&raw, &cid).ok_or(WebError::NotFound)?;
    if !IMAGE_TYPES.contains(&kind.as_str()) {
        return Err(WebError::NotFound);
    }
    Ok(([(header::CONTENT_TYPE, kind), (header::CACHE_CONTROL, "private, max-age=86400".to_string())], bytes).into_response())
}

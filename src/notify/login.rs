//! The web door's sign-in mail: a single-use link, rendered like every generated mail and queued
//! in the same transaction that records its token (hashed), so it is durable and the mailer sends
//! it with the rest. A few links per address per 15 minutes; more ask for nothing new.

use super::render::{self, Envelope, Model};
use super::{Kind, NotifyError};
use crate::app::App;
use crate::store::outbound::NewOutbound;
use chrono::{DateTime, Utc};

/// How long a link works.
pub const LINK_SECS: i64 = 15 * 60;
/// Links mailed to one address within `LINK_SECS`; a request beyond is answered the same and
/// mails nothing.
pub const MAX_LINKS: i64 = 3;

/// What a sign-in request did (the visitor is told the same either way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mailed {
    Queued,
    /// Too many links for this address lately: nothing new was sent.
    Limited,
}

/// Queues the sign-in mail for member `email` carrying `link` (whose token's hash is `hash`).
pub async fn queue(app: &App, email: &str, hash: &str, link: &str, now: DateTime<Utc>) -> Result<Mailed, NotifyError> {
    let ts = now.timestamp();
    if app.store.login_tokens_since(email, ts - LINK_SECS).await? >= MAX_LINKS {
        return Ok(Mailed::Limited);
    }
    let mail = mail(app, email, hash, link, now)?;
    let mut tx = app.store.begin().await?;
    tx.create_login_token(hash, email, ts, ts + LINK_SECS).await?;
    tx.enqueue(&mail, ts).await?;
    tx.commit().await?;
    Ok(Mailed::Queued)
}

/// The rendered sign-in mail.
fn mail(app: &App, email: &str, hash: &str, link: &str, now: DateTime<Utc>) -> Result<NewOutbound, render::RenderError> {
    let domain = &app.config.server.domain;
    let from = if app.config.outbound.from.is_empty() {
        format!("{}@{domain}", crate::identity::address::COMMANDS)
    } else {
        app.config.outbound.from.clone()
    };
    let model = Model {
        title: "Sign in to docket".into(),
        intro: vec![format!("Someone (we hope you) asked to sign in to docket as {email}. Open this link to do so:")],
        // The login template prints the link (as text, and as the HTML part's button).
        item: link.to_string(),
        ..Default::default()
    };
    let envelope = Envelope {
        from_name: "docket".into(),
        from: from.clone(),
        to: email.to_string(),
        to_name: None,
        reply_to: None,
        subject: "Your docket sign-in link".into(),
        in_reply_to: None,
        references: Vec::new(),
        headers: Vec::new(),
    };
    Ok(NewOutbound {
        raw: render::mail(Kind::Login, envelope, &model, domain, now)?,
        dedup_key: format!("login:{hash}"),
        kind: Kind::Login.as_str().into(),
        space_id: None,
        recipient: email.to_string(),
        mail_from: from,
    })
}

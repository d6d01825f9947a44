//! `docket demo`: a sample space with members in three zones and a short, realistic conversation,
//! fed through the real pipeline so a newcomer sees output at once.

use crate::app::App;
use crate::ingest::{self, Envelope, InboundMessage, IngestError, Source};
use crate::space::MemberSettings;
use crate::store::StoreError;
use chrono::{DateTime, Duration, Utc};

pub const SLUG: &str = "demo";

const MEMBERS: &[(&str, &str, &str)] = &[
    ("alice@example.com", "alice", "Europe/Berlin"),
    ("bob@example.com", "bob", "America/New_York"),
    ("carol@example.com", "carol", "Asia/Tokyo"),
];

/// Minutes before now, from, message-id, in-reply-to, subject, body.
type DemoMail = (i64, &'static str, &'static str, Option<&'static str>, &'static str, &'static str);

const CONVERSATION: &[DemoMail] = &[
    (
        300,
        "Alice <alice@example.com>",
        "launch-1@demo.example",
        None,
        "Launch date for the v2 beta",
        "Hi all,\n\nWe need to pick the beta launch date. Options are Dec 3 or Dec 10.\nDec 3 is tight for the docs.\n\nAlice\n",
    ),
    (
        240,
        "Bob <bob@example.com>",
        "launch-2@demo.example",
        Some("launch-1@demo.example"),
        "Re: Launch date for the v2 beta",
        "Dec 10 works for me, the migration guide needs another pass.\n\nOn Tue, Alice <alice@example.com> wrote:\n> We need to pick the beta launch date. Options are Dec 3 or Dec 10.\n",
    ),
    (
        180,
        "Carol <carol@example.com>",
        "launch-3@demo.example",
        Some("launch-2@demo.example"),
        "Re: Launch date for the v2 beta",
        "Agreed on Dec 10.\n\n#decision Beta launches on Dec 10.\n#action Finish the migration guide @bob due Dec 8\n\n> Dec 10 works for me, the migration guide needs another pass.\n",
    ),
    (
        120,
        "Alice <alice@example.com>",
        "launch-4@demo.example",
        Some("launch-3@demo.example"),
        "Re: Launch date for the v2 beta",
        "Great, I'll tell support.\n\n-- \nAlice, product\n",
    ),
    (
        60,
        "Bob <bob@example.com>",
        "oncall-1@demo.example",
        None,
        "On-call rota for December",
        "I drafted the December rota; please check your weeks by Friday.\n\nBob\n",
    ),
];

#[derive(Debug)]
pub struct DemoReport {
    pub created: bool,
    pub stored: usize,
}

/// Creates the demo space (once) and feeds the conversation through `ingest::accept`.
pub async fn run(app: &App) -> Result<DemoReport, IngestError> {
    let now = app.now();
    let (space, created) = match app.store.space(SLUG).await? {
        Some(space) => (space, false),
        None => (app.store.add_space(SLUG, "Demo team", now.timestamp()).await?, true),
    };
    // The conversation is dated from the space's creation, not from now: a second run feeds the
    // very same bytes, which the store recognises as re-deliveries, so nothing changes.
    let anchor = DateTime::from_timestamp(space.created_at, 0).unwrap_or(now);
    for (email, handle, tz) in MEMBERS {
        if app.store.member(space.id, email).await?.is_none() {
            let settings = MemberSettings { tz: tz.parse().ok(), ..MemberSettings::default() };
            match app.store.add_member(&space, email, handle, &settings, now.timestamp()).await {
                Ok(_) | Err(StoreError::Conflict(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    let mut stored = 0;
    for (ago, from, id, parent, subject, body) in CONVERSATION {
        let raw = message(&app.config.space_address(SLUG), anchor - Duration::minutes(*ago), from, id, *parent, subject, body);
        let envelope = Envelope { mail_from: None, rcpt_to: vec![app.config.space_address(SLUG)] };
        // Stored as history (like an import): the sample addresses are never written to.
        if let ingest::Outcome::Stored(_) =
            ingest::accept(app, InboundMessage { raw, envelope, source: Source::Import }, Some(SLUG)).await?
        {
            stored += 1;
        }
    }
    Ok(DemoReport { created, stored })
}

fn message(to: &str, date: DateTime<Utc>, from: &str, id: &str, parent: Option<&str>, subject: &str, body: &str) -> Vec<u8> {
    let mut headers = format!("From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: {}\r\nMessage-ID: <{id}>\r\n", date.to_rfc2822());
    if let Some(parent) = parent {
        headers.push_str(&format!("In-Reply-To: <{parent}>\r\nReferences: <{parent}>\r\n"));
    }
    headers.push_str("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n");
    let body = body.replace('\n', "\r\n");
    [headers.into_bytes(), body.into_bytes()].concat()
}

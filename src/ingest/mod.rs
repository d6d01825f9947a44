//! Intake: one function from raw bytes + envelope to a stored message, shared by every door (SMTP,
//! LMTP, the MTA pipe `ingest`, archive `import`). The raw message is committed first; parsing,
//! threading and the message row follow in a second transaction, so a crash in between loses
//! nothing (`recover` finishes such deliveries).

pub mod budget;
pub mod commands;
pub mod import;
pub mod intake;
pub mod lmtp;
pub mod pipe;
pub mod refusal;
pub mod session;
pub mod smtp;

// Identity lives below ingest and notify (`crate::identity`); the old paths stay valid.
pub use crate::identity::{address, auth, policy, token};

use crate::app::App;
use crate::config::Config;
use crate::parse::mime::{self, Flag, ParsedMail};
use crate::parse::{nudges, reply};
use crate::record::{self, Recorded};
use crate::store::StoreError;
use crate::store::messages::{NewInbound, NewMessage, RawInsert, Tx};
use crate::store::spaces::{Member, Space};
use crate::thread;
use sha2::{Digest, Sha256};

/// A message as it arrived, before anything is known about it.
#[derive(Debug, Clone)]
pub struct InboundMessage {
    pub raw: Vec<u8>,
    pub envelope: Envelope,
    pub source: Source,
}

/// SMTP envelope (RFC 5321 §2.3.1); empty for pipes and archives.
#[derive(Debug, Clone, Default)]
pub struct Envelope {
    pub mail_from: Option<String>,
    pub rcpt_to: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Smtp,
    Lmtp,
    Pipe,
    Import,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Smtp => "smtp",
            Source::Lmtp => "lmtp",
            Source::Pipe => "pipe",
            Source::Import => "import",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Stored(StoredMessage),
    /// The same message was stored before; nothing changed.
    Duplicate {
        space: String,
    },
    /// Kept but not posted (docs/mail-flow.md sender policy): `docket quarantine` lists it.
    Quarantined {
        space: String,
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    pub id: i64,
    pub thread_id: i64,
    pub space: String,
    pub flags: Vec<Flag>,
    /// Items created or changed by its tags, and the warnings about them.
    pub recorded: Recorded,
}

/// What storing into one space needs besides the message: the space, its members, the config.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub space: &'a Space,
    pub members: &'a [Member],
    pub config: &'a Config,
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("empty message: nothing to store")]
    Empty,
    #[error("message is {size} bytes, over the limit of {max} (smtp.max_message_bytes)")]
    TooLarge { size: u64, max: u64 },
    #[error("no recipient names a space of {domain} (SLUG@{domain}); pass --space SLUG")]
    NoSpace { domain: String },
    #[error("no space '{0}' (create it with `docket space add {0}`)")]
    UnknownSpace(String),
    #[error("{0}")]
    Store(#[from] StoreError),
    /// `security.require_dkim` or `security.dmarc`, and the check cannot run now.
    #[error("{0}")]
    AuthUnavailable(String),
}

impl IngestError {
    /// Trying again later may work (the store is down, locked or full).
    pub fn is_temporary(&self) -> bool {
        matches!(self, IngestError::Store(e) if e.is_temporary()) || matches!(self, IngestError::AuthUnavailable(_))
    }

    /// sysexits(3) code for the MTA pipe: 65 bad data, 67 unknown recipient, 70 internal error,
    /// 75 try again later. Only a store that cannot take the message *now* is 75: an MTA retries
    /// a 75 for days, and a permanent error would come back every time.
    pub fn exit_code(&self) -> u8 {
        match self {
            IngestError::Empty | IngestError::TooLarge { .. } => 65,
            IngestError::NoSpace { .. } | IngestError::UnknownSpace(_) => 67,
            IngestError::Store(StoreError::Unavailable(_)) | IngestError::AuthUnavailable(_) => 75,
            // This message does not fit what is stored (a conflict, a missing row).
            IngestError::Store(StoreError::NotFound(_) | StoreError::Conflict(_)) => 65,
            // A query or migration that fails whatever the timing: docket or its database is broken.
            IngestError::Store(StoreError::Query(_) | StoreError::Migrate(_)) => 70,
        }
    }
}

/// Pure preparation: parse, visible text, dedup key and content hash. The decoded text and HTML
/// bodies (`parsed.text`, `parsed.html`) are dropped once the visible text is made: nothing after
/// needs them (the raw message stays in `inbound`), and a queued message should not hold its
/// body three times over.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub parsed: ParsedMail,
    pub visible: String,
    /// What the visible text left out (stored with the message for "show quoted text").
    pub removed: Vec<reply::Removed>,
    pub dedup_key: String,
    pub content_hash: String,
}

pub fn prepare(raw: &[u8]) -> Prepared {
    let mut parsed = mime::parse(raw);
    let reply::Visible { text: visible, removed } = reply::visible_text(parsed.text.take().as_deref(), parsed.html.take().as_deref());
    let content_hash = content_hash(raw);
    let dedup_key = match &parsed.message_id {
        Some(id) => format!("mid:{id}"),
        None => format!("hash:{content_hash}"),
    };
    Prepared { parsed, visible, removed, dedup_key, content_hash }
}

/// `prepare` on tokio's blocking pool: parsing and trimming up to `max_message_bytes` of mail is
/// CPU work that would otherwise stall every session and timer sharing the runtime thread.
pub async fn prepare_off_runtime(raw: Vec<u8>) -> (Vec<u8>, Prepared) {
    match tokio::task::spawn_blocking(move || {
        let prepared = prepare(&raw);
        (raw, prepared)
    })
    .await
    {
        Ok(done) => done,
        // The parse panicked (a mail-parser bug): resume the panic where it would have happened.
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

/// The sender policy's verdict on one delivery into a space whose members are `members`
/// (docs/mail-flow.md), the same for every door that takes live mail.
pub fn sender_verdict(
    app: &App,
    mail_from: Option<&str>,
    prepared: &Prepared,
    members: &[Member],
    token_member: Option<&str>,
    auth: &auth::Verdicts,
) -> policy::Verdict {
    let from = prepared.parsed.from.as_ref().map(|f| f.email.as_str()).unwrap_or_default();
    let facts = policy::Facts {
        mail_from,
        parsed: &prepared.parsed,
        from_is_member: members.iter().any(|m| m.email.eq_ignore_ascii_case(from)),
        token_member,
        accept_from: app.config.security.accept_from,
        domain: &app.config.server.domain,
        auth: auth.dkim.as_ref(),
    };
    policy::judge(&facts, auth.dmarc.as_ref())
}

/// The DKIM verdict on a message when `security.require_dkim` asks for one.
pub async fn authenticate(app: &App, raw: &[u8], parsed: &ParsedMail) -> Option<auth::Authentication> {
    let security = &app.config.security;
    match security.require_dkim {
        true => Some(auth::authenticate(&app.dkim, security.trusted_authserv_id.as_deref(), raw, parsed).await),
        false => None,
    }
}

/// The sender checks live mail needs: DKIM with `security.require_dkim`, DMARC with
/// `security.dmarc` unless `dmarc_exempt` (every recipient is a valid reply token). `client` is
/// what the door knows of the sending host.
pub async fn authenticate_sender(app: &App, raw: &[u8], parsed: &ParsedMail, client: &auth::Client, dmarc_exempt: bool) -> auth::Verdicts {
    let security = &app.config.security;
    let checks = auth::Checks { dkim: security.require_dkim, dmarc: security.dmarc && !dmarc_exempt };
    if checks == auth::Checks::default() {
        return auth::Verdicts::default();
    }
    auth::check(&app.dkim, security.trusted_authserv_id.as_deref(), raw, parsed, client, checks).await
}

/// Accepts one message end to end: checks, raw commit, then parse/thread/store.
pub async fn accept(app: &App, msg: InboundMessage, space: Option<&str>) -> Result<Outcome, IngestError> {
    let client = auth::Client { ip: None, helo: None, mail_from: msg.envelope.mail_from.clone() };
    accept_from(app, msg, space, &client).await
}

/// `accept`, knowing the sending host (`client`, for SPF): the pipe when the MTA passes it.
pub async fn accept_from(app: &App, msg: InboundMessage, space: Option<&str>, client: &auth::Client) -> Result<Outcome, IngestError> {
    let _timer = crate::metrics::ingest_timer();
    check_size(app, &msg.raw)?;
    let prepared = prepare(&msg.raw);
    let space = resolve_space(app, space, &msg.envelope, &prepared.parsed).await?;
    // Live mail passes the sender policy; archives are history and are taken as they are.
    let held = match msg.source {
        Source::Import => None,
        _ => hold(app, &msg, &prepared, &space, client).await?,
    };
    let now = app.now().timestamp();
    let rcpt = serde_json::to_string(&msg.envelope.rcpt_to).unwrap_or_else(|_| "[]".into());
    let mut tx = app.store.begin().await?;
    let logged = tx.insert_inbound(&inbound_row(&space, &prepared, &msg, &rcpt, now)).await?;
    if let (RawInsert::Inserted(id), Some(reason)) = (&logged, &held) {
        tx.quarantine(*id, reason.code(), &reason.describe()).await?;
        if let Some(to) = prepared.parsed.from.as_ref().filter(|_| reason.notify_sender()) {
            tx.insert_notice(space.id, &to.email.to_ascii_lowercase(), reason.code(), &reason.describe(), *id, now).await?;
        }
    }
    tx.commit().await?; // durable from here on: 250 / exit 0 may be answered
    let RawInsert::Inserted(inbound_id) = logged else {
        return Ok(Outcome::Duplicate { space: space.slug });
    };
    if let Some(reason) = held {
        return Ok(Outcome::Quarantined { space: space.slug, reason: reason.describe() });
    }
    let Some(stored) = process_logged(app, &space, inbound_id, &prepared, &msg.envelope.rcpt_to, now).await? else {
        return Ok(Outcome::Duplicate { space: space.slug });
    };
    tracing::debug!(msg.id = stored.id, thread.id = stored.thread_id, "stored");
    Ok(Outcome::Stored(stored))
}

/// Why live mail from a pipe is held back, if it is. A pipe cannot refuse with an SMTP code, so
/// what the SMTP door would reject is quarantined (nothing is lost; a human sender is told once),
/// except a DKIM or DMARC check that cannot run now: the MTA keeps the message and retries.
async fn hold(
    app: &App,
    msg: &InboundMessage,
    prepared: &Prepared,
    space: &Space,
    client: &auth::Client,
) -> Result<Option<policy::Reason>, IngestError> {
    let members = app.store.members(space).await?;
    let token_member = reply_slot(app, space, &msg.envelope.rcpt_to)
        .and_then(|slot| members.iter().find(|m| m.id == slot.member_id))
        .map(|m| m.email.as_str());
    // SPF needs the client's address: a pipe has it only when the MTA passes it (`--client-address`).
    let auth = authenticate_sender(app, &msg.raw, &prepared.parsed, client, token_member.is_some()).await;
    match sender_verdict(app, msg.envelope.mail_from.as_deref(), prepared, &members, token_member, &auth) {
        policy::Verdict::Accept => Ok(None),
        policy::Verdict::Reject(policy::Reason::AuthUnavailable(why)) => Err(IngestError::AuthUnavailable(why)),
        policy::Verdict::Quarantine(reason) | policy::Verdict::Reject(reason) => Ok(Some(reason)),
    }
}

/// Threads and stores a delivery whose raw message is already committed; None when it was
/// processed already. A failure that is not temporary marks the delivery failed (the raw message
/// stays, `docket check` shows it).
pub async fn process_logged(
    app: &App,
    space: &Space,
    inbound_id: i64,
    prepared: &Prepared,
    rcpt_to: &[String],
    now: i64,
) -> Result<Option<StoredMessage>, IngestError> {
    let members = app.store.members(space).await?;
    let target = Target { space, members: &members, config: &app.config };
    let token = reply_slot(app, space, rcpt_to).map(|slot| slot.thread_id);
    let mut tx = app.store.begin().await?;
    if !tx.claim_inbound(inbound_id).await? {
        return Ok(None);
    }
    match store_prepared(&mut tx, &target, inbound_id, prepared, token, now).await {
        Ok(stored) => {
            tx.commit().await?;
            Ok(Some(stored))
        }
        Err(e) => {
            drop(tx);
            if !e.is_temporary() {
                app.store.mark_inbound_failed(inbound_id, &e.to_string()).await?;
            }
            Err(e.into())
        }
    }
}

/// Raw bytes read back from the store per page by `recover` and the overflow sweep: a backlog of
/// large messages is read a few at a time, not 64 or 128 whole messages at once.
pub(crate) const PAGE_BYTES: u64 = 16 * 1024 * 1024;

/// Finishes deliveries whose raw message was committed but not processed (a crash in between).
pub async fn recover(app: &App) -> Result<usize, IngestError> {
    let (mut done, mut after) = (0, 0);
    // Page by page: a long backlog never sits in memory whole.
    while let Some(page) = Some(app.store.unprocessed_inbound(after, 64, PAGE_BYTES).await?).filter(|p| !p.is_empty()) {
        for (inbound_id, space_id, raw, rcpt_to) in page {
            after = inbound_id;
            let space = app.store.space_by_id(space_id).await?;
            let rcpt_to: Vec<String> = serde_json::from_str(&rcpt_to).unwrap_or_default();
            let (_, prepared) = prepare_off_runtime(raw).await;
            match process_logged(app, &space, inbound_id, &prepared, &rcpt_to, app.now().timestamp()).await {
                Ok(Some(_)) => done += 1,
                Ok(None) => {}
                Err(e) if e.is_temporary() => return Err(e),
                // Marked failed; the other pending deliveries still get their turn.
                Err(e) => tracing::warn!(inbound.id = inbound_id, error = %e, "could not process a logged delivery"),
            }
        }
    }
    if done > 0 {
        tracing::info!(count = done, "recovered logged deliveries");
    }
    Ok(done)
}

pub fn check_size(app: &App, raw: &[u8]) -> Result<(), IngestError> {
    let max = app.config.smtp.max_message_bytes;
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err(IngestError::Empty);
    }
    if raw.len() as u64 > max {
        return Err(IngestError::TooLarge { size: raw.len() as u64, max });
    }
    Ok(())
}

pub fn inbound_row<'a>(space: &Space, p: &'a Prepared, msg: &'a InboundMessage, rcpt: &'a str, now: i64) -> NewInbound<'a> {
    NewInbound {
        space_id: space.id,
        dedup_key: &p.dedup_key,
        content_hash: &p.content_hash,
        raw: &msg.raw,
        source: msg.source.as_str(),
        mail_from: msg.envelope.mail_from.as_deref(),
        rcpt_to: rcpt,
        received_at: now,
    }
}

/// The reply slot named by a verified `SPACE+TOKEN@DOMAIN` recipient of `space`, if any.
pub fn reply_slot(app: &App, space: &Space, rcpt_to: &[String]) -> Option<token::ReplySlot> {
    rcpt_to.iter().find_map(|r| match address::classify(r, &app.config.server.domain) {
        address::Recipient::Reply { slug, token } if slug == space.slug => token::verify(app.secret.bytes(), &token),
        _ => None,
    })
}

/// Threads and stores a logged delivery inside `tx`, and marks the delivery stored. `token_thread`
/// is the thread a verified reply token names; it wins over headers when it is a thread of the space.
pub async fn store_prepared(
    tx: &mut Tx,
    target: &Target<'_>,
    inbound_id: i64,
    p: &Prepared,
    token_thread: Option<i64>,
    received_at: i64,
) -> Result<StoredMessage, StoreError> {
    let space = target.space;
    let m = &p.parsed;
    let base = thread::base_subject(&m.subject);
    let date_header = m.date.map(|d| d.timestamp());
    // A Date more than a day ahead of arrival is not believed for ordering (the header stays).
    let date = date_header.filter(|d| *d > 0 && *d <= received_at + 86_400).unwrap_or(received_at);
    let subject_key = base.is_reply.then(|| (base.key.as_str(), date - thread::SUBJECT_WINDOW_SECS));
    let parents = m.parents();
    let candidates = tx.thread_candidates(space.id, m.message_id.as_deref(), &parents, subject_key, token_thread).await?;
    let assignment = thread::assign(&candidates);
    let new_thread = assignment.thread == thread::Target::New;
    let thread_id = match assignment.thread {
        thread::Target::Existing(id) => id,
        thread::Target::New => tx.create_thread(space.id, &base.display, &base.key, date).await?,
    };
    tx.merge_threads(thread_id, &assignment.merge).await?;
    let flags: Vec<&str> = m.flags.iter().map(|f| f.as_str()).collect();
    let flags_json = serde_json::to_string(&flags).unwrap_or_else(|_| "[]".into());
    let id = tx
        .insert_message(&NewMessage {
            space_id: space.id,
            thread_id,
            inbound_id,
            message_id: m.message_id.as_deref(),
            from_addr: m.from.as_ref().map(|f| f.email.as_str()),
            from_name: m.from.as_ref().and_then(|f| f.name.as_deref()),
            subject: &m.subject,
            date,
            base: &base,
            visible_text: &p.visible,
            removed: &p.removed,
            flags: &flags_json,
            parents: &parents,
            attachments: &m.attachments,
        })
        .await?;
    let sender = m.from.as_ref().map(|f| f.email.as_str());
    let member_tz = target.members.iter().find(|mb| Some(mb.email.as_str()) == sender).and_then(|mb| mb.tz.as_deref());
    let fallback = chrono::DateTime::from_timestamp(received_at, 0).unwrap_or_default();
    let dates = record::date_context(target.config, member_tz, m.date, fallback);
    let extraction = record::extract(&p.visible, &m.subject, &dates);
    let ctx = record::Context {
        space,
        members: target.members,
        thread_id,
        message_id: id,
        sender,
        at: date,
        subject: &m.subject,
        has_text: !p.visible.trim().is_empty(),
        config: target.config,
    };
    let recorded = record::record(tx, &ctx, &extraction).await?;
    // Nudges are for a message that starts a thread of its own: not a reply by token, header or Re:.
    let starts_thread = new_thread && token_thread.is_none() && parents.is_empty() && !base.is_reply;
    let nudges = nudges::nudges(&nudges::NudgeInput { visible_text: &p.visible, items: &extraction.items, starts_thread });
    tx.save_nudges(id, &nudges.iter().map(|n| n.code()).collect::<Vec<_>>()).await?;
    tx.mark_inbound(inbound_id, crate::store::states::InboundState::Stored, None).await?;
    Ok(StoredMessage { id, thread_id, space: space.slug.clone(), flags: m.flags.clone(), recorded })
}

/// The space a message is for: the one named, else the first recipient of this server's domain
/// (envelope, then Delivered-To/X-Original-To, To, Cc) whose local part (before `+`) is a space.
pub async fn resolve_space(app: &App, named: Option<&str>, envelope: &Envelope, parsed: &ParsedMail) -> Result<Space, IngestError> {
    if let Some(slug) = named {
        return app.store.space(slug).await?.ok_or_else(|| IngestError::UnknownSpace(slug.to_string()));
    }
    let domain = &app.config.server.domain;
    let addresses = envelope
        .rcpt_to
        .iter()
        .map(|a| a.to_ascii_lowercase())
        .chain(parsed.delivered_to.iter().cloned())
        .chain(parsed.to.iter().chain(&parsed.cc).map(|m| m.email.clone()));
    for address in addresses {
        let Some((local, host)) = address.rsplit_once('@') else { continue };
        if !host.eq_ignore_ascii_case(domain) {
            continue;
        }
        let slug = local.split('+').next().unwrap_or(local);
        if let Some(space) = app.store.space(slug).await? {
            return Ok(space);
        }
    }
    Err(IngestError::NoSpace { domain: domain.clone() })
}

/// SHA-256 over the message without trace headers (which differ per relay hop) and with line
/// endings normalised, so the same message relayed twice, by pipe or by SMTP, has one hash.
pub fn content_hash(raw: &[u8]) -> String {
    const TRACE: &[&str] = &[
        "received",
        "return-path",
        "delivered-to",
        "x-original-to",
        "authentication-results",
        "arc-seal",
        "arc-message-signature",
        "arc-authentication-results",
        "x-spam-status",
        "x-spam-score",
        "x-spam-checker-version",
    ];
    let mut hasher = Sha256::new();
    let mut in_headers = true;
    let mut skipping = false;
    for line in raw.split(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if in_headers {
            if line.is_empty() {
                in_headers = false;
            } else if line[0] == b' ' || line[0] == b'\t' {
                if skipping {
                    continue;
                }
            } else {
                let name = line.split(|b| *b == b':').next().unwrap_or(b"");
                skipping = TRACE.iter().any(|t| name.eq_ignore_ascii_case(t.as_bytes()));
                if skipping {
                    continue;
                }
            }
        }
        hasher.update(line);
        hasher.update(b"\n");
    }
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 11: a prepared message holds its visible text, not the decoded bodies as well (a
    /// queued 40 MiB message held its text three times over, and stored it twice).
    #[test]
    fn prepare_keeps_the_visible_text_and_drops_the_bodies() {
        let p = prepare(
            b"From: a@x\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\n\
Content-Type: text/plain\r\n\r\nhello there\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>hello there</p>\r\n--b--\r\n",
        );
        assert_eq!(p.visible.trim(), "hello there");
        assert_eq!((p.parsed.text, p.parsed.html), (None, None));
    }

    #[test]
    fn content_hash_ignores_trace_headers_and_line_endings() {
        let a = content_hash(b"Received: from a\r\n  by b\r\nFrom: x@y\r\n\r\nbody\r\n");
        let b = content_hash(b"Received: from c\nReturn-Path: <z@w>\nFrom: x@y\n\nbody\n");
        assert_eq!(a, b);
        assert_ne!(a, content_hash(b"From: x@y\n\nother body\n"));
    }
}

//! The outbound seam and the only lettre user: composes generated mail (lettre's builder does the
//! MIME and RFC 2047 work) and hands finished bytes to a relay (`outbound.smtp_url`) or, with no
//! relay configured, to a Maildir under `DATA_DIR/outbox/` that any mail client can open.

use super::render::RenderError;
use crate::config::Config;
use chrono::{DateTime, Utc};
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::{Address, AsyncTransport, Message, Tokio1Executor};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How long one SMTP conversation with the relay may take.
const RELAY_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum MailerError {
    #[error("outbound.smtp_url: {0} (expected smtp://host:port, smtp://user:pass@host:587?tls=required or smtps://host:465)")]
    BadRelay(String),
}

/// Why a hand-over failed: a temporary failure is retried later, a permanent one (a 5xx reply
/// from the relay, an address it refuses) is not.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    #[error("temporary: {0}")]
    Temporary(String),
    #[error("permanent: {0}")]
    Permanent(String),
}

/// SMTP envelope of one outgoing mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// MAIL FROM.
    pub from: String,
    /// RCPT TO.
    pub to: String,
}

pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<(), SendError>> + Send + 'a>>;

/// Where finished mail goes. `App` holds one as `Arc<dyn Mailer>`.
pub trait Mailer: Send + Sync + std::fmt::Debug {
    fn send<'a>(&'a self, envelope: &'a Envelope, raw: &'a [u8]) -> SendFuture<'a>;
    /// For logs and `docket check`: `smtp relay.example.org:587`, `outbox /var/lib/docket/outbox`.
    fn describe(&self) -> String;
}

/// The mailer the configuration asks for.
pub fn from_config(config: &Config) -> Result<Arc<dyn Mailer>, MailerError> {
    Ok(match &config.outbound.smtp_url {
        Some(url) => Arc::new(SmtpRelay::new(url, &config.server.domain)?),
        None => Arc::new(Maildir::new(config.server.data_dir.join("outbox"))),
    })
}

/// An SMTP relay through lettre: `smtp://` plain, `?tls=required` STARTTLS, `smtps://` TLS;
/// credentials from the URL's user info.
#[derive(Clone)]
pub struct SmtpRelay {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    describe: String,
}

impl std::fmt::Debug for SmtpRelay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpRelay").field("relay", &self.describe).finish()
    }
}

impl SmtpRelay {
    pub fn new(url: &str, hello: &str) -> Result<Self, MailerError> {
        let transport: AsyncSmtpTransport<Tokio1Executor> = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| MailerError::BadRelay(e.to_string()))?
            .hello_name(lettre::transport::smtp::extension::ClientId::Domain(hello.to_string()))
            .timeout(Some(RELAY_TIMEOUT))
            .build();
        Ok(SmtpRelay { transport, describe: format!("smtp {}", crate::store::redact(url)) })
    }
}

impl Mailer for SmtpRelay {
    fn send<'a>(&'a self, envelope: &'a Envelope, raw: &'a [u8]) -> SendFuture<'a> {
        Box::pin(async move {
            let env = lettre_envelope(envelope)?;
            match self.transport.send_raw(&env, raw).await {
                Ok(_) => Ok(()),
                // RFC 5321 §4.2.1: 5yz is a permanent failure, 4yz and lost connections are not.
                Err(e) if e.is_permanent() => Err(SendError::Permanent(e.to_string())),
                Err(e) => Err(SendError::Temporary(e.to_string())),
            }
        })
    }

    fn describe(&self) -> String {
        self.describe.clone()
    }
}

fn lettre_envelope(e: &Envelope) -> Result<lettre::address::Envelope, SendError> {
    let bad = |what: &str, a: &str| SendError::Permanent(format!("{what} address '{a}' is not valid"));
    let from = if e.from.is_empty() { None } else { Some(e.from.parse::<Address>().map_err(|_| bad("sender", &e.from))?) };
    let to = e.to.parse::<Address>().map_err(|_| bad("recipient", &e.to))?;
    lettre::address::Envelope::new(from, vec![to]).map_err(|err| SendError::Permanent(err.to_string()))
}

/// A Maildir (new/cur/tmp): each mail is written to tmp, synced, then renamed into new, so a
/// reader never sees half a message.
#[derive(Debug, Clone)]
pub struct Maildir {
    dir: PathBuf,
}

static DELIVERIES: AtomicU64 = AtomicU64::new(0);

impl Maildir {
    pub fn new(dir: PathBuf) -> Self {
        Maildir { dir }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The trace headers a local delivery agent adds (as Postfix `local` does), so whoever opens
    /// the outbox sees whom each file is for: `Return-Path` (MAIL FROM), `Delivered-To` and
    /// `X-Original-To` (RCPT TO). Line breaks in an address could forge headers: they are dropped.
    fn trace(envelope: &Envelope) -> String {
        let clean = |s: &str| s.chars().filter(|c| !c.is_control()).collect::<String>();
        let (from, to) = (clean(&envelope.from), clean(&envelope.to));
        format!("Return-Path: <{from}>\r\nDelivered-To: {to}\r\nX-Original-To: {to}\r\n")
    }

    fn write(&self, raw: &[u8]) -> std::io::Result<()> {
        use std::io::Write;
        for sub in ["tmp", "new", "cur"] {
            std::fs::create_dir_all(self.dir.join(sub))?;
        }
        let mut random = [0u8; 8];
        getrandom::fill(&mut random).map_err(std::io::Error::other)?;
        let unique: String = random.iter().map(|b| format!("{b:02x}")).collect();
        let n = DELIVERIES.fetch_add(1, Ordering::Relaxed);
        let name = format!("{}.P{}Q{n}R{unique}.docket", std::process::id(), n);
        let tmp = self.dir.join("tmp").join(&name);
        {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(raw)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, self.dir.join("new").join(&name))
    }
}

impl Mailer for Maildir {
    fn send<'a>(&'a self, envelope: &'a Envelope, raw: &'a [u8]) -> SendFuture<'a> {
        Box::pin(async move {
            let this = self.clone();
            let raw = [Maildir::trace(envelope).as_bytes(), raw].concat();
            match tokio::task::spawn_blocking(move || this.write(&raw)).await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(SendError::Temporary(format!("cannot write to the outbox {}: {e}", self.dir.display()))),
                Err(e) => Err(SendError::Temporary(e.to_string())),
            }
        })
    }

    fn describe(&self) -> String {
        format!("outbox {}", self.dir.display())
    }
}

/// A generated mail, before MIME.
#[derive(Debug, Clone)]
pub struct Draft {
    pub from_name: String,
    pub from: String,
    pub to_name: Option<String>,
    pub to: String,
    pub reply_to: Option<String>,
    pub subject: String,
    /// Without angle brackets.
    pub message_id: String,
    pub date: DateTime<Utc>,
    /// Without angle brackets.
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    /// Extra headers (`List-Id`, `X-Loop` …), values already in their wire form (ASCII).
    pub headers: Vec<(&'static str, String)>,
    pub text: String,
    pub html: String,
}

/// multipart/alternative with a text and an HTML part; every generated mail carries
/// `Auto-Submitted: auto-generated` (RFC 3834 §5) so that no responder answers it.
pub fn compose(d: &Draft) -> Result<Vec<u8>, RenderError> {
    let mailbox = |name: Option<&str>, addr: &str| -> Result<Mailbox, RenderError> {
        let address = addr.parse::<Address>().map_err(|_| RenderError::Address(addr.to_string()))?;
        Ok(Mailbox::new(name.filter(|n| !n.is_empty()).map(|n| crate::display::line(n).into_owned()), address))
    };
    let mut b = Message::builder()
        .from(mailbox(Some(&d.from_name), &d.from)?)
        .to(mailbox(d.to_name.as_deref(), &d.to)?)
        // A subject comes from a stranger's mail: no control character reaches a reader's client.
        .subject(crate::display::line(&d.subject).into_owned())
        .message_id(Some(format!("<{}>", d.message_id)))
        .date(std::time::SystemTime::from(d.date));
    if let Some(r) = &d.reply_to {
        b = b.reply_to(mailbox(None, r)?);
    }
    if let Some(parent) = &d.in_reply_to {
        b = b.in_reply_to(format!("<{parent}>"));
    }
    if !d.references.is_empty() {
        let refs: Vec<String> = d.references.iter().map(|r| format!("<{r}>")).collect();
        b = b.references(refs.join(" "));
    }
    b = b.raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("Auto-Submitted"), "auto-generated".into()));
    for (name, value) in &d.headers {
        b = b.raw_header(HeaderValue::new(HeaderName::new_from_ascii_str(name), value.clone()));
    }
    let body = MultiPart::alternative()
        .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(d.text.clone()))
        .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(d.html.clone()));
    let message = b.multipart(body).map_err(|e| RenderError::Message(e.to_string()))?;
    Ok(message.formatted())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn relay_urls() {
        assert!(SmtpRelay::new("smtp://127.0.0.1:2525", "docket.test").is_ok());
        assert!(SmtpRelay::new("smtp://user:pa%20ss@relay.example.org:587?tls=required", "docket.test").is_ok());
        assert!(SmtpRelay::new("smtps://relay.example.org:465", "docket.test").is_ok());
        assert!(SmtpRelay::new("smtp://relay.example.org?tls=sometimes", "docket.test").is_err());
        let r = SmtpRelay::new("smtp://user:secret@relay.example.org:587?tls=required", "docket.test").unwrap();
        assert!(!r.describe().contains("secret"), "{}", r.describe());
    }

    #[test]
    fn compose_encodes_non_ascii_and_marks_auto_generated() {
        let d = Draft {
            from_name: "Jürgen via eng".into(),
            from: "eng@docket.test".into(),
            to_name: Some("Zoë".into()),
            to: "zoe@example.org".into(),
            reply_to: Some("eng+abc@docket.test".into()),
            subject: "Reminder: T-1 Übersetzung prüfen".into(),
            message_id: "docket.x.1@docket.test".into(),
            date: DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
            in_reply_to: Some("parent@example.org".into()),
            references: vec!["root@example.org".into(), "parent@example.org".into()],
            headers: vec![("X-Loop", "eng@docket.test".into())],
            text: "Grüße <b>".into(),
            html: "<p>Gr&uuml;&szlig;e &lt;b&gt;</p>".into(),
        };
        let raw = String::from_utf8(compose(&d).unwrap()).unwrap();
        assert!(raw.is_ascii(), "headers and bodies are encoded: {raw}");
        assert!(raw.contains("Auto-Submitted: auto-generated\r\n"), "{raw}");
        assert!(raw.contains("Message-ID: <docket.x.1@docket.test>\r\n"), "{raw}");
        assert!(raw.contains("References: <root@example.org> <parent@example.org>"), "{raw}");
        assert!(raw.contains("Subject: Reminder: T-1 =?utf-8?b?"), "{raw}");
        assert!(raw.contains("multipart/alternative"), "{raw}");
        let parsed = crate::parse::mime::parse(raw.as_bytes());
        assert_eq!(parsed.subject, "Reminder: T-1 Übersetzung prüfen");
        assert_eq!(parsed.from.and_then(|f| f.name).as_deref(), Some("Jürgen via eng"));
        assert_eq!(parsed.text.as_deref().map(str::trim_end), Some("Grüße <b>"));
    }

    #[test]
    fn control_characters_never_reach_subject_or_title() {
        let model = crate::notify::render::Model { title: "Loop: \u{1b}]0;pwned\u{7}".into(), ..Default::default() };
        let e = crate::notify::render::Envelope {
            from_name: "eng\u{1b}[2J".into(),
            from: "eng@docket.test".into(),
            to: "zoe@example.org".into(),
            to_name: None,
            reply_to: None,
            subject: "Re: \u{1b}]0;pwned\u{7}\u{9b}2J".into(),
            in_reply_to: None,
            references: Vec::new(),
            headers: Vec::new(),
        };
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let raw = crate::notify::render::mail(crate::notify::Kind::Loop, e, &model, "docket.test", now).unwrap();
        let parsed = crate::parse::mime::parse(&raw);
        assert_eq!(parsed.subject, "Re: ␛]0;pwned␇\\u{9b}2J");
        assert_eq!(parsed.from.and_then(|f| f.name).as_deref(), Some("eng␛[2J"));
        let html = parsed.html.unwrap_or_default();
        assert!(html.contains("<title>Loop: ␛]0;pwned␇</title>"), "{html}");
        assert!(!parsed.text.unwrap_or_default().contains('\u{1b}'));
    }

    #[tokio::test]
    async fn maildir_writes_through_tmp_into_new() {
        let dir = tempfile::tempdir().unwrap();
        let m = Maildir::new(dir.path().join("outbox"));
        let env = Envelope { from: "docket@docket.test".into(), to: "a@example.org".into() };
        m.send(&env, b"Subject: x\r\n\r\nhi\r\n").await.unwrap();
        m.send(&env, b"Subject: y\r\n\r\nhi\r\n").await.unwrap();
        let new: Vec<_> = std::fs::read_dir(dir.path().join("outbox/new")).unwrap().map(|e| e.unwrap().path()).collect();
        assert_eq!(new.len(), 2);
        for file in &new {
            let raw = std::fs::read_to_string(file).unwrap();
            assert!(
                raw.starts_with(
                    "Return-Path: <docket@docket.test>\r\nDelivered-To: a@example.org\r\nX-Original-To: a@example.org\r\nSubject: "
                ),
                "issue 12: the outbox names each file's recipient: {raw}"
            );
        }
        assert_eq!(std::fs::read_dir(dir.path().join("outbox/tmp")).unwrap().count(), 0);
        assert!(dir.path().join("outbox/cur").is_dir());
    }
}

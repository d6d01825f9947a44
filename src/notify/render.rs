//! Generated mail, rendered: a `Model` (title, paragraphs, sections of rows, warnings) goes
//! through the kind's askama templates in `templates/mail/` — a text part and an HTML part that
//! escapes everything it prints — and `mailer::compose` makes the MIME message. A mail that
//! cannot be rendered is a `RenderError`; its `Plan` (envelope and model) is kept as JSON in the
//! `unrendered` table and rendered again at every tick.

use super::Kind;
use super::mailer::{self, Draft};
use askama::Template;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Why a generated mail could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("template {template}: {source}")]
    Template { template: &'static str, source: askama::Error },
    /// An address lettre cannot hold (RFC 5321 §4.5.3.1: a local part over 64 octets, …).
    #[error("'{0}' is not an address")]
    Address(String),
    #[error("cannot build the message: {0}")]
    Message(String),
    #[error("{0} mail is not rendered from a template")]
    NotTemplated(&'static str),
    #[error("the kept plan cannot be read: {0}")]
    Plan(String),
}

/// One item of a list: `T-4 Write the guide` / `owner bob, due Fri 17:00`, then any further
/// lines (a digest's excerpts), a link (a digest thread's reply address) and the reply that undoes
/// it (receipts).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    pub label: String,
    pub text: String,
    pub detail: String,
    /// Shown one per line under the detail, as written (leading spaces kept).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<Link>,
    /// A second line: the reply that undoes the item (receipts).
    #[serde(default)]
    pub undo: String,
}

/// `Reply: eng+TOKEN@DOMAIN`: the text part shows `label: text`, the HTML part `label: ` and a
/// link to `href` reading `text`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub label: String,
    pub text: String,
    /// A URI we built (`mailto:…`, `https://…`), never one taken from mail.
    pub href: String,
}

impl Row {
    pub fn new(label: impl Into<String>, text: impl Into<String>, detail: impl Into<String>) -> Self {
        Row { label: label.into(), text: text.into(), detail: detail.into(), ..Default::default() }
    }

    pub fn lines(mut self, lines: Vec<String>) -> Self {
        self.lines = lines;
        self
    }

    pub fn link(mut self, link: Link) -> Self {
        self.link = Some(link);
        self
    }

    /// A row with its undo line (empty: none).
    pub fn with_undo(self, undo: impl Into<String>) -> Self {
        Row { undo: undo.into(), ..self }
    }

    /// A row with nothing to show: a paragraph break (a blank line), never a bare "- ".
    pub fn is_blank(&self) -> bool {
        self.label.is_empty() && self.text.trim().is_empty() && self.detail.is_empty() && self.lines.is_empty() && self.link.is_none()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section {
    pub heading: String,
    pub rows: Vec<Row>,
}

/// What a generated mail says; every kind's templates read the same fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Model {
    pub title: String,
    pub intro: Vec<String>,
    pub sections: Vec<Section>,
    pub warnings: Vec<String>,
    pub footer: Vec<String>,
    /// The item the mail is about (`T-4`, `P-2`), for the kind's hint line.
    pub item: String,
    /// A proposal still open (objections possible).
    pub open: bool,
    /// Rounds of a looping thread.
    pub count: i64,
}

impl Model {
    /// Adds a list of rows under `heading` (empty: no heading, as in a command's answer, whose
    /// title is the mail's own).
    pub fn section(&mut self, heading: &str, rows: Vec<Row>) {
        if !rows.is_empty() {
            self.sections.push(Section { heading: heading.into(), rows });
        }
    }
}

macro_rules! templates {
    ($($text:ident, $html:ident, $txt:literal, $htm:literal;)*) => {
        $(
            #[derive(Template)]
            #[template(path = $txt)]
            struct $text<'a> {
                m: &'a Model,
            }
            #[derive(Template)]
            #[template(path = $htm)]
            struct $html<'a> {
                m: &'a Model,
            }
        )*
    };
}

templates! {
    ReceiptText, ReceiptHtml, "mail/receipt.txt", "mail/receipt.html";
    ReminderText, ReminderHtml, "mail/reminder.txt", "mail/reminder.html";
    ProposalText, ProposalHtml, "mail/proposal.txt", "mail/proposal.html";
    LoopText, LoopHtml, "mail/loop.txt", "mail/loop.html";
    DigestText, DigestHtml, "mail/digest.txt", "mail/digest.html";
    CommandText, CommandHtml, "mail/command.txt", "mail/command.html";
    NoticeText, NoticeHtml, "mail/notice.txt", "mail/notice.html";
    LoginText, LoginHtml, "mail/login.txt", "mail/login.html";
    AskText, AskHtml, "mail/ask.txt", "mail/ask.html";
}

/// The text and HTML parts of a model for a kind.
pub fn parts(kind: Kind, m: &Model) -> Result<(String, String), RenderError> {
    let both = |text: askama::Result<String>, html: askama::Result<String>| -> Result<(String, String), RenderError> {
        let text = text.map_err(|source| RenderError::Template { template: "text", source })?;
        let html = html.map_err(|source| RenderError::Template { template: "html", source })?;
        Ok((text, html))
    };
    match kind {
        Kind::Receipt => both(ReceiptText { m }.render(), ReceiptHtml { m }.render()),
        Kind::Reminder => both(ReminderText { m }.render(), ReminderHtml { m }.render()),
        Kind::Proposal => both(ProposalText { m }.render(), ProposalHtml { m }.render()),
        Kind::Loop => both(LoopText { m }.render(), LoopHtml { m }.render()),
        Kind::Digest => both(DigestText { m }.render(), DigestHtml { m }.render()),
        Kind::Notice => both(NoticeText { m }.render(), NoticeHtml { m }.render()),
        Kind::Command => both(CommandText { m }.render(), CommandHtml { m }.render()),
        Kind::Login => both(LoginText { m }.render(), LoginHtml { m }.render()),
        Kind::Ask => both(AskText { m }.render(), AskHtml { m }.render()),
        // A copy is the author's own message with list headers (`fanout::copy`), never rendered.
        Kind::Fanout => Err(RenderError::NotTemplated(kind.as_str())),
    }
}

/// Addressing of one generated mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    pub from_name: String,
    pub from: String,
    pub to: String,
    pub to_name: Option<String>,
    pub reply_to: Option<String>,
    pub subject: String,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    /// Extra headers, named from [`HEADERS`].
    #[serde(with = "header_names")]
    pub headers: Vec<(&'static str, String)>,
}

/// The extra headers generated mail may carry (a kept plan names only these).
pub const HEADERS: [&str; 4] = ["List-Id", "List-Unsubscribe", "List-Unsubscribe-Post", "X-Loop"];

/// Header names as text in a kept plan, read back as the names of [`HEADERS`].
mod header_names {
    use serde::{Deserialize, Deserializer, Serialize, Serializer, de::Error};

    pub fn serialize<S: Serializer>(headers: &[(&'static str, String)], s: S) -> Result<S::Ok, S::Error> {
        headers.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(&'static str, String)>, D::Error> {
        let raw: Vec<(String, String)> = Vec::deserialize(d)?;
        raw.into_iter()
            .map(|(name, value)| match super::HEADERS.iter().find(|h| h.eq_ignore_ascii_case(&name)) {
                Some(h) => Ok((*h, value)),
                None => Err(D::Error::custom(format!("unknown header '{name}'"))),
            })
            .collect()
    }
}

/// A generated mail before rendering: what the `unrendered` table keeps (as JSON) for a mail
/// that could not be rendered, to render it again later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub envelope: Envelope,
    pub model: Model,
}

impl Plan {
    pub fn to_json(&self) -> String {
        // Strings, vectors and options only: serialising cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(json: &str) -> Result<Plan, RenderError> {
        serde_json::from_str(json).map_err(|e| RenderError::Plan(e.to_string()))
    }
}

/// A unique Message-ID on our domain; `docket.` marks it as ours for loop detection.
pub fn message_id(kind: Kind, domain: &str) -> String {
    let mut random = [0u8; 10];
    // Without randomness (never on a working system) the id is still unique enough per process.
    if getrandom::fill(&mut random).is_err() {
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        random[..8].copy_from_slice(&N.fetch_add(1, std::sync::atomic::Ordering::Relaxed).to_be_bytes());
    }
    let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
    format!("docket.{}.{hex}@{domain}", kind.as_str())
}

/// Renders and composes a generated mail dated `now`.
pub fn mail(kind: Kind, e: Envelope, m: &Model, domain: &str, now: DateTime<Utc>) -> Result<Vec<u8>, RenderError> {
    let (text, html) = parts(kind, m)?;
    let mut headers = e.headers;
    headers.push(("X-Docket-Kind", kind.as_str().to_string()));
    mailer::compose(&Draft {
        from_name: e.from_name,
        from: e.from,
        to_name: e.to_name,
        to: e.to,
        reply_to: e.reply_to,
        subject: e.subject,
        message_id: message_id(kind, domain),
        date: now,
        in_reply_to: e.in_reply_to,
        references: e.references,
        headers,
        text,
        html,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped_and_text_is_not() {
        let mut m = Model { title: "Recorded: <T-1> & more".into(), item: "T-1".into(), ..Default::default() };
        m.section("Tasks", vec![Row::new("T-1", "Fix <script>alert(1)</script>", "owner \"bob\"")]);
        m.warnings.push("could not understand 'whenever' as a date".into());
        for kind in [Kind::Receipt, Kind::Reminder, Kind::Proposal, Kind::Loop, Kind::Digest, Kind::Command, Kind::Notice, Kind::Ask] {
            let (text, html) = parts(kind, &m).unwrap();
            assert!(text.contains("Fix <script>alert(1)</script>"), "{kind:?}: {text}");
            assert!(html.contains("Fix &#60;script&#62;") || html.contains("Fix &lt;script&gt;"), "{kind:?}: {html}");
            assert!(!html.contains("<script>"), "{kind:?}");
            assert!(text.contains("whenever"), "{kind:?}");
        }
    }

    #[test]
    fn issue12_a_list_without_heading_shows_the_title_once_and_blank_rows_as_blank_lines() {
        let mut m = Model { title: "Search: budget".into(), ..Default::default() };
        let lines = ["1 result for: budget", "", "1. [eng] Budget (message, 2026-11-24)", "   https://x/t/1"];
        m.section("", lines.iter().map(|l| Row::new("", *l, "")).collect());
        let (text, html) = parts(Kind::Command, &m).unwrap();
        assert_eq!(text.matches("Search: budget").count(), 1, "{text}");
        assert!(text.starts_with("Search: budget\n\n- 1 result for: budget\n\n- 1. [eng]"), "{text}");
        assert!(!text.lines().any(|l| l.trim() == "-"), "{text}");
        assert_eq!(html.matches("Search: budget").count(), 2, "<title> and <h1> only: {html}");
        assert!(!html.contains("<h2") && !html.contains("<li style=\"margin:0 0 6px;\"></li>"), "{html}");
    }

    #[test]
    fn issue11_a_kept_plan_reads_back_as_written() {
        let mut model = Model { title: "Reminder".into(), item: "T-1".into(), count: 3, ..Default::default() };
        model.section("Task", vec![Row::new("T-1", "Write it", "due Fri")]);
        let envelope = Envelope {
            from_name: "eng via docket".into(),
            from: "docket@docket.test".into(),
            to: "alice@example.org".into(),
            to_name: None,
            reply_to: Some("eng+t@docket.test".into()),
            subject: "Reminder: T-1".into(),
            in_reply_to: Some("m1@example.org".into()),
            references: vec!["m1@example.org".into()],
            headers: vec![("List-Id", "Engineering <eng.docket.test>".into()), ("X-Loop", "eng@docket.test".into())],
        };
        let plan = Plan { envelope, model };
        assert_eq!(Plan::from_json(&plan.to_json()).unwrap(), plan);
        let forged = plan.to_json().replace("X-Loop", "Bcc");
        assert!(matches!(Plan::from_json(&forged), Err(RenderError::Plan(e)) if e.contains("unknown header 'Bcc'")));
    }

    #[test]
    fn message_ids_are_unique_and_ours() {
        let a = message_id(Kind::Digest, "docket.test");
        assert_ne!(a, message_id(Kind::Digest, "docket.test"));
        assert!(crate::identity::policy::is_own_message_id(&a, "docket.test"), "{a}");
    }
}

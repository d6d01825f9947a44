//! Generated mail, rendered: a `Model` (title, paragraphs, sections of rows, warnings) goes
//! through the kind's askama templates in `templates/mail/` — a text part and an HTML part that
//! escapes everything it prints — and `mailer::compose` makes the MIME message.

use super::Kind;
use super::mailer::{self, Draft, MailerError};
use askama::Template;
use chrono::{DateTime, Utc};

/// One line of a list: `T-4 Write the guide` / `owner bob, due Fri 17:00`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Row {
    pub label: String,
    pub text: String,
    pub detail: String,
}

impl Row {
    pub fn new(label: impl Into<String>, text: impl Into<String>, detail: impl Into<String>) -> Self {
        Row { label: label.into(), text: text.into(), detail: detail.into() }
    }

    /// A row with nothing to show: a paragraph break (a blank line), never a bare "- ".
    pub fn is_blank(&self) -> bool {
        self.label.is_empty() && self.text.trim().is_empty() && self.detail.is_empty()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Section {
    pub heading: String,
    pub rows: Vec<Row>,
}

/// What a generated mail says; every kind's templates read the same fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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
}

/// The text and HTML parts of a model for a kind.
pub fn parts(kind: Kind, m: &Model) -> Result<(String, String), MailerError> {
    let r = |r: askama::Result<String>| r.map_err(|e| MailerError::Compose(e.to_string()));
    Ok(match kind {
        Kind::Receipt => (r(ReceiptText { m }.render())?, r(ReceiptHtml { m }.render())?),
        Kind::Reminder => (r(ReminderText { m }.render())?, r(ReminderHtml { m }.render())?),
        Kind::Proposal => (r(ProposalText { m }.render())?, r(ProposalHtml { m }.render())?),
        Kind::Loop => (r(LoopText { m }.render())?, r(LoopHtml { m }.render())?),
        Kind::Digest => (r(DigestText { m }.render())?, r(DigestHtml { m }.render())?),
        Kind::Notice => (r(NoticeText { m }.render())?, r(NoticeHtml { m }.render())?),
        Kind::Command => (r(CommandText { m }.render())?, r(CommandHtml { m }.render())?),
        // A copy is the author's own message with list headers (`fanout::copy`), never rendered.
        Kind::Fanout => return Err(MailerError::Compose("fan-out copies are not rendered".into())),
    })
}

/// Addressing of one generated mail.
#[derive(Debug, Clone)]
pub struct Envelope {
    pub from_name: String,
    pub from: String,
    pub to: String,
    pub to_name: Option<String>,
    pub reply_to: Option<String>,
    pub subject: String,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    pub headers: Vec<(&'static str, String)>,
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
pub fn mail(kind: Kind, e: Envelope, m: &Model, domain: &str, now: DateTime<Utc>) -> Result<Vec<u8>, MailerError> {
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
        for kind in [Kind::Receipt, Kind::Reminder, Kind::Proposal, Kind::Loop, Kind::Digest, Kind::Command, Kind::Notice] {
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
    fn message_ids_are_unique_and_ours() {
        let a = message_id(Kind::Digest, "docket.test");
        assert_ne!(a, message_id(Kind::Digest, "docket.test"));
        assert!(crate::ingest::policy::is_own_message_id(&a, "docket.test"), "{a}");
    }
}

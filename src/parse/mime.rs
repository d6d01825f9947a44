//! MIME parsing: raw bytes → `ParsedMail` (headers, addresses, date, text/HTML bodies, attachment
//! metadata). Lenient: anything mail-parser cannot read becomes a flag, never an error. This is the
//! only module that calls mail-parser (0.11; 1.0 needs a newer compiler), so the upgrade touches one file.

use chrono::{DateTime, FixedOffset, TimeZone};
use mail_parser::{Address, HeaderValue, MessageParser, MimeHeaders, PartType};
use serde::Serialize;

/// A mailbox: display name and lower-cased address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mailbox {
    pub name: Option<String>,
    pub email: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttachmentMeta {
    pub filename: Option<String>,
    pub content_type: String,
    pub size: u64,
}

/// What was odd about a message; stored with it so nothing is silently papered over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    /// mail-parser could not find a header section at all; the bytes are kept as text.
    Unparseable,
    NoMessageId,
    NoFrom,
    NoDate,
    /// A Date header that is not a valid RFC 5322 date.
    BadDate,
    /// Non-ASCII bytes in headers (RFC 6532 allows UTF-8; anything else is decoded lossily).
    EightBitHeaders,
    /// A body part whose bytes are not valid in its declared charset (decoded lossily).
    BadCharset,
}

impl Flag {
    pub fn as_str(self) -> &'static str {
        match self {
            Flag::Unparseable => "unparseable",
            Flag::NoMessageId => "no_message_id",
            Flag::NoFrom => "no_from",
            Flag::NoDate => "no_date",
            Flag::BadDate => "bad_date",
            Flag::EightBitHeaders => "eight_bit_headers",
            Flag::BadCharset => "bad_charset",
        }
    }
}

/// The parsed form of one message. Message-IDs are normalised without angle brackets.
#[derive(Debug, Clone, Default)]
pub struct ParsedMail {
    pub message_id: Option<String>,
    /// In-Reply-To ids, in header order.
    pub in_reply_to: Vec<String>,
    /// References ids, oldest first (RFC 5322 §3.6.4).
    pub references: Vec<String>,
    pub from: Option<Mailbox>,
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    /// Delivered-To / X-Original-To, as written by the delivering MTA.
    pub delivered_to: Vec<String>,
    pub subject: String,
    pub date: Option<DateTime<FixedOffset>>,
    /// The real text/plain body (never converted from HTML).
    pub text: Option<String>,
    /// The text/html body.
    pub html: Option<String>,
    pub attachments: Vec<AttachmentMeta>,
    /// Headers the sender policy reads (RFC 3834 and loop detection).
    pub auto_submitted: Option<String>,
    pub precedence: Option<String>,
    pub x_loop: Vec<String>,
    /// Authentication-Results header values (RFC 8601), newest first as written.
    pub auth_results: Vec<String>,
    pub received_count: usize,
    pub is_report: bool,
    pub flags: Vec<Flag>,
}

impl ParsedMail {
    /// The parent chain, nearest parent first: In-Reply-To, then References newest to oldest,
    /// without repeats or self-references. JWZ takes the last References entry as the parent and
    /// falls back to In-Reply-To; putting In-Reply-To first agrees whenever both are present.
    pub fn parents(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let chain = self.in_reply_to.iter().chain(self.references.iter().rev());
        for id in chain {
            if Some(id) != self.message_id.as_ref() && !out.contains(id) {
                out.push(id.clone());
            }
        }
        out
    }

    /// Text for reading when there is no text part: the HTML converted (mail-parser's converter).
    pub fn text_or_html(&self) -> Option<String> {
        self.text.clone().or_else(|| self.html.as_deref().map(mail_parser::decoders::html::html_to_text))
    }
}

/// Parses a message leniently. Never fails: what cannot be read is flagged.
pub fn parse(raw: &[u8]) -> ParsedMail {
    let mut out = ParsedMail::default();
    let parsed = if looks_like_message(raw) { MessageParser::default().parse(raw) } else { None };
    let Some(message) = parsed.filter(|m| !m.headers().is_empty()) else {
        out.flags.push(Flag::Unparseable);
        out.text = Some(String::from_utf8_lossy(raw).into_owned());
        for flag in [Flag::NoMessageId, Flag::NoFrom, Flag::NoDate] {
            out.flags.push(flag);
        }
        return out;
    };

    out.message_id = message.message_id().and_then(normalise_id);
    out.in_reply_to = ids(message.in_reply_to());
    out.references = ids(message.references());
    out.from = message.from().and_then(|a| mailboxes(a).into_iter().next());
    out.to = message.to().map(mailboxes).unwrap_or_default();
    out.cc = message.cc().map(mailboxes).unwrap_or_default();
    out.subject = message.subject().map(|s| s.trim().to_string()).unwrap_or_default();
    out.date = match message.date() {
        Some(d) if d.is_valid() => to_chrono(d),
        Some(_) => {
            out.flags.push(Flag::BadDate);
            None
        }
        None if message.header_raw("Date").is_some() => {
            out.flags.push(Flag::BadDate);
            None
        }
        None => {
            out.flags.push(Flag::NoDate);
            None
        }
    };

    for (name, value) in message.headers_raw() {
        let value = value.trim();
        match name.to_ascii_lowercase().as_str() {
            "delivered-to" | "x-original-to" => out.delivered_to.push(value.to_ascii_lowercase()),
            "auto-submitted" => automatic(&mut out.auto_submitted, value.to_ascii_lowercase()),
            // Responders that predate RFC 3834, and Outlook's out-of-office marker.
            "x-autoreply" | "x-autorespond" => automatic(&mut out.auto_submitted, "auto-replied".into()),
            "x-auto-response-suppress" if value.split(',').any(|v| v.trim().eq_ignore_ascii_case("all")) => {
                automatic(&mut out.auto_submitted, "auto-replied".into())
            }
            "precedence" => out.precedence = Some(value.to_ascii_lowercase()),
            "x-loop" => out.x_loop.push(value.to_ascii_lowercase()),
            "authentication-results" => out.auth_results.push(value.to_string()),
            "received" => out.received_count += 1,
            _ => {}
        }
    }
    let header_end = message.root_part().raw_body_offset() as usize;
    if raw[..header_end.min(raw.len())].iter().any(|b| *b >= 0x80) {
        out.flags.push(Flag::EightBitHeaders);
    }
    out.is_report = message
        .content_type()
        .is_some_and(|ct| ct.ctype().eq_ignore_ascii_case("multipart") && ct.subtype().is_some_and(|s| s.eq_ignore_ascii_case("report")));

    out.text = join(message.text_bodies().filter_map(|p| match &p.body {
        PartType::Text(t) => Some(t.as_ref()),
        _ => None,
    }));
    out.html = join(message.html_bodies().filter_map(|p| match &p.body {
        PartType::Html(t) => Some(t.as_ref()),
        _ => None,
    }));
    if [&out.text, &out.html].into_iter().flatten().any(|t| t.contains('\u{FFFD}')) {
        out.flags.push(Flag::BadCharset);
    }
    out.attachments = message
        .attachments()
        .map(|part| AttachmentMeta {
            filename: part.attachment_name().map(str::to_string),
            content_type: part
                .content_type()
                .map(|ct| match ct.subtype() {
                    Some(sub) => format!("{}/{}", ct.ctype(), sub),
                    None => ct.ctype().to_string(),
                })
                .unwrap_or_else(|| "application/octet-stream".into())
                .to_ascii_lowercase(),
            size: part.len() as u64,
        })
        .collect();

    if out.message_id.is_none() {
        out.flags.push(Flag::NoMessageId);
    }
    if out.from.is_none() {
        out.flags.push(Flag::NoFrom);
    }
    out
}

/// Notes one sign of an automaton: of several, any other than `no` wins (RFC 3834 §5).
fn automatic(seen: &mut Option<String>, value: String) {
    if seen.as_deref().is_none_or(|v| v.trim().starts_with("no")) {
        *seen = Some(value);
    }
}

/// (real text/plain body, text/html body) of a raw message: what the reply trimmer reads.
pub fn bodies(raw: &[u8]) -> (Option<String>, Option<String>) {
    let m = parse(raw);
    (m.text, m.html)
}

/// The part of a raw message whose Content-ID is `cid` (angle brackets optional): its lower-cased
/// content type and decoded bytes (the web thread page serves inline `cid:` images with it).
pub fn inline_part(raw: &[u8], cid: &str) -> Option<(String, Vec<u8>)> {
    let wanted = cid.trim().trim_start_matches('<').trim_end_matches('>');
    let message = MessageParser::default().parse(raw)?;
    let part = message.parts.iter().find(|p| p.content_id().is_some_and(|c| c.trim_matches(['<', '>']) == wanted))?;
    let ct = part.content_type()?;
    let kind = format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or("octet-stream")).to_ascii_lowercase();
    Some((kind, part.contents().to_vec()))
}

/// The `n`th attachment (0-based, the order of `ParsedMail::attachments`) of a raw message: its
/// file name, content type and decoded bytes.
pub fn attachment_part(raw: &[u8], n: usize) -> Option<(Option<String>, String, Vec<u8>)> {
    let message = MessageParser::default().parse(raw)?;
    let part = message.attachments().nth(n)?;
    let kind = part
        .content_type()
        .map(|ct| match ct.subtype() {
            Some(sub) => format!("{}/{}", ct.ctype(), sub),
            None => ct.ctype().to_string(),
        })
        .unwrap_or_else(|| "application/octet-stream".into())
        .to_ascii_lowercase();
    Some((part.attachment_name().map(str::to_string), kind, part.contents().to_vec()))
}

/// Visible text of a raw message (docs/mail-flow.md).
pub fn trim_eml(raw: &[u8]) -> super::reply::Visible {
    let (text, html) = bodies(raw);
    super::reply::visible_text(text.as_deref(), html.as_deref())
}

/// Whether `raw` starts with a header field (`Name: value`, RFC 5322 §2.2; an mbox `From ` line
/// before it is allowed) and has no NUL bytes in its headers' first 4 KiB. A NUL in the body is
/// the body's problem: the headers are still read.
pub fn looks_like_message(raw: &[u8]) -> bool {
    let head = &raw[..raw.len().min(4096)];
    let headers_end = [&b"\r\n\r\n"[..], b"\n\n"].iter().filter_map(|sep| head.windows(sep.len()).position(|w| w == *sep)).min();
    if head[..headers_end.unwrap_or(head.len())].contains(&0) {
        return false;
    }
    let mut lines = head.split(|b| *b == b'\n');
    let mut first = lines.next().unwrap_or(b"");
    if first.starts_with(b"From ") {
        first = lines.next().unwrap_or(b"");
    }
    match first.iter().position(|b| *b == b':') {
        Some(colon) if colon > 0 => first[..colon].iter().all(|b| (33..=126).contains(b)),
        _ => false,
    }
}

/// Strips angle brackets and whitespace; empty ids are none.
pub fn normalise_id(id: &str) -> Option<String> {
    let id = id.trim().trim_start_matches('<').trim_end_matches('>').trim();
    (!id.is_empty() && id.len() <= 998).then(|| id.to_string())
}

fn ids(value: &HeaderValue) -> Vec<String> {
    match value {
        HeaderValue::Text(t) => normalise_id(t).into_iter().collect(),
        HeaderValue::TextList(list) => list.iter().filter_map(|t| normalise_id(t)).collect(),
        _ => Vec::new(),
    }
}

fn mailboxes(address: &Address) -> Vec<Mailbox> {
    address
        .iter()
        .filter_map(|a| {
            let email = a.address()?.trim().to_ascii_lowercase();
            email.contains('@').then(|| Mailbox { name: a.name().map(|n| n.trim().to_string()).filter(|n| !n.is_empty()), email })
        })
        .collect()
}

fn to_chrono(d: &mail_parser::DateTime) -> Option<DateTime<FixedOffset>> {
    let offset = (i32::from(d.tz_hour) * 3600 + i32::from(d.tz_minute) * 60) * if d.tz_before_gmt { -1 } else { 1 };
    let zone = FixedOffset::east_opt(offset)?;
    zone.timestamp_opt(d.to_timestamp(), 0).single()
}

fn join<'a>(parts: impl Iterator<Item = &'a str>) -> Option<String> {
    let parts: Vec<&str> = parts.collect();
    (!parts.is_empty()).then(|| parts.join("\n\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_addresses_and_ids() {
        let raw = b"From: \"Alice Liddell\" <Alice@Example.org>\r\nTo: eng@docket.test, Bob <bob@x.org>\r\n\
Subject: Re: launch plan\r\nMessage-ID: <abc@x>\r\nIn-Reply-To: <p2@x>\r\nReferences: <p1@x> <p2@x>\r\n\
Date: Tue, 24 Nov 2026 10:00:00 +0100\r\n\r\nHello\r\n";
        let m = parse(raw);
        assert_eq!(m.message_id.as_deref(), Some("abc@x"));
        assert_eq!(m.from, Some(Mailbox { name: Some("Alice Liddell".into()), email: "alice@example.org".into() }));
        assert_eq!(m.to.len(), 2);
        assert_eq!(m.parents(), vec!["p2@x".to_string(), "p1@x".to_string()]);
        assert_eq!(m.date.unwrap().to_rfc3339(), "2026-11-24T10:00:00+01:00");
        assert_eq!(m.text.as_deref().map(str::trim), Some("Hello"));
        assert!(m.flags.is_empty(), "{:?}", m.flags);
    }

    #[test]
    fn html_only_is_kept_as_html_and_converted_on_request() {
        let raw = b"From: a@x\r\nContent-Type: text/html\r\n\r\n<p>Hi <b>there</b></p><script>x()</script>";
        let m = parse(raw);
        assert!(m.text.is_none());
        assert!(m.html.is_some());
        assert!(m.text_or_html().unwrap().contains("Hi there"));
    }

    #[test]
    fn garbage_is_flagged_not_dropped() {
        let m = parse(b"\x00\x01\x02 not a message");
        assert!(m.flags.contains(&Flag::Unparseable));
        assert!(m.text.is_some());
        let m = parse(b"");
        assert!(m.flags.contains(&Flag::Unparseable));
    }

    #[test]
    fn every_sign_of_an_automaton_is_read() {
        let check = |headers: &str, want: Option<&str>| {
            let raw = format!("From: a@x\r\n{headers}Subject: s\r\n\r\nbody\r\n");
            assert_eq!(parse(raw.as_bytes()).auto_submitted.as_deref(), want, "{headers:?}");
        };
        check("", None);
        check("Auto-Submitted: no\r\n", Some("no"));
        check("Auto-Submitted: no\r\nAuto-Submitted: auto-replied\r\n", Some("auto-replied"));
        check("Auto-Submitted: auto-generated\r\nAuto-Submitted: no\r\n", Some("auto-generated"));
        check("X-Autoreply: yes\r\n", Some("auto-replied"));
        check("X-Autorespond: I am away\r\n", Some("auto-replied"));
        check("X-Auto-Response-Suppress: All\r\n", Some("auto-replied"));
        check("X-Auto-Response-Suppress: DR, OOF\r\n", None);
    }

    /// Issue 11: a NUL in the body made the whole message unparseable ("no From: address").
    #[test]
    fn a_nul_byte_in_the_body_leaves_the_headers_readable() {
        for raw in [
            &b"From: Alice <alice@x.org>\r\nSubject: s\r\nMessage-ID: <n@x>\r\n\r\nhello\x00world\r\n"[..],
            b"From: alice@x.org\nSubject: s\n\n\x00",
        ] {
            let m = parse(raw);
            assert!(!m.flags.contains(&Flag::Unparseable), "{:?}", m.flags);
            assert_eq!(m.from.map(|f| f.email).as_deref(), Some("alice@x.org"));
        }
        assert!(!looks_like_message(b"From: a@x\x00\r\n\r\nbody"), "a NUL in the headers is still not mail");
    }

    #[test]
    fn message_shapes() {
        assert!(looks_like_message(b"Return-Path: <a@x>\nFrom: a@x\n"));
        assert!(looks_like_message(b"From a@x Thu Jan  1 00:00:00 1970\nSubject: s\n"));
        assert!(!looks_like_message(b"\x7fELF\x02\x01\x01\x00"));
        assert!(!looks_like_message(b"just some words\n"));
    }

    #[test]
    fn missing_and_bad_dates_are_flagged() {
        assert!(parse(b"From: a@x\r\nSubject: s\r\n\r\nx").flags.contains(&Flag::NoDate));
        assert!(parse(b"From: a@x\r\nDate: someday soon\r\n\r\nx").flags.contains(&Flag::BadDate));
    }
}

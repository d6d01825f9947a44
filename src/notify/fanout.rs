//! Fan-out (docs/mail-flow.md): an accepted message goes to the space's members except its sender, per
//! delivery mode, as the author's own message with list headers rewritten around the original
//! MIME body (attachments and all; nothing is re-rendered). Pure: who gets it, and the bytes.

use crate::parse::mime::ParsedMail;
use crate::store::outbound::MessageOut;
use crate::store::spaces::Member;

/// Header fields of the original kept on the copy; everything else (Received, DKIM signatures,
/// Return-Path, the author's From/Reply-To, other lists' headers …) is dropped, because the copy
/// comes from the list (RFC 2369, RFC 2919) and a stale signature would only fail.
const KEEP: &[&str] = &[
    "subject",
    "date",
    "message-id",
    "in-reply-to",
    "references",
    "to",
    "cc",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
    "content-disposition",
    "content-id",
    "content-language",
    "content-description",
    "thread-topic",
    "thread-index",
    "importance",
];

/// Whether a stored message is fanned out at all: never imported history, never an automaton
/// (RFC 3834 auto-replies, bulk/list precedence, delivery reports), never without a sender.
pub fn wanted(msg: &MessageOut, parsed: &ParsedMail) -> bool {
    let automaton = parsed.auto_submitted.as_deref().is_some_and(|v| !v.trim().eq_ignore_ascii_case("no"))
        || parsed.precedence.as_deref().is_some_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "bulk" | "junk" | "list"))
        || parsed.is_report;
    msg.source != "import" && !automaton && msg.from_addr.is_some()
}

/// Mute codes in the `mutes` table.
pub use crate::store::spaces::{MUTE_SPACE, UNSUBSCRIBED};

/// Whether `member` has turned off all mail of the space.
pub fn unsubscribed(member: &Member, mutes: &[(i64, i64)]) -> bool {
    mutes.contains(&(member.id, UNSUBSCRIBED))
}

/// The members who get a copy: everyone but the sender, by delivery mode (`mentions` = only
/// when @mentioned or made owner by it), minus mutes of the thread or space.
pub fn recipients<'m>(msg: &MessageOut, members: &'m [Member], mutes: &[(i64, i64)], owners: &[String]) -> Vec<&'m Member> {
    let sender = msg.from_addr.as_deref().unwrap_or_default();
    members
        .iter()
        .filter(|m| !m.email.eq_ignore_ascii_case(sender))
        .filter(|m| ![UNSUBSCRIBED, MUTE_SPACE, msg.thread_id].iter().any(|t| mutes.contains(&(m.id, *t))))
        .filter(|m| match m.delivery.as_str() {
            "digest" => false,
            "mentions" => {
                owners.iter().any(|o| o.eq_ignore_ascii_case(&m.email)) || super::mentions(&msg.visible_text, &m.handle, &m.email)
            }
            _ => true,
        })
        .collect()
}

/// The list headers one recipient's copy carries.
#[derive(Debug, Clone)]
pub struct ListHeaders {
    /// `Alice via eng`.
    pub from_name: String,
    /// The space address, `eng@DOMAIN` (DMARC-safe: the author's domain is not claimed).
    pub from: String,
    /// `eng+TOKEN@DOMAIN`, so a reply lands in this thread for this member.
    pub reply_to: String,
    /// `Engineering <eng.DOMAIN>` (RFC 2919).
    pub list_id: String,
    pub post: String,
    pub unsubscribe_mailto: String,
    pub unsubscribe_url: String,
    /// X-Loop value: the space address.
    pub loop_marker: String,
    /// Used when the original has no Message-ID / Date.
    pub fallback_message_id: String,
    pub fallback_date: String,
}

/// The copy: new list headers, the kept original headers, the original body byte for byte
/// (line ends made CRLF, as SMTP wants).
pub fn copy(raw: &[u8], h: &ListHeaders) -> Vec<u8> {
    let (head, body) = split(raw);
    let fields = fields(head);
    let has = |name: &str| fields.iter().any(|(n, _)| n.eq_ignore_ascii_case(name));
    let mut out: Vec<u8> = Vec::with_capacity(raw.len() + 1024);
    let mut line = |name: &str, value: &str| {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    };
    line("From", &format!("{} <{}>", phrase(&h.from_name), h.from));
    line("Reply-To", &h.reply_to);
    line("List-Id", &h.list_id);
    line("List-Post", &format!("<mailto:{}>", h.post));
    // RFC 2369 §3.2 and RFC 8058 §3.1: a mailto and an HTTPS URI, one-click POST.
    line("List-Unsubscribe", &format!("<{}>, <{}>", h.unsubscribe_url, h.unsubscribe_mailto));
    line("List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
    line("Precedence", "list");
    line("X-Loop", &h.loop_marker);
    if !has("message-id") {
        line("Message-ID", &format!("<{}>", h.fallback_message_id));
    }
    if !has("date") {
        line("Date", &h.fallback_date);
    }
    let domain = h.post.rsplit_once('@').map_or("", |(_, d)| d);
    for (name, field) in &fields {
        if ["to", "cc"].iter().any(|k| name.eq_ignore_ascii_case(k)) {
            out.extend_from_slice(&crlf(&without_tokens(field, domain)));
        } else if KEEP.iter().any(|k| name.eq_ignore_ascii_case(k)) {
            out.extend_from_slice(&crlf(field));
        }
    }
    out.extend_from_slice(b"\r\n");
    crlf_into(&mut out, body);
    out
}

/// The header block of a raw message (what [`wanted`] needs parsed; the bodies are not).
pub fn head(raw: &[u8]) -> &[u8] {
    split(raw).0
}

/// A To/Cc field with every `LOCAL+TOKEN@DOMAIN` of ours made `LOCAL@DOMAIN`: the author wrote
/// to their own reply address, and a Reply-All from a copy must not go to someone else's token.
fn without_tokens(field: &[u8], domain: &str) -> Vec<u8> {
    if domain.is_empty() {
        return field.to_vec();
    }
    let pattern = format!(r"(?i)([a-z0-9._-]+)\+[a-z0-9]+@{}\b", regex::escape(domain));
    match regex::bytes::Regex::new(&pattern) {
        Ok(re) => re.replace_all(field, format!("${{1}}@{domain}").as_bytes()).into_owned(),
        Err(_) => field.to_vec(),
    }
}

/// Header block and body, split at the first empty line.
fn split(raw: &[u8]) -> (&[u8], &[u8]) {
    let mut start = 0;
    while start < raw.len() {
        let end = raw[start..].iter().position(|b| *b == b'\n').map_or(raw.len(), |p| start + p + 1);
        let line = &raw[start..end];
        if line == b"\n" || line == b"\r\n" {
            return (&raw[..start], &raw[end..]);
        }
        start = end;
    }
    (raw, &[])
}

/// Header fields with their folded continuation lines: (name, whole field including line ends).
fn fields(head: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    for line in head.split_inclusive(|b| *b == b'\n') {
        if line.starts_with(b" ") || line.starts_with(b"\t") {
            if let Some((_, field)) = out.last_mut() {
                field.extend_from_slice(line);
            }
            continue;
        }
        let name = line.split(|b| *b == b':').next().unwrap_or_default();
        out.push((String::from_utf8_lossy(name).trim().to_string(), line.to_vec()));
    }
    for (_, field) in out.iter_mut() {
        if !field.ends_with(b"\n") {
            field.extend_from_slice(b"\r\n");
        }
    }
    out
}

/// Bare LF → CRLF (RFC 5322 §2.1 lines end in CRLF).
fn crlf(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 40);
    crlf_into(&mut out, bytes);
    out
}

/// [`crlf`] appended to `out`: a large body is converted once, in place, with no second copy.
fn crlf_into(out: &mut Vec<u8>, bytes: &[u8]) {
    let mut prev = 0u8;
    for &b in bytes {
        if b == b'\n' && prev != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        prev = b;
    }
}

/// A display name as a header phrase: as is when it is plain ASCII words, quoted when it has
/// specials, RFC 2047 encoded-words (UTF-8, base64) when it is not ASCII.
pub fn phrase(name: &str) -> String {
    let name: String = name.chars().filter(|c| !c.is_control()).collect();
    if !name.is_ascii() {
        return encoded_words(&name);
    }
    if name.chars().all(|c| c.is_ascii_alphanumeric() || " !#$%&'*+-/=?^_`{|}~".contains(c)) {
        name
    } else {
        format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

/// RFC 2047 §5(3): each encoded-word at most 75 characters, split on character boundaries.
fn encoded_words(s: &str) -> String {
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in s.chars() {
        if chunk.len() + c.len_utf8() > 45 {
            words.push(format!("=?utf-8?b?{}?=", data_encoding::BASE64.encode(chunk.as_bytes())));
            chunk.clear();
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(format!("=?utf-8?b?{}?=", data_encoding::BASE64.encode(chunk.as_bytes())));
    }
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: i64, email: &str, handle: &str, delivery: &str) -> Member {
        Member {
            id,
            space_id: 1,
            email: email.into(),
            handle: handle.into(),
            tz: None,
            delivery: delivery.into(),
            digest_time: None,
            digest_days: None,
            role: "member".into(),
            created_at: 0,
            hours: None,
        }
    }

    fn message(from: &str, text: &str) -> MessageOut {
        MessageOut {
            id: 1,
            space_id: 1,
            thread_id: 7,
            message_id: Some("m@x".into()),
            from_addr: Some(from.into()),
            from_name: None,
            subject: "s".into(),
            date: 0,
            visible_text: text.into(),
            raw: Vec::new(),
            source: "smtp".into(),
        }
    }

    /// Issue 11: the planner parses only the header block; automata are still known by it.
    #[test]
    fn the_header_block_alone_says_whether_to_fan_out() {
        let msg = message("alice@x.org", "hi");
        let whole =
            |h: &str| format!("From: alice@x.org\r\nSubject: s\r\n{h}\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nbody\r\n--b--\r\n");
        let report = whole("Content-Type: multipart/report; report-type=delivery-status; boundary=b");
        assert_eq!(
            head(report.as_bytes()),
            b"From: alice@x.org\r\nSubject: s\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\r\n"
        );
        assert!(!wanted(&msg, &crate::parse::mime::parse(head(report.as_bytes()))));
        let auto = whole("Auto-Submitted: auto-replied\r\nContent-Type: multipart/mixed; boundary=b");
        assert!(!wanted(&msg, &crate::parse::mime::parse(head(auto.as_bytes()))));
        let human = whole("Content-Type: multipart/mixed; boundary=b");
        assert!(wanted(&msg, &crate::parse::mime::parse(head(human.as_bytes()))));
    }

    #[test]
    fn recipients_by_mode_and_mutes() {
        let members = [
            member(1, "alice@x.org", "alice", "each"),
            member(2, "bob@x.org", "bob", "each"),
            member(3, "carol@x.org", "carol", "digest"),
            member(4, "dave@x.org", "dave", "mentions"),
            member(5, "erin@x.org", "erin", "mentions"),
            member(6, "fay@x.org", "fay", "each"),
            member(7, "gus@x.org", "gus", "each"),
            member(8, "hal@x.org", "hal", "each"),
        ];
        let mutes = [(6, 7), (7, MUTE_SPACE), (8, UNSUBSCRIBED), (2, 99)];
        let got: Vec<&str> = recipients(&message("Alice@x.org", "@dave please check"), &members, &mutes, &["erin@x.org".into()])
            .iter()
            .map(|m| m.email.as_str())
            .collect();
        assert_eq!(got, ["bob@x.org", "dave@x.org", "erin@x.org"]);
    }

    #[test]
    fn copy_rewrites_headers_and_keeps_the_body() {
        let raw = b"Received: from a by b\nDKIM-Signature: v=1;\n  b=abc\nFrom: Alice <alice@x.org>\nTo: eng@docket.test\nSubject: Plan\nMessage-ID: <m1@x.org>\nCc: \"eng+k3nji@docket.test\" <eng+k3nji@docket.test>,\n ops+t0k@DOCKET.TEST, bob+x@x.org\nReply-To: other@x.org\nContent-Type: multipart/mixed;\n boundary=\"b1\"\nMIME-Version: 1.0\n\n--b1\nContent-Type: text/plain\n\nhi\n--b1--\n";
        let h = ListHeaders {
            from_name: "Jürgen via eng".into(),
            from: "eng@docket.test".into(),
            reply_to: "eng+tok@docket.test".into(),
            list_id: "eng <eng.docket.test>".into(),
            post: "eng@docket.test".into(),
            unsubscribe_mailto: "mailto:docket@docket.test?subject=unsubscribe%20eng".into(),
            unsubscribe_url: "https://d.example/unsubscribe/x".into(),
            loop_marker: "eng@docket.test".into(),
            fallback_message_id: "docket.f@docket.test".into(),
            fallback_date: "Tue, 24 Nov 2026 09:00:00 +0000".into(),
        };
        let out = String::from_utf8(copy(raw, &h)).unwrap();
        assert!(out.starts_with("From: =?utf-8?b?"), "{out}");
        for want in [
            "Reply-To: eng+tok@docket.test\r\n",
            "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n",
            "Precedence: list\r\n",
            "Message-ID: <m1@x.org>\r\n",
            // Issue 12: nobody's reply token is shown to the others (Reply-All would use it).
            "Cc: \"eng@docket.test\" <eng@docket.test>,\r\n ops@docket.test, bob+x@x.org\r\n",
            "Content-Type: multipart/mixed;\r\n boundary=\"b1\"\r\n",
            "\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b1--\r\n",
        ] {
            assert!(out.contains(want), "{want:?} missing in {out}");
        }
        assert!(out.contains("Date: Tue, 24 Nov 2026 09:00:00 +0000\r\n"), "a missing Date is supplied: {out}");
        for gone in ["Received", "DKIM", "other@x.org", "Auto-Submitted"] {
            assert!(!out.contains(gone), "{gone} kept in {out}");
        }
        let parsed = crate::parse::mime::parse(out.as_bytes());
        assert_eq!(parsed.from.and_then(|f| f.name).as_deref(), Some("Jürgen via eng"));
        assert_eq!(parsed.message_id.as_deref(), Some("m1@x.org"));
    }

    #[test]
    fn phrases() {
        assert_eq!(phrase("Alice via eng"), "Alice via eng");
        assert_eq!(phrase("Smith, Bob via eng"), "\"Smith, Bob via eng\"");
        assert_eq!(phrase("A \"q\" via eng"), "\"A \\\"q\\\" via eng\"");
        let long = encoded_words(&"ü".repeat(60));
        assert!(long.split(' ').all(|w| w.len() <= 75), "{long}");
    }
}

//! Sans-IO SMTP/LMTP server session: bytes in, reply bytes and decisions out; no sockets, no clock.
//!
//! smtp-proto parses each command line (RFC 5321 grammar) and dot-unstuffs DATA; this module owns
//! line framing, command order, limits, replies and the STARTTLS reset. The caller (the tokio loops
//! in smtp.rs / lmtp.rs) drives it like this:
//!
//! ```text
//! write(greeting)
//! loop {
//!     read bytes            -> session.receive(&bytes)
//!     loop match session.step() {
//!         NeedInput          -> break
//!         MailFrom { .. }    -> session.answer(policy)           // Ok or Err(Reply 4xx/5xx)
//!         Rcpt { .. }        -> session.answer(policy)
//!         Deliver { .. }     -> store durably; session.delivered(replies)
//!         StartTls           -> write(take_output()); handshake; session.tls_started()
//!         Close              -> write(take_output()); close
//!     }
//!     write(session.take_output())   // once per read: this is what makes PIPELINING work (RFC 2920)
//! }
//! ```
//!
//! Preconditions: `receive` is only fed bytes from the client, in order; after `StartTls` the caller
//! feeds only bytes read through TLS (anything received before `tls_started` is dropped). While a
//! decision is outstanding `step` consumes nothing: it repeats `MailFrom`/`Rcpt`/`StartTls`, and
//! returns `NeedInput` after `Deliver` (the message has already been handed over).
//! Buffered memory is bounded by `max_message_bytes + 2` for DATA plus one command line (4096) plus
//! whatever the caller passes to one `receive` call while a decision is outstanding.

use smtp_proto::request::receiver::{DataReceiver, DummyDataReceiver, DummyLineReceiver, MAX_LINE_LENGTH};
use smtp_proto::{Error as ProtoError, MAIL_BODY_7BIT, MAIL_BODY_8BITMIME, MAIL_SMTPUTF8, MailFrom, RcptTo, Request};
use std::fmt;

/// Longest command line accepted, CRLF included. RFC 5321 §4.5.3.1.4 asks for at least 512; we
/// accept what smtp-proto's receiver accepts.
pub const MAX_COMMAND_LINE: usize = MAX_LINE_LENGTH;

/// Syntax and sequence errors tolerated before the session answers 421 and closes.
pub const MAX_ERRORS: u32 = 20;

/// What a session needs to know about the server. Validated config, not raw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionConfig {
    /// Our name in the greeting and the EHLO reply.
    pub hostname: String,
    /// Largest message accepted (advertised as `SIZE n`, RFC 1870).
    pub max_message_bytes: u64,
    /// Accepted recipients per transaction; the next gets 452 4.5.3 (RFC 5321 §4.5.3.1.10).
    pub max_recipients: usize,
    /// Speak LMTP (RFC 2033): LHLO instead of EHLO, one reply per recipient after DATA.
    pub lmtp: bool,
    /// A certificate is configured, so STARTTLS (RFC 3207) may be offered.
    pub tls_available: bool,
}

/// One SMTP reply. Renders as `550 5.1.1 text\r\n`; a text with `\n` renders as a multi-line reply
/// (`250-first\r\n250 last\r\n`, RFC 5321 §4.2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    /// Enhanced status code (RFC 3463), written on every line when present (RFC 2034 §3).
    pub status: Option<(u8, u8, u16)>,
    pub text: String,
}

impl Reply {
    pub fn new(code: u16, status: (u8, u8, u16), text: impl Into<String>) -> Reply {
        Reply { code, status: Some(status), text: text.into() }
    }

    /// A reply without an enhanced status code (greeting, EHLO, HELO, 354).
    pub fn plain(code: u16, text: impl Into<String>) -> Reply {
        Reply { code, status: None, text: text.into() }
    }

    /// Appends the wire form. Control characters in the text become spaces, so caller-supplied
    /// text can never forge a line; a code outside 200..=599 is written as 451 (never malformed).
    pub fn write_to(&self, out: &mut Vec<u8>) {
        let code = if (200..=599).contains(&self.code) { self.code } else { 451 };
        let lines: Vec<&str> = self.text.split('\n').collect();
        let last = lines.len().saturating_sub(1);
        for (i, line) in lines.iter().enumerate() {
            let sep = if i == last { ' ' } else { '-' };
            out.extend_from_slice(format!("{code}{sep}").as_bytes());
            if let Some((class, subject, detail)) = self.status {
                out.extend_from_slice(format!("{class}.{subject}.{detail}").as_bytes());
                if !line.is_empty() {
                    out.push(b' ');
                }
            }
            for ch in line.chars() {
                let ch = if ch.is_control() { ' ' } else { ch };
                let mut utf8 = [0u8; 4];
                out.extend_from_slice(ch.encode_utf8(&mut utf8).as_bytes());
            }
            out.extend_from_slice(b"\r\n");
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_to(&mut out);
        out
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.to_bytes()))
    }
}

/// What the caller must do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Everything received was consumed: flush `take_output()` and read more.
    NeedInput,
    /// Accept or refuse the sender with `answer`. `from` has no angle brackets; the null sender
    /// `<>` (bounces, RFC 5321 §4.5.5) is `""`. `size` is the declared `SIZE=` (RFC 1870), already
    /// checked against the limit.
    MailFrom { from: String, size: Option<u64> },
    /// Accept or refuse one recipient with `answer` (e.g. 550 5.1.1 unknown user).
    Rcpt { to: String },
    /// Store the message durably, then call `delivered`: one reply for SMTP, one per recipient of
    /// `rcpt_to` (same order) for LMTP (RFC 2033 §4.2). `data` is dot-unstuffed, without the final
    /// `.` line, at most `max_message_bytes`.
    Deliver { mail_from: String, rcpt_to: Vec<String>, data: Vec<u8> },
    /// Write `take_output()` (the 220), run the TLS handshake, then call `tls_started`.
    StartTls,
    /// Write `take_output()` and close the connection (after QUIT's 221, or a 421).
    Close,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Transaction {
    mail_from: String,
    rcpt_to: Vec<String>,
    smtputf8: bool,
}

/// An outstanding question to the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Pending {
    Mail { from: String, size: Option<u64>, smtputf8: bool },
    Rcpt { to: String },
    Deliver,
    Tls,
}

/// smtp-proto's receivers have no `Debug`; these wrappers give the session one.
struct DataRx(DataReceiver);
struct DiscardRx(DummyDataReceiver);

impl fmt::Debug for DataRx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataReceiver")
    }
}

impl fmt::Debug for DiscardRx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DummyDataReceiver")
    }
}

#[derive(Debug)]
enum Phase {
    /// Reading command lines.
    Command,
    /// A command line went over `MAX_COMMAND_LINE`; skipping to its LF.
    SkipLine,
    /// After 354: collecting the message.
    Data {
        rx: DataRx,
        buf: Vec<u8>,
    },
    /// The message is refused (over the size limit: 552; no memory for it: 452): discarding to
    /// the final dot, then `reply`.
    DataRefused {
        rx: DiscardRx,
        reply: Reply,
    },
    Waiting(Pending),
    Closed,
}

/// One client connection's protocol state. See the module docs for the driving loop.
#[derive(Debug)]
pub struct Session {
    cfg: SessionConfig,
    /// Received, not yet consumed, from `pos` on.
    input: Vec<u8>,
    pos: usize,
    output: Vec<u8>,
    phase: Phase,
    /// The client said EHLO/HELO/LHLO (since the last STARTTLS).
    greeted: bool,
    /// The name it gave there (for SPF, RFC 7208 §2.3).
    helo: Option<String>,
    tls: bool,
    tx: Option<Transaction>,
    errors: u32,
}

// RFC 3463 enhanced status codes used below.
const OK: (u8, u8, u16) = (2, 0, 0);
const BAD_SEQUENCE: (u8, u8, u16) = (5, 5, 1);
const BAD_SYNTAX: (u8, u8, u16) = (5, 5, 2);
const BAD_ARGS: (u8, u8, u16) = (5, 5, 4);
const TOO_BIG: (u8, u8, u16) = (5, 3, 4);

impl Session {
    pub fn new(cfg: SessionConfig) -> Session {
        Session {
            cfg,
            input: Vec::new(),
            pos: 0,
            output: Vec::new(),
            phase: Phase::Command,
            greeted: false,
            helo: None,
            tls: false,
            tx: None,
            errors: 0,
        }
    }

    /// Whether a mail transaction is under way (MAIL given, or DATA being received): a server
    /// that is shutting down lets it finish and closes idle sessions at once.
    pub fn in_transaction(&self) -> bool {
        self.tx.is_some() || matches!(self.phase, Phase::Data { .. } | Phase::DataRefused { .. } | Phase::Waiting(_))
    }

    /// The name the client gave in EHLO/HELO/LHLO, once it said one.
    pub fn helo(&self) -> Option<&str> {
        self.helo.as_deref()
    }

    /// The 220 banner, written by the caller before anything else (RFC 5321 §4.2, RFC 2033 §4).
    pub fn greeting(&self) -> Reply {
        let kind = if self.cfg.lmtp { "LMTP" } else { "ESMTP" };
        Reply::plain(220, format!("{} {kind} docket", self.cfg.hostname))
    }

    /// Appends client input. Dropped after `Close`, and while a STARTTLS handshake is pending
    /// (plaintext sent after STARTTLS must not be run inside TLS: RFC 3207 §6).
    pub fn receive(&mut self, bytes: &[u8]) {
        match self.phase {
            Phase::Closed | Phase::Waiting(Pending::Tls) => {}
            _ => self.input.extend_from_slice(bytes),
        }
    }

    /// Bytes held by the session: unconsumed input plus the message being collected.
    pub fn buffered(&self) -> usize {
        let data = match &self.phase {
            Phase::Data { buf, .. } => buf.len(),
            _ => 0,
        };
        self.input.len() - self.pos + data
    }

    /// Replies to write now. Call after each `step` that returns something other than a decision
    /// (or once per read), so pipelined replies go out together.
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.output)
    }

    /// Runs until a decision is needed or the input is used up.
    pub fn step(&mut self) -> Step {
        loop {
            match &mut self.phase {
                Phase::Closed => return Step::Close,
                Phase::Waiting(pending) => {
                    return match pending {
                        Pending::Mail { from, size, .. } => Step::MailFrom { from: from.clone(), size: *size },
                        Pending::Rcpt { to } => Step::Rcpt { to: to.clone() },
                        Pending::Tls => Step::StartTls,
                        Pending::Deliver => Step::NeedInput,
                    };
                }
                _ if self.pos >= self.input.len() => {
                    self.input.clear();
                    self.pos = 0;
                    return Step::NeedInput;
                }
                Phase::Command => {
                    if let Some(step) = self.command_line() {
                        return step;
                    }
                }
                Phase::SkipLine => {
                    let mut rest = self.input[self.pos..].iter();
                    let done = DummyLineReceiver::default().ingest(&mut rest);
                    self.pos = self.input.len() - rest.len();
                    if done {
                        self.phase = Phase::Command;
                    }
                }
                Phase::Data { .. } => {
                    if let Some(step) = self.data() {
                        return step;
                    }
                }
                Phase::DataRefused { rx, reply } => {
                    let mut rest = self.input[self.pos..].iter();
                    let done = rx.0.ingest(&mut rest);
                    self.pos = self.input.len() - rest.len();
                    if done {
                        // RFC 1870 §6.3: a refused message is answered after the end of data.
                        let reply = reply.clone();
                        self.phase = Phase::Command;
                        self.tx = None;
                        self.reply(reply);
                    }
                }
            }
            self.compact();
        }
    }

    /// The caller's decision on the outstanding `MailFrom` or `Rcpt`. `Err` must carry a 4xx/5xx.
    /// Ignored when no such decision is outstanding.
    pub fn answer(&mut self, decision: Result<(), Reply>) {
        let pending = match &self.phase {
            Phase::Waiting(p @ (Pending::Mail { .. } | Pending::Rcpt { .. })) => p.clone(),
            _ => return,
        };
        self.phase = Phase::Command;
        match (pending, decision) {
            (Pending::Mail { from, smtputf8, .. }, Ok(())) => {
                self.tx = Some(Transaction { mail_from: from, rcpt_to: Vec::new(), smtputf8 });
                self.reply(Reply::new(250, (2, 1, 0), "sender ok"));
            }
            (Pending::Rcpt { to }, Ok(())) => {
                if let Some(tx) = &mut self.tx {
                    tx.rcpt_to.push(to);
                }
                self.reply(Reply::new(250, (2, 1, 5), "recipient ok"));
            }
            // A refused recipient is an error like a bad command: guessing addresses ends the
            // session after `MAX_ERRORS` (a 4xx, e.g. the store being down, is not the client's fault).
            (Pending::Rcpt { .. }, Err(reply)) if reply.code >= 500 => {
                let _ = self.error(reply);
            }
            (_, Err(reply)) => self.reply(reply),
            (Pending::Deliver | Pending::Tls, Ok(())) => {}
        }
    }

    /// The caller stored (or failed to store) the message from `Deliver`. SMTP uses the first reply;
    /// LMTP one per recipient, missing ones answered 451 4.3.0, extra ones dropped.
    /// Ignored when no delivery is outstanding.
    pub fn delivered(&mut self, replies: Vec<Reply>) {
        if !matches!(self.phase, Phase::Waiting(Pending::Deliver)) {
            return;
        }
        self.phase = Phase::Command;
        let want = match (&self.tx, self.cfg.lmtp) {
            (Some(tx), true) => tx.rcpt_to.len(), // RFC 2033 §4.2: one reply per accepted RCPT
            _ => 1,
        };
        let mut replies = replies.into_iter();
        for _ in 0..want {
            let reply = replies.next().unwrap_or_else(|| Reply::new(451, (4, 3, 0), "delivery status unknown, try again later"));
            self.reply(reply);
        }
        self.tx = None;
    }

    /// The message being received cannot be held (the caller's memory budget is used up): its
    /// bytes so far are dropped, the rest is read and discarded, and the end of data is answered
    /// with `reply` (a 4xx, so the client retries later). Ignored outside DATA.
    pub fn refuse_data(&mut self, reply: Reply) {
        if let Phase::Data { rx, .. } = &self.phase {
            let discard = DummyDataReceiver::new_data(&rx.0);
            self.phase = Phase::DataRefused { rx: DiscardRx(discard), reply };
        }
    }

    /// The TLS handshake after `StartTls` succeeded: forget everything said in plaintext
    /// (RFC 3207 §4.2); the client must EHLO again.
    pub fn tls_started(&mut self) {
        if !matches!(self.phase, Phase::Waiting(Pending::Tls)) {
            return;
        }
        self.phase = Phase::Command;
        self.tls = true;
        self.greeted = false;
        self.helo = None;
        self.tx = None;
        self.errors = 0;
        self.input.clear();
        self.pos = 0;
    }

    fn reply(&mut self, reply: Reply) {
        reply.write_to(&mut self.output);
    }

    /// Drops consumed input once it is a sizeable share of the buffer (amortised O(n)).
    fn compact(&mut self) {
        if self.pos > 0 && self.pos * 2 >= self.input.len() {
            self.input.drain(..self.pos);
            self.pos = 0;
        }
    }

    /// A 5xx for the client's mistake; too many of them end the session with 421.
    fn error(&mut self, reply: Reply) -> Option<Step> {
        self.reply(reply);
        self.errors += 1;
        if self.errors >= MAX_ERRORS {
            return Some(self.close(Reply::new(421, (4, 7, 0), format!("{} too many errors", self.cfg.hostname))));
        }
        None
    }

    fn close(&mut self, reply: Reply) -> Step {
        self.reply(reply);
        self.phase = Phase::Closed;
        self.input = Vec::new();
        self.pos = 0;
        Step::Close
    }

    /// Frames and runs one command line, if a whole one is buffered.
    fn command_line(&mut self) -> Option<Step> {
        let rest = &self.input[self.pos..];
        let Some(lf) = memchr_lf(rest) else {
            if rest.len() >= MAX_COMMAND_LINE {
                // RFC 5321 §4.5.3.1.4 / §4.2.2: 500 5.5.6 for a line too long; skip to its end.
                self.pos = self.input.len();
                self.phase = Phase::SkipLine;
                return self.error(Reply::new(500, (5, 5, 6), "line too long"));
            }
            // A partial line: keep it (bounded above) and wait for the rest.
            self.input.drain(..self.pos);
            self.pos = 0;
            return Some(Step::NeedInput);
        };
        let line_len = lf + 1;
        let start = self.pos;
        self.pos += line_len;
        if line_len > MAX_COMMAND_LINE {
            return self.error(Reply::new(500, (5, 5, 6), "line too long"));
        }
        let line = &self.input[start..start + line_len];
        let parsed = Request::parse(&mut line.iter()).map(Request::into_owned);
        match parsed {
            Ok(request) => self.command(request),
            Err(e) => self.error(parse_error_reply(&e)),
        }
    }

    fn command(&mut self, request: Request<String>) -> Option<Step> {
        let lmtp = self.cfg.lmtp;
        match request {
            // RFC 5321 §4.1.1.1; RFC 2033 §4.1: LMTP has LHLO and no EHLO/HELO.
            Request::Ehlo { .. } | Request::Helo { .. } if lmtp => self.error(Reply::new(500, BAD_SYNTAX, "this is LMTP: say LHLO")),
            Request::Lhlo { .. } if !lmtp => self.error(Reply::new(500, BAD_SYNTAX, "this is SMTP: say EHLO")),
            Request::Ehlo { host } | Request::Lhlo { host } => {
                self.greeted = true;
                self.helo = Some(host);
                self.tx = None; // RFC 5321 §4.1.4: EHLO mid-transaction acts as RSET
                let text = self.ehlo_text();
                self.reply(Reply::plain(250, text));
                None
            }
            Request::Helo { host } => {
                self.greeted = true;
                self.helo = Some(host);
                self.tx = None;
                self.reply(Reply::plain(250, self.cfg.hostname.clone()));
                None
            }
            Request::Mail { from } => self.mail(from),
            Request::Rcpt { to } => self.rcpt(to),
            Request::Data => self.data_command(),
            Request::Rset => {
                self.tx = None; // RFC 5321 §4.1.1.5
                self.reply(Reply::new(250, OK, "reset"));
                None
            }
            Request::Noop { .. } => {
                self.reply(Reply::new(250, OK, "OK")); // RFC 5321 §4.1.1.9
                None
            }
            Request::Vrfy { .. } => {
                // RFC 5321 §3.5.3: 252 = cannot verify, but will accept and try.
                self.reply(Reply::new(252, (2, 5, 0), "cannot VRFY, send some mail and see"));
                None
            }
            Request::Help { .. } => {
                self.reply(Reply::new(214, OK, "see RFC 5321; docket takes mail for its spaces"));
                None
            }
            Request::Quit => {
                // RFC 5321 §4.1.1.10
                Some(self.close(Reply::new(221, OK, format!("{} closing", self.cfg.hostname))))
            }
            Request::StartTls => self.starttls(),
            Request::Expn { .. }
            | Request::Auth { .. }
            | Request::Bdat { .. }
            | Request::Etrn { .. }
            | Request::Atrn { .. }
            | Request::Burl { .. } => {
                // Not offered in EHLO. RFC 5321 §4.2.4: 502 for a known but unimplemented command.
                self.error(Reply::new(502, BAD_SEQUENCE, "command not implemented"))
            }
        }
    }

    /// RFC 1869 §4.3 keyword lines; the first line is our name (smtp-proto's `EhloResponse` writes
    /// fixed text there, so we render it ourselves).
    fn ehlo_text(&self) -> String {
        let mut lines = vec![
            self.cfg.hostname.clone(),
            "PIPELINING".into(),                            // RFC 2920
            "8BITMIME".into(),                              // RFC 6152
            "SMTPUTF8".into(),                              // RFC 6531
            format!("SIZE {}", self.cfg.max_message_bytes), // RFC 1870
            "ENHANCEDSTATUSCODES".into(),                   // RFC 2034
        ];
        if self.cfg.tls_available && !self.tls {
            lines.push("STARTTLS".into()); // RFC 3207 §4.2: not after TLS is on
        }
        lines.join("\n")
    }

    fn mail(&mut self, from: MailFrom<String>) -> Option<Step> {
        if !self.greeted {
            let hello = if self.cfg.lmtp { "LHLO" } else { "EHLO/HELO" };
            return self.error(Reply::new(503, BAD_SEQUENCE, format!("send {hello} first")));
        }
        if self.tx.is_some() {
            return self.error(Reply::new(503, BAD_SEQUENCE, "nested MAIL command"));
        }
        if !mail_params_supported(&from) {
            // RFC 5321 §4.1.1.11: 555 for parameters not recognised or not implemented.
            return self.error(Reply::new(555, BAD_ARGS, "MAIL parameter not supported"));
        }
        let smtputf8 = from.flags & MAIL_SMTPUTF8 != 0;
        if !smtputf8 && !from.address.is_ascii() {
            // RFC 6531 §3.4: a UTF-8 address needs the SMTPUTF8 parameter.
            return self.error(Reply::new(553, (5, 6, 7), "non-ASCII address needs SMTPUTF8"));
        }
        let size = (from.size > 0).then_some(from.size as u64); // smtp-proto: 0 = not given
        if size.is_some_and(|n| n > self.cfg.max_message_bytes) {
            // RFC 1870 §6.2: declared size over our limit, refused at MAIL.
            self.reply(Reply::new(552, TOO_BIG, "message size exceeds the limit"));
            return None;
        }
        let pending = Pending::Mail { from: from.address.clone(), size, smtputf8 };
        self.phase = Phase::Waiting(pending);
        Some(Step::MailFrom { from: from.address, size })
    }

    fn rcpt(&mut self, to: RcptTo<String>) -> Option<Step> {
        let Some(tx) = &self.tx else {
            return self.error(Reply::new(503, BAD_SEQUENCE, "need MAIL before RCPT"));
        };
        let (count, smtputf8) = (tx.rcpt_to.len(), tx.smtputf8);
        if to.address.is_empty() {
            return self.error(Reply::new(501, (5, 1, 3), "empty recipient address"));
        }
        if to.orcpt.is_some() || to.rrvs != 0 || to.flags != 0 {
            return self.error(Reply::new(555, BAD_ARGS, "RCPT parameter not supported"));
        }
        if !smtputf8 && !to.address.is_ascii() {
            return self.error(Reply::new(553, (5, 6, 7), "non-ASCII address needs SMTPUTF8"));
        }
        if count >= self.cfg.max_recipients {
            // RFC 5321 §4.5.3.1.10: 452 too many recipients; the client sends the rest later.
            self.reply(Reply::new(452, (4, 5, 3), "too many recipients"));
            return None;
        }
        self.phase = Phase::Waiting(Pending::Rcpt { to: to.address.clone() });
        Some(Step::Rcpt { to: to.address })
    }

    fn data_command(&mut self) -> Option<Step> {
        match &self.tx {
            None => self.error(Reply::new(503, BAD_SEQUENCE, "need MAIL before DATA")),
            // RFC 5321 §3.3: DATA without an accepted RCPT is out of sequence.
            Some(tx) if tx.rcpt_to.is_empty() => self.error(Reply::new(503, BAD_SEQUENCE, "need RCPT before DATA")),
            Some(_) => {
                let mut rx = DataReceiver::new();
                let mut buf = Vec::new();
                // smtp-proto quirk: a fresh DataReceiver has not "seen" a CRLF, so a leading "."
                // line (an empty message, or "..x" stuffed on line one) is missed. The DATA
                // command's own CRLF precedes the data (RFC 5321 §4.1.1.4): prime it with one.
                rx.ingest(&mut b"\r\n".iter(), &mut buf);
                buf.clear();
                self.phase = Phase::Data { rx: DataRx(rx), buf };
                self.reply(Reply::plain(354, "end data with <CR><LF>.<CR><LF>"));
                None
            }
        }
    }

    /// Feeds DATA bytes to smtp-proto in slices that keep `buf` within the limit + 2.
    fn data(&mut self) -> Option<Step> {
        let limit = usize::try_from(self.cfg.max_message_bytes).unwrap_or(usize::MAX);
        let Phase::Data { rx, buf } = &mut self.phase else {
            return None;
        };
        let rest = &self.input[self.pos..];
        // Unstuffing only shrinks, so n input bytes add at most n to buf.
        let room = limit.saturating_add(2).saturating_sub(buf.len()).max(1);
        let take = rest.len().min(room);
        let mut chunk = rest[..take].iter();
        let done = rx.0.ingest(&mut chunk, buf);
        self.pos += take - chunk.len();
        if done {
            let data = std::mem::take(buf);
            self.phase = Phase::Command;
            if data.len() > limit {
                self.tx = None;
                self.reply(Reply::new(552, TOO_BIG, "message exceeds the size limit"));
                return None;
            }
            let tx = self.tx.clone()?;
            self.phase = Phase::Waiting(Pending::Deliver);
            return Some(Step::Deliver { mail_from: tx.mail_from, rcpt_to: tx.rcpt_to, data });
        }
        // The receiver holds back at most one byte ("\r" after "."), so limit + 2 is over for sure.
        if buf.len() > limit.saturating_add(1) {
            let discard = DummyDataReceiver::new_data(&rx.0);
            self.phase = Phase::DataRefused { rx: DiscardRx(discard), reply: Reply::new(552, TOO_BIG, "message exceeds the size limit") };
        }
        None
    }

    fn starttls(&mut self) -> Option<Step> {
        if !self.cfg.tls_available {
            return self.error(Reply::new(502, BAD_SEQUENCE, "STARTTLS not available"));
        }
        if self.tls {
            return self.error(Reply::new(503, BAD_SEQUENCE, "TLS already active"));
        }
        if self.tx.is_some() {
            return self.error(Reply::new(503, BAD_SEQUENCE, "STARTTLS inside a mail transaction"));
        }
        self.reply(Reply::new(220, OK, "ready to start TLS"));
        // RFC 3207 §6 (and CVE-2011-0411): commands pipelined after STARTTLS are dropped, never
        // run as if they had come through TLS.
        self.input.clear();
        self.pos = 0;
        self.phase = Phase::Waiting(Pending::Tls);
        Some(Step::StartTls)
    }
}

fn memchr_lf(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'\n')
}

/// MAIL parameters we advertise: BODY=7BIT/8BITMIME (RFC 6152), SMTPUTF8 (RFC 6531), SIZE (RFC
/// 1870). smtp-proto parses many more (DSN, BY, FUTURERELEASE, REQUIRETLS...); those are refused.
fn mail_params_supported(from: &MailFrom<String>) -> bool {
    from.flags & !(MAIL_BODY_7BIT | MAIL_BODY_8BITMIME | MAIL_SMTPUTF8) == 0
        && from.trans_id.is_none()
        && from.by == 0
        && from.env_id.is_none()
        && from.solicit.is_none()
        && from.mtrk.is_none()
        && from.auth.is_none()
        && from.hold_for == 0
        && from.hold_until == 0
        && from.mt_priority == 0
}

/// RFC 5321 §4.2.2 and RFC 3463 codes for what the grammar rejected.
fn parse_error_reply(e: &ProtoError) -> Reply {
    match e {
        ProtoError::UnknownCommand => Reply::new(500, BAD_SYNTAX, "command unrecognized"),
        ProtoError::InvalidSenderAddress => Reply::new(501, (5, 1, 7), "bad sender address syntax"),
        ProtoError::InvalidRecipientAddress => Reply::new(501, (5, 1, 3), "bad recipient address syntax"),
        ProtoError::SyntaxError { syntax } => Reply::new(501, BAD_ARGS, format!("syntax: {syntax}")),
        ProtoError::InvalidParameter { param } => Reply::new(501, BAD_ARGS, format!("invalid {param} parameter")),
        ProtoError::UnsupportedParameter { .. } => Reply::new(555, BAD_ARGS, "parameter not supported"),
        ProtoError::ResponseTooLong => Reply::new(500, (5, 5, 6), "line too long"),
        ProtoError::NeedsMoreData { .. } | ProtoError::InvalidResponse { .. } => Reply::new(500, BAD_SYNTAX, "command unrecognized"),
    }
}

/// The shape every reply byte stream must have (the property test and the fuzz target check
/// what a session wrote with it): each line is `DDD SP text CRLF` or `DDD-text CRLF` with a
/// 2xx–5xx code (RFC 5321 §4.2), continuations keep the code, and every multi-line reply ends
/// with a final line. Err names the first line that breaks it.
pub fn check_reply_shape(out: &[u8]) -> Result<(), String> {
    let text = std::str::from_utf8(out).map_err(|e| e.to_string())?;
    if text.is_empty() {
        return Ok(());
    }
    if !text.ends_with("\r\n") {
        return Err(format!("unterminated {text:?}"));
    }
    let mut open: Option<&str> = None;
    for line in text.split_terminator("\r\n") {
        let b = line.as_bytes();
        let shape = b.len() >= 4 && b[..3].iter().all(u8::is_ascii_digit) && matches!(b[3], b' ' | b'-') && (b'2'..=b'5').contains(&b[0]);
        if !shape || line.contains(['\r', '\n']) {
            return Err(format!("bad line {line:?}"));
        }
        if open.is_some_and(|code| code != &line[..3]) {
            return Err(format!("continuation changes code: {line:?}"));
        }
        open = (b[3] == b'-').then(|| &line[..3]);
    }
    match open {
        Some(_) => Err("multi-line reply without a final line".into()),
        None => Ok(()),
    }
}

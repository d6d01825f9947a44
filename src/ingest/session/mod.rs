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
//!
//! This module holds the session state and its driving API; `command` runs command lines and
//! DATA, `reply` renders replies and checks their shape.

mod command;
mod reply;

pub use reply::{Reply, check_reply_shape};

use smtp_proto::request::receiver::{DataReceiver, DummyDataReceiver, DummyLineReceiver, MAX_LINE_LENGTH};
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
}

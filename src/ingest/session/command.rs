//! The commands a session runs: line framing, smtp-proto's parse, each verb (EHLO … STARTTLS) in
//! its RFC 5321 order, and DATA collected within the size limit.

use super::{BAD_ARGS, BAD_SEQUENCE, BAD_SYNTAX, DataRx, DiscardRx, MAX_COMMAND_LINE, OK, Pending, Phase, Reply, Session, Step, TOO_BIG};
use smtp_proto::request::receiver::{DataReceiver, DummyDataReceiver};
use smtp_proto::{Error as ProtoError, MAIL_BODY_7BIT, MAIL_BODY_8BITMIME, MAIL_SMTPUTF8, MailFrom, RcptTo, Request};

impl Session {
    /// Frames and runs one command line, if a whole one is buffered.
    pub(super) fn command_line(&mut self) -> Option<Step> {
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
    pub(super) fn data(&mut self) -> Option<Step> {
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

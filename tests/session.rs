//! The sans-IO SMTP/LMTP session on bytes: scripted conversations (one case per line, each run as
//! one pipelined write and again as 1-byte writes), then a property test on arbitrary input.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use docket::ingest::session::{MAX_COMMAND_LINE, Reply, Session, SessionConfig, Step, check_reply_shape};
use proptest::prelude::*;

fn smtp() -> SessionConfig {
    SessionConfig { hostname: "mx.example.org".into(), max_message_bytes: 100, max_recipients: 3, lmtp: false, tls_available: false }
}

fn smtp_tls() -> SessionConfig {
    SessionConfig { tls_available: true, ..smtp() }
}

fn lmtp() -> SessionConfig {
    SessionConfig { lmtp: true, ..smtp() }
}

/// One delivered message as the caller saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Delivery {
    from: String,
    to: Vec<String>,
    data: Vec<u8>,
}

/// What the driver saw: the reply lines written, deliveries, and the events it was asked for.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Transcript {
    replies: Vec<String>,
    deliveries: Vec<Delivery>,
    events: Vec<String>,
    closed: bool,
}

/// Scripted caller policy: senders starting "bad" get 550 5.7.1; recipients starting "unknown"
/// get 550 5.1.1; LMTP recipients starting "full" get 452 4.2.2 after DATA; TLS always succeeds.
fn decide(session: &mut Session, step: Step, t: &mut Transcript) {
    match step {
        Step::NeedInput | Step::Close => {}
        Step::MailFrom { from, size } => {
            t.events.push(format!("mail <{from}> {size:?}"));
            if from.starts_with("bad") {
                session.answer(Err(Reply::new(550, (5, 7, 1), "not a member")));
            } else {
                session.answer(Ok(()));
            }
        }
        Step::Rcpt { to } => {
            t.events.push(format!("rcpt <{to}>"));
            if to.starts_with("unknown") {
                session.answer(Err(Reply::new(550, (5, 1, 1), "no such space")));
            } else {
                session.answer(Ok(()));
            }
        }
        Step::Deliver { mail_from, rcpt_to, data } => {
            t.events.push("deliver".into());
            let replies = rcpt_to
                .iter()
                .map(|r| match r.starts_with("full") {
                    true => Reply::new(452, (4, 2, 2), "mailbox full"),
                    false => Reply::new(250, (2, 0, 0), format!("<{r}> stored")),
                })
                .collect();
            t.deliveries.push(Delivery { from: mail_from, to: rcpt_to, data });
            session.delivered(replies);
        }
        Step::StartTls => {
            t.events.push("starttls".into());
            session.tls_started();
        }
    }
}

/// Runs `writes` through a session, stepping to `NeedInput` after each write.
fn converse(cfg: SessionConfig, writes: &[&[u8]]) -> Transcript {
    let mut s = Session::new(cfg);
    let mut t = Transcript::default();
    let mut out = Vec::new();
    for w in writes {
        s.receive(w);
        loop {
            let step = s.step();
            match step {
                Step::NeedInput => break,
                Step::Close => {
                    t.closed = true;
                    break;
                }
                other => decide(&mut s, other, &mut t),
            }
        }
        out.extend(s.take_output());
        if t.closed {
            break;
        }
    }
    let text = String::from_utf8(out).expect("replies are UTF-8");
    assert!(text.is_empty() || text.ends_with("\r\n"), "unterminated output {text:?}");
    t.replies = text.split_terminator("\r\n").map(str::to_owned).collect();
    t
}

/// The final line of each reply (multi-line replies collapse to their last line).
fn finals(t: &Transcript) -> Vec<String> {
    t.replies.iter().filter(|l| l.as_bytes().get(3) != Some(&b'-')).cloned().collect()
}

/// The input as one pipelined write and as 1-byte writes must give the same conversation.
fn run(cfg: SessionConfig, input: &str) -> Transcript {
    let whole = converse(cfg.clone(), &[input.as_bytes()]);
    let bytes: Vec<&[u8]> = input.as_bytes().chunks(1).collect();
    let split = converse(cfg, &bytes);
    assert_eq!(whole, split, "1-byte writes differ for {input:?}");
    whole
}

/// Each wanted item is a prefix of the matching reply's final line, e.g. "503 5.5.1".
#[track_caller]
fn check(cfg: SessionConfig, input: &str, want: &[&str]) {
    let t = run(cfg, input);
    let got = finals(&t);
    let ok = got.len() == want.len() && got.iter().zip(want).all(|(g, w)| g.starts_with(w));
    assert!(ok, "input {input:?}\n got {got:#?}\nwant {want:#?}");
}

const TX: &str = "EHLO c\r\nMAIL FROM:<a@x.org>\r\nRCPT TO:<dev@mx.example.org>\r\nDATA\r\n";

#[test]
fn commands_and_order() {
    check(smtp(), "EHLO client.example\r\n", &["250 ENHANCEDSTATUSCODES"]);
    check(smtp(), "HELO client.example\r\n", &["250 mx.example.org"]);
    check(smtp(), "NOOP\r\n", &["250 2.0.0"]);
    check(smtp(), "noop hello there\r\n", &["250 2.0.0"]);
    check(smtp(), "RSET\r\n", &["250 2.0.0"]);
    check(smtp(), "VRFY postmaster\r\n", &["252 2.5.0"]);
    check(smtp(), "EXPN staff\r\n", &["502 5.5.1"]);
    check(smtp(), "HELP\r\n", &["214 2.0.0"]);
    check(smtp(), "AUTH PLAIN AGFAAGI=\r\n", &["502 5.5.1"]);
    check(smtp(), "BDAT 10 LAST\r\n", &["502 5.5.1"]);
    check(smtp(), "FOO bar\r\n", &["500 5.5.2"]);
    check(smtp(), "\r\n", &["500 5.5.2"]);
    check(smtp(), "QUIT\r\n", &["221 2.0.0"]);
    check(smtp(), "QUIT\r\nNOOP\r\n", &["221 2.0.0"]); // nothing after QUIT
    // RFC 5321 §4.1.4 sequence errors
    check(smtp(), "MAIL FROM:<a@x.org>\r\n", &["503 5.5.1"]); // before EHLO
    check(smtp(), "EHLO c\r\nRCPT TO:<b@y.org>\r\n", &["250", "503 5.5.1"]);
    check(smtp(), "EHLO c\r\nDATA\r\n", &["250", "503 5.5.1"]);
    check(smtp(), "EHLO c\r\nMAIL FROM:<a@x.org>\r\nDATA\r\n", &["250", "250 2.1.0", "503 5.5.1"]);
    check(smtp(), "EHLO c\r\nMAIL FROM:<a@x.org>\r\nMAIL FROM:<a@x.org>\r\n", &["250", "250 2.1.0", "503 5.5.1"]);
    check(smtp(), "EHLO c\r\nMAIL FROM:<a@x.org>\r\nRSET\r\nRCPT TO:<b@y.org>\r\n", &["250", "250 2.1.0", "250 2.0.0", "503 5.5.1"]);
    check(smtp(), "EHLO c\r\nMAIL FROM:<a@x.org>\r\nEHLO c\r\nRCPT TO:<b@y.org>\r\n", &["250", "250 2.1.0", "250", "503 5.5.1"]);
    check(smtp(), "HELO c\r\nMAIL FROM:<a@x.org>\r\nRCPT TO:<b@y.org>\r\n", &["250", "250 2.1.0", "250 2.1.5"]);
    // all recipients refused: DATA is out of sequence
    check(smtp(), "EHLO c\r\nMAIL FROM:<a@x.org>\r\nRCPT TO:<unknown@y.org>\r\nDATA\r\n", &["250", "250", "550 5.1.1", "503 5.5.1"]);
    // LMTP speaks LHLO only (RFC 2033 §4.1)
    check(smtp(), "LHLO c\r\n", &["500 5.5.2"]);
    check(lmtp(), "EHLO c\r\n", &["500 5.5.2"]);
    check(lmtp(), "HELO c\r\n", &["500 5.5.2"]);
    check(lmtp(), "LHLO c\r\n", &["250 ENHANCEDSTATUSCODES"]);
    check(lmtp(), "MAIL FROM:<a@x.org>\r\n", &["503 5.5.1"]);
}

#[test]
fn syntax_errors() {
    check(smtp(), "EHLO\r\n", &["501 5.5.4"]);
    check(smtp(), "HELO\r\n", &["501 5.5.4"]);
    check(smtp(), "EHLO c\r\nMAIL a@x.org\r\n", &["250", "501 5.5.4"]);
    check(smtp(), "EHLO c\r\nMAIL FROM:a@x.org\r\n", &["250", "501 5.5.4"]);
    check(smtp(), "EHLO c\r\nMAIL FROM:<a..b@x.org>\r\n", &["250", "501 5.1.7"]);
    check(smtp(), "EHLO c\r\nMAIL FROM:<a@x.org> SIZE=abc\r\n", &["250", "501 5.5.4"]);
    check(smtp(), "EHLO c\r\nMAIL FROM:<a@x.org> FROB=1\r\n", &["250", "555 5.5.4"]);
    check(smtp(), "EHLO c\r\nMAIL FROM:<a@x.org> RET=FULL\r\n", &["250", "555 5.5.4"]); // DSN not offered
    check(smtp(), "EHLO c\r\nMAIL FROM:<a@x.org> BODY=BINARYMIME\r\n", &["250", "555 5.5.4"]);
    check(smtp(), "EHLO c\r\nMAIL FROM:<a@x.org>\r\nRCPT TO:<>\r\n", &["250", "250", "501 5.1.3"]);
    check(smtp(), "EHLO c\r\nMAIL FROM:<a@x.org>\r\nRCPT TO:<.b@y.org>\r\n", &["250", "250", "501 5.1.3"]);
    check(smtp(), "EHLO c\r\nMAIL FROM:<a@x.org>\r\nRCPT TO:<b@y.org> NOTIFY=NEVER\r\n", &["250", "250", "555 5.5.4"]);
    check(smtp(), "EHLO c\r\nMAIL FROM:<a@x.org>\r\nRCPT b@y.org\r\n", &["250", "250", "501 5.5.4"]);
}

#[test]
fn mail_parameters_and_addresses() {
    let t = run(smtp(), "EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<dev@mx.example.org>\r\n");
    assert_eq!(t.events, ["mail <> None", "rcpt <dev@mx.example.org>"]); // null sender is ""
    let t = run(smtp(), "EHLO c\r\nMAIL FROM:<a@x.org> BODY=8BITMIME SIZE=40\r\n");
    assert_eq!(t.events, ["mail <a@x.org> Some(40)"]);
    check(smtp(), "EHLO c\r\nMAIL FROM:<a@x.org> BODY=7BIT\r\n", &["250", "250 2.1.0"]);
    check(smtp(), "EHLO c\r\nMAIL FROM:<bad@x.org>\r\nRCPT TO:<b@y.org>\r\n", &["250", "550 5.7.1", "503 5.5.1"]);
    // RFC 6531: UTF-8 addresses only with SMTPUTF8
    check(smtp(), "EHLO c\r\nMAIL FROM:<jörg@x.org>\r\n", &["250", "553 5.6.7"]);
    check(smtp(), "EHLO c\r\nMAIL FROM:<jörg@x.org> SMTPUTF8\r\nRCPT TO:<dév@y.org>\r\n", &["250", "250 2.1.0", "250 2.1.5"]);
    check(smtp(), "EHLO c\r\nMAIL FROM:<a@x.org>\r\nRCPT TO:<dév@y.org>\r\n", &["250", "250", "553 5.6.7"]);
    let t = run(smtp(), "EHLO c\r\nMAIL FROM:<jörg@x.org> SMTPUTF8\r\n");
    assert_eq!(t.events, ["mail <jörg@x.org> None"]);
    // lower-case and bare LF command lines are fine
    check(smtp(), "ehlo c\nmail from:<a@x.org>\nrcpt to:<b@y.org>\n", &["250", "250 2.1.0", "250 2.1.5"]);
}

#[test]
fn ehlo_lists_extensions() {
    let ehlo = |cfg: SessionConfig, input: &str| run(cfg, input).replies;
    assert_eq!(
        ehlo(smtp(), "EHLO c\r\n"),
        ["250-mx.example.org", "250-PIPELINING", "250-8BITMIME", "250-SMTPUTF8", "250-SIZE 100", "250 ENHANCEDSTATUSCODES"]
    );
    assert_eq!(ehlo(smtp(), "HELO c\r\n"), ["250 mx.example.org"]); // no extensions after HELO
    assert_eq!(ehlo(smtp_tls(), "EHLO c\r\n").last().map(String::as_str), Some("250 STARTTLS"));
    assert!(ehlo(lmtp(), "LHLO c\r\n").contains(&"250-PIPELINING".to_string()));
    let g = Session::new(smtp()).greeting().to_string();
    assert_eq!(g, "220 mx.example.org ESMTP docket\r\n");
    assert_eq!(Session::new(lmtp()).greeting().to_string(), "220 mx.example.org LMTP docket\r\n");
}

#[test]
fn starttls() {
    check(smtp(), "EHLO c\r\nSTARTTLS\r\n", &["250", "502 5.5.1"]); // not offered
    check(smtp_tls(), "EHLO c\r\nSTARTTLS\r\n", &["250", "220 2.0.0"]);
    // RFC 3207 §6: an EHLO pipelined in the same plaintext write as STARTTLS is injection and is
    // dropped (one write only: with 1-byte writes the EHLO would rightly arrive after the handshake)
    let t = converse(smtp_tls(), &[b"EHLO c\r\nSTARTTLS\r\nEHLO c\r\n"]);
    assert_eq!(finals(&t), ["250 STARTTLS", "220 2.0.0 ready to start TLS"]);
    assert_eq!(t.events, ["starttls"]);
    // after the handshake: state reset (EHLO needed again), no STARTTLS offered, nor accepted
    let t = converse(
        smtp_tls(),
        &[
            b"EHLO c\r\nMAIL FROM:<a@x.org>\r\nRSET\r\nSTARTTLS\r\nMAIL FROM:<evil@x.org>\r\nRCPT TO:<b@y.org>\r\n",
            b"MAIL FROM:<a@x.org>\r\n",
            b"EHLO c\r\nSTARTTLS\r\n",
        ],
    );
    assert_eq!(
        finals(&t),
        [
            "250 STARTTLS",
            "250 2.1.0 sender ok",
            "250 2.0.0 reset",
            "220 2.0.0 ready to start TLS",
            "503 5.5.1 send EHLO/HELO first",
            "250 ENHANCEDSTATUSCODES",
            "503 5.5.1 TLS already active"
        ]
    );
    assert_eq!(t.events, ["mail <a@x.org> None", "starttls"]);
    check(smtp_tls(), "EHLO c\r\nMAIL FROM:<a@x.org>\r\nSTARTTLS\r\n", &["250", "250", "503 5.5.1"]);
}

#[test]
fn transaction_and_data() {
    let t = run(smtp(), &format!("{TX}Subject: hi\r\n\r\nbody\r\n.\r\nQUIT\r\n"));
    assert_eq!(finals(&t).iter().map(|l| &l[..3]).collect::<Vec<_>>(), ["250", "250", "250", "354", "250", "221"]);
    assert!(t.closed);
    assert_eq!(
        t.deliveries,
        [Delivery { from: "a@x.org".into(), to: vec!["dev@mx.example.org".into()], data: b"Subject: hi\r\n\r\nbody\r\n".to_vec() }]
    );

    let data = |body: &str| {
        let t = run(smtp(), &format!("{TX}{body}"));
        assert_eq!(t.deliveries.len(), 1, "{body:?}: {t:?}");
        t.deliveries[0].data.clone()
    };
    assert_eq!(data(".\r\n"), b""); // empty message
    assert_eq!(data("..a\r\n.\r\n"), b".a\r\n"); // dot-stuffed first line (RFC 5321 §4.5.2)
    assert_eq!(data("x\r\n..\r\n...y\r\n.\r\n"), b"x\r\n.\r\n..y\r\n");
    assert_eq!(data("a\nb\n.\nc\r\n.\r\n"), b"a\nb\n.\nc\r\n"); // bare LF kept; "\n.\n" does not end DATA
    assert_eq!(data("a\r\n.\r\n"), b"a\r\n");
}

#[test]
fn pipelining_two_messages_in_one_write() {
    let second = "MAIL FROM:<>\r\nRCPT TO:<unknown@y.org>\r\nRCPT TO:<ops@y.org>\r\nDATA\r\nbounce\r\n.\r\nQUIT\r\n";
    let t = converse(smtp(), &[format!("{TX}one\r\n.\r\n{second}").as_bytes()]);
    let codes: Vec<_> = finals(&t).iter().map(|l| l[..3].to_string()).collect();
    assert_eq!(codes, ["250", "250", "250", "354", "250", "250", "550", "250", "354", "250", "221"]);
    assert_eq!(t.deliveries.len(), 2);
    assert_eq!(t.deliveries[1], Delivery { from: "".into(), to: vec!["ops@y.org".into()], data: b"bounce\r\n".to_vec() });
}

#[test]
fn limits() {
    // SIZE declared over the limit: 552 at MAIL (RFC 1870 §6.2), the session goes on
    check(smtp(), "EHLO c\r\nMAIL FROM:<a@x.org> SIZE=101\r\nMAIL FROM:<a@x.org> SIZE=100\r\n", &["250", "552 5.3.4", "250 2.1.0"]);
    // message over the limit without SIZE: the rest is discarded, 552 after the dot, session usable
    let big = "x".repeat(300);
    let t = run(smtp(), &format!("{TX}{big}\r\n.\r\n{TX}ok\r\n.\r\n"));
    let f = finals(&t);
    assert!(f[4].starts_with("552 5.3.4"), "{f:?}");
    assert!(f[9].starts_with("250 2.0.0"), "{f:?}");
    assert_eq!(t.deliveries.len(), 1);
    assert_eq!(t.deliveries[0].data, b"ok\r\n");
    // exactly at the limit is accepted, one over is refused
    let at = "y".repeat(98); // + CRLF = 100 bytes
    assert_eq!(run(smtp(), &format!("{TX}{at}\r\n.\r\n")).deliveries.len(), 1);
    let over = format!("{TX}{at}z\r\n.\r\n");
    assert_eq!(run(smtp(), &over).deliveries.len(), 0);
    // dot-stuffing does not count: 100 bytes unstuffed from 101 on the wire
    assert_eq!(run(smtp(), &format!("{TX}.{at}\r\n.\r\n")).deliveries.len(), 1);
    // max_recipients 3: the fourth gets 452 4.5.3 and is not passed to the caller
    let t = run(smtp(), "EHLO c\r\nMAIL FROM:<a@x.org>\r\nRCPT TO:<a@y>\r\nRCPT TO:<b@y>\r\nRCPT TO:<c@y>\r\nRCPT TO:<d@y>\r\n");
    assert!(finals(&t)[5].starts_with("452 4.5.3"));
    assert_eq!(t.events.len(), 4);
    // refused recipients do not count towards the limit
    check(
        smtp(),
        "EHLO c\r\nMAIL FROM:<a@x.org>\r\nRCPT TO:<unknown1@y>\r\nRCPT TO:<a@y>\r\nRCPT TO:<b@y>\r\nRCPT TO:<c@y>\r\n",
        &["250", "250", "550", "250", "250", "250"],
    );
}

#[test]
fn long_lines() {
    let long = format!("NOOP {}\r\n", "a".repeat(MAX_COMMAND_LINE));
    check(smtp(), &long, &["500 5.5.6"]);
    check(smtp(), &format!("{long}NOOP\r\n"), &["500 5.5.6", "250 2.0.0"]); // recovers at the next line
    check(smtp(), &format!("EHLO c\r\n{}\r\nRSET\r\n", "x".repeat(70_000)), &["250", "500 5.5.6", "250 2.0.0"]);
    let fits = format!("NOOP {}\r\n", "a".repeat(MAX_COMMAND_LINE - 7)); // 4096 with CRLF
    check(smtp(), &fits, &["250 2.0.0"]);
    // a partial line is held, and nothing of a long one is
    let mut s = Session::new(smtp());
    s.receive("z".repeat(3 * MAX_COMMAND_LINE).as_bytes());
    assert_eq!(s.step(), Step::NeedInput);
    assert_eq!(s.buffered(), 0);
}

#[test]
fn lmtp_replies_per_recipient() {
    let input = "LHLO c\r\nMAIL FROM:<a@x.org>\r\nRCPT TO:<dev@y>\r\nRCPT TO:<unknown@y>\r\nRCPT TO:<full@y>\r\nRCPT TO:<ops@y>\r\nDATA\r\nhi\r\n.\r\n";
    let t = run(lmtp(), input);
    let f = finals(&t);
    assert_eq!(
        f.iter().map(|l| &l[..3]).collect::<Vec<_>>(),
        ["250", "250", "250", "550", "250", "250", "354", "250", "452", "250"] // RFC 2033 §4.2
    );
    assert!(f[7].contains("<dev@y>") && f[8].contains("4.2.2") && f[9].contains("<ops@y>"));
    assert_eq!(t.deliveries[0].to, ["dev@y", "full@y", "ops@y"]);
}

#[test]
fn delivered_replies_are_padded_and_misuse_is_ignored() {
    let mut s = Session::new(lmtp());
    s.receive(b"LHLO c\r\nMAIL FROM:<a@x>\r\n");
    s.answer(Ok(())); // nothing asked yet: ignored
    s.delivered(vec![]);
    s.tls_started();
    assert!(matches!(s.step(), Step::MailFrom { .. }));
    assert!(matches!(s.step(), Step::MailFrom { .. })); // repeated until answered
    s.answer(Ok(()));
    s.receive(b"RCPT TO:<a@y>\r\nRCPT TO:<b@y>\r\nDATA\r\nx\r\n.\r\n");
    for _ in 0..2 {
        assert!(matches!(s.step(), Step::Rcpt { .. }));
        s.answer(Ok(()));
    }
    assert!(matches!(s.step(), Step::Deliver { .. }));
    assert_eq!(s.step(), Step::NeedInput); // outstanding delivery: nothing consumed
    s.delivered(vec![Reply::new(250, (2, 0, 0), "ok")]);
    let out = String::from_utf8(s.take_output()).unwrap();
    assert!(out.ends_with("250 2.0.0 ok\r\n451 4.3.0 delivery status unknown, try again later\r\n"), "{out}");
}

#[test]
fn too_many_errors_close_with_421() {
    let t = run(smtp(), &"FOO\r\n".repeat(30));
    let f = finals(&t);
    assert_eq!(f.len(), 21);
    assert!(f[20].starts_with("421 4.7.0"));
    assert!(t.closed);
}

#[test]
fn reply_rendering() {
    let r = |code, status, text: &str| Reply { code, status, text: text.into() }.to_string();
    assert_eq!(r(550, Some((5, 1, 1)), "no such user"), "550 5.1.1 no such user\r\n");
    assert_eq!(r(250, None, "a\nb"), "250-a\r\n250 b\r\n");
    assert_eq!(r(451, Some((4, 3, 0)), "x\ny"), "451-4.3.0 x\r\n451 4.3.0 y\r\n");
    assert_eq!(r(250, Some((2, 0, 0)), ""), "250 2.0.0\r\n");
    assert_eq!(r(550, None, "evil\r\n250 ok"), "550-evil \r\n550 250 ok\r\n"); // CR cannot forge a line
    assert_eq!(r(99, None, "bad code"), "451 bad code\r\n");
}

// ---- property test ---------------------------------------------------------------------------

/// Protocol-shaped fragments, so random runs reach DATA, limits and STARTTLS, mixed with noise.
fn fragment() -> impl Strategy<Value = Vec<u8>> {
    let word = prop_oneof![
        Just("EHLO c\r\n"),
        Just("HELO c\r\n"),
        Just("LHLO c\r\n"),
        Just("MAIL FROM:<a@x.org>\r\n"),
        Just("MAIL FROM:<bad@x.org>\r\n"),
        Just("MAIL FROM:<> SIZE=50\r\n"),
        Just("MAIL FROM:<a@x.org> SIZE=9999\r\n"),
        Just("RCPT TO:<b@y.org>\r\n"),
        Just("RCPT TO:<unknown@y.org>\r\n"),
        Just("DATA\r\n"),
        Just("\r\n.\r\n"),
        Just(".\r\n"),
        Just("..\r\n"),
        Just("RSET\r\n"),
        Just("STARTTLS\r\n"),
        Just("NOOP\r\n"),
        Just("VRFY x\r\n"),
        Just("QUIT\r\n"),
        Just("\n"),
        Just("\r"),
    ]
    .prop_map(|w| w.as_bytes().to_vec());
    prop_oneof![4 => word, 1 => prop::collection::vec(any::<u8>(), 0..300), 1 => (0usize..6000).prop_map(|n| vec![b'x'; n])]
}

/// The shape check the property test and the fuzz target rely on must itself refuse bad shapes.
#[test]
fn the_reply_shape_check_refuses_what_is_not_a_reply() {
    let check = |out: &str, ok: bool| assert_eq!(check_reply_shape(out.as_bytes()).is_ok(), ok, "{out:?}");
    check("", true);
    check("220 mx ready\r\n", true);
    check("250-mx\r\n250-PIPELINING\r\n250 SIZE 100\r\n", true);
    check("220 mx ready", false);
    check("220 mx\n", false);
    check("250-mx\r\n", false);
    check("250-mx\r\n550 no\r\n", false);
    check("199 too low\r\n", false);
    check("25 short\r\n", false);
    check("250mx\r\n", false);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_input_in_arbitrary_chunks(
        frags in prop::collection::vec(fragment(), 0..40),
        cuts in prop::collection::vec(1usize..700, 1..20),
        lmtp in any::<bool>(),
        tls in any::<bool>(),
        max in 0u64..400,
    ) {
        let cfg = SessionConfig { hostname: "mx".into(), max_message_bytes: max, max_recipients: 2, lmtp, tls_available: tls };
        let input: Vec<u8> = frags.concat();
        let mut s = Session::new(cfg);
        let mut t = Transcript::default();
        let mut out = s.greeting().to_bytes();
        let (mut at, mut i) = (0, 0);
        while at < input.len() {
            let n = cuts[i % cuts.len()].min(input.len() - at);
            i += 1;
            s.receive(&input[at..at + n]);
            at += n;
            let mut steps = 0;
            loop {
                steps += 1;
                prop_assert!(steps < 100_000, "step loop does not make progress");
                match s.step() {
                    Step::NeedInput | Step::Close => break,
                    other => decide(&mut s, other, &mut t),
                }
            }
            // bounded: the message so far (limit + 2) plus at most one partial command line
            prop_assert!(s.buffered() as u64 <= max + 2 + MAX_COMMAND_LINE as u64, "buffered {}", s.buffered());
            out.extend(s.take_output());
        }
        if let Err(e) = check_reply_shape(&out) {
            prop_assert!(false, "{}", e);
        }
        for d in &t.deliveries {
            prop_assert!(d.data.len() as u64 <= max);
            prop_assert!(!d.to.is_empty() && d.to.len() <= 2);
        }
    }
}

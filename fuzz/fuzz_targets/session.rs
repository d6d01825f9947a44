//! Fuzz target: the sans-IO SMTP/LMTP session fed an arbitrary client conversation in arbitrary
//! chunks, with the caller's decisions drawn from the input. Checks what `tests/session.rs`'s
//! property test checks: the step loop always progresses, buffered bytes stay bounded, every reply
//! is well formed and no delivery breaks the configured limits.
#![no_main]

use docket::ingest::session::{MAX_COMMAND_LINE, Reply, Session, SessionConfig, Step, check_reply_shape};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [flags, size, cut, rest @ ..] = data else { return };
    let max = u64::from(*size) * 4;
    let cfg = SessionConfig {
        hostname: "mx.fuzz".into(),
        max_message_bytes: max,
        max_recipients: 3,
        lmtp: flags & 1 != 0,
        tls_available: flags & 2 != 0,
    };
    let handshake_ok = flags & 4 != 0;
    let lmtp_replies = usize::from(flags >> 4);
    let mut s = Session::new(cfg);
    let mut out = s.greeting().to_bytes();
    let (mut at, mut i) = (0usize, 0usize);
    'conversation: while at < rest.len() {
        // Write sizes from 1 to 256 bytes, cycling with the seed so the fuzzer controls framing.
        let n = (1 + (usize::from(*cut) * 31 + i * 17) % 256).min(rest.len() - at);
        i += 1;
        s.receive(&rest[at..at + n]);
        at += n;
        let mut steps = 0u32;
        loop {
            steps += 1;
            assert!(steps < 100_000, "the step loop does not make progress");
            match s.step() {
                Step::NeedInput => break,
                Step::Close => {
                    out.extend(s.take_output());
                    break 'conversation;
                }
                Step::MailFrom { from, size } => {
                    assert!(size.is_none_or(|n| n <= max), "SIZE={size:?} over the limit {max} reached the caller");
                    match from.starts_with("bad") {
                        true => s.answer(Err(Reply::new(550, (5, 7, 1), "not a member"))),
                        false => s.answer(Ok(())),
                    }
                }
                Step::Rcpt { to } => match to.starts_with("unknown") {
                    true => s.answer(Err(Reply::new(550, (5, 1, 1), "no such space"))),
                    false => s.answer(Ok(())),
                },
                Step::Deliver { rcpt_to, data, .. } => {
                    assert!(data.len() as u64 <= max, "delivered {} bytes over the limit {max}", data.len());
                    assert!(!rcpt_to.is_empty() && rcpt_to.len() <= 3, "delivered to {} recipients", rcpt_to.len());
                    // LMTP callers may answer too few or too many: the session must fill or drop.
                    let replies = (0..lmtp_replies.max(1)).map(|_| Reply::new(250, (2, 0, 0), "stored")).collect();
                    s.delivered(replies);
                }
                Step::StartTls => {
                    out.extend(s.take_output());
                    if !handshake_ok {
                        break 'conversation; // a failed handshake closes the connection
                    }
                    s.tls_started();
                }
            }
        }
        assert!(s.buffered() as u64 <= max + 2 + MAX_COMMAND_LINE as u64, "buffered {} bytes", s.buffered());
        out.extend(s.take_output());
    }
    if let Err(e) = check_reply_shape(&out) {
        panic!("{e}");
    }
});

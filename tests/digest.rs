//! Digests you can act on, end to end through the real Maildir outbox on every backend (FakeClock)
//! and through the binary (`docket tick --now`): each active thread lists who wrote and the first
//! lines of what they newly wrote (never quoted lines), each new decision its line of context,
//! and each thread the member's own reply address — the one their fan-out copies carry as
//! Reply-To — so that answering from the digest lands in the thread. Nothing new: no digest.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use chrono::TimeZone;
use docket::app::App;
use docket::config::Config;
use docket::ingest::{Envelope, InboundMessage, Outcome, Source};
use docket::space::MemberSettings;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use support::{Mail, TestApp, backends};

/// The app on `docket.test` with no relay: mail goes to `DATA_DIR/outbox/` (Maildir).
fn outbox_app(t: &mut TestApp) {
    let env = HashMap::from([
        ("DOCKET__SERVER__DATA_DIR".to_string(), t.dir.path().display().to_string()),
        ("DOCKET__DATABASE__URL".to_string(), t.app.config.database.url.clone()),
        ("DOCKET__SERVER__DOMAIN".to_string(), "docket.test".to_string()),
        ("DOCKET__HTTP__BASE_URL".to_string(), "https://docket.example.org".to_string()),
        ("DOCKET__HTTP__LISTEN".to_string(), "127.0.0.1:0".to_string()),
    ]);
    let mut config = Config::load_with_env(None, env).unwrap();
    config.security.accept_from = docket::config::AcceptFrom::Anyone;
    let mailer = docket::notify::mailer::from_config(&config).unwrap();
    t.app = App { config: Arc::new(config), ..t.app.clone() }.with_mailer(mailer);
}

/// One mail written to the outbox.
struct Out {
    to: String,
    kind: String,
    raw: Vec<u8>,
}

impl Out {
    fn parsed(&self) -> docket::parse::mime::ParsedMail {
        docket::parse::mime::parse(&self.raw)
    }

    fn text(&self) -> String {
        self.parsed().text.unwrap_or_default().replace("\r\n", "\n")
    }

    fn html(&self) -> String {
        self.parsed().html.unwrap_or_default()
    }

    fn header(&self, name: &str) -> Option<String> {
        let raw = String::from_utf8_lossy(&self.raw).replace("\r\n", "\n");
        let head = raw.split("\n\n").next().unwrap_or_default().replace("\n ", " ").replace("\n\t", " ");
        head.lines().find_map(|l| l.split_once(':').filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim().to_string()))
    }
}

/// The mail written to `outbox/new` since the last call (read, then removed).
fn take_outbox(data_dir: &Path) -> Vec<Out> {
    let new = data_dir.join("outbox/new");
    let Ok(entries) = std::fs::read_dir(&new) else { return Vec::new() };
    let mut out = Vec::new();
    for path in entries.map(|e| e.unwrap().path()) {
        let raw = std::fs::read(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        let mut o = Out { to: String::new(), kind: String::new(), raw };
        o.to = o.header("Delivered-To").unwrap_or_default();
        o.kind = o.header("X-Docket-Kind").unwrap_or_else(|| "fanout".into());
        out.push(o);
    }
    out
}

fn one<'a>(mail: &'a [Out], kind: &str, to: &str) -> &'a Out {
    let found: Vec<&Out> = mail.iter().filter(|m| m.kind == kind && m.to == to).collect();
    assert_eq!(found.len(), 1, "one {kind} to {to} in {:?}", mail.iter().map(|m| (&m.kind, &m.to)).collect::<Vec<_>>());
    found[0]
}

/// The `Reply:` line of a thread in a digest's text part.
fn reply_line(text: &str, thread: i64) -> String {
    let start = text.find(&format!("- #{thread} ")).unwrap_or_else(|| panic!("thread #{thread} missing in {text}"));
    let rest = &text[start..];
    let line = rest.lines().find(|l| l.starts_with("  Reply: ")).unwrap_or_else(|| panic!("no Reply line in {rest}"));
    line.trim_start_matches("  Reply: ").to_string()
}

const BUDGET: &str = "We should move the offsite to March.\nThe venue is booked in February.\n\n#decision Offsite moves to March\n";
const AGREED: &str =
    "Agreed, I will ask finance.\n\nOn Tue, 24 Nov 2026, Alice wrote:\n> We should move the offsite to March.\n> QUOTED-ONLY-LINE\n";
const LONG: &str = "Line one.\nLine two.\nLine three.\nLine four NOT-SHOWN.\n";

#[tokio::test]
async fn a_digest_shows_who_wrote_what_and_answers_land_in_the_thread() {
    for mut t in backends().await {
        outbox_app(&mut t);
        let data = t.app.config.server.data_dir.clone();
        t.app.store.add_space("eng", "Engineering", 0).await.unwrap();
        for who in ["alice", "bob", "carol"] {
            t.member("eng", &format!("{who}@example.org"), MemberSettings::default()).await;
        }
        // Tuesday 09:00: alice starts a thread and records a decision; bob answers, quoting her.
        let thread = t.thread_of(&Mail::new("b1@example.org", "Budget").body(BUDGET).raw(), "eng").await;
        t.tick().await;
        let first = take_outbox(&data);
        let bob_reply_to = one(&first, "fanout", "bob@example.org").header("Reply-To").unwrap();
        t.clock.advance(chrono::Duration::minutes(10));
        let agreed = Mail::new("b2@example.org", "Re: Budget").from("Bob <bob@example.org>").reply_to("b1@example.org").body(AGREED);
        assert_eq!(t.thread_of(&agreed.raw(), "eng").await, thread);
        let long = Mail::new("b3@example.org", "Re: Budget").from("Carol <carol@example.org>").reply_to("b2@example.org").body(LONG);
        assert_eq!(t.thread_of(&long.raw(), "eng").await, thread);
        t.tick().await;
        let second = take_outbox(&data);
        // Alice's copies of bob's and carol's messages: one thread, one reply address.
        let alice_copies: Vec<String> =
            second.iter().filter(|m| m.to == "alice@example.org").map(|m| m.header("Reply-To").unwrap()).collect();
        assert_eq!(alice_copies.len(), 2, "[{}]", t.backend);
        assert_eq!(alice_copies[0], alice_copies[1]);
        let alice_reply_to = alice_copies[0].clone();

        // Wednesday 08:00 (the default digest time): one digest each.
        t.clock.set(chrono::Utc.with_ymd_and_hms(2026, 11, 25, 8, 0, 0).unwrap());
        t.tick().await;
        let digests = take_outbox(&data);
        let bob = one(&digests, "digest", "bob@example.org");
        let text = bob.text();
        let want = format!(
            "- #{thread} Budget\n  3 new messages from @alice, @bob, @carol\n  \
             @alice: We should move the offsite to March.\n    The venue is booked in February.\n    #decision Offsite moves to March\n  \
             @bob: Agreed, I will ask finance.\n  \
             @carol: Line one.\n    Line two.\n    Line three. …\n  \
             Reply: {bob_reply_to}\n"
        );
        assert!(text.contains(&want), "[{}] want\n{want}\nin\n{text}", t.backend);
        assert!(text.contains("- D-1 Offsite moves to March\n  by alice@example.org "), "[{}] {text}", t.backend);
        assert!(text.contains("\n  in “Budget”: We should move the offsite to March.\n"), "[{}] {text}", t.backend);
        for gone in ["QUOTED-ONLY-LINE", "NOT-SHOWN", "Alice wrote"] {
            assert!(!text.contains(gone), "[{}] {gone} in {text}", t.backend);
        }
        assert!(!text.lines().any(|l| l.trim_start().starts_with('>')), "[{}] a quoted line in {text}", t.backend);
        assert_eq!(reply_line(&text, thread), bob_reply_to, "the digest offers the address bob's copies carry");
        let href = format!("<a href=\"mailto:{bob_reply_to}?subject=Re:%20Budget\">{bob_reply_to}</a>");
        assert!(bob.html().contains(&href), "[{}] {href} not in {}", t.backend, bob.html());
        // Each member gets their own address: alice's is the one on her copies.
        let alice = one(&digests, "digest", "alice@example.org");
        assert_eq!(reply_line(&alice.text(), thread), alice_reply_to);
        assert_ne!(alice_reply_to, bob_reply_to);

        // The same time again: nothing twice. Thursday, nothing new: no digest at all.
        t.tick().await;
        assert!(take_outbox(&data).iter().all(|m| m.kind != "digest"), "[{}] a digest twice", t.backend);
        t.clock.set(chrono::Utc.with_ymd_and_hms(2026, 11, 26, 8, 0, 0).unwrap());
        t.tick().await;
        assert!(take_outbox(&data).is_empty(), "[{}] a digest with nothing new", t.backend);

        // Bob answers from the digest: a new subject, no In-Reply-To, only the address.
        let answer = Mail::new("b4@example.org", "Offsite").from("Bob <bob@example.org>").body("Finance says yes.\n").raw();
        let msg = InboundMessage {
            raw: answer,
            envelope: Envelope { mail_from: Some("bob@example.org".into()), rcpt_to: vec![reply_line(&text, thread)] },
            source: Source::Smtp,
        };
        let Ok(Outcome::Stored(m)) = docket::ingest::accept(&t.app, msg, None).await else { panic!("[{}] answer not stored", t.backend) };
        assert_eq!(m.thread_id, thread, "[{}] the answer from the digest lands in the thread", t.backend);
        t.tick().await;
        t.clock.set(chrono::Utc.with_ymd_and_hms(2026, 11, 27, 8, 0, 0).unwrap());
        t.tick().await;
        let friday = take_outbox(&data);
        let text = one(&friday, "digest", "alice@example.org").text();
        assert!(
            text.contains(&format!("- #{thread} Budget\n  1 new message from @bob\n  @bob: Finance says yes.\n")),
            "[{}] {text}",
            t.backend
        );
        assert!(!text.contains("New decisions"), "[{}] yesterday's decision is not new: {text}", t.backend);
    }
}

/// Asks waiting for the member and new meeting notes have their own sections: an ask of bob is
/// in bob's digest (with his reply address for its thread) and not in carol's; both see the notes.
#[tokio::test]
async fn digests_list_asks_waiting_for_the_member_and_new_meeting_notes() {
    for mut t in backends().await {
        outbox_app(&mut t);
        let data = t.app.config.server.data_dir.clone();
        t.app.store.add_space("eng", "Engineering", 0).await.unwrap();
        for who in ["alice", "bob", "carol"] {
            t.member("eng", &format!("{who}@example.org"), MemberSettings::default()).await;
        }
        let notes = "Present: alice, bob.\n\n#decision Retro every other Friday\n#ask Is the room booked? @bob by 2026-11-27 12:00 default: we meet online\n";
        let thread = t.thread_of(&Mail::new("n1@example.org", "[notes] Team sync").body(notes).raw(), "eng").await;
        t.tick().await;
        let first = take_outbox(&data);
        let bob_reply_to = one(&first, "fanout", "bob@example.org").header("Reply-To").unwrap();
        t.clock.set(chrono::Utc.with_ymd_and_hms(2026, 11, 25, 8, 0, 0).unwrap());
        t.tick().await;
        let digests = take_outbox(&data);
        let bob = one(&digests, "digest", "bob@example.org");
        let text = bob.text();
        assert!(bob.parsed().subject.contains("1 ask waiting for you"), "[{}] {}", t.backend, bob.parsed().subject);
        assert!(text.contains("Asks waiting for you\n- A-1 Is the room booked?\n"), "[{}] {text}", t.backend);
        assert!(text.contains("answer by Fri 27 Nov 12:00 UTC; if nobody answers: we meet online"), "[{}] {text}", t.backend);
        assert!(text.contains(&format!("Answer: {bob_reply_to}")), "[{}] {text}", t.backend);
        assert!(text.contains("New meeting notes\n- N-1 Team sync\n  by alice@example.org"), "[{}] {text}", t.backend);
        assert!(text.contains(": D-1, A-1"), "[{}] {text}", t.backend);
        let carol = one(&digests, "digest", "carol@example.org").text();
        assert!(!carol.contains("Asks waiting for you") && carol.contains("N-1 Team sync"), "[{}] {carol}", t.backend);
        let _ = thread;
        // The same time again, and again in a new process on the same data: nothing twice.
        t.tick().await;
        let restarted = App::open_with_clock((*t.app.config).clone(), t.clock.clone()).await.unwrap();
        let mailer = docket::notify::mailer::from_config(&t.app.config).unwrap();
        t.app = App { dkim: t.app.dkim.clone(), ..restarted }.with_mailer(mailer);
        t.tick().await;
        assert!(take_outbox(&data).is_empty(), "[{}] sent twice after a restart", t.backend);
        // Bob answers: Thursday's digest has no ask for him.
        let answer = Mail::new("n2@example.org", "Re: [notes] Team sync").from("Bob <bob@example.org>").reply_to("n1@example.org");
        t.ingest(&answer.body("Booked, room 4.\n").raw(), "eng").await;
        t.clock.set(chrono::Utc.with_ymd_and_hms(2026, 11, 26, 8, 0, 0).unwrap());
        t.tick().await;
        let thursday = take_outbox(&data);
        let bob = one(&thursday, "digest", "bob@example.org").text();
        assert!(!bob.contains("Asks waiting for you") && !bob.contains("New meeting notes"), "[{}] {bob}", t.backend);
    }
}

/// The binary: `docket tick --now` writes the digest to the outbox with the excerpt and the reply
/// address of the member's copy; `docket ingest --recipient` of an answer to it joins the thread.
mod cli {
    use super::*;
    use std::process::{Command, Output, Stdio};

    fn docket(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Output {
        use std::io::Write;
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_docket"));
        cmd.current_dir(dir).args(args).env_remove("DOCKET_CONFIG").env("DOCKET__SERVER__DATA_DIR", dir.join("data"));
        cmd.env("DOCKET__SERVER__DOMAIN", "docket.test").env("DOCKET__HTTP__LISTEN", "127.0.0.1:0");
        // The binary's DMARC check would ask real DNS about the test domains: tests never do.
        cmd.env("DOCKET__SECURITY__DMARC", "false");
        let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        child.stdin.take().unwrap().write_all(stdin.unwrap_or_default()).unwrap();
        child.wait_with_output().unwrap()
    }

    fn ok(o: Output) -> String {
        let out = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
        assert!(o.status.success(), "{out}");
        out
    }

    #[allow(clippy::disallowed_methods)] // the binary runs on wall time
    fn wall() -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now()
    }

    #[test]
    fn tick_now_writes_an_actionable_digest() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        ok(docket(d, &["space", "add", "eng"], None));
        for who in ["alice", "bob"] {
            let addr = format!("{who}@example.org");
            ok(docket(d, &["member", "add", &addr, "--space", "eng", "--tz", "UTC", "--digest-days", "daily"], None));
        }
        let now = wall();
        let mail = Mail::new("cli-d1@example.org", "Launch day").date(&now.to_rfc2822()).body(BUDGET).raw();
        ok(docket(d, &["ingest", "--space", "eng", "--sender", "alice@example.org"], Some(&mail)));
        ok(docket(d, &["tick", "--now", &(now + chrono::Duration::minutes(1)).to_rfc3339()], None));
        let copies = take_outbox(&d.join("data"));
        let reply_to = one(&copies, "fanout", "bob@example.org").header("Reply-To").unwrap();

        // The next 08:00 UTC at least two minutes from now: everyone's digest time.
        let mut at = now.date_naive().and_hms_opt(8, 0, 0).unwrap().and_utc();
        while at <= now + chrono::Duration::minutes(2) {
            at += chrono::Duration::days(1);
        }
        ok(docket(d, &["tick", "--now", &at.to_rfc3339()], None));
        let digests = take_outbox(&d.join("data"));
        let text = one(&digests, "digest", "bob@example.org").text();
        assert!(text.contains("  @alice: We should move the offsite to March.\n    The venue is booked in February.\n"), "{text}");
        assert!(text.contains("  in “Launch day”: We should move the offsite to March.\n"), "{text}");
        assert_eq!(reply_line(&text, 1), reply_to);

        let answer = Mail::new("cli-d2@example.org", "Something else").from("Bob <bob@example.org>").body("Count me in.\n").raw();
        ok(docket(d, &["ingest", "--recipient", &reply_to, "--sender", "bob@example.org"], Some(&answer)));
        let thread = ok(docket(d, &["thread", "1", "--json"], None));
        let v: serde_json::Value = serde_json::from_str(thread.trim()).unwrap_or(serde_json::Value::Null);
        assert_eq!(v["message_count"].as_i64(), Some(2), "the answer joined thread 1: {thread}");
        let threads = ok(docket(d, &["threads", "--space", "eng", "--json"], None));
        let v: serde_json::Value = serde_json::from_str(threads.trim()).unwrap_or(serde_json::Value::Null);
        assert_eq!(v.as_array().map(Vec::len), Some(1), "no second thread: {threads}");
    }
}

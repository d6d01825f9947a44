//! Nudges and receipts with undo through real ingest and tick on every backend: a thread-starting
//! message gets a receipt naming exactly the parts it lacks (context, ask, deadline, what happens
//! on silence), none for a complete message, a reply, a non-member or with `notify.nudges` off;
//! each recorded item names the reply that undoes it; lines not understood are named; nothing is
//! sent twice.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use docket::config::Receipts;
use docket::ingest::Outcome;
use docket::parse::nudges::Nudge;
use docket::space::MemberSettings;
use std::sync::Arc;
use support::{Mail, Recorder, TestApp, backends};

/// The prose that gives a message its context.
const CONTEXT: &str = "The client demo moved to the 3rd and the staging build has been red since Monday.";
/// The heading of the nudge section of a receipt.
const NUDGES: &str = "To make your message stand on its own";

/// Space `eng` with members alice and bob, `notify.nudges` and `notify.receipts` as given (tests/support
/// turns nudges off), mail recorded.
async fn team(t: &mut TestApp, nudges: bool, receipts: Receipts) -> Arc<Recorder> {
    let mut config = (*t.app.config).clone();
    config.notify.nudges = nudges;
    config.notify.receipts = receipts;
    t.app.config = Arc::new(config);
    t.space("eng").await;
    let berlin = MemberSettings { tz: Some(chrono_tz::Europe::Berlin), ..Default::default() };
    t.member("eng", "alice@example.org", berlin).await;
    t.member("eng", "bob@example.org", MemberSettings::default()).await;
    t.record()
}

/// The receipts sent so far: (subject, text body).
async fn receipts(t: &TestApp, sent: &Recorder) -> Vec<(String, String)> {
    t.tick().await;
    sent.take()
        .into_iter()
        .filter(|s| s.kind() == "receipt")
        .map(|s| (s.subject(), docket::parse::mime::parse(s.raw.as_bytes()).text.unwrap_or_default()))
        .collect()
}

fn nudged(body: &str) -> Vec<&'static str> {
    Nudge::ALL.into_iter().filter(|n| body.contains(n.line())).map(Nudge::code).collect()
}

#[tokio::test]
async fn a_receipt_names_exactly_the_missing_parts() {
    for mut t in backends().await {
        let sent = team(&mut t, true, Receipts::Changes).await;
        // One message per missing part, and one missing three.
        let cases: [(&str, String, Vec<&str>); 4] = [
            ("m1@x", "#ask Do we ship as is? by thursday default: we ship as is\n\nThanks,\nAlice\n".into(), vec!["context"]),
            ("m2@x", format!("{CONTEXT}\n\n#ask Do we ship as is? default: we ship as is\n"), vec!["deadline"]),
            ("m3@x", format!("{CONTEXT}\n\n#ask Do we ship as is? by thursday\n"), vec!["if_no_response"]),
            ("m4@x", format!("Hi all,\n\n{CONTEXT}\n\nBest,\nAlice\n"), vec!["ask", "deadline", "if_no_response"]),
        ];
        for (id, body, _) in &cases {
            t.ingest(&Mail::new(id, &format!("Plan {id}")).body(body).raw(), "eng").await;
        }
        let got = receipts(&t, &sent).await;
        assert_eq!(got.len(), cases.len(), "[{}] one receipt per message: {got:?}", t.backend);
        for (id, _, want) in &cases {
            let (subject, body) = got.iter().find(|(s, _)| s.contains(&format!("Plan {id}"))).unwrap();
            assert_eq!(&nudged(body), want, "[{}] {subject}: {body}", t.backend);
            assert!(body.contains(NUDGES), "[{}] {body}", t.backend);
        }
        // A message that recorded nothing is told about it, not "Recorded".
        let (subject, body) = got.iter().find(|(s, _)| s.contains("Plan m4@x")).unwrap();
        assert_eq!(subject, "About your message: Plan m4@x", "[{}]", t.backend);
        assert!(body.contains("Nothing was recorded from your message."), "[{}] {body}", t.backend);
        let (subject, _) = got.iter().find(|(s, _)| s.contains("Plan m1@x")).unwrap();
        assert_eq!(subject, "Recorded: A-1 (Plan m1@x)", "[{}]", t.backend);
        // Nothing is sent twice.
        assert_eq!(receipts(&t, &sent).await, Vec::new(), "[{}]", t.backend);
    }
}

#[tokio::test]
async fn no_nudge_for_a_complete_message_a_reply_a_stranger_or_when_off() {
    for mut t in backends().await {
        let sent = team(&mut t, true, Receipts::Changes).await;
        let complete = format!("Hi all,\n\n{CONTEXT}\n\n#ask Do we ship as is? by thursday default: we ship as is\n");
        t.ingest(&Mail::new("c1@x", "Ship?").body(&complete).raw(), "eng").await;
        let proposal = format!("{CONTEXT}\n\n#propose we ship as is by thursday\n");
        t.ingest(&Mail::new("c2@x", "Ship!").body(&proposal).raw(), "eng").await;
        let got = receipts(&t, &sent).await;
        assert_eq!(got.len(), 2, "[{}] receipts for the ask and the proposal: {got:?}", t.backend);
        for (subject, body) in &got {
            assert!(subject.starts_with("Recorded: "), "[{}] {subject}", t.backend);
            assert!(!body.contains(NUDGES) && nudged(body).is_empty(), "[{}] a complete message: {body}", t.backend);
        }
        // Replies lacking everything: by In-Reply-To, by References, by a Re: subject alone.
        // (alice's own: a reply of the asker answers no ask, so it records nothing.)
        t.ingest(&Mail::new("r1@x", "Re: Ship?").reply_to("c1@x").body("ok").raw(), "eng").await;
        t.ingest(&Mail::new("r2@x", "Ship?").refs(&["c1@x"]).body("fine").raw(), "eng").await;
        t.ingest(&Mail::new("r3@x", "Re: Something else").body("sure").raw(), "eng").await;
        // A stranger (tests take mail from anyone) is not coached.
        t.ingest(&Mail::new("s1@x", "Hello").from("Zed <zed@elsewhere.org>").body("Hi").raw(), "eng").await;
        assert_eq!(receipts(&t, &sent).await, Vec::new(), "[{}] replies and strangers get no nudge", t.backend);
    }
    for (nudges, receipts_mode) in [(false, Receipts::Changes), (true, Receipts::Never)] {
        for mut t in backends().await {
            let sent = team(&mut t, nudges, receipts_mode).await;
            t.ingest(&Mail::new("o1@x", "Hello").body("Hi all").raw(), "eng").await;
            assert_eq!(receipts(&t, &sent).await, Vec::new(), "[{}] nudges {nudges}, receipts {receipts_mode:?}", t.backend);
        }
    }
}

#[tokio::test]
async fn receipts_show_undo_lines_and_the_lines_not_understood() {
    for mut t in backends().await {
        let sent = team(&mut t, true, Receipts::Changes).await;
        let body = format!(
            "{CONTEXT}\n\n#decision We ship on the 10th\n\n#action Write the notes @bob due friday\n\n#propose Move to Rust by friday\n\n\
             #ask Who reviews? by friday default: alice reviews\n\n#desicion this line is a typo\n"
        );
        let raw = Mail::new("u1@x", "Launch").body(&body).raw();
        assert!(matches!(t.ingest(&raw, "eng").await, Outcome::Stored(_)));
        let got = receipts(&t, &sent).await;
        assert_eq!(got.len(), 1, "[{}] {got:?}", t.backend);
        let (subject, body) = &got[0];
        assert_eq!(subject, "Recorded: D-1, T-1, P-1, A-1 (Launch)", "[{}]", t.backend);
        for want in [
            "Undo: reply `#decision … supersedes D-1` to replace it",
            "Undo: reply `#cancel T-1`",
            "Undo: reply `#withdraw P-1`",
            "Could not understand",
            "line 11: '#desicion' is not a tag",
        ] {
            assert!(body.contains(want), "[{}] {want:?} missing from\n{body}", t.backend);
        }
        assert_eq!(body.matches("Undo: ").count(), 3, "[{}] no undo for an ask: {body}", t.backend);
        assert!(!body.contains(NUDGES), "[{}] a complete message: {body}", t.backend);
        // The same message again (same Message-ID) changes and sends nothing.
        assert!(matches!(t.ingest(&raw, "eng").await, Outcome::Duplicate { .. }), "[{}]", t.backend);
        assert_eq!(receipts(&t, &sent).await, Vec::new(), "[{}]", t.backend);

        // A reply that closes the task: its undo reopens it.
        let done = Mail::new("u2@x", "Re: Launch").reply_to("u1@x").from("Bob <bob@example.org>").body("#done T-1\n");
        t.ingest(&done.raw(), "eng").await;
        let got = receipts(&t, &sent).await;
        assert_eq!(got.len(), 1, "[{}] {got:?}", t.backend);
        assert!(got[0].1.contains("Undo: reply `#reopen T-1`"), "[{}] {}", t.backend, got[0].1);
        assert!(!got[0].1.contains(NUDGES), "[{}] a reply: {}", t.backend, got[0].1);
    }
}

#[tokio::test]
async fn a_nudge_for_a_duplicate_is_sent_once() {
    for mut t in backends().await {
        let sent = team(&mut t, true, Receipts::Changes).await;
        let raw = Mail::new("d1@x", "Thoughts").body("Thoughts?").raw();
        t.ingest(&raw, "eng").await;
        assert!(matches!(t.ingest(&raw, "eng").await, Outcome::Duplicate { .. }), "[{}]", t.backend);
        let got = receipts(&t, &sent).await;
        assert_eq!(got.len(), 1, "[{}] {got:?}", t.backend);
        assert_eq!(nudged(&got[0].1), ["context", "deadline", "if_no_response"], "[{}] {}", t.backend, got[0].1);
        t.ingest(&raw, "eng").await;
        assert_eq!(receipts(&t, &sent).await, Vec::new(), "[{}]", t.backend);
    }
}

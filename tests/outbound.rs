//! Outbound mail end to end on every backend: fan-out copies and receipts through real lettre to an
//! SMTP sink on 127.0.0.1:0 (snapshot-tested), a relay that is down (queued, retried with
//! backoff, nothing lost), a relay answering 5xx (failed, visible, not retried), the Maildir
//! outbox of a zero-config server, the commands address and sender notices.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use chrono::TimeZone;
use docket::app::App;
use docket::config::Config;
use docket::ingest::{Envelope, InboundMessage, Outcome, Source};
use docket::space::MemberSettings;
use std::collections::HashMap;
use std::sync::Arc;
use support::golden::snapshot;
use support::sink::{Received, Sink};
use support::{Mail, Sent, TestApp, backends};

/// The app on `docket.test`, sending through `mailer` (a relay URL) when given.
fn configure(t: &mut TestApp, smtp_url: Option<&str>) {
    configure_with(t, smtp_url, &[]);
}

fn configure_with(t: &mut TestApp, smtp_url: Option<&str>, extra: &[(&str, &str)]) {
    let mut env = HashMap::from([
        ("DOCKET__SERVER__DATA_DIR".to_string(), t.dir.path().display().to_string()),
        ("DOCKET__DATABASE__URL".to_string(), t.app.config.database.url.clone()),
        ("DOCKET__SERVER__DOMAIN".to_string(), "docket.test".to_string()),
        ("DOCKET__HTTP__BASE_URL".to_string(), "https://docket.example.org".to_string()),
        ("DOCKET__HTTP__LISTEN".to_string(), "127.0.0.1:0".to_string()),
        ("DOCKET__NOTIFY__NUDGES".to_string(), "false".to_string()),
    ]);
    if let Some(url) = smtp_url {
        env.insert("DOCKET__OUTBOUND__SMTP_URL".to_string(), url.to_string());
    }
    for (k, v) in extra {
        env.insert(k.to_string(), v.to_string());
    }
    let config = Config::load_with_env(None, env).unwrap();
    let mailer = docket::notify::mailer::from_config(&config).unwrap();
    t.app = App { config: Arc::new(config), ..t.app.clone() }.with_mailer(mailer);
}

async fn team(t: &TestApp) {
    t.app.store.add_space("eng", "Engineering", 0).await.unwrap();
    let tz = |z: &str| Some(z.parse::<chrono_tz::Tz>().unwrap());
    t.member("eng", "alice@example.org", MemberSettings { tz: tz("Europe/Berlin"), ..Default::default() }).await;
    t.member("eng", "bob@example.org", MemberSettings { tz: tz("America/Los_Angeles"), ..Default::default() }).await;
    let digest = MemberSettings { delivery: Some(docket::space::Delivery::Digest), ..Default::default() };
    t.member("eng", "carol@example.org", digest).await;
    let mentions = MemberSettings { delivery: Some(docket::space::Delivery::Mentions), ..Default::default() };
    t.member("eng", "dave@example.org", mentions.clone()).await;
    t.member("eng", "erin@example.org", mentions).await;
}

const WITH_ATTACHMENT: &str = "From: =?utf-8?q?Alice_M=C3=BCller?= <alice@example.org>\r\n\
To: eng@docket.test\r\n\
Subject: Rollout plan\r\n\
Date: Tue, 24 Nov 2026 10:00:00 +0100\r\n\
Message-ID: <plan-1@example.org>\r\n\
Received: from mx.example.org by docket.test\r\n\
DKIM-Signature: v=1; a=rsa-sha256; d=example.org;\r\n b=abcdef\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"outer\"\r\n\
\r\n\
--outer\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Transfer-Encoding: 8bit\r\n\
\r\n\
Plan attached.\r\n\
\r\n\
#action Draft the rollout plan @dave due friday\r\n\
#decision We ship on the 10th\r\n\
#action Book the room due whenever\r\n\
--outer\r\n\
Content-Type: text/plain; name=\"plan.txt\"\r\n\
Content-Disposition: attachment; filename=\"plan.txt\"\r\n\
Content-Transfer-Encoding: base64\r\n\
\r\n\
U3RlcCAxOiBzaGlwLgo=\r\n\
--outer--\r\n";

fn to(r: &Received) -> &str {
    r.rcpt_to.first().map(String::as_str).unwrap_or("")
}

fn text(r: &Received) -> String {
    String::from_utf8_lossy(&r.data).into_owned()
}

#[tokio::test]
async fn fan_out_and_receipt_through_a_real_smtp_relay() {
    for mut t in backends().await {
        let sink = Sink::start().await;
        configure(&mut t, Some(&sink.url()));
        team(&t).await;
        let Outcome::Stored(stored) = t.ingest(WITH_ATTACHMENT.as_bytes(), "eng").await else { panic!("not stored") };
        let report = t.tick().await;
        assert_eq!((report.outbound.delivery.sent, report.outbound.delivery.failed), (3, 0), "[{}] {report:?}", t.backend);
        let mut got = sink.messages();
        got.sort_by(|a, b| to(a).cmp(to(b)));
        let rcpts: Vec<&str> = got.iter().map(to).collect();
        // alice wrote it; carol reads digests; erin only mentions (dave owns T-1).
        assert_eq!(rcpts, ["alice@example.org", "bob@example.org", "dave@example.org"], "[{}]", t.backend);
        assert!(got.iter().all(|r| r.mail_from == "docket@docket.test"));

        let copy = text(&got[1]);
        for want in [
            "From: =?utf-8?b?",
            "List-Id: Engineering <eng.docket.test>\r\n",
            "List-Unsubscribe: <https://docket.example.org/unsubscribe/eng/",
            ">, <mailto:docket@docket.test?subject=unsubscribe%20eng>\r\n",
            "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n",
            "Precedence: list\r\n",
            "Message-ID: <plan-1@example.org>\r\n",
            "Content-Disposition: attachment; filename=\"plan.txt\"\r\n",
            "U3RlcCAxOiBzaGlwLgo=\r\n",
        ] {
            assert!(copy.contains(want), "[{}] {want:?} missing from\n{copy}", t.backend);
        }
        assert!(!copy.contains("Auto-Submitted") && !copy.contains("DKIM-Signature") && !copy.contains("Received:"), "{copy}");
        let parsed = docket::parse::mime::parse(copy.as_bytes());
        assert_eq!(parsed.from.as_ref().and_then(|f| f.name.as_deref()), Some("Alice Müller via eng"));
        assert_eq!(parsed.attachments.len(), 1);
        // The Reply-To token names this thread and bob, so his reply threads by itself.
        let reply_to = copy.lines().find_map(|l| l.strip_prefix("Reply-To: ")).unwrap().to_string();
        let token = reply_to.strip_prefix("eng+").and_then(|r| r.strip_suffix("@docket.test")).unwrap();
        let slot = docket::ingest::token::verify(t.app.secret.bytes(), token).unwrap();
        let bob = t.app.store.member(1, "bob@example.org").await.unwrap().unwrap();
        assert_eq!((slot.thread_id, slot.member_id), (stored.thread_id, bob.id));

        let receipt = text(&got[0]);
        for want in [
            "Auto-Submitted: auto-generated\r\n",
            "In-Reply-To: <plan-1@example.org>\r\n",
            "multipart/alternative",
            "X-Docket-Kind: receipt\r\n",
        ] {
            assert!(receipt.contains(want), "[{}] {want:?} missing from\n{receipt}", t.backend);
        }
        let r = docket::parse::mime::parse(receipt.as_bytes());
        assert_eq!(r.subject, "Recorded: D-1, T-1, T-2 (Rollout plan)");
        let body = r.text.unwrap();
        assert!(body.contains("due Fri 27 Nov 17:00 CET"), "due time in alice's zone: {body}");
        assert!(body.contains("whenever"), "the warning is listed: {body}");
        assert!(r.html.unwrap().contains("<strong>T-1</strong>"));
        snapshot("fanout-copy", &copy);
        snapshot("receipt", &receipt);

        // Nothing twice: another tick at the same or a later time sends nothing again.
        assert_eq!(t.tick().await.outbound.delivery.sent, 0);
        t.clock.advance(chrono::Duration::minutes(5));
        assert_eq!(t.tick().await.outbound.delivery.sent, 0);
        assert_eq!(sink.messages().len(), 3);

        // Bob answers through his Reply-To: the reply joins the thread and goes to alice only
        // (dave is not mentioned), with no receipt (nothing recorded).
        let answer = Mail::new("plan-2@example.org", "Re: Rollout plan").from("Bob <bob@example.org>").body("Looks good.\n").raw();
        let msg = InboundMessage {
            raw: answer,
            envelope: Envelope { mail_from: Some("bob@example.org".into()), rcpt_to: vec![reply_to.clone()] },
            source: Source::Smtp,
        };
        let Ok(Outcome::Stored(m)) = docket::ingest::accept(&t.app, msg, None).await else { panic!("reply not stored") };
        assert_eq!(m.thread_id, stored.thread_id);
        t.tick().await;
        let later: Vec<String> = sink.messages()[3..].iter().map(|r| to(r).to_string()).collect();
        assert_eq!(later, ["alice@example.org"], "[{}]", t.backend);
    }
}

#[tokio::test]
async fn a_relay_that_is_down_gets_everything_later() {
    for mut t in backends().await {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        configure(&mut t, Some(&format!("smtp://127.0.0.1:{port}")));
        team(&t).await;
        t.ingest(&Mail::new("m1@example.org", "Hello").body("Hi all.\n").raw(), "eng").await;
        let first = t.tick().await.outbound.delivery;
        assert_eq!((first.sent, first.retrying, first.failed), (0, 1, 0), "[{}] the copy to bob", t.backend);
        // Not due again before the backoff.
        t.clock.advance(chrono::Duration::seconds(30));
        assert_eq!(t.tick().await.outbound.delivery, docket::notify::outbound::Delivery::default());
        t.clock.advance(chrono::Duration::seconds(31));
        assert_eq!(t.tick().await.outbound.delivery.retrying, 1, "second try, still down");
        let counts = t.app.store.outbound_counts().await.unwrap();
        assert_eq!(counts, [(docket::store::states::OutboundState::Queued, 1)]);
        let waiting = t.app.store.outbound_retrying(2, 10).await.unwrap();
        assert_eq!((waiting.len(), waiting[0].attempts), (1, 2), "[{}] `docket check` lists it from 4 attempts", t.backend);
        assert!(waiting[0].last_error.is_some());
        // The relay comes back: after the doubled backoff (120 s) everything goes out, once.
        let sink = Sink::start_on(port).await;
        t.clock.advance(chrono::Duration::seconds(119));
        assert_eq!(t.tick().await.outbound.delivery.sent, 0);
        t.clock.advance(chrono::Duration::seconds(1));
        assert_eq!(t.tick().await.outbound.delivery.sent, 1);
        let mut rcpts: Vec<String> = sink.messages().iter().map(|r| to(r).to_string()).collect();
        rcpts.sort();
        assert_eq!(rcpts, ["bob@example.org"]);
        assert_eq!(t.app.store.outbound_counts().await.unwrap(), [(docket::store::states::OutboundState::Sent, 1)]);
        let (kept,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM outbound WHERE LENGTH(raw) > 0").fetch_one(t.app.store.pool()).await.unwrap();
        assert_eq!(kept, 0, "sent mail keeps its key, not its bytes");
    }
}

#[tokio::test]
async fn a_relay_answering_5xx_fails_the_mail_for_good() {
    for mut t in backends().await {
        let sink = Sink::start().await;
        sink.refuse_with("550 5.1.1 mailbox unavailable");
        configure(&mut t, Some(&sink.url()));
        team(&t).await;
        t.ingest(&Mail::new("m1@example.org", "Hello").body("Hi all.\n").raw(), "eng").await;
        let d = t.tick().await.outbound.delivery;
        assert_eq!((d.sent, d.retrying, d.failed), (0, 0, 1), "[{}]", t.backend);
        let failures = t.app.store.outbound_failures(10).await.unwrap();
        assert_eq!(failures.len(), 1);
        assert!(failures[0].last_error.as_deref().unwrap_or("").contains("mailbox unavailable"), "{failures:?}");
        sink.refuse_with("250 ok");
        t.clock.advance(chrono::Duration::days(2));
        let later = t.tick().await.outbound.delivery;
        assert_eq!((later.retrying, later.failed), (0, 0), "never retried");
        // What the relay takes now is Thursday's digests, never the failed copy.
        assert!(sink.messages().iter().all(|r| text(r).contains("X-Docket-Kind: digest")), "[{}]", t.backend);
        assert_eq!(t.app.store.outbound_failures(10).await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn temporary_refusals_are_retried_until_accepted() {
    let mut t = support::sqlite().await;
    let sink = Sink::start().await;
    sink.refuse_with("451 4.3.0 try later");
    configure(&mut t, Some(&sink.url()));
    team(&t).await;
    t.ingest(&Mail::new("m1@example.org", "Hello").body("Hi all.\n").raw(), "eng").await;
    assert_eq!(t.tick().await.outbound.delivery.retrying, 1);
    sink.refuse_with("250 ok");
    t.clock.advance(chrono::Duration::seconds(60));
    assert_eq!(t.tick().await.outbound.delivery.sent, 1);
    assert_eq!(sink.messages().len(), 1);
}

#[tokio::test]
async fn zero_config_writes_a_maildir_outbox() {
    let mut t = support::sqlite().await;
    configure(&mut t, None);
    assert!(t.app.mailer.describe().starts_with("outbox "), "{}", t.app.mailer.describe());
    team(&t).await;
    t.ingest(&Mail::new("m1@example.org", "Hello").body("Hi all.\n#decision Tea at four\n").raw(), "eng").await;
    assert_eq!(t.tick().await.outbound.delivery.sent, 2, "the copy to bob and alice's receipt");
    let new = t.dir.path().join("outbox/new");
    let files: Vec<_> = std::fs::read_dir(&new).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 2);
    assert!(std::fs::read_dir(t.dir.path().join("outbox/tmp")).unwrap().next().is_none());
    let subjects: Vec<String> = files.iter().map(|f| docket::parse::mime::parse(&std::fs::read(f).unwrap()).subject).collect();
    assert!(subjects.iter().any(|s| s == "Recorded: D-1 (Hello)"), "{subjects:?}");
}

/// Mail to docket@DOMAIN, logged as the SMTP intake logs it.
async fn command(t: &TestApp, id: &str, from: &str, subject: &str, body: &str, extra: &str) {
    let raw = format!("From: {from}\r\nTo: docket@docket.test\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\n{extra}\r\n{body}\r\n");
    let mut tx = t.app.store.begin().await.unwrap();
    let sender = from.rsplit('<').next().unwrap().trim_end_matches('>');
    tx.insert_command_mail(&format!("mid:{id}"), raw.as_bytes(), Some(sender), t.clock_now()).await.unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn the_commands_address_answers_people_and_ignores_automata() {
    for mut t in backends().await {
        configure(&mut t, None);
        let sent = t.record();
        team(&t).await;
        t.ingest(&Mail::new("m1@example.org", "Plan").body("#action Write it @bob due 2026-11-30\n").raw(), "eng").await;
        // Another space bob is not in: its mail never shows in his search answers.
        t.space("ops").await;
        t.ingest(&Mail::new("o1@example.org", "Runbook").body("Write the runbook first.\n").raw(), "ops").await;
        t.tick().await;
        sent.take();
        command(&t, "c1@example.org", "Bob <bob@example.org>", "tasks", "", "").await;
        command(&t, "c2@example.org", "Bob <bob@example.org>", "Re: whatever", "search write\n", "").await;
        command(&t, "c3@example.org", "Bob <bob@example.org>", "Out of office", "tasks\n", "Auto-Submitted: auto-replied\r\n").await;
        command(&t, "c4@example.org", "Bob <bob@example.org>", "mute eng", "", "").await;
        command(&t, "c5@example.org", "Bob <bob@example.org>", "digest", "", "").await;
        t.tick().await;
        let got = sent.take();
        let subjects: Vec<String> = got.iter().map(|s| format!("{} {}", s.to, s.subject())).collect();
        assert_eq!(got.len(), 5, "[{}] {subjects:?}", t.backend);
        assert!(got.iter().all(|s| s.to == "bob@example.org"));
        let body = |n: usize| docket::parse::mime::parse(got[n].raw.as_bytes()).text.unwrap();
        assert!(body(0).contains("T-1 [eng] Write it"), "{}", body(0));
        assert!(got[1].subject() == "Re: whatever" && body(1).contains("Plan") && body(1).contains("T-1"), "{}", body(1));
        assert!(!body(1).contains("Runbook"), "another space's mail is not searchable by bob: {}", body(1));
        assert!(body(2).contains("No more copies of space eng"), "{}", body(2));
        assert_eq!(got[2].header("In-Reply-To").as_deref(), Some("<c4@example.org>"));
        assert!(body(3).contains("Your digest follows"), "{}", body(3));
        assert!(got[4].subject().starts_with("[eng] Digest Tue 24 Nov"), "{}", got[4].subject());
        assert!(body(4).contains("T-1 Write it"), "{}", body(4));
        assert!(got.iter().all(|s| s.header("Auto-Submitted").as_deref() == Some("auto-generated")));
        if t.backend == "sqlite" {
            snapshot("command-tasks", &got[0].raw);
        }
        let states: Vec<String> = t.app.store.command_mail().await.unwrap().into_iter().map(|(_, _, s)| s).collect();
        assert_eq!(states, ["answered", "answered", "ignored", "answered", "answered"]);
        let erin = t.app.store.member(1, "erin@example.org").await.unwrap().unwrap();
        assert!(!t.app.store.mutes(1).await.unwrap().contains(&(erin.id, -1)));
        // A stranger is answered once, however often they (or someone forging them) write.
        command(&t, "s1@example.org", "stranger@elsewhere.org", "help", "", "").await;
        command(&t, "s2@example.org", "stranger@elsewhere.org", "tasks", "", "").await;
        t.tick().await;
        let strangers = sent.take();
        assert_eq!(strangers.len(), 1, "[{}]", t.backend);
        assert_eq!(strangers[0].subject(), "Re: help");
        // Muted: the next message of the space is not copied to bob. Unsubscribed (the mailto
        // of List-Unsubscribe): erin gets nothing even when mentioned.
        command(&t, "c6@example.org", "erin@example.org", "unsubscribe eng", "", "").await;
        t.tick().await;
        let reply = sent.take();
        assert_eq!(reply.len(), 1);
        assert!(docket::parse::mime::parse(reply[0].raw.as_bytes()).text.unwrap().contains("no more mail from eng@docket.test"));
        t.ingest(&Mail::new("m2@example.org", "More").body("Another thought, @erin.\n").raw(), "eng").await;
        t.tick().await;
        let later: Vec<String> = sent.take().iter().map(|s| s.to.clone()).collect();
        assert!(later.is_empty(), "[{}] bob muted, erin unsubscribed, carol on digests, dave not mentioned: {later:?}", t.backend);
        t.tick().await;
        assert!(sent.take().is_empty(), "answered once");
    }
}

/// Issue 12: a digest asked for by mail counts like a scheduled one — the next morning's digest
/// tells only what is newer; a preview moves nothing.
#[tokio::test]
async fn an_on_demand_digest_moves_the_digest_mark() {
    for mut t in backends().await {
        configure(&mut t, None);
        let sent = t.record();
        team(&t).await;
        t.ingest(&Mail::new("d1@example.org", "Cache").body("#decision Use Redis\n").raw(), "eng").await;
        t.clock.advance(chrono::Duration::minutes(5));
        command(&t, "cd1@example.org", "carol@example.org", "digest", "", "").await;
        t.tick().await;
        let now: Vec<Sent> = sent.take().into_iter().filter(|s| s.kind() == "digest").collect();
        assert_eq!(now.len(), 1, "[{}]", t.backend);
        assert!(docket::parse::mime::parse(now[0].raw.as_bytes()).text.unwrap().contains("Use Redis"));
        t.clock.advance(chrono::Duration::hours(1));
        t.ingest(&Mail::new("d2@example.org", "Queue").body("#decision Use SQS\n").raw(), "eng").await;
        let morning = chrono::Utc.with_ymd_and_hms(2026, 11, 25, 8, 0, 0).unwrap();
        docket::notify::jobs::preview(&t.app, "carol@example.org", morning).await.unwrap();
        t.clock.set(morning);
        t.tick().await;
        let next: Vec<String> = sent
            .take()
            .into_iter()
            .filter(|s| s.kind() == "digest" && s.to == "carol@example.org")
            .map(|s| docket::parse::mime::parse(s.raw.as_bytes()).text.unwrap())
            .collect();
        assert_eq!(next.len(), 1, "[{}] {next:?}", t.backend);
        assert!(next[0].contains("Use SQS") && !next[0].contains("Use Redis"), "[{}] repeated: {}", t.backend, next[0]);
    }
}

/// Issue 12: a loop alert quotes the last ask since the last decision and counts rounds in
/// arrival order; bob's and dave's clocks run 12 hours ahead, which neither reorders the thread
/// nor makes a second alert right after the decision.
#[tokio::test]
async fn a_loop_alert_quotes_the_open_ask_in_arrival_order() {
    for mut t in backends().await {
        configure(&mut t, None);
        let sent = t.record();
        team(&t).await;
        let talk = [
            ("alice", "Which cache should we use?"),
            ("bob", "Is Redis fast enough?"),
            ("dave", "Maybe."),
            ("alice", "Hard to say."),
            ("bob", "#ask @alice benchmark memcached by friday"),
            ("dave", "Not sure."),
            ("alice", "#decision Redis it is"),
        ];
        let mut loops = Vec::new();
        for (i, (who, text)) in talk.iter().enumerate() {
            let ahead = if *who == "alice" { chrono::Duration::zero() } else { chrono::Duration::hours(12) };
            let mut mail = Mail::new(&format!("l{i}@example.org"), if i == 0 { "Cache" } else { "Re: Cache" })
                .from(&format!("{who}@example.org"))
                .date(&(docket::clock::Clock::now(&*t.clock) + ahead).to_rfc2822())
                .body(&format!("{text}\n"));
            if i > 0 {
                mail = mail.reply_to(&format!("l{}@example.org", i - 1));
            }
            t.ingest(&mail.raw(), "eng").await;
            t.clock.advance(chrono::Duration::minutes(1));
            if i == 5 || i == 6 {
                t.tick().await;
                loops.push(sent.take().into_iter().filter(|s| s.kind() == "loop").collect::<Vec<Sent>>());
            }
        }
        assert_eq!(loops[0].len(), 3, "[{}] one alert per participant", t.backend);
        let body = docket::parse::mime::parse(loops[0][0].raw.as_bytes()).text.unwrap();
        assert!(body.contains("#ask @alice benchmark memcached by friday") && !body.contains("Is Redis fast enough"), "{body}");
        assert_eq!(loops[0][0].header("References").map(|r| r.starts_with("<l0@example.org>")), Some(true));
        assert!(
            loops[1].is_empty(),
            "[{}] no second alert right after the decision: {:?}",
            t.backend,
            loops[1].iter().map(Sent::subject).collect::<Vec<_>>()
        );
    }
}

/// Issue 12: a receipt for a change names the task and says what changed, old → new; the
/// reminder that follows is threaded with the task's message and the thread's root.
#[tokio::test]
async fn change_receipts_name_the_task_and_reminders_thread() {
    for mut t in backends().await {
        configure(&mut t, None);
        let sent = t.record();
        team(&t).await;
        t.ingest(&Mail::new("r0@example.org", "Docs").body("We need docs.\n").raw(), "eng").await;
        let task =
            Mail::new("r1@example.org", "Re: Docs").reply_to("r0@example.org").body("#action Write docs @bob due 2026-11-25 17:00\n");
        t.ingest(&task.raw(), "eng").await;
        let change = Mail::new("r2@example.org", "Re: Docs").refs(&["r0@example.org", "r1@example.org"]);
        t.ingest(&change.body("#due T-1 2026-11-27 17:00\n\n#assign T-1 @dave\n").raw(), "eng").await;
        t.tick().await;
        let receipts: Vec<Sent> = sent.take().into_iter().filter(|s| s.kind() == "receipt" && s.raw.contains("<r2@example.org>")).collect();
        assert_eq!(receipts.len(), 1, "[{}]", t.backend);
        let body = docket::parse::mime::parse(receipts[0].raw.as_bytes()).text.unwrap();
        assert!(body.contains("T-1 Write docs"), "[{}] the title: {body}", t.backend);
        assert!(body.contains("due Wed 25 Nov 17:00 CET → Fri 27 Nov 17:00 CET"), "[{}] old → new due: {body}", t.backend);
        assert!(body.contains("owner bob") && body.contains("→ dave"), "[{}] old → new owner: {body}", t.backend);
        t.clock.set(chrono::Utc.with_ymd_and_hms(2026, 11, 26, 16, 30, 0).unwrap());
        t.tick().await;
        let reminders: Vec<Sent> = sent.take().into_iter().filter(|s| s.kind() == "reminder").collect();
        assert_eq!(reminders.len(), 1, "[{}]", t.backend);
        assert_eq!(reminders[0].header("In-Reply-To").as_deref(), Some("<r1@example.org>"));
        assert_eq!(reminders[0].header("References").as_deref(), Some("<r0@example.org> <r1@example.org>"));
    }
}

/// Mail from `sender` to eng, quarantined as the SMTP intake does it, with its sender notice.
async fn refused(t: &TestApp, sender: &str) {
    let mut tx = t.app.store.begin().await.unwrap();
    let raw = Mail::new("s1@elsewhere.org", "Hi").from(sender).raw();
    let space = t.app.store.require_space("eng").await.unwrap();
    let docket::store::messages::RawInsert::Inserted(id) = tx
        .insert_inbound(&docket::store::messages::NewInbound {
            space_id: space.id,
            dedup_key: "mid:s1@elsewhere.org",
            content_hash: "h",
            raw: &raw,
            source: "smtp",
            mail_from: Some(sender),
            rcpt_to: "[]",
            received_at: t.clock_now(),
        })
        .await
        .unwrap()
    else {
        panic!()
    };
    let why = format!("{sender} is not a member of eng");
    tx.quarantine(id, "not-member", &why).await.unwrap();
    tx.insert_notice(space.id, sender, "not-member", &why, id, 0).await.unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn a_refused_sender_gets_one_notice() {
    for mut t in backends().await {
        configure(&mut t, None);
        let sent = t.record();
        team(&t).await;
        refused(&t, "stranger@elsewhere.org").await;
        t.tick().await;
        let got = sent.take();
        assert_eq!(got.len(), 1, "[{}]", t.backend);
        assert_eq!((got[0].to.as_str(), got[0].subject()), ("stranger@elsewhere.org", "Not posted to eng@docket.test".to_string()));
        assert!(t.app.store.pending_notices().await.unwrap().is_empty());
        if t.backend == "sqlite" {
            snapshot("notice", &got[0].raw);
        }
        t.tick().await;
        assert!(sent.take().is_empty());
    }
}

/// A sender whose address lettre cannot hold: the local part is longer than the 64 octets of
/// RFC 5321 §4.5.3.1.1, which some MTAs accept anyway.
fn long_sender() -> String {
    format!("{}@elsewhere.org", "x".repeat(65))
}

#[tokio::test]
async fn a_notice_or_answer_that_cannot_be_rendered_stays_queued_and_check_shows_it() {
    for mut t in backends().await {
        configure(&mut t, None);
        let sent = t.record();
        team(&t).await;
        let sender = long_sender();
        refused(&t, &sender).await;
        command(&t, "c1@example.org", &sender, "help", "", "").await;
        for _ in 0..2 {
            t.tick().await;
            assert!(sent.take().is_empty(), "[{}]", t.backend);
            assert_eq!(t.app.store.pending_notices().await.unwrap().len(), 1, "[{}] the notice is still pending", t.backend);
            let states: Vec<String> = t.app.store.command_mail().await.unwrap().into_iter().map(|(_, _, s)| s).collect();
            assert_eq!(states, ["pending"], "[{}]", t.backend);
        }
        let problems = docket::notify::jobs::unrenderable(&t.app, t.app.now()).await.unwrap();
        assert_eq!(problems.len(), 2, "[{}] {problems:?}", t.backend);
        assert!(problems[0].starts_with(&format!("sender notice #1 to {sender} cannot be rendered: ")), "{}", problems[0]);
        assert!(problems[0].contains("is not an address"), "{}", problems[0]);
        assert!(problems[1].contains(&format!("from {sender} cannot be answered: cannot render the answer")), "{}", problems[1]);
    }
}

/// An `outbound.from` docket's configuration accepts but lettre cannot hold (a local part over
/// the 64 octets of RFC 5321 §4.5.3.1.1): every generated mail fails to render until it is fixed.
fn unrenderable_from() -> String {
    format!("{}@docket.test", "n".repeat(65))
}

/// Issue 11: generated mail of every kind that cannot be rendered is never dropped. Nothing goes
/// out, each mail waits in `unrendered` under the dedup key its queue row will have (the planner
/// moves on: the message is planned, the digest slot considered), every tick renders it again
/// and `docket check` lists it; once the cause is fixed the next tick sends each exactly once.
#[tokio::test]
async fn generated_mail_that_cannot_be_rendered_is_kept_shown_and_sent_once_fixed() {
    for mut t in backends().await {
        let bad = unrenderable_from();
        configure_with(&mut t, None, &[("DOCKET__OUTBOUND__FROM", &bad)]);
        let sent = t.record();
        team(&t).await;
        let at = |d: u32, h: u32, m: u32| chrono::Utc.with_ymd_and_hms(2026, 11, d, h, m, 0).unwrap();
        // A receipt to alice, a reminder before her task is due, a closing notice of the proposal.
        let plan = "#action Write it @alice due 2026-11-25 17:00\n#propose Tabs over spaces by 2026-11-26 12:00\n";
        t.ingest(&Mail::new("k1@example.org", "Plan").body(plan).raw(), "eng").await;
        // A thread going round in circles: a loop alert to each participant.
        for (i, who) in ["alice", "bob", "dave", "alice", "bob", "dave"].iter().enumerate() {
            let mut mail = Mail::new(&format!("k-loop{i}@example.org"), if i == 0 { "Cache" } else { "Re: Cache" })
                .from(&format!("{who}@example.org"))
                .body(&format!("Round {i}, still unsure.\n"));
            if i > 0 {
                mail = mail.reply_to(&format!("k-loop{}@example.org", i - 1));
            }
            t.ingest(&mail.raw(), "eng").await;
        }
        // A sender notice and an answer of the commands address (they stay pending).
        refused(&t, "stranger@elsewhere.org").await;
        command(&t, "k-c1@example.org", "bob@example.org", "help", "", "").await;
        // Through the day: the reminder's stage, the digests, the closing notice.
        for now in [at(24, 9, 0), at(24, 16, 30), at(25, 8, 0), at(25, 11, 30)] {
            t.clock.set(now);
            t.tick().await;
        }
        let generated = |got: Vec<Sent>| -> Vec<(String, String)> {
            let mut out: Vec<(String, String)> = got.into_iter().filter(|s| s.kind() != "fanout").map(|s| (s.kind(), s.to)).collect();
            out.sort();
            out
        };
        assert_eq!(generated(sent.take()), Vec::<(String, String)>::new(), "[{}] nothing generated went out", t.backend);
        let kept = t.app.store.unrendered_after("", 1000).await.unwrap();
        let mut want: Vec<(String, String)> = kept.iter().map(|u| (u.kind.clone(), u.recipient.clone())).collect();
        for kind in ["receipt", "reminder", "loop", "digest", "proposal"] {
            assert!(kept.iter().any(|u| u.kind == kind), "[{}] no {kind} kept: {want:?}", t.backend);
        }
        assert!(kept.iter().all(|u| u.error.contains("is not an address")), "[{}] {kept:?}", t.backend);
        assert!(kept.iter().any(|u| u.dedup_key == "receipt:1" && u.recipient == "alice@example.org"), "{kept:?}");
        assert_eq!(kept.iter().filter(|u| u.kind == "loop").count(), 3, "[{}] one per participant", t.backend);
        assert_eq!(kept.iter().filter(|u| u.kind == "proposal").count(), 5, "[{}] one per member", t.backend);
        // Every tick renders them again: no new rows, one more attempt each, still nothing sent.
        t.tick().await;
        assert!(generated(sent.take()).is_empty(), "[{}]", t.backend);
        let again = t.app.store.unrendered_after("", 1000).await.unwrap();
        assert_eq!(again.len(), kept.len(), "[{}]", t.backend);
        for (before, after) in kept.iter().zip(&again) {
            assert_eq!((&after.dedup_key, after.attempts), (&before.dedup_key, before.attempts + 1), "[{}]", t.backend);
        }
        let problems = docket::notify::jobs::unrenderable(&t.app, t.app.now()).await.unwrap();
        for u in &kept {
            let line = format!("{} mail {} to {} cannot be rendered (", u.kind, u.dedup_key, u.recipient);
            assert!(
                problems.iter().any(|p| p.starts_with(&line) && p.contains("is not an address")),
                "[{}] {line} in {problems:?}",
                t.backend
            );
        }
        // Fixed: the next tick sends each kept mail once, from the sender configured now.
        configure(&mut t, None);
        let sent = t.record();
        t.tick().await;
        let got = sent.take();
        assert!(got.iter().filter(|s| s.kind() != "fanout").all(|s| s.header("From").is_some_and(|f| f.contains("<docket@docket.test>"))));
        want.push(("command".into(), "bob@example.org".into()));
        want.push(("notice".into(), "stranger@elsewhere.org".into()));
        want.sort();
        assert_eq!(generated(got), want, "[{}] each kept mail exactly once", t.backend);
        assert!(t.app.store.unrendered_after("", 1000).await.unwrap().is_empty(), "[{}]", t.backend);
        assert_eq!(docket::notify::jobs::unrenderable(&t.app, t.app.now()).await.unwrap(), Vec::<String>::new());
        for u in &kept {
            let rows = t.app.store.outbound_for(&u.recipient).await.unwrap();
            let states: Vec<&str> = rows.iter().filter(|r| r.0 == u.dedup_key).map(|r| r.2.as_str()).collect();
            assert_eq!(states, ["sent"], "[{}] {}", t.backend, u.dedup_key);
        }
        t.tick().await;
        assert!(generated(sent.take()).is_empty(), "[{}] sent once", t.backend);
    }
}

#[tokio::test]
async fn the_message_floor_never_passes_an_unplanned_message() {
    for mut t in backends().await {
        configure(&mut t, None);
        team(&t).await;
        let mut ids = Vec::new();
        for n in 1..=3 {
            let Outcome::Stored(m) = t.ingest(&Mail::new(&format!("f{n}@x"), "Floor").raw(), "eng").await else { panic!() };
            ids.push(m.id);
        }
        let store = &t.app.store;
        let floor = store.cursor("messages").await.unwrap();
        // Message 2 is "still in flight" (not planned) while 1 and 3 are.
        let mut tx = store.begin().await.unwrap();
        tx.mark_message_planned(ids[0]).await.unwrap();
        tx.mark_message_planned(ids[2]).await.unwrap();
        tx.commit().await.unwrap();
        let later = t.clock_now() + 1;
        assert_eq!(store.advance_message_floor(floor, later).await.unwrap(), ids[0], "[{}]", t.backend);
        let pending: Vec<i64> = store.messages_unplanned(ids[0], 10).await.unwrap().iter().map(|m| m.id).collect();
        assert_eq!(pending, [ids[1]]);
        // Recently received messages keep the floor where it is.
        assert_eq!(store.advance_message_floor(ids[0], later - 10).await.unwrap(), ids[0]);
        let mut tx = store.begin().await.unwrap();
        tx.mark_message_planned(ids[1]).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(store.advance_message_floor(ids[0], later).await.unwrap(), ids[2]);
        assert!(store.messages_unplanned(ids[2], 10).await.unwrap().is_empty());
    }
}

/// The binary: `tick --now` writes the outbox, `digest --preview` prints, `check` shows failures.
mod cli {
    use super::*;
    use std::path::Path;
    use std::process::{Command, Output, Stdio};

    fn docket(dir: &Path, args: &[&str], stdin: Option<&[u8]>, env: &[(&str, &str)]) -> Output {
        use std::io::Write;
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_docket"));
        cmd.current_dir(dir).args(args).env_remove("DOCKET_CONFIG").env("DOCKET__SERVER__DATA_DIR", dir.join("data"));
        cmd.env("DOCKET__SERVER__DOMAIN", "docket.test").env("DOCKET__HTTP__LISTEN", "127.0.0.1:0");
        // The binary's DMARC check would ask real DNS about the test domains: tests never do.
        cmd.env("DOCKET__SECURITY__DMARC", "false");
        cmd.env("DOCKET__NOTIFY__NUDGES", "false");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        child.stdin.take().unwrap().write_all(stdin.unwrap_or_default()).unwrap();
        child.wait_with_output().unwrap()
    }

    fn out(o: &Output) -> String {
        format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
    }

    fn ok(o: Output) -> String {
        assert!(o.status.success(), "{}", out(&o));
        out(&o)
    }

    #[allow(clippy::disallowed_methods)] // the binary runs on wall time
    fn wall() -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now()
    }

    async fn setup(d: &Path, env: &[(&str, &str)]) -> chrono::DateTime<chrono::Utc> {
        ok(docket(d, &["space", "add", "eng"], None, env));
        ok(docket(d, &["member", "add", "alice@example.org", "--space", "eng", "--tz", "Europe/Berlin"], None, env));
        ok(docket(d, &["member", "add", "bob@example.org", "--space", "eng", "--tz", "America/Los_Angeles"], None, env));
        let now = wall();
        let date = (now + chrono::Duration::seconds(60)).to_rfc2822();
        let mail = Mail::new("cli-1@example.org", "Launch").date(&date).body("#action Write the plan @bob due 2030-01-02\n").raw();
        ok(docket(d, &["ingest", "--space", "eng"], Some(&mail), env));
        now
    }

    #[tokio::test]
    async fn tick_preview_and_check() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let now = setup(d, &[]).await;
        let at = (now + chrono::Duration::minutes(5)).to_rfc3339();
        let tick = ok(docket(d, &["tick", "--now", &at], None, &[]));
        assert!(tick.contains("queued 1 fanout") && tick.contains("queued 1 receipt"), "{tick}");
        assert!(tick.contains("sent 2 via outbox"), "{tick}");
        assert_eq!(std::fs::read_dir(d.join("data/outbox/new")).unwrap().count(), 2);
        let again = ok(docket(d, &["tick", "--now", &at, "--json"], None, &[]));
        let v: serde_json::Value = serde_json::from_str(&again).unwrap();
        assert_eq!((v["sent"].as_u64(), v["queued"].as_object().map(|q| q.len())), (Some(0), Some(0)), "{again}");

        let later = (now + chrono::Duration::hours(2)).to_rfc3339();
        let preview = ok(docket(d, &["digest", "--preview", "bob@example.org", "--now", &later], None, &[]));
        assert!(preview.contains("Subject: [eng] Digest") && preview.contains("T-1 Write the plan"), "{preview}");
        let stranger = docket(d, &["digest", "--preview", "nobody@example.org"], None, &[]);
        assert!(!stranger.status.success() && out(&stranger).contains("not a member"), "{}", out(&stranger));
        let check = ok(docket(d, &["check"], None, &[]));
        assert!(check.contains("outbound: outbox") && check.contains("outbound sent: 2"), "{check}");
    }

    #[tokio::test]
    async fn check_shows_a_notice_that_cannot_be_rendered() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let now = setup(d, &[]).await;
        let sender = long_sender();
        let mail = Mail::new("stranger-1@elsewhere.org", "Hello").from(&sender).raw();
        let ingest = ok(docket(d, &["ingest", "--space", "eng"], Some(&mail), &[]));
        assert!(ingest.contains("held for review"), "{ingest}");
        let at = (now + chrono::Duration::minutes(5)).to_rfc3339();
        let tick = ok(docket(d, &["tick", "--now", &at], None, &[]));
        assert!(!tick.contains("queued 1 notice") && tick.contains("cannot render the sender notice"), "{tick}");
        let check = docket(d, &["check"], None, &[]);
        assert_eq!(check.status.code(), Some(1), "{}", out(&check));
        assert!(out(&check).contains(&format!("problem: sender notice #1 to {sender} cannot be rendered: ")), "{}", out(&check));
    }

    /// Issue 11: `docket check` names a receipt that cannot be rendered and exits 1 until a tick
    /// with the cause fixed has sent it.
    #[tokio::test]
    async fn check_shows_generated_mail_that_cannot_be_rendered_until_it_is_sent() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let bad = unrenderable_from();
        let env = [("DOCKET__OUTBOUND__FROM", bad.as_str())];
        let now = setup(d, &env).await;
        let at = (now + chrono::Duration::minutes(5)).to_rfc3339();
        let tick = ok(docket(d, &["tick", "--now", &at], None, &env));
        assert!(!tick.contains("queued 1 receipt") && tick.contains("cannot render generated mail; kept"), "{tick}");
        let check = docket(d, &["check"], None, &env);
        assert_eq!(check.status.code(), Some(1), "{}", out(&check));
        let want = "problem: receipt mail receipt:1 to alice@example.org cannot be rendered (1 attempt(s) since ";
        assert!(out(&check).contains(want) && out(&check).contains("is not an address"), "{}", out(&check));
        let later = (now + chrono::Duration::minutes(6)).to_rfc3339();
        let tick = ok(docket(d, &["tick", "--now", &later], None, &[]));
        assert!(tick.contains("queued 1 receipt"), "{tick}");
        let check = ok(docket(d, &["check"], None, &[]));
        assert!(!check.contains("problem"), "{check}");
    }

    #[tokio::test]
    async fn check_shows_mail_the_relay_refused() {
        let sink = Sink::start().await;
        sink.refuse_with("550 5.1.1 no such user");
        let url = sink.url();
        let env = [("DOCKET__OUTBOUND__SMTP_URL", url.as_str())];
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_path_buf();
        let now = setup(&d, &env).await;
        let at = (now + chrono::Duration::minutes(5)).to_rfc3339();
        let (d2, at2, url2) = (d.clone(), at.clone(), url.clone());
        let tick =
            tokio::task::spawn_blocking(move || docket(&d2, &["tick", "--now", &at2], None, &[("DOCKET__OUTBOUND__SMTP_URL", &url2)]))
                .await
                .unwrap();
        assert!(out(&tick).contains("2 failed"), "{}", out(&tick));
        let check = docket(&d, &["check"], None, &env);
        assert_eq!(check.status.code(), Some(1), "{}", out(&check));
        assert!(
            out(&check).contains("failed after 1 attempt(s): permanent error (550)") || out(&check).contains("no such user"),
            "{}",
            out(&check)
        );
    }
}

#[tokio::test]
async fn max_per_minute_spreads_the_queue_over_ticks() {
    for mut t in backends().await {
        configure_with(&mut t, None, &[("DOCKET__OUTBOUND__MAX_PER_MINUTE", "2")]);
        let sent = t.record();
        team(&t).await;
        // A copy to bob and a receipt to alice per message: 6 mails, 2 a minute.
        for n in 1..=3 {
            t.ingest(&Mail::new(&format!("r{n}@x"), "Rate").body("#decision Something\n").raw(), "eng").await;
        }
        let first = t.tick().await.outbound.delivery;
        assert_eq!((first.sent, first.rate_limited), (2, true), "[{}]", t.backend);
        t.clock.advance(chrono::Duration::seconds(30));
        assert_eq!(t.tick().await.outbound.delivery.sent, 0, "still inside the minute");
        t.clock.advance(chrono::Duration::seconds(30));
        assert_eq!(t.tick().await.outbound.delivery.sent, 2);
        t.clock.advance(chrono::Duration::seconds(60));
        let last = t.tick().await.outbound.delivery;
        assert_eq!((last.sent, last.rate_limited), (2, false));
        assert_eq!(sent.all().len(), 6);
    }
}

#[tokio::test]
async fn a_blocked_proposal_says_by_whom() {
    for mut t in backends().await {
        configure(&mut t, None);
        let sent = t.record();
        team(&t).await;
        t.ingest(&Mail::new("p1@x", "Tabs").body("#propose Tabs over spaces by 2026-11-26 12:00\n").raw(), "eng").await;
        t.ingest(&Mail::new("p2@x", "Re: Tabs").reply_to("p1@x").from("bob@example.org").body("#object No, please.\n").raw(), "eng").await;
        t.tick().await;
        sent.take();
        // Issue 12: the closing notice tells the record — blocked, by whom, why.
        t.clock.set(chrono::Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap());
        t.tick().await;
        let closing: Vec<Sent> = sent.take().into_iter().filter(|s| s.kind() == "proposal").collect();
        assert_eq!(closing.len(), 5, "[{}] one closing notice per member", t.backend);
        let body = docket::parse::mime::parse(closing[0].raw.as_bytes()).text.unwrap();
        assert_eq!(closing[0].subject(), "Proposal P-1 is blocked: Tabs over spaces");
        assert!(body.contains("P-1 is blocked: bob@example.org objected") && body.contains("“No, please.”"), "{body}");
        assert!(!body.contains("unless someone objects"), "{body}");
        // Threaded with the proposal's message (issue 12).
        assert_eq!(closing[0].header("In-Reply-To").as_deref(), Some("<p1@x>"));
        assert_eq!(closing[0].header("References").as_deref(), Some("<p1@x>"));
        t.clock.set(chrono::Utc.with_ymd_and_hms(2026, 11, 26, 11, 0, 0).unwrap());
        t.tick().await;
        let report = t.tick().await;
        assert!(report.blocked.is_empty(), "blocked once: {report:?}");
        let got: Vec<Sent> = sent.take().into_iter().filter(|s| s.kind() == "proposal").collect();
        assert_eq!(got.len(), 5, "[{}] one outcome per member", t.backend);
        assert!(
            got.iter().all(|s| s.subject() == "Proposal P-1 blocked: Tabs over spaces"),
            "{:?}",
            got.iter().map(Sent::subject).collect::<Vec<_>>()
        );
        let body = docket::parse::mime::parse(got[0].raw.as_bytes()).text.unwrap();
        assert!(
            body.contains("P-1 was blocked by bob@example.org") && body.contains("“No, please.”"),
            "the outcome quotes the objection: {body}"
        );
    }
}

/// `serve`: the scheduler picks up a new message within about a second and sends its copies;
/// mail to the commands address is answered the same way.
#[tokio::test]
async fn serve_sends_without_waiting_for_the_full_tick() {
    for mut t in backends().await {
        configure_with(&mut t, None, &[("DOCKET__SMTP__LISTEN", "127.0.0.1:0")]);
        let sent = t.record();
        team(&t).await;
        let running = docket::serve::start(t.app.clone()).await.unwrap();
        let client: lettre::AsyncSmtpTransport<lettre::Tokio1Executor> =
            lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::builder_dangerous("127.0.0.1")
                .port(running.smtp.rsplit(':').next().unwrap().parse().unwrap())
                .build();
        use lettre::AsyncTransport;
        let envelope =
            |to: &str| lettre::address::Envelope::new(Some("alice@example.org".parse().unwrap()), vec![to.parse().unwrap()]).unwrap();
        let mail = Mail::new("live-1@example.org", "Live").body("Hello from serve.\n").raw();
        client.send_raw(&envelope("eng@docket.test"), &mail).await.unwrap();
        let help =
            b"From: alice@example.org\r\nTo: docket@docket.test\r\nSubject: help\r\nMessage-ID: <live-2@example.org>\r\n\r\nhelp\r\n";
        client.send_raw(&envelope("docket@docket.test"), help).await.unwrap();
        let mut got = Vec::new();
        for _ in 0..100 {
            got = sent.all().iter().map(|s| format!("{} {}", s.to, s.subject())).collect();
            if got.len() >= 2 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        got.sort();
        assert_eq!(got, ["alice@example.org Re: help", "bob@example.org Live"], "[{}]", t.backend);
        running.stop().await;
    }
}

/// A digest tells what became known since the last one: a message whose Date is older than the
/// last digest but which arrived after it is in the next digest, once.
#[tokio::test]
async fn a_back_dated_decision_is_in_the_next_digest_once() {
    for mut t in backends().await {
        configure(&mut t, None);
        let sent = t.record();
        t.app.store.add_space("ops", "Ops", 0).await.unwrap();
        t.member("ops", "uma@example.org", MemberSettings::default()).await;
        let at = |d: u32, h: u32| chrono::Utc.with_ymd_and_hms(2026, 11, d, h, 0, 0).unwrap();
        t.clock.set(at(25, 8));
        t.tick().await;
        t.clock.set(at(25, 10));
        let mail = Mail::new("late@example.org", "Late").from("uma@example.org").date("Wed, 25 Nov 2026 06:00:00 +0000");
        t.ingest(&mail.body("#decision Back-dated but real\n").raw(), "ops").await;
        t.tick().await;
        for day in [26, 27] {
            t.clock.set(at(day, 8));
            t.tick().await;
        }
        let digests: Vec<String> = sent
            .all()
            .iter()
            .filter(|s| s.kind() == "digest")
            .map(|s| format!("{} {}", s.at.format("%d"), docket::parse::mime::parse(s.raw.as_bytes()).text.unwrap_or_default()))
            .collect();
        assert_eq!(digests.len(), 1, "[{}] {digests:?}", t.backend);
        assert!(digests[0].starts_with("26 ") && digests[0].contains("D-1 Back-dated but real"), "{digests:?}");
    }
}

/// `?tls=required` never falls back to plain text: a relay without STARTTLS gets nothing, and
/// the mail waits (retried, then visible in `docket check`).
#[tokio::test]
async fn required_tls_is_never_downgraded() {
    let mut t = support::sqlite().await;
    let sink = Sink::start().await;
    configure(&mut t, Some(&format!("smtp://127.0.0.1:{}?tls=required", sink.port)));
    team(&t).await;
    t.ingest(&Mail::new("m1@example.org", "Hello").body("Hi all.\n").raw(), "eng").await;
    let d = t.tick().await.outbound.delivery;
    assert_eq!((d.sent, d.retrying), (0, 1));
    assert!(sink.messages().is_empty(), "nothing went out in plain text");
}

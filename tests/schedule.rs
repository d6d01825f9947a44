//! A week of scheduled mail on a fake clock, on every backend: members in Berlin (crossing the
//! 2027-03-28 change to summer time), Los Angeles and Auckland. Ticks every 15 minutes, each run
//! twice (a retry) and the process restarted mid-week; every digest, reminder, proposal notice
//! and outcome and loop alert must arrive exactly once, at the right local time.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use docket::app::App;
use docket::config::Config;
use docket::space::MemberSettings;
use std::collections::HashMap;
use std::sync::Arc;
use support::golden::snapshot;
use support::{Mail, Recorder, Sent, TestApp, backends};

fn utc(d: u32, h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 3, d, h, m, 0).unwrap()
}

const BERLIN: Tz = chrono_tz::Europe::Berlin;
const LA: Tz = chrono_tz::America::Los_Angeles;
const AUCKLAND: Tz = chrono_tz::Pacific::Auckland;

fn config(t: &TestApp) -> Config {
    let env = HashMap::from([
        ("DOCKET__SERVER__DATA_DIR".to_string(), t.dir.path().display().to_string()),
        ("DOCKET__DATABASE__URL".to_string(), t.app.config.database.url.clone()),
        ("DOCKET__SERVER__DOMAIN".to_string(), "docket.test".to_string()),
        ("DOCKET__HTTP__BASE_URL".to_string(), "https://docket.example.org".to_string()),
        ("DOCKET__NOTIFY__NUDGES".to_string(), "false".to_string()),
    ]);
    Config::load_with_env(None, env).unwrap()
}

/// What arrives when: (time, author, message-id, subject, body, parent).
type Event = (DateTime<Utc>, &'static str, &'static str, &'static str, &'static str, Option<&'static str>);

fn events() -> Vec<Event> {
    let launch =
        "Plan below.\n\n#action Draft the launch plan @bob due 2027-03-24 17:00\n#propose Freeze merges from April by 2027-03-25 12:00\n";
    vec![
        (utc(22, 9, 0), "alice", "launch-1", "Launch", launch, None),
        (utc(23, 10, 0), "bob", "cache-1", "Cache", "Should we cache the API?", None),
        (utc(23, 11, 0), "kiri", "cache-2", "Re: Cache", "Maybe memcached?", Some("cache-1")),
        (utc(23, 12, 0), "bob", "cache-3", "Re: Cache", "Or Redis.", Some("cache-2")),
        (utc(23, 13, 0), "kiri", "cache-4", "Re: Cache", "Which one is cheaper to run?", Some("cache-3")),
        (utc(23, 14, 0), "bob", "cache-5", "Re: Cache", "Depends.", Some("cache-4")),
        (utc(24, 9, 0), "alice", "cache-6", "Re: Cache", "#decision Use Redis for the API cache.", Some("cache-5")),
        (utc(24, 10, 0), "kiri", "cache-7", "Re: Cache", "How big should it be?", Some("cache-6")),
        (utc(24, 11, 0), "bob", "cache-8", "Re: Cache", "1 GB?", Some("cache-7")),
        (utc(24, 12, 0), "kiri", "cache-9", "Re: Cache", "Too small?", Some("cache-8")),
        (utc(24, 13, 0), "bob", "cache-10", "Re: Cache", "Is 4 GB enough for the sessions too?", Some("cache-9")),
        (utc(28, 12, 0), "kiri", "weekend-1", "Weekend notes", "Deploy went fine.", None),
    ]
}

async fn ingest_due(t: &TestApp, done: &mut usize, now: DateTime<Utc>) {
    let all = events();
    while let Some((at, who, id, subject, body, parent)) = all.get(*done).cloned() {
        if at > now {
            return;
        }
        let mut mail =
            Mail::new(&format!("{id}@example.org"), subject).from(&format!("{who}@example.org")).date(&at.to_rfc2822()).body(body);
        if let Some(p) = parent {
            mail = mail.reply_to(&format!("{p}@example.org"));
        }
        t.ingest(&mail.raw(), "eng").await;
        *done += 1;
    }
}

fn zone_of(to: &str) -> Tz {
    match to {
        "alice@example.org" => BERLIN,
        "bob@example.org" => LA,
        _ => AUCKLAND,
    }
}

/// (recipient, local time as "Mon 22 08:00") of every mail of `kind`, in sending order.
fn arrivals(sent: &[Sent], kind: &str) -> Vec<(String, String)> {
    sent.iter()
        .filter(|s| s.kind() == kind)
        .map(|s| (s.to.clone(), zone_of(&s.to).from_utc_datetime(&s.at.naive_utc()).format("%a %d %H:%M").to_string()))
        .collect()
}

fn of(list: &[(String, String)], who: &str) -> Vec<String> {
    list.iter().filter(|(to, _)| to.starts_with(who)).map(|(_, at)| at.clone()).collect()
}

#[tokio::test]
async fn a_week_of_scheduled_mail_in_three_zones() {
    for mut t in backends().await {
        let start = utc(22, 0, 0);
        t.clock.set(start);
        let config = config(&t);
        t.app = App { config: Arc::new(config.clone()), ..t.app.clone() };
        let recorder: Arc<Recorder> = t.record();
        t.app.store.add_space("eng", "Engineering", start.timestamp()).await.unwrap();
        for (email, tz) in [("alice@example.org", BERLIN), ("bob@example.org", LA), ("kiri@example.org", AUCKLAND)] {
            t.member("eng", email, MemberSettings { tz: Some(tz), ..Default::default() }).await;
        }
        let mut done = 0;
        let mut now = start;
        let end = utc(29, 16, 0);
        let restart_at = utc(25, 3, 0);
        while now <= end {
            t.clock.set(now);
            if now == restart_at {
                // A restart: a new process on the same database and data directory.
                let app = App::open_with_clock(config.clone(), t.clock.clone()).await.unwrap();
                // Still no DNS (the test verifier).
                t.app = App { dkim: t.app.dkim.clone(), ..app }.with_mailer(recorder.clone());
            }
            ingest_due(&t, &mut done, now).await;
            t.tick().await;
            // A retry of the same run (a second node, or cron firing twice) sends nothing more.
            let again = t.tick().await;
            assert!(again.outbound.queued.is_empty() && again.outbound.delivery.sent == 0, "[{}] {now}: {again:?}", t.backend);
            now += chrono::Duration::minutes(15);
        }
        assert_eq!(done, events().len());
        let sent = recorder.all();
        let b = t.backend;

        // Digests at 08:00 local on weekdays with something new; Berlin's Monday is 06:00 UTC
        // (summer time since Sunday), its Friday was 07:00 UTC.
        let digests = arrivals(&sent, "digest");
        assert_eq!(of(&digests, "alice"), ["Tue 23 08:00", "Wed 24 08:00", "Thu 25 08:00", "Fri 26 08:00", "Mon 29 08:00"], "[{b}]");
        assert_eq!(
            of(&digests, "bob"),
            ["Mon 22 08:00", "Tue 23 08:00", "Wed 24 08:00", "Thu 25 08:00", "Fri 26 08:00", "Mon 29 08:00"],
            "[{b}]"
        );
        assert_eq!(of(&digests, "kiri"), ["Tue 23 08:00", "Wed 24 08:00", "Thu 25 08:00", "Fri 26 08:00", "Mon 29 08:00"], "[{b}]");
        let alice_digests: Vec<&Sent> = sent.iter().filter(|s| s.kind() == "digest" && s.to.starts_with("alice")).collect();
        assert_eq!(alice_digests[3].at, utc(26, 7, 0));
        assert_eq!(alice_digests[4].at, utc(29, 6, 0));
        assert!(alice_digests.iter().all(|s| s.subject().starts_with("[eng] Digest ")), "[{b}]");
        let thursday = docket::parse::mime::parse(alice_digests[2].raw.as_bytes()).text.unwrap();
        assert!(thursday.contains("D-1 Use Redis for the API cache."), "[{b}] {thursday}");
        assert!(thursday.contains("Proposals closing soon") && thursday.contains("P-1 Freeze merges from April"), "[{b}] {thursday}");
        assert!(thursday.contains("Looping threads"), "[{b}] {thursday}");

        // Bob's task T-1, due Wed 24 17:00 Berlin = 09:00 Los Angeles: 24 h before, at due,
        // then overdue daily up to reminders.overdue_max (3).
        let reminders = arrivals(&sent, "reminder");
        assert_eq!(of(&reminders, "bob"), ["Tue 23 09:00", "Wed 24 09:00", "Thu 25 09:00", "Fri 26 09:00", "Sat 27 09:00"], "[{b}]");
        assert_eq!(reminders.len(), 5, "[{b}] only the owner");

        // Proposal P-1 closes Thu 25 12:00 Berlin: a notice 24 h before, the outcome at closing.
        let proposals: Vec<(String, String, String)> = sent
            .iter()
            .filter(|s| s.kind() == "proposal")
            .map(|s| (s.to.clone(), s.at.format("%d %H:%M").to_string(), s.subject()))
            .collect();
        assert_eq!(proposals.len(), 6, "[{b}] {proposals:?}");
        for who in ["alice", "bob", "kiri"] {
            let mine: Vec<&(String, String, String)> = proposals.iter().filter(|p| p.0.starts_with(who)).collect();
            assert_eq!(mine[0].1, "24 11:00");
            assert!(mine[0].2.starts_with("Proposal P-1 closes "), "{}", mine[0].2);
            assert_eq!(mine[1].1, "25 11:00");
            assert_eq!(mine[1].2, "Proposal P-1 adopted as D-2: Freeze merges from April");
        }

        // The Cache thread loops twice: after Tuesday's fifth message (bob and kiri take part),
        // and again after four rounds following Wednesday's decision (now alice too).
        let loops: Vec<(String, String)> =
            sent.iter().filter(|s| s.kind() == "loop").map(|s| (s.to.clone(), s.at.format("%d %H:%M").to_string())).collect();
        let mut want = vec![
            ("bob@example.org", "23 14:00"),
            ("kiri@example.org", "23 14:00"),
            ("alice@example.org", "24 13:00"),
            ("bob@example.org", "24 13:00"),
            ("kiri@example.org", "24 13:00"),
        ];
        let mut got: Vec<(&str, &str)> = loops.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        got.sort();
        want.sort();
        assert_eq!(got, want, "[{b}]");
        let second = sent.iter().find(|s| s.kind() == "loop" && s.to.starts_with("alice")).unwrap();
        let text = docket::parse::mime::parse(second.raw.as_bytes()).text.unwrap();
        assert!(text.contains("Is 4 GB enough for the sessions too?"), "the open question: {text}");
        assert!(text.contains("kiri@example.org") && text.contains("bob@example.org"), "participants: {text}");
        assert_eq!(second.subject(), "Looping: Cache");
        assert_eq!(second.header("In-Reply-To").as_deref(), Some("<cache-10@example.org>"));

        // Fan-out: every message to the two other members, once each.
        let copies: Vec<(String, Option<String>)> =
            sent.iter().filter(|s| s.kind() == "fanout").map(|s| (s.to.clone(), s.header("Message-ID"))).collect();
        assert_eq!(copies.len(), events().len() * 2, "[{b}]");
        let mut unique = copies.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), copies.len(), "[{b}] no copy twice");
        assert!(sent.iter().filter(|s| s.kind() != "fanout").all(|s| s.header("Auto-Submitted").as_deref() == Some("auto-generated")));

        if b == "sqlite" {
            let first = |kind: &str, who: &str| sent.iter().find(|s| s.kind() == kind && s.to.starts_with(who)).unwrap().raw.clone();
            snapshot("digest", &first("digest", "alice"));
            snapshot("reminder", &first("reminder", "bob"));
            snapshot("loop", &first("loop", "kiri"));
            let outcome =
                sent.iter().find(|s| s.kind() == "proposal" && s.to.starts_with("alice") && s.subject().contains("adopted")).unwrap();
            snapshot("proposal-adopted", &outcome.raw);
        }
        // The week leaves nothing queued or failed.
        let counts = t.app.store.outbound_counts().await.unwrap();
        assert_eq!(counts.len(), 1, "[{b}] {counts:?}");
        assert_eq!(counts[0].0, docket::store::states::OutboundState::Sent);
    }
}

//! No fake async, end to end: a due or closing time that leaves an addressed member fewer than
//! `notify.min_response_hours` of their working hours is recorded and the sender's receipt says
//! who and how many hours; `member add|set --hours` and `docket parse --space` show the same.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use chrono::{TimeZone, Utc};
use docket::ingest::Outcome;
use docket::space::MemberSettings;
use docket::store::items::TaskFilter;
use support::process::{docket, ok, text};
use support::{Mail, TestApp, backends};

/// Fri 2026-11-27 10:00 in Berlin (18:00 in Tokyo, 01:00 in Los Angeles).
const FRIDAY_MORNING: &str = "Fri, 27 Nov 2026 10:00:00 +0100";

/// Berlin, Tokyo and Los Angeles; the clock at `FRIDAY_MORNING` (a Date ahead of it would count
/// from when the message arrived).
async fn team(t: &TestApp) {
    t.clock.set(Utc.with_ymd_and_hms(2026, 11, 27, 9, 0, 0).unwrap());
    t.space("eng").await;
    let tz = |z: &str| Some(z.parse::<chrono_tz::Tz>().unwrap());
    t.member("eng", "alice@example.org", MemberSettings { tz: tz("Europe/Berlin"), ..Default::default() }).await;
    t.member("eng", "kenji@example.org", MemberSettings { tz: tz("Asia/Tokyo"), ..Default::default() }).await;
    t.member("eng", "bob@example.org", MemberSettings { tz: tz("America/Los_Angeles"), ..Default::default() }).await;
}

async fn recorded(t: &TestApp, mail: Mail) -> docket::record::Recorded {
    match t.ingest(&mail.raw(), "eng").await {
        Outcome::Stored(m) => m.recorded,
        other => panic!("[{}] not stored: {other:?}", t.backend),
    }
}

#[tokio::test]
async fn a_friday_evening_deadline_for_tokyo_is_recorded_and_the_receipt_warns() {
    for mut t in backends().await {
        let sent = t.record();
        team(&t).await;
        let mail = Mail::new("h1@example.org", "Release")
            .date(FRIDAY_MORNING)
            .body("#action Ship the release notes @kenji due 2026-11-27 18:00\n");
        let r = recorded(&t, mail).await;
        assert_eq!(r.created, ["T-1"], "[{}] still recorded", t.backend);
        assert_eq!(r.warnings, ["Due Fri 18:00 CET leaves @kenji (Tokyo) 0 working hours"], "[{}]", t.backend);
        let tasks = t.app.store.tasks(&TaskFilter::default()).await.unwrap();
        assert_eq!(tasks[0].owner.as_deref(), Some("kenji@example.org"));
        t.tick().await;
        let receipts: Vec<_> = sent.take().into_iter().filter(|s| s.kind() == "receipt").collect();
        assert_eq!(receipts.len(), 1, "[{}]", t.backend);
        assert_eq!(receipts[0].to, "alice@example.org");
        let body = docket::parse::mime::parse(receipts[0].raw.as_bytes()).text.unwrap();
        assert!(body.contains("Due Fri 18:00 CET leaves @kenji (Tokyo) 0 working hours"), "[{}] {body}", t.backend);
    }
}

#[tokio::test]
async fn ample_time_and_the_senders_own_deadlines_warn_nobody() {
    for t in backends().await {
        team(&t).await;
        let body = "#action Write the migration guide @kenji due 2026-12-04 18:00\n#action Book the room @alice due 2026-11-27 11:00\n";
        let r = recorded(&t, Mail::new("h2@example.org", "Docs").date(FRIDAY_MORNING).body(body)).await;
        assert_eq!(r.created, ["T-1", "T-2"], "[{}]", t.backend);
        assert!(r.warnings.is_empty(), "[{}] {:?}", t.backend, r.warnings);
    }
}

#[tokio::test]
async fn proposals_due_and_assign_check_everyone_they_address() {
    for t in backends().await {
        team(&t).await;
        // Closing Fri 18:00 Berlin: Tokyo's Friday is over, Los Angeles has 09:00 PST: none.
        let r =
            recorded(&t, Mail::new("h3@example.org", "Freeze").date(FRIDAY_MORNING).body("#propose Freeze merges by 2026-11-27 18:00\n"))
                .await;
        assert_eq!(r.created, ["P-1"], "[{}]", t.backend);
        let mut w = r.warnings.clone();
        w.sort();
        assert_eq!(
            w,
            [
                "Closes Fri 18:00 CET leaves @bob (Los Angeles) 0 working hours",
                "Closes Fri 18:00 CET leaves @kenji (Tokyo) 0 working hours"
            ],
            "[{}] everyone but the proposer",
            t.backend
        );
        let r = recorded(&t, Mail::new("h4@example.org", "Notes").date(FRIDAY_MORNING).body("#action Notes @kenji due 2026-12-04 18:00\n"))
            .await;
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
        // A new due time against the owner; a new owner against the due time.
        let r = recorded(&t, Mail::new("h5@example.org", "Re: Notes").date(FRIDAY_MORNING).body("#due T-1 2026-11-27 18:00\n")).await;
        assert_eq!(
            (r.changed.clone(), r.warnings.clone()),
            (vec!["T-1".to_string()], vec!["Due Fri 18:00 CET leaves @kenji (Tokyo) 0 working hours".to_string()])
        );
        let r = recorded(&t, Mail::new("h6@example.org", "Re: Notes").date(FRIDAY_MORNING).body("#assign T-1 @bob\n")).await;
        assert_eq!(r.warnings, ["Due Fri 18:00 CET leaves @bob (Los Angeles) 0 working hours"], "[{}]", t.backend);
        let task = t.app.store.tasks(&TaskFilter::default()).await.unwrap().into_iter().find(|x| x.id == "T-1").unwrap();
        assert_eq!(task.owner.as_deref(), Some("bob@example.org"), "changed all the same");
    }
}

#[tokio::test]
async fn a_members_own_hours_count_instead_of_the_default() {
    for t in backends().await {
        team(&t).await;
        let early = MemberSettings {
            tz: Some(chrono_tz::Asia::Tokyo),
            hours: Some(docket::hours::Hours::parse("18:00-23:00").unwrap()),
            ..Default::default()
        };
        t.member("eng", "yuki@example.org", early).await;
        let body = "#action Check the build @yuki due 2026-11-27 14:00\n#action Check the docs @kenji due 2026-11-27 14:00\n";
        let r = recorded(&t, Mail::new("h7@example.org", "Build").date(FRIDAY_MORNING).body(body)).await;
        // yuki works 18:00-23:00 in Tokyo: 10:00-14:00 Berlin is four of them.
        assert_eq!(r.warnings, ["Due Fri 14:00 CET leaves @kenji (Tokyo) 0 working hours"], "[{}]", t.backend);
    }
}

#[test]
fn hours_flag_list_and_parse_show_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(docket(d).args(["space", "add", "eng"]));
    ok(docket(d).args(["member", "add", "alice@example.org", "--space", "eng", "--tz", "Europe/Berlin"]));
    let bad = docket(d).args(["member", "add", "kenji@example.org", "--space", "eng", "--hours", "9-5"]).output().unwrap();
    assert!(!bad.status.success());
    let said = text(&bad);
    assert!(said.contains("--hours") && said.contains("09:00-17:00"), "{said}");
    let list = |d: &std::path::Path| -> serde_json::Value {
        serde_json::from_str(&ok(docket(d).args(["member", "list", "--space", "eng", "--json"]))).unwrap()
    };
    assert_eq!(list(d).as_array().unwrap().len(), 1, "nothing added");
    ok(docket(d).args(["member", "add", "kenji@example.org", "--space", "eng", "--tz", "Asia/Tokyo"]));
    let bad = docket(d).args(["member", "set", "kenji@example.org", "--space", "eng", "--hours", "17:00-09:00"]).output().unwrap();
    assert!(!bad.status.success() && text(&bad).contains("--hours"), "{}", text(&bad));
    let members = list(d);
    assert_eq!((members[0]["hours"].clone(), members[1]["hours"].clone()), (serde_json::Value::Null, serde_json::Value::Null), "{members}");
    ok(docket(d).args(["member", "set", "kenji@example.org", "--space", "eng", "--hours", "08:00-12:00"]));
    assert_eq!(list(d)[1]["hours"], "08:00-12:00");
    let plain = ok(docket(d).args(["member", "list", "--space", "eng"]));
    let row = plain.lines().find(|l| l.starts_with("kenji@")).unwrap();
    assert!(row.contains("08:00-12:00"), "{plain}");
    assert!(plain.lines().find(|l| l.starts_with("alice@")).unwrap().contains("(default)"), "{plain}");
    // Friday 10:00 Berlin is 18:00 in Tokyo: kenji's morning hours are over until Monday.
    let mail = Mail::new("p1@example.org", "Release").date(FRIDAY_MORNING).body("#action Ship it @kenji due 2026-11-27 18:00\n");
    let file = d.join("m.eml");
    std::fs::write(&file, mail.raw()).unwrap();
    let parsed: serde_json::Value =
        serde_json::from_str(&ok(docket(d).arg("parse").arg(&file).args(["--space", "eng", "--json"]))).unwrap();
    assert_eq!(parsed["warnings"], serde_json::json!(["Due Fri 18:00 CET leaves @kenji (Tokyo) 0 working hours"]), "{parsed}");
    let alone: serde_json::Value = serde_json::from_str(&ok(docket(d).arg("parse").arg(&file).arg("--json"))).unwrap();
    assert_eq!(alone["warnings"], serde_json::json!([]), "no space, no members to check");
}

/// An ask warns for the members it names, or for everyone but the asker when it names nobody.
#[tokio::test]
async fn asks_check_the_members_they_ask() {
    for t in backends().await {
        team(&t).await;
        let body = "#ask Can we ship? @kenji by 2026-11-27 18:00 default: we ship\n";
        let r = recorded(&t, Mail::new("h7@example.org", "Ship").date(FRIDAY_MORNING).body(body)).await;
        assert_eq!(r.created, ["A-1"], "[{}]", t.backend);
        assert_eq!(r.warnings, ["By Fri 18:00 CET leaves @kenji (Tokyo) 0 working hours"], "[{}]", t.backend);
        let body = "#ask Who books the room? by 2026-11-27 18:00\n";
        let r = recorded(&t, Mail::new("h8@example.org", "Room").date(FRIDAY_MORNING).body(body)).await;
        let mut w = r.warnings.clone();
        w.sort();
        assert_eq!(
            w,
            ["By Fri 18:00 CET leaves @bob (Los Angeles) 0 working hours", "By Fri 18:00 CET leaves @kenji (Tokyo) 0 working hours"],
            "[{}]",
            t.backend
        );
    }
}

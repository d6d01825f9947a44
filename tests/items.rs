//! Tags to records on every backend: items and their links, mentions, commands with permission
//! checks and history, objections and lazy consensus via `tick`, idempotent re-delivery.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use chrono::{TimeZone, Utc};
use docket::ingest::Outcome;
use docket::space::MemberSettings;
use docket::store::items::TaskFilter;
use docket::store::states::{TaskStatus, ThreadStatus};
use support::{Mail, TestApp, backends};

async fn team(t: &TestApp) -> String {
    let s = t.space("eng").await;
    let space = t.app.store.require_space(&s).await.unwrap();
    let other = t.app.store.add_space("ops", "ops", 0).await.unwrap();
    let berlin = MemberSettings { tz: Some(chrono_tz::Europe::Berlin), ..Default::default() };
    let la = MemberSettings { tz: Some(chrono_tz::America::Los_Angeles), ..Default::default() };
    t.app.store.add_member(&space, "alice@example.org", "alice", &berlin, 0).await.unwrap();
    t.app.store.add_member(&space, "bob@example.org", "bob", &la, 0).await.unwrap();
    t.app.store.add_member(&other, "olga@example.org", "olga", &MemberSettings::default(), 0).await.unwrap();
    s
}

async fn recorded(t: &TestApp, mail: Mail, space: &str) -> docket::record::Recorded {
    match t.ingest(&mail.raw(), space).await {
        Outcome::Stored(m) => m.recorded,
        other => panic!("[{}] not stored: {other:?}", t.backend),
    }
}

#[tokio::test]
async fn tags_become_linked_items_in_the_senders_zone() {
    for t in backends().await {
        let s = team(&t).await;
        // Tue 2026-11-24 10:00 Berlin (09:00 UTC).
        let body = "Agreed.\n\n#goal launch-v2 Launch v2\n#decision Ship the beta on Dec 10.\n#action Write the migration guide @bob due friday\n\
                    - TODO: Update the status page @alice @bob\n#propose Freeze merges from Dec 8 by monday\n\n\
                    On Mon, Bob <bob@example.org> wrote:\n> #decision this quoted one must not fire\n";
        let r = recorded(&t, Mail::new("m1@x", "Launch").body(body).date("Tue, 24 Nov 2026 10:00:00 +0100"), &s).await;
        assert_eq!(r.created, ["D-1", "T-1", "T-2", "P-1"], "[{}] {r:?}", t.backend);
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
        let decisions = t.app.store.decisions(Some(&s), None, None).await.unwrap();
        assert_eq!(decisions.len(), 1, "the quoted tag did not fire");
        let d = &decisions[0];
        assert_eq!((d.text.as_str(), d.source.as_str(), d.goal.as_deref()), ("Ship the beta on Dec 10.", "tag", Some("launch-v2")));
        assert_eq!(d.tasks, ["T-1", "T-2"]);
        let tasks = t.app.store.tasks(&TaskFilter::default()).await.unwrap();
        let t1 = tasks.iter().find(|x| x.id == "T-1").unwrap();
        assert_eq!(t1.owner.as_deref(), Some("bob@example.org"));
        // "friday" from Alice, a Berlin member: Fri 2026-11-27 17:00 CET = 16:00 UTC.
        assert_eq!(t1.due, Some(Utc.with_ymd_and_hms(2026, 11, 27, 16, 0, 0).unwrap()));
        assert_eq!(t1.decision.as_deref(), Some("D-1"));
        let t2 = tasks.iter().find(|x| x.id == "T-2").unwrap();
        assert_eq!((t2.owner.as_deref(), t2.watchers.clone()), (Some("alice@example.org"), vec!["bob@example.org".to_string()]));
        let proposals = t.app.store.proposals(Some(&s), None, None).await.unwrap();
        assert_eq!(proposals[0].closes_at, Some(Utc.with_ymd_and_hms(2026, 11, 30, 16, 0, 0).unwrap()));
        let thread = t.app.store.threads(Some(&s), None, 3).await.unwrap().remove(0);
        assert_eq!(
            (thread.status, thread.decisions.clone(), thread.tasks.clone()),
            (ThreadStatus::Decided, vec!["D-1".to_string()], vec!["T-1".to_string(), "T-2".to_string()])
        );
    }
}

#[tokio::test]
async fn unknown_handles_foreign_refs_and_past_dates_are_warnings() {
    for t in backends().await {
        let s = team(&t).await;
        let ops_task = recorded(&t, Mail::new("o1@x", "Ops").from("olga@example.org").body("#task Rotate keys @olga\n"), "ops").await;
        assert_eq!(ops_task.created, ["T-1"]);
        let body = "#action Review the budget @zed due 2026-11-01\n#done T-1\n#decision Follow up on T-1 and T-99\n";
        let r = recorded(&t, Mail::new("w1@x", "Budget").body(body), &s).await;
        let w = r.warnings.join(" | ");
        assert!(w.contains("@zed is not a member of eng"), "[{}] {w}", t.backend);
        assert!(w.contains("already past"), "{w}");
        assert!(w.contains("T-1 belongs to another space"), "{w}");
        assert!(w.contains("T-99 does not exist"), "{w}");
        let ops = t.app.store.tasks(&TaskFilter { space: Some("ops".into()), ..Default::default() }).await.unwrap();
        assert_eq!(ops[0].status, TaskStatus::Open, "a foreign command changes nothing");
        let review = t.app.store.tasks(&TaskFilter { space: Some(s.clone()), ..Default::default() }).await.unwrap();
        assert_eq!((review[0].owner.clone(), review[0].status.as_str()), (None, "open"));
        let overdue = t.app.store.tasks(&TaskFilter { overdue_at: Some(support::t0().timestamp()), ..Default::default() }).await.unwrap();
        assert_eq!(overdue.len(), 1);
    }
}

#[tokio::test]
async fn commands_change_tasks_for_members_only_and_keep_history() {
    for t in backends().await {
        let s = team(&t).await;
        recorded(&t, Mail::new("c1@x", "Docs").body("#action Write docs @bob\n"), &s).await;
        // A stranger cannot close it.
        let r = recorded(&t, Mail::new("c2@x", "Re: Docs").reply_to("c1@x").from("eve@evil.example").body("#done T-1\n"), &s).await;
        assert!(r.warnings[0].contains("only members"), "[{}] {r:?}", t.backend);
        // Bob closes his only open task in the thread with a bare #done.
        let r = recorded(&t, Mail::new("c3@x", "Re: Docs").reply_to("c1@x").from("bob@example.org").body("Done!\n\n#done\n"), &s).await;
        assert_eq!(r.changed, ["T-1"], "{r:?}");
        let task = &t.app.store.tasks(&TaskFilter::default()).await.unwrap()[0];
        assert_eq!(task.status, TaskStatus::Done);
        assert!(task.done_at.is_some());
        // Alice reopens, reassigns, reschedules, then cancels.
        let body = "#reopen T-1\n#assign T-1 @alice\n#due T-1 2026-12-01 09:00\n";
        let r = recorded(&t, Mail::new("c4@x", "Re: Docs").reply_to("c3@x").body(body), &s).await;
        assert_eq!(r.changed, ["T-1", "T-1", "T-1"], "{r:?}");
        let task = &t.app.store.tasks(&TaskFilter::default()).await.unwrap()[0];
        assert_eq!((task.status.as_str(), task.owner.as_deref()), ("open", Some("alice@example.org")));
        assert_eq!(task.due, Some(Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap()), "09:00 Berlin");
        let r = recorded(&t, Mail::new("c5@x", "Re: Docs").reply_to("c4@x").body("#cancel T-1\n#cancel T-1\n"), &s).await;
        assert_eq!(r.changed, ["T-1"]);
        assert!(r.warnings[0].contains("already cancelled"), "{r:?}");
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM item_history WHERE kind = 'T' AND item_id = 1")
            .fetch_one(t.app.store.pool())
            .await
            .unwrap();
        assert_eq!(n, 7, "[{}] done+done_at, reopen+done_at, owner, due, cancel", t.backend);
    }
}

#[tokio::test]
async fn lazy_consensus_adopts_or_blocks_at_the_closing_time() {
    for t in backends().await {
        let s = team(&t).await;
        recorded(&t, Mail::new("p1@x", "Freeze").body("#propose Freeze merges during launch week by 2026-11-26 12:00\n"), &s).await;
        recorded(&t, Mail::new("p2@x", "Tabs").body("#proposal Tabs over spaces by 2026-11-26 12:00\n"), &s).await;
        let r =
            recorded(&t, Mail::new("p3@x", "Re: Tabs").reply_to("p2@x").from("bob@example.org").body("#object No, please.\n"), &s).await;
        assert_eq!(r.changed, ["P-2"], "[{}] {r:?}", t.backend);
        let before = Utc.with_ymd_and_hms(2026, 11, 26, 10, 0, 0).unwrap();
        let early = docket::tick::tick(&t.app, before).await.unwrap();
        assert!(early.adopted.is_empty() && early.blocked.is_empty(), "{early:?}");
        let after = Utc.with_ymd_and_hms(2026, 11, 27, 0, 0, 0).unwrap();
        let report = docket::tick::tick(&t.app, after).await.unwrap();
        assert_eq!(report.adopted, [("P-1".to_string(), "D-1".to_string())]);
        assert_eq!(report.blocked, ["P-2"]);
        let again = docket::tick::tick(&t.app, after).await.unwrap();
        assert!(again.adopted.is_empty() && again.blocked.is_empty() && again.outbound.queued.is_empty(), "a second tick changes nothing");
        let d = &t.app.store.decisions(None, None, None).await.unwrap()[0];
        assert_eq!((d.source.as_str(), d.text.as_str()), ("proposal", "Freeze merges during launch week"));
        let ps = t.app.store.proposals(None, None, None).await.unwrap();
        let tabs = ps.iter().find(|p| p.id == "P-2").unwrap();
        assert_eq!((tabs.status.as_str(), tabs.objections.len()), ("blocked", 1));
        assert_eq!(ps.iter().find(|p| p.id == "P-1").unwrap().decision.as_deref(), Some("D-1"));
        // An objection after the close is refused.
        let r = recorded(&t, Mail::new("p4@x", "Re: Tabs").reply_to("p2@x").body("#object P-1 too late\n"), &s).await;
        assert!(r.warnings[0].contains("already adopted"), "{r:?}");
    }
}

#[tokio::test]
async fn redelivery_creates_nothing_new_and_import_records_too() {
    for t in backends().await {
        let s = team(&t).await;
        let mail = Mail::new("r1@x", "Once").body("#decision Only once.\n");
        recorded(&t, Mail::new("r1@x", "Once").body("#decision Only once.\n"), &s).await;
        assert!(matches!(t.ingest(&mail.raw(), &s).await, Outcome::Duplicate { .. }));
        assert_eq!(t.app.store.decisions(None, None, None).await.unwrap().len(), 1);
        let path = t.dir.path().join("a.mbox");
        let msg: Vec<u8> =
            Mail::new("r2@x", "Archived").body("#todo Archive item @alice\n").raw().into_iter().filter(|b| *b != b'\r').collect();
        std::fs::write(&path, [b"From x@y Thu Jan  1 00:00:00 1970\n".as_slice(), &msg].concat()).unwrap();
        let opts = docket::ingest::import::ImportOptions { space: Some(s.clone()), progress: false };
        docket::ingest::import::import(&t.app, &[path], &opts).await.unwrap();
        let tasks = t.app.store.tasks(&TaskFilter::default()).await.unwrap();
        assert_eq!(tasks.len(), 1, "[{}]", t.backend);
        assert_eq!(tasks[0].title, "Archive item");
    }
}

#[tokio::test]
async fn subject_decision_and_looping_threads() {
    for t in backends().await {
        let s = team(&t).await;
        let r = recorded(
            &t,
            Mail::new("s1@x", "Re: [decision] Use Postgres").body("We go with Postgres for the shared store.\n\nMore detail later.\n"),
            &s,
        )
        .await;
        assert_eq!(r.created, ["D-1"]);
        let d = &t.app.store.decisions(None, None, None).await.unwrap()[0];
        assert_eq!((d.source.as_str(), d.text.as_str()), ("subject", "We go with Postgres for the shared store."));
        // Four alternating replies without a decision: more than 3 rounds → looping.
        let root = t.thread_of(&Mail::new("l0@x", "Which colour").raw(), &s).await;
        let mut parent = "l0@x".to_string();
        for n in 1..=4 {
            let from = if n % 2 == 1 { "bob@example.org" } else { "alice@example.org" };
            let id = format!("l{n}@x");
            t.ingest(&Mail::new(&id, "Re: Which colour").reply_to(&parent).from(from).raw(), &s).await;
            parent = id;
        }
        let thread = t.app.store.thread(root, 3).await.unwrap();
        assert_eq!((thread.rounds, thread.status), (4, ThreadStatus::Looping), "[{}]", t.backend);
    }
}

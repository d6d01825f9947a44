//! Asks, meeting notes, supersede chains and withdrawals through the real intake and scheduler on
//! a fake clock, on every backend: an ask answered in time, one defaulting, one expiring; every
//! tick run twice and again after a restart, and nothing is sent twice.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use chrono::{DateTime, Duration, TimeZone, Utc};
use docket::app::App;
use docket::space::MemberSettings;
use docket::store::states::{AskStatus, DecisionSource, DecisionStatus, ProposalStatus};
use std::sync::Arc;
use support::{Mail, Recorder, Sent, TestApp, backends};

const BERLIN: chrono_tz::Tz = chrono_tz::Europe::Berlin;

/// A space `team` with alice (the asker), bob and carol, all in Berlin.
async fn team() -> Vec<(TestApp, Arc<Recorder>)> {
    let mut out = Vec::new();
    for mut t in backends().await {
        t.space("team").await;
        for who in ["alice", "bob", "carol"] {
            let settings = MemberSettings { tz: Some(BERLIN), ..Default::default() };
            t.member("team", &format!("{who}@example.org"), settings).await;
        }
        let recorder = t.record();
        out.push((t, recorder));
    }
    out
}

fn from(who: &str) -> String {
    format!("{who} <{who}@example.org>")
}

fn at(d: u32, h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, d, h, m, 0).unwrap()
}

fn of_kind<'a>(sent: &'a [Sent], kind: &str) -> Vec<&'a Sent> {
    sent.iter().filter(|s| s.kind() == kind).collect()
}

fn recipients(sent: &[&Sent]) -> Vec<String> {
    let mut to: Vec<String> = sent.iter().map(|s| s.to.clone()).collect();
    to.sort();
    to
}

/// Runs the scheduler at `now` twice, then once more in a new process on the same data: the mail
/// of the first run is returned, and the second and third must send nothing.
async fn tick_thrice(t: &mut TestApp, recorder: &Arc<Recorder>, now: DateTime<Utc>) -> Vec<Sent> {
    t.clock.set(now);
    t.tick().await;
    let first = recorder.take();
    t.tick().await;
    let app = App::open_with_clock((*t.app.config).clone(), t.clock.clone()).await.unwrap();
    t.app = App { dkim: t.app.dkim.clone(), ..app }.with_mailer(recorder.clone());
    t.tick().await;
    let again = recorder.take();
    assert!(again.is_empty(), "[{}] sent twice at {now}: {:?}", t.backend, again.iter().map(Sent::subject).collect::<Vec<_>>());
    first
}

const ASK: &str =
    "Context: the guide is late.\n\n#ask Can we ship without the migration guide? @bob by 2026-11-26 17:00 default: we ship as is\n";

#[tokio::test]
async fn an_ask_answered_in_time_closes_and_defaults_nothing() {
    for (mut t, recorder) in team().await {
        let b = t.backend;
        t.ingest(&Mail::new("ask-1", "Release").from(&from("alice")).body(ASK).raw(), "team").await;
        tick_thrice(&mut t, &recorder, at(24, 9, 0)).await;
        let asks = t.app.store.asks(Some("team"), None, None).await.unwrap();
        assert_eq!(asks.len(), 1, "[{b}]");
        assert_eq!((asks[0].id.as_str(), asks[0].status), ("A-1", AskStatus::Open), "[{b}]");
        assert_eq!(asks[0].asked_of, ["bob@example.org"], "[{b}]");
        assert_eq!(asks[0].default.as_deref(), Some("we ship as is"), "[{b}]");
        // 17:00 Berlin is 16:00 UTC.
        assert_eq!(asks[0].closes_at, Some(at(26, 16, 0)), "[{b}]");

        // A day before: the reminder goes to bob alone.
        let sent = tick_thrice(&mut t, &recorder, at(25, 16, 30)).await;
        let reminders = of_kind(&sent, "ask");
        assert_eq!(recipients(&reminders), ["bob@example.org"], "[{b}]");
        assert!(reminders[0].subject().starts_with("Ask A-1 closes"), "[{b}] {}", reminders[0].subject());

        // Carol is not asked: her reply does not answer. Bob's does.
        let carol = Mail::new("ask-2", "Re: Release").from(&from("carol")).reply_to("ask-1").body("I would wait.\n");
        t.ingest(&carol.raw(), "team").await;
        assert_eq!(t.app.store.asks(None, None, None).await.unwrap()[0].status, AskStatus::Open, "[{b}]");
        let bob = Mail::new("ask-3", "Re: Release").from(&from("bob")).reply_to("ask-2").body("Ship it, the guide follows.\n");
        t.ingest(&bob.raw(), "team").await;
        let asks = t.app.store.asks(None, None, None).await.unwrap();
        assert_eq!((asks[0].status, asks[0].answered_by.as_deref()), (AskStatus::Answered, Some("bob@example.org")), "[{b}]");

        // Past the deadline nothing is decided and no outcome is sent.
        let sent = tick_thrice(&mut t, &recorder, at(26, 17, 0)).await;
        assert!(of_kind(&sent, "ask").is_empty(), "[{b}]");
        assert!(t.app.store.decisions(None, None, None).await.unwrap().is_empty(), "[{b}]");
    }
}

#[tokio::test]
async fn an_unanswered_ask_decides_its_default_once_and_tells_the_space() {
    for (mut t, recorder) in team().await {
        let b = t.backend;
        t.ingest(&Mail::new("ask-1", "Release").from(&from("alice")).body(ASK).raw(), "team").await;
        tick_thrice(&mut t, &recorder, at(24, 9, 0)).await;
        t.clock.set(at(26, 16, 1));
        let report = t.tick().await;
        assert_eq!(report.defaulted, [("A-1".to_string(), "D-1".to_string())], "[{b}]");
        let sent = recorder.take();
        assert!(t.tick().await.defaulted.is_empty(), "[{b}] a second tick decides nothing");
        let outcome = of_kind(&sent, "ask");
        assert_eq!(recipients(&outcome), ["alice@example.org", "bob@example.org", "carol@example.org"], "[{b}]");
        let body = &outcome[0].raw;
        assert!(body.contains("No answer from @bob by Thu 26 Nov 17:00 CET: we ship as is (D-1)"), "[{b}] {body}");
        assert_eq!(tick_thrice(&mut t, &recorder, at(26, 16, 2)).await.len(), 0, "[{b}]");

        let decisions = t.app.store.decisions(None, None, None).await.unwrap();
        assert_eq!(decisions.len(), 1, "[{b}]");
        assert_eq!((decisions[0].text.as_str(), decisions[0].source), ("we ship as is", DecisionSource::Default), "[{b}]");
        assert_eq!(decisions[0].author.as_deref(), Some("alice@example.org"), "[{b}]");
        let ask = &t.app.store.asks(None, None, None).await.unwrap()[0];
        assert_eq!((ask.status, ask.decision.as_deref()), (AskStatus::Defaulted, Some("D-1")), "[{b}]");
    }
}

#[tokio::test]
async fn an_ask_without_a_default_expires_and_tells_only_the_asker() {
    for (mut t, recorder) in team().await {
        let b = t.backend;
        let body = "We need a venue.\n\n#ask Who can book the room? by 2026-11-26 17:00\n";
        t.ingest(&Mail::new("ask-1", "Offsite").from(&from("alice")).body(body).raw(), "team").await;
        tick_thrice(&mut t, &recorder, at(24, 9, 0)).await;
        // An ask of nobody in particular reminds everyone but the asker.
        let sent = tick_thrice(&mut t, &recorder, at(25, 17, 0)).await;
        assert_eq!(recipients(&of_kind(&sent, "ask")), ["bob@example.org", "carol@example.org"], "[{b}]");
        t.clock.set(at(26, 16, 0));
        assert_eq!(t.tick().await.expired, ["A-1"], "[{b}]");
        let outcome = recorder.take();
        assert_eq!(recipients(&of_kind(&outcome, "ask")), ["alice@example.org"], "[{b}]");
        assert_eq!(tick_thrice(&mut t, &recorder, at(26, 16, 5)).await.len(), 0, "[{b}]");
        assert!(t.app.store.decisions(None, None, None).await.unwrap().is_empty(), "[{b}]");
        assert_eq!(t.app.store.asks(None, Some(AskStatus::Expired), None).await.unwrap().len(), 1, "[{b}]");
    }
}

#[tokio::test]
async fn meeting_notes_link_every_item_they_record() {
    for (mut t, recorder) in team().await {
        let b = t.backend;
        let body = "Present: alice, bob.\n\n#decision We keep the Tuesday release.\n#action Book the hall @bob due 2026-11-27\n\
                    #ask Is the budget approved? @carol by 2026-11-27 12:00\n";
        t.ingest(&Mail::new("n-1", "[notes] Weekly sync").from(&from("alice")).body(body).raw(), "team").await;
        let reply = Mail::new("n-2", "Re: [notes] Weekly sync").from(&from("bob")).reply_to("n-1").body("#decision Hall booked.\n");
        t.ingest(&reply.raw(), "team").await;
        let notes = t.app.store.notes(None, None, None).await.unwrap();
        assert_eq!(notes.len(), 1, "[{b}] a reply to notes is not notes");
        assert_eq!((notes[0].id.as_str(), notes[0].title.as_str()), ("N-1", "Weekly sync"), "[{b}]");
        assert_eq!(notes[0].items, ["D-1", "T-1", "A-1"], "[{b}]");
        let decisions = t.app.store.decisions(None, None, None).await.unwrap();
        let notes_of: Vec<(&str, Option<&str>)> = decisions.iter().map(|d| (d.id.as_str(), d.notes.as_deref())).collect();
        assert_eq!(notes_of, [("D-2", None), ("D-1", Some("N-1"))], "[{b}]");
        let tasks = t.app.store.tasks(&Default::default()).await.unwrap();
        assert_eq!(tasks[0].notes.as_deref(), Some("N-1"), "[{b}]");
        let sent = tick_thrice(&mut t, &recorder, at(24, 9, 0)).await;
        let receipt = sent.iter().find(|s| s.kind() == "receipt" && s.raw.contains("N-1")).expect("a receipt naming the notes");
        assert!(receipt.raw.contains("A-1"), "[{b}] the receipt lists the ask");
    }
}

#[tokio::test]
async fn supersede_chains_keep_history_and_name_open_tasks() {
    for (mut t, recorder) in team().await {
        let b = t.backend;
        let first = "#decision We use MySQL.\n#action Migrate the schema @bob due 2026-11-30\n";
        t.ingest(&Mail::new("d-1", "Database").from(&from("alice")).body(first).raw(), "team").await;
        let second = Mail::new("d-2", "Re: Database").from(&from("bob")).reply_to("d-1").body("#decision We use Postgres supersedes D-1\n");
        t.ingest(&second.raw(), "team").await;
        let third =
            Mail::new("d-3", "Re: Database").from(&from("carol")).reply_to("d-2").body("#decision Postgres 16 it is, supersedes D-2\n");
        t.ingest(&third.raw(), "team").await;
        let again = Mail::new("d-4", "Re: Database").from(&from("carol")).reply_to("d-3").body("#decision SQLite supersedes D-1\n");
        t.ingest(&again.raw(), "team").await;

        // Someone outside the space (who may post: tests accept mail from anyone) cannot retire one.
        let stranger =
            Mail::new("d-5", "Re: Database").from("Eve <eve@example.org>").reply_to("d-4").body("#decision Oracle supersedes D-4\n");
        t.ingest(&stranger.raw(), "team").await;
        let decisions = t.app.store.decisions(None, None, None).await.unwrap();
        assert_eq!((decisions[0].text.as_str(), decisions[0].supersedes.as_deref()), ("Oracle", None), "[{b}]");
        let decisions: Vec<_> = decisions.into_iter().skip(1).collect();
        let chain: Vec<(&str, DecisionStatus, Option<&str>)> =
            decisions.iter().map(|d| (d.id.as_str(), d.status, d.supersedes.as_deref())).collect();
        assert_eq!(
            chain,
            [
                ("D-4", DecisionStatus::Standing, None),
                ("D-3", DecisionStatus::Standing, Some("D-2")),
                ("D-2", DecisionStatus::Superseded, Some("D-1")),
                ("D-1", DecisionStatus::Superseded, None),
            ],
            "[{b}]"
        );
        assert_eq!(decisions[0].text, "SQLite", "[{b}]");
        assert_eq!(decisions[1].text, "Postgres 16 it is", "[{b}]");
        let sent = tick_thrice(&mut t, &recorder, at(24, 9, 0)).await;
        let receipts = of_kind(&sent, "receipt");
        let to_bob = receipts.iter().find(|s| s.to == "bob@example.org").expect("bob's receipt");
        assert!(to_bob.raw.contains("D-1 is superseded; review its open tasks: T-1"), "[{b}] {}", to_bob.raw);
        let again = receipts.iter().find(|s| s.raw.contains("SQLite")).expect("the last receipt");
        assert!(again.raw.contains("D-1 was already superseded"), "[{b}] {}", again.raw);
    }
}

#[tokio::test]
async fn only_the_proposer_withdraws_a_proposal() {
    for (mut t, recorder) in team().await {
        let b = t.backend;
        let body = "#propose We move standup to 10:00 by 2026-11-27 12:00\n";
        t.ingest(&Mail::new("p-1", "Standup").from(&from("alice")).body(body).raw(), "team").await;
        let bob = Mail::new("p-2", "Re: Standup").from(&from("bob")).reply_to("p-1").body("#withdraw P-1\n");
        t.ingest(&bob.raw(), "team").await;
        assert_eq!(t.app.store.proposals(None, None, None).await.unwrap()[0].status, ProposalStatus::Open, "[{b}]");
        let alice = Mail::new("p-3", "Re: Standup").from(&from("alice")).reply_to("p-2").body("#withdraw\n");
        t.ingest(&alice.raw(), "team").await;
        assert_eq!(t.app.store.proposals(None, None, None).await.unwrap()[0].status, ProposalStatus::Withdrawn, "[{b}]");
        let sent = tick_thrice(&mut t, &recorder, at(24, 9, 0)).await;
        let to_bob = sent.iter().find(|s| s.kind() == "receipt" && s.to == "bob@example.org").expect("bob's receipt");
        assert!(to_bob.raw.contains("only its proposer can withdraw it"), "[{b}] {}", to_bob.raw);
        // A withdrawn proposal never closes.
        t.clock.set(at(27, 12, 0) + Duration::minutes(1));
        assert!(t.tick().await.adopted.is_empty(), "[{b}]");
    }
}

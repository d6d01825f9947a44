//! Realistic tag-language cases (SPEC §2, §5): client-style bodies already trimmed to visible text,
//! every tag and alias, every date form in three zones including DST transition days, bad input.

use chrono::{DateTime, NaiveTime, Offset, TimeZone, Utc};
use docket::parse::dates::{DateContext, DateOrder, Zone};
use docket::parse::tags::{Extraction, Item, MAX_ITEMS, Origin, TagInput, extract};

fn ctx(zone: &str, now: &str) -> DateContext {
    DateContext {
        now: DateTime::parse_from_rfc3339(now).map(|d| d.with_timezone(&Utc)).unwrap_or_else(|e| panic!("bad now {now}: {e}")),
        zone: Zone::named(zone).unwrap_or_else(|| panic!("bad zone {zone}")),
        default_due_time: NaiveTime::from_hms_opt(17, 0, 0).unwrap_or_default(),
        date_order: None,
    }
}

/// Tue 2026-11-24 09:00 local in each zone.
fn berlin() -> DateContext {
    ctx("Europe/Berlin", "2026-11-24T08:00:00Z")
}
fn los_angeles() -> DateContext {
    ctx("America/Los_Angeles", "2026-11-24T17:00:00Z")
}
fn auckland() -> DateContext {
    ctx("Pacific/Auckland", "2026-11-23T20:00:00Z")
}

fn run(c: &DateContext, subject: &str, body: &str) -> Extraction {
    extract(&TagInput { visible_text: body, subject, dates: c })
}

/// One line per item: kind, text, then the fields that are set.
fn summary(item: &Item) -> String {
    let kind = format!("{:?}", item.kind).to_lowercase();
    let mut s = format!("{kind} {:?}", item.text);
    let t = |d: &DateTime<Utc>| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    if let Some(v) = &item.verb {
        s += &format!(" verb={v:?}").to_lowercase();
    }
    if let Some(v) = &item.target {
        s += &format!(" target={v}");
    }
    if let Some(v) = &item.owner {
        s += &format!(" owner={v}");
    }
    if !item.watchers.is_empty() {
        s += &format!(" watchers={}", item.watchers.join(","));
    }
    if let Some(v) = &item.due {
        s += &format!(" due={}", t(v));
    }
    if let Some(v) = &item.closes_at {
        s += &format!(" closes={}", t(v));
    }
    if let Some(v) = &item.due_text {
        s += &format!(" due_text={v:?}");
    }
    if !item.refs.is_empty() {
        s += &format!(" refs={}", item.refs.join(","));
    }
    if let Some(v) = &item.goal {
        s += &format!(" goal={v}");
    }
    s
}

/// Asserts the items (as summaries) and the warnings (each wanted one is a substring, in order).
fn check(c: &DateContext, body: &str, want: &[&str], want_warnings: &[&str]) {
    check_subject(c, "", body, want, want_warnings);
}

fn check_subject(c: &DateContext, subject: &str, body: &str, want: &[&str], want_warnings: &[&str]) {
    for variant in [body.to_owned(), body.replace('\n', "\r\n")] {
        let got = run(c, subject, &variant);
        let items: Vec<String> = got.items.iter().map(summary).collect();
        assert_eq!(items, want, "body {body:?}");
        assert_eq!(got.warnings.len(), want_warnings.len(), "warnings {:?} for {body:?}", got.warnings);
        for (w, want) in got.warnings.iter().zip(want_warnings) {
            assert!(w.contains(want), "warning {w:?} lacks {want:?}");
        }
    }
}

#[test]
#[rustfmt::skip]
fn every_tag_and_alias() {
    let c = berlin();
    check(&c, "#decision We use Postgres", &[r#"decision "We use Postgres""#], &[]);
    check(&c, "#decided: ship on Monday", &[r#"decision "ship on Monday""#], &[]);
    check(&c, "Decision: go", &[r#"decision "go""#], &[]);
    check(&c, "DECIDED: go", &[r#"decision "go""#], &[]);
    check(&c, "#action Write docs", &[r#"task "Write docs""#], &[]);
    check(&c, "#todo Write docs", &[r#"task "Write docs""#], &[]);
    check(&c, "#Task Write docs", &[r#"task "Write docs""#], &[]);
    check(&c, "Action: Write docs", &[r#"task "Write docs""#], &[]);
    check(&c, "TODO: Write docs", &[r#"task "Write docs""#], &[]);
    check(&c, "#propose Move to Rust by friday", &[r#"proposal "Move to Rust" closes=2026-11-27T16:00:00Z due_text="friday""#], &[]);
    check(&c, "#proposal Move to Rust by Dec 3", &[r#"proposal "Move to Rust" closes=2026-12-03T16:00:00Z due_text="Dec 3""#], &[]);
    check(&c, "Proposal: Move to Rust by 2026-12-03", &[r#"proposal "Move to Rust" closes=2026-12-03T16:00:00Z due_text="2026-12-03""#], &[]);
    check(&c, "#object P-2 too risky", &[r#"objection "too risky" target=P-2"#], &[]);
    check(&c, "#block too risky", &[r#"objection "too risky""#], &[]);
    check(&c, "#done T-4", &[r#"command "" verb=done target=T-4"#], &[]);
    check(&c, "#closed T-4 shipped", &[r#"command "shipped" verb=done target=T-4"#], &[]);
    check(&c, "#done", &[r#"command "" verb=done"#], &[]);
    check(&c, "#assign T-4 @carol", &[r#"command "" verb=assign target=T-4 owner=carol"#], &[]);
    check(&c, "#due T-4 friday 3pm", &[r#"command "" verb=due target=T-4 due=2026-11-27T14:00:00Z due_text="friday 3pm""#], &[]);
    check(&c, "#cancel T-4 not needed", &[r#"command "not needed" verb=cancel target=T-4"#], &[]);
    check(&c, "#reopen t-4", &[r#"command "" verb=reopen target=T-4"#], &[]);
    check(&c, "#goal q3-launch Launch in Q3\n#decision Go", &[r#"decision "Go" goal=q3-launch"#], &[]);
}

#[test]
#[rustfmt::skip]
fn goal_is_reported_with_title() {
    let c = berlin();
    let got = run(
        &c,
        "",
        "#goal Q3-Launch Launch in Q3\n#action Write docs @bob",
    );
    let goal = got.goal.unwrap_or_else(|| panic!("no goal"));
    assert_eq!(goal.slug, "q3-launch");
    assert_eq!(goal.title.as_deref(), Some("Launch in Q3"));
    assert_eq!(got.items[0].goal.as_deref(), Some("q3-launch"));
    let got = run(&c, "", "#goal hiring");
    assert!(got.items.is_empty());
    assert_eq!(got.goal.map(|g| g.title), Some(None));
}

#[test]
#[rustfmt::skip]
fn tasks_owners_watchers_due() {
    let c = berlin();
    check(&c, "#action Ship the release @bob due friday", &[r#"task "Ship the release" owner=bob due=2026-11-27T16:00:00Z due_text="friday""#], &[]);
    check(&c, "#action @bob @carol review the PR by tomorrow 5pm", &[r#"task "review the PR" owner=bob watchers=carol due=2026-11-25T16:00:00Z due_text="tomorrow 5pm""#], &[]);
    check(&c, "#action Ask @bob@example.org to review, cc @dana by Dec 3", &[r#"task "Ask to review, cc" owner=bob@example.org watchers=dana due=2026-12-03T16:00:00Z due_text="Dec 3""#], &[]);
    check(&c, "#action Fix login by friday @bob", &[r#"task "Fix login" owner=bob due=2026-11-27T16:00:00Z due_text="friday""#], &[]);
    check(&c, "#action Fix login @bob @Bob @bob.", &[r#"task "Fix login" owner=bob"#], &[]);
    check(&c, "#action Review the draft written by Alice", &[r#"task "Review the draft written by Alice""#], &[]);
    check(&c, "#action Fix the bug due to caching", &[r#"task "Fix the bug due to caching""#], &[]);
    check(&c, "#action Review the copy by the team by friday", &[r#"task "Review the copy by the team" due=2026-11-27T16:00:00Z due_text="friday""#], &[]);
    check(&c, "#action Follow up on T-3 and D-2 (see T-3) @bob", &[r#"task "Follow up on T-3 and D-2 (see T-3)" owner=bob refs=T-3,D-2"#], &[]);
    check(&c, "#action Prepare slides\nfor the board meeting\n@erin due next week", &[r#"task "Prepare slides for the board meeting" owner=erin due=2026-11-30T16:00:00Z due_text="next week""#], &[]);
    check(&c, "#action Call the vendor — @bob, due: in 3 days", &[r#"task "Call the vendor" owner=bob due=2026-11-27T16:00:00Z due_text="in 3 days""#], &[]);
    check(&c, "#action Update wiki (@carol) by EOD", &[r#"task "Update wiki" owner=carol due=2026-11-24T16:00:00Z due_text="EOD""#], &[]);
    check(&c, "#action Retro notes by eow", &[r#"task "Retro notes" due=2026-11-27T16:00:00Z due_text="eow""#], &[]);
}

#[test]
#[rustfmt::skip]
fn text_runs_and_boundaries() {
    let c = berlin();
    check(&c, "Hi all,\n\n#decision We go with plan B\nbecause it is cheaper.\n\nThanks, Ann", &[r#"decision "We go with plan B because it is cheaper.""#], &[]);
    check(&c, "#decision A\n#decision B", &[r#"decision "A""#, r#"decision "B""#], &[]);
    check(&c, "#decision A\n> #decision quoted\nstill text?", &[r#"decision "A""#], &[]);
    check(&c, "> #action never\n> TODO: never", &[], &[]);
    check(&c, "We made a #decision here, #action too", &[], &[]);
    check(&c, "  #decision   spaced    out  ", &[r#"decision "spaced out""#], &[]);
    check(&c, "#decision A\n   \n  continued?", &[r#"decision "A""#], &[]);
    check(&c, "#decision", &[], &["no text"]);
}

#[test]
#[rustfmt::skip]
fn list_markers_and_client_styles() {
    let c = los_angeles();
    // Outlook-style numbered list.
    check(&c, "Notes from today:\n1. #decision Freeze on Dec 10\n2. #action Cut the branch @sam due Dec 9\n3. Celebrate", &[r#"decision "Freeze on Dec 10""#, r#"task "Cut the branch" owner=sam due=2026-12-10T01:00:00Z due_text="Dec 9""#], &[]);
    // Gmail-style bullets and Apple Mail's bullet character.
    check(&c, "- #todo Book room @lee by thursday\n* TODO: Order pizza\n• Action: Send invite @kim tomorrow", &[r#"task "Book room" owner=lee due=2026-11-27T01:00:00Z due_text="thursday""#, r#"task "Order pizza""#, r#"task "Send invite tomorrow" owner=kim"#], &[]);
    // Interleaved reply: quoted context stays, new text answers.
    check(&c, "> Can we ship Friday?\n#decision Yes, ship Friday.\n> Who writes the notes?\n#action Release notes @kim due friday 10am", &[r#"decision "Yes, ship Friday.""#, r#"task "Release notes" owner=kim due=2026-11-27T18:00:00Z due_text="friday 10am""#], &[]);
}

#[test]
#[rustfmt::skip]
fn cjk_text_around_tags() {
    let c = auckland();
    check(&c, "大家好，\n\n#decision 我们使用 Postgres\n\n#action 准备发布说明 @王伟 due friday", &[r#"decision "我们使用 Postgres""#, r#"task "准备发布说明" owner=王伟 due=2026-11-27T04:00:00Z due_text="friday""#], &[]);
    check(&c, "#decision：采用方案B", &[r#"decision "采用方案B""#], &[]);
    check(&c, "本件、#decision は文中なので無視", &[], &[]);
    check(&c, "\u{3000}#action 資料作成 @tanaka 12/03", &[r#"task "資料作成 12/03" owner=tanaka"#], &[]);
    check(&c, "#action 資料作成 @tanaka due 12/03", &[r#"task "資料作成" owner=tanaka due_text="12/03""#], &["ambiguous"]);
}

#[test]
#[rustfmt::skip]
fn subject_decision_rule() {
    let c = berlin();
    check_subject(&c, "[decision] Vendor", "We picked Acme.\nCheaper and faster.\n\nMore later.", &[r#"decision "We picked Acme. Cheaper and faster.""#], &[]);
    check_subject(&c, "Re: AW: [Decision] Vendor", "> quoted\n\nWe picked Acme.", &[r#"decision "We picked Acme.""#], &[]);
    check_subject(&c, "回复：[decision] 供应商", "选择 Acme", &[r#"decision "选择 Acme""#], &[]);
    check_subject(&c, "[decision] Vendor", "#action Tell Acme @bob", &[r#"task "Tell Acme" owner=bob"#], &[]);
    check_subject(&c, "[decision] Vendor is Acme", "", &[r#"decision "Vendor is Acme""#], &[]);
    check_subject(&c, "Vendor [decision]", "We picked Acme.", &[], &[]);
    check_subject(&c, "[decision] Vendor", "#goal vendors\nWe picked Acme.", &[r#"decision "We picked Acme." goal=vendors"#], &[]);
    let got = run(&c, "[decision] x", "Body");
    assert_eq!(got.items[0].origin, Origin::Subject);
}

#[test]
#[rustfmt::skip]
fn commands_bad_refs() {
    let c = berlin();
    check(&c, "#done P-2", &[], &["P-2 is not a task"]);
    check(&c, "#assign T-4", &[], &["needs a new owner"]);
    check(&c, "#assign @bob", &[], &["needs a task id"]);
    check(&c, "#cancel", &[], &["needs a task id"]);
    check(&c, "#due T-4 whenever", &[], &["could not understand 'whenever' as a date"]);
    check(&c, "#due T-4 to Monday", &[r#"command "" verb=due target=T-4 due=2026-11-30T16:00:00Z due_text="Monday""#], &[]);
    check(&c, "#object T-4 nope", &[r#"objection "T-4 nope" refs=T-4"#], &["T-4 is not a proposal"]);
    check(&c, "#assign T-4 @carol @dan", &[r#"command "" verb=assign target=T-4 owner=carol watchers=dan"#], &[]);
}

#[test]
#[rustfmt::skip]
fn real_client_phrasing() {
    let c = berlin();
    check(&c, "#done T-3 T-4, T-5 all shipped", &[r#"command "all shipped" verb=done target=T-3"#, r#"command "all shipped" verb=done target=T-4"#, r#"command "all shipped" verb=done target=T-5"#], &[]);
    check(&c, "#cancel T-3 and T-4", &[r#"command "" verb=cancel target=T-3"#, r#"command "" verb=cancel target=T-4"#], &[]);
    check(&c, "#object to P-3: we lack budget", &[r#"objection "we lack budget" target=P-3"#], &[]);
    check(&c, "#action Send invoice (due Friday)", &[r#"task "Send invoice" due=2026-11-27T16:00:00Z due_text="Friday""#], &[]);
    check(&c, "#action Send invoice due Friday, Nov 27.", &[r#"task "Send invoice" due=2026-11-27T16:00:00Z due_text="Friday, Nov 27""#], &[]);
    check(&c, "#action Send invoice by Friday EOD", &[r#"task "Send invoice" due=2026-11-27T16:00:00Z due_text="Friday EOD""#], &[]);
    check(&c, "#action Send invoice due Thursday Nov 27", &[r#"task "Send invoice" due_text="Thursday Nov 27""#], &["27 November 2026 is a Friday"]);
    check(&c, "#action @bob: draft the budget", &[r#"task "draft the budget" owner=bob"#], &[]);
    check(&c, "#decision - we use Postgres", &[r#"decision "we use Postgres""#], &[]);
    check(&c, "#decision -5% on the budget", &[r#"decision "-5% on the budget""#], &[]);
    check(&c, "#propose Weekly releases by Friday noon", &[r#"proposal "Weekly releases" closes=2026-11-27T11:00:00Z due_text="Friday noon""#], &[]);
    check(&c, "#propose Freeze by 2026-12-03 14:00 UTC", &[r#"proposal "Freeze" closes=2026-12-03T14:00:00Z due_text="2026-12-03 14:00 UTC""#], &[]);
    // A plain tag line keeps the bullets under it; a tag that is a list item ends at the next item.
    check(&c, "#decision We go with vendor A:\n- cheaper\n- faster", &[r#"decision "We go with vendor A: - cheaper - faster""#], &[]);
    check(&c, "- #decision Vendor A\n- plain bullet\n  - #action Tell them @bob", &[r#"decision "Vendor A""#, r#"task "Tell them" owner=bob"#], &[]);
    check(&c, "- #decision Vendor A\n  because cheaper", &[r#"decision "Vendor A because cheaper""#], &[]);
}

#[test]
#[rustfmt::skip]
fn items_cap_counts_command_targets() {
    let c = berlin();
    let body = "#done T-1 T-2 T-3 T-4 T-5 T-6 T-7 T-8 T-9 T-10\n".repeat(30);
    let got = run(&c, "", &body);
    assert_eq!(got.items.len(), MAX_ITEMS);
    assert_eq!(
        got.warnings,
        ["at most 200 items per message; 100 more were ignored"]
    );
}

#[test]
#[rustfmt::skip]
fn bad_and_past_dates() {
    let c = berlin();
    check(&c, "#action Ship it due whenever", &[r#"task "Ship it" due_text="whenever""#], &["could not understand 'whenever' as a date; the task has no due time"]);
    check(&c, "#action Ship it by asap", &[r#"task "Ship it" due_text="asap""#], &["could not understand 'asap'"]);
    check(&c, "#action Ship it due 9999-12-31", &[r#"task "Ship it" due_text="9999-12-31""#], &["too far"]);
    check(&c, "#action Ship it by Dec 3 9999", &[r#"task "Ship it" due_text="Dec 3 9999""#], &["too far"]);
    check(&c, "#action Ship it due Feb 30", &[r#"task "Ship it" due_text="Feb 30""#], &["not a real date"]);
    check(&c, "#action Ship it due 2026-11-01", &[r#"task "Ship it" due=2026-11-01T16:00:00Z due_text="2026-11-01""#], &["due time Sun 2026-11-01 17:00 CET is in the past"]);
    check(&c, "#action Ship it due 12/03", &[r#"task "Ship it" due_text="12/03""#], &["'12/03' is ambiguous: 12 March 2027 or 3 December 2026?"]);
    check(&c, "#propose Adopt Rust", &[r#"proposal "Adopt Rust""#], &["no closing date"]);
    check(&c, "#propose Adopt Rust by someday", &[r#"proposal "Adopt Rust" due_text="someday""#], &["could not understand 'someday'"]);
    check(&c, "#propose Adopt Rust by 2026-11-20", &[r#"proposal "Adopt Rust" closes=2026-11-20T16:00:00Z due_text="2026-11-20""#], &["in the past"]);
    let mut ordered = berlin();
    ordered.date_order = Some(DateOrder::MonthFirst);
    check(&ordered, "#action Ship it due 12/03", &[r#"task "Ship it" due=2026-12-03T16:00:00Z due_text="12/03""#], &[]);
}

#[test]
#[rustfmt::skip]
fn date_forms_in_three_zones() {
    // Each zone at Tue 2026-11-24 09:00 local; default due time 17:00 local.
    let cases: [(&DateContext, &str, &str); 3] = [
        (&berlin(), "friday", "2026-11-27T16:00:00Z"),
        (&los_angeles(), "friday", "2026-11-28T01:00:00Z"),
        (&auckland(), "friday", "2026-11-27T04:00:00Z"),
    ];
    for (c, phrase, want) in cases {
        check_due(c, phrase, want);
    }
    let forms: &[(&str, [&str; 3])] = &[
        (
            "tomorrow",
            [
                "2026-11-25T16:00:00Z",
                "2026-11-26T01:00:00Z",
                "2026-11-25T04:00:00Z",
            ],
        ),
        (
            "tomorrow 5pm",
            [
                "2026-11-25T16:00:00Z",
                "2026-11-26T01:00:00Z",
                "2026-11-25T04:00:00Z",
            ],
        ),
        (
            "today",
            [
                "2026-11-24T16:00:00Z",
                "2026-11-25T01:00:00Z",
                "2026-11-24T04:00:00Z",
            ],
        ),
        (
            "eod",
            [
                "2026-11-24T16:00:00Z",
                "2026-11-25T01:00:00Z",
                "2026-11-24T04:00:00Z",
            ],
        ),
        (
            "eow",
            [
                "2026-11-27T16:00:00Z",
                "2026-11-28T01:00:00Z",
                "2026-11-27T04:00:00Z",
            ],
        ),
        (
            "next week",
            [
                "2026-11-30T16:00:00Z",
                "2026-12-01T01:00:00Z",
                "2026-11-30T04:00:00Z",
            ],
        ),
        (
            "in 3 days",
            [
                "2026-11-27T16:00:00Z",
                "2026-11-28T01:00:00Z",
                "2026-11-27T04:00:00Z",
            ],
        ),
        (
            "in 2 weeks",
            [
                "2026-12-08T16:00:00Z",
                "2026-12-09T01:00:00Z",
                "2026-12-08T04:00:00Z",
            ],
        ),
        (
            "Dec 3",
            [
                "2026-12-03T16:00:00Z",
                "2026-12-04T01:00:00Z",
                "2026-12-03T04:00:00Z",
            ],
        ),
        (
            "3 Dec",
            [
                "2026-12-03T16:00:00Z",
                "2026-12-04T01:00:00Z",
                "2026-12-03T04:00:00Z",
            ],
        ),
        (
            "2026-12-03",
            [
                "2026-12-03T16:00:00Z",
                "2026-12-04T01:00:00Z",
                "2026-12-03T04:00:00Z",
            ],
        ),
        (
            "2026-12-03 14:00",
            [
                "2026-12-03T13:00:00Z",
                "2026-12-03T22:00:00Z",
                "2026-12-03T01:00:00Z",
            ],
        ),
        (
            "5pm",
            [
                "2026-11-24T16:00:00Z",
                "2026-11-25T01:00:00Z",
                "2026-11-24T04:00:00Z",
            ],
        ),
        (
            "17:00",
            [
                "2026-11-24T16:00:00Z",
                "2026-11-25T01:00:00Z",
                "2026-11-24T04:00:00Z",
            ],
        ),
        (
            "noon",
            [
                "2026-11-24T11:00:00Z",
                "2026-11-24T20:00:00Z",
                "2026-11-23T23:00:00Z",
            ],
        ),
        (
            "friday noon",
            [
                "2026-11-27T11:00:00Z",
                "2026-11-27T20:00:00Z",
                "2026-11-26T23:00:00Z",
            ],
        ),
    ];
    let zones = [berlin(), los_angeles(), auckland()];
    for (phrase, wants) in forms {
        for (c, want) in zones.iter().zip(wants) {
            check_due(c, phrase, want);
        }
    }
    // 12/03: ambiguous without a date order, in every zone.
    for c in &zones {
        let got = run(c, "", "#action x due 12/03");
        assert_eq!(got.items[0].due, None);
        assert!(got.warnings[0].contains("ambiguous"), "{:?}", got.warnings);
    }
}

fn check_due(c: &DateContext, phrase: &str, want: &str) {
    let got = run(c, "", &format!("#action Do it due {phrase}"));
    let due = got.items.first().and_then(|i| i.due);
    let due = due.map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    assert_eq!(due.as_deref(), Some(want), "{phrase:?} in {:?}: {:?}", c.zone, got.warnings);
}

#[test]
#[rustfmt::skip]
fn dst_transition_dates_are_the_ones_we_test() {
    // Offsets (hours) just before and after the transition instants, straight from chrono-tz.
    let cases = [
        ("Europe/Berlin", "2026-03-29T00:59:00Z", 1, 2),
        ("Europe/Berlin", "2026-10-25T00:59:00Z", 2, 1),
        ("America/Los_Angeles", "2026-03-08T09:59:00Z", -8, -7),
        ("America/Los_Angeles", "2026-11-01T08:59:00Z", -7, -8),
        ("Pacific/Auckland", "2026-04-04T13:59:00Z", 13, 12),
        ("Pacific/Auckland", "2026-09-26T13:59:00Z", 12, 13),
    ];
    for (zone, before, a, b) in cases {
        let tz: chrono_tz::Tz = zone.parse().unwrap_or(chrono_tz::UTC);
        let t = DateTime::parse_from_rfc3339(before)
            .map(|d| d.with_timezone(&Utc))
            .unwrap_or_default();
        let off = |t: DateTime<Utc>| tz.offset_from_utc_datetime(&t.naive_utc()).fix();
        assert_eq!(off(t).local_minus_utc(), a * 3600, "{zone} {before}");
        let after = t + chrono::Duration::minutes(2);
        assert_eq!(
            off(after).local_minus_utc(),
            b * 3600,
            "{zone} after {before}"
        );
    }
}

#[test]
#[rustfmt::skip]
fn dst_transition_days() {
    // Europe: Sat 2026-03-28 10:00 CET; Sunday springs forward at 02:00.
    let c = ctx("Europe/Berlin", "2026-03-28T09:00:00Z");
    check_due(&c, "tomorrow", "2026-03-29T15:00:00Z");
    check_due(&c, "sunday 2:30am", "2026-03-29T01:30:00Z");
    check_due(&c, "in 2 days", "2026-03-30T15:00:00Z");
    check_due(&c, "in 24 hours", "2026-03-29T09:00:00Z");
    // US spring: Sat 2026-03-07 10:00 PST.
    let c = ctx("America/Los_Angeles", "2026-03-07T18:00:00Z");
    check_due(&c, "tomorrow", "2026-03-09T00:00:00Z");
    check_due(&c, "tomorrow 2:30am", "2026-03-08T10:30:00Z");
    check_due(&c, "monday 9am", "2026-03-09T16:00:00Z");
    // US fall: Sat 2026-10-31 10:00 PDT; 01:30 happens twice on Sunday, the earlier is used.
    let c = ctx("America/Los_Angeles", "2026-10-31T17:00:00Z");
    check_due(&c, "tomorrow", "2026-11-02T01:00:00Z");
    check_due(&c, "sunday 1:30am", "2026-11-01T08:30:00Z");
    check_due(&c, "next week", "2026-11-03T01:00:00Z");
    // NZ autumn: Sat 2026-04-04 10:00 NZDT; 02:30 on Sunday happens twice.
    let c = ctx("Pacific/Auckland", "2026-04-03T21:00:00Z");
    check_due(&c, "tomorrow", "2026-04-05T05:00:00Z");
    check_due(&c, "tomorrow 2:30am", "2026-04-04T13:30:00Z");
    // NZ spring: Sat 2026-09-26 10:00 NZST; Sunday 02:00 → 03:00.
    let c = ctx("Pacific/Auckland", "2026-09-25T22:00:00Z");
    check_due(&c, "tomorrow", "2026-09-27T04:00:00Z");
    check_due(&c, "sunday 2:30am", "2026-09-26T14:30:00Z");
    check_due(&c, "Sep 28", "2026-09-28T04:00:00Z");
}

#[test]
#[rustfmt::skip]
fn fixed_offset_zone_from_date_header() {
    let header = DateTime::parse_from_rfc2822("Tue, 24 Nov 2026 09:00:00 -0500")
        .unwrap_or_else(|e| panic!("{e}"));
    let c = DateContext {
        now: header.with_timezone(&Utc),
        zone: Zone::of_header(&header),
        default_due_time: NaiveTime::from_hms_opt(17, 0, 0).unwrap_or_default(),
        date_order: None,
    };
    check_due(&c, "friday", "2026-11-27T22:00:00Z");
}

/// The parse item JSON of docs/cli.md ("JSON shapes", the parse item of SPEC §5 for the kinds the
/// tag language has): exactly these keys, each of its type, for every kind.
const ITEM_KEYS: [&str; 14] = [
    "kind",
    "text",
    "owner",
    "watchers",
    "due",
    "due_text",
    "closes_at",
    "goal",
    "refs",
    "verb",
    "target",
    "asked_of",
    "default",
    "supersedes",
];

/// What is wrong with one item's JSON shape, or nothing.
fn shape_errors(item: &serde_json::Value) -> Vec<String> {
    use serde_json::Value;
    let Some(obj) = item.as_object() else { return vec![format!("not an object: {item}")] };
    let mut errors = Vec::new();
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort_unstable();
    let mut want = ITEM_KEYS;
    want.sort_unstable();
    if keys != want {
        errors.push(format!("keys {keys:?}, want {want:?}"));
    }
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or_default();
    if !["decision", "task", "proposal", "objection", "command", "ask", "notes"].contains(&kind) {
        errors.push(format!("kind {:?}", obj.get("kind")));
    }
    let string = |k: &str| obj.get(k).is_some_and(Value::is_string);
    let string_or_null = |k: &str| obj.get(k).is_some_and(|v| v.is_string() || v.is_null());
    let strings = |k: &str, each: &dyn Fn(&str) -> bool| {
        obj.get(k).and_then(Value::as_array).is_some_and(|a| a.iter().all(|v| v.as_str().is_some_and(each)))
    };
    // RFC 3339 in UTC, whole seconds: `2026-11-27T16:00:00Z`.
    let time_or_null = |k: &str| match obj.get(k) {
        Some(Value::Null) => true,
        Some(Value::String(t)) => t.ends_with('Z') && t.len() == 20 && chrono::DateTime::parse_from_rfc3339(t).is_ok(),
        _ => false,
    };
    let item_ref = |r: &str| {
        let (prefix, n) = r.split_at(r.len().min(2));
        ["T-", "D-", "P-", "A-", "N-"].contains(&prefix) && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())
    };
    let checks: [(&str, bool); 13] = [
        ("text", string("text")),
        ("owner", string_or_null("owner")),
        ("watchers", strings("watchers", &|w| !w.is_empty() && !w.starts_with('@'))),
        ("due", time_or_null("due")),
        ("due_text", string_or_null("due_text")),
        ("closes_at", time_or_null("closes_at")),
        ("goal", string_or_null("goal")),
        ("refs", strings("refs", &item_ref)),
        ("target", obj.get("target").is_some_and(|v| v.is_null() || v.as_str().is_some_and(item_ref))),
        // Only an ask is asked of members or has a default; only a decision supersedes.
        (
            "asked_of",
            strings("asked_of", &|w| !w.is_empty() && !w.starts_with('@')) && (kind == "ask" || obj["asked_of"] == serde_json::json!([])),
        ),
        ("default", string_or_null("default") && (kind == "ask" || obj["default"].is_null())),
        (
            "supersedes",
            obj.get("supersedes")
                .is_some_and(|v| v.is_null() || (kind == "decision" && v.as_str().is_some_and(|r| r.starts_with("D-") && item_ref(r)))),
        ),
        // A verb belongs to a command, and a command always has one.
        (
            "verb",
            match obj.get("verb") {
                Some(Value::Null) => kind != "command",
                Some(Value::String(v)) => {
                    kind == "command" && ["done", "assign", "due", "cancel", "reopen", "withdraw"].contains(&v.as_str())
                }
                _ => false,
            },
        ),
    ];
    for (key, ok) in checks {
        if !ok {
            errors.push(format!("{key}: {:?}", obj.get(key)));
        }
    }
    // Only a task has a due date, only a proposal or an ask a closing time.
    if kind != "task" && kind != "command" && !obj.get("due").is_some_and(Value::is_null) {
        errors.push(format!("due on a {kind}"));
    }
    if kind != "proposal" && kind != "ask" && !obj.get("closes_at").is_some_and(Value::is_null) {
        errors.push(format!("closes_at on a {kind}"));
    }
    errors
}

#[test]
#[rustfmt::skip]
fn json_shape_matches_spec() {
    let c = berlin();
    // Every kind, with each optional field set in one item and null in another.
    let body = "#goal launch\n\
                #decision Ship on Friday, see T-1\n\
                #action Write the notes T-1 @bob @carol due friday\n\
                #action Tidy up\n\
                #propose Move to Rust by friday\n\
                #object P-2 too risky\n\
                #assign T-4 @carol\n\
                #due T-4 friday 3pm\n\
                #done\n\
                #notes Weekly\n\
                #ask Ship it? @bob by friday default: we ship\n\
                #decision Use Rust supersedes D-1\n\
                #withdraw P-2";
    let got = run(&c, "", body);
    let json = serde_json::to_value(&got.items).unwrap_or_default();
    let items = json.as_array().cloned().unwrap_or_default();
    let kinds: std::collections::BTreeSet<&str> = items.iter().filter_map(|i| i["kind"].as_str()).collect();
    assert_eq!(kinds.into_iter().collect::<Vec<_>>(), ["ask", "command", "decision", "notes", "objection", "proposal", "task"], "{json:#}");
    for item in &items {
        let errors = shape_errors(item);
        assert!(errors.is_empty(), "{errors:?} in {item:#}");
    }
    // Each nullable field is seen set somewhere, so its non-null type was checked too.
    for key in ["owner", "due", "due_text", "closes_at", "goal", "verb", "target", "default", "supersedes"] {
        assert!(items.iter().any(|i| !i[key].is_null()), "no item sets {key}: {json:#}");
    }
    for key in ["watchers", "refs", "asked_of"] {
        assert!(items.iter().any(|i| i[key].as_array().is_some_and(|a| !a.is_empty())), "no item sets {key}: {json:#}");
    }
    // The checker itself rejects a missing key, a wrong type and a stray verb.
    let task = items.iter().find(|i| i["kind"] == "task").cloned().unwrap_or_default();
    for (key, bad) in [("due", serde_json::json!("friday")), ("watchers", serde_json::json!("carol")), ("verb", serde_json::json!("done")), ("refs", serde_json::json!(["X-1"])), ("default", serde_json::json!("we ship")), ("supersedes", serde_json::json!("D-1"))] {
        let mut broken = task.clone();
        broken[key] = bad;
        assert!(!shape_errors(&broken).is_empty(), "{key} accepted: {broken}");
    }
    let mut missing = task.clone();
    if let Some(o) = missing.as_object_mut() {
        o.remove("goal");
    }
    assert!(!shape_errors(&missing).is_empty());

    // The values too, for one task and one command: "T-1 @bob @carol due friday".
    let got = run(
        &c,
        "",
        "#goal launch\n#action Ship it T-1 @bob @carol due friday\n#done",
    );
    let json = serde_json::to_value(&got.items).unwrap_or_default();
    let want = serde_json::json!([
        {"kind": "task", "text": "Ship it T-1", "owner": "bob", "watchers": ["carol"],
         "due": "2026-11-27T16:00:00Z", "due_text": "friday", "closes_at": null, "goal": "launch",
         "refs": ["T-1"], "verb": null, "target": null, "asked_of": [], "default": null, "supersedes": null},
        {"kind": "command", "text": "", "owner": null, "watchers": [], "due": null,
         "due_text": null, "closes_at": null, "goal": "launch", "refs": [], "verb": "done",
         "target": null, "asked_of": [], "default": null, "supersedes": null}
    ]);
    assert_eq!(json, want);
    // "due friday T-1" is no date: the words stay in due_text (not in the title), due is null
    // and a warning says so.
    let got = run(&c, "", "#action Ship it @bob @carol due friday T-1");
    let json = serde_json::to_value(&got.items).unwrap_or_default();
    assert_eq!((&json[0]["text"], &json[0]["due"], &json[0]["due_text"]), (&serde_json::json!("Ship it"), &serde_json::Value::Null, &serde_json::json!("friday T-1")));
    assert!(got.warnings.iter().any(|w| w.contains("could not understand 'friday T-1'")), "{:?}", got.warnings);
}

#[test]
#[rustfmt::skip]
fn caps_many_tags() {
    let c = berlin();
    let body = "#action task @bob due friday\n".repeat(10_000);
    let got = run(&c, "", &body);
    assert_eq!(got.items.len(), MAX_ITEMS);
    assert_eq!(got.warnings.len(), 1, "{:?}", got.warnings);
    assert!(
        got.warnings[0].contains("10000 tags found; only the first 200 were read, 9800 ignored")
    );
}

#[test]
#[rustfmt::skip]
fn caps_megabyte_line() {
    let c = berlin();
    let body = format!("#decision {}", "word ".repeat(200_000));
    let got = run(&c, "", &body);
    assert_eq!(got.items.len(), 1);
    assert!(got.items[0].text.chars().count() <= 2000);
    assert!(got.warnings[0].contains("text longer than 2000 characters was cut"));
    // A megabyte of `by`/`due` words and mentions: bounded, no date found, one cut warning.
    let body = format!("#action {}", "due by @x T-1 ".repeat(80_000));
    let got = run(&c, "", &body);
    assert!(got.warnings.iter().any(|w| w.contains("was cut")));
    // A megabyte line with no newline and no tag.
    let got = run(&c, "[decision] big", &"x".repeat(1_000_000));
    assert_eq!(got.items.len(), 1);
    assert!(got.items[0].text.is_empty() || got.items[0].text.len() <= 2000);
}

/// Issue 15: tags are read from the visible text of the real mail, so a tag in a removed part
/// (bottom-posted quote, forwarded block) never fires, and one written between interleaved quotes
/// does.
#[test]
fn issue_15_tags_fire_only_in_what_the_sender_wrote() {
    let mail = |body: &str| format!("From: j@x.example\r\nSubject: Re: plan\r\nMessage-ID: <t@x>\r\n\r\n{body}").into_bytes();
    let items = |body: &str| -> Vec<String> {
        let visible = docket::parse::mime::trim_eml(&mail(body)).text;
        run(&berlin(), "Re: plan", &visible).items.iter().map(summary).collect()
    };
    let attr = "On Tue, Dec 3, 2024 at 8:02 AM Ravi Kumar <ravi@example.com> wrote:";
    let bottom = items(&format!("{attr}\n> Which one?\n> #decision stay on 4.5\n\nThe new one.\n#decision move to 4.6\n"));
    assert_eq!(bottom.len(), 1, "{bottom:?}");
    assert!(bottom[0].starts_with("decision \"move to 4.6\""), "{bottom:?}");
    let interleaved =
        items(&format!("{attr}\n> Which one?\n> #decision stay on 4.5\n\n#decision move to 4.6\n\n> Who?\n\n#decision Jane does it\n"));
    let texts: Vec<&str> = interleaved.iter().map(String::as_str).collect();
    assert_eq!(texts.len(), 2, "{texts:?}");
    assert!(texts[0].starts_with("decision \"move to 4.6\"") && texts[1].starts_with("decision \"Jane does it\""), "{texts:?}");
    let forwarded = items(
        "FYI below.\n#decision we go\n\n---------- Forwarded message ---------\nFrom: a@b.example\nDate: Mon, 2 Dec 2024 16:10:00 +0100\nSubject: Two\n line subject\nTo: j@x.example\n\n#decision not ours\n",
    );
    assert_eq!(forwarded.len(), 1, "{forwarded:?}");
    assert!(forwarded[0].starts_with("decision \"we go\""), "{forwarded:?}");
}

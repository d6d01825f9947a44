//! Property tests for the tag and date parsers: arbitrary input never panics, and work stays
//! linear, measured with `parse::work` (ten copies of a body cost at most twenty times one).

use chrono::{DateTime, NaiveTime, Utc};
use docket::parse::dates::{DateContext, DateOrder, Zone, parse_due};
use docket::parse::tags::{MAX_ITEMS, MAX_TEXT_CHARS, TagInput, extract};
use docket::parse::work;
use proptest::prelude::*;

fn ctx(zone: &str, secs: i64, order: Option<DateOrder>) -> DateContext {
    DateContext {
        now: DateTime::<Utc>::from_timestamp(secs, 0).unwrap_or_default(),
        zone: Zone::named(zone).unwrap_or(Zone::Named(chrono_tz::UTC)),
        default_due_time: NaiveTime::from_hms_opt(17, 0, 0).unwrap_or_default(),
        date_order: order,
    }
}

/// Lines that look like the tag language, to reach deep paths more often than random text does.
fn tagish_line() -> impl Strategy<Value = String> {
    let head = prop_oneof![
        Just("#action "),
        Just("#decision "),
        Just("#propose "),
        Just("#object "),
        Just("#done "),
        Just("#assign "),
        Just("#due "),
        Just("#cancel "),
        Just("#reopen "),
        Just("#goal "),
        Just("TODO: "),
        Just("Decision: "),
        Just("> #action "),
        Just("- #todo "),
        Just("1. "),
        Just(""),
        Just("   "),
    ];
    let word = prop_oneof![
        Just("@bob".to_owned()),
        Just("@a@b.c".to_owned()),
        Just("due".to_owned()),
        Just("by".to_owned()),
        Just("friday".to_owned()),
        Just("5pm".to_owned()),
        Just("12/03".to_owned()),
        Just("T-3".to_owned()),
        Just("P-1".to_owned()),
        Just("in".to_owned()),
        Just("3".to_owned()),
        Just("days".to_owned()),
        Just("9999-12-31".to_owned()),
        Just("Dec".to_owned()),
        Just("next".to_owned()),
        Just("week".to_owned()),
        Just("eod".to_owned()),
        Just("2026-03-29T02:30".to_owned()),
        "\\PC{0,8}",
    ];
    (head, prop::collection::vec(word, 0..10)).prop_map(|(h, w)| format!("{h}{}", w.join(" ")))
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics(text in "\\PC*", subject in "\\PC{0,40}", secs in -1_000_000_000i64..5_000_000_000) {
        let c = ctx("Europe/Berlin", secs, None);
        let got = extract(&TagInput { visible_text: &text, subject: &subject, dates: &c });
        prop_assert!(got.items.len() <= MAX_ITEMS + 1);
    }

    #[test]
    fn tagish_text_never_panics(lines in prop::collection::vec(tagish_line(), 0..30),
                                zone in prop_oneof![Just("Pacific/Auckland"), Just("America/Los_Angeles"), Just("Asia/Kolkata")],
                                secs in 1_700_000_000i64..1_900_000_000) {
        let c = ctx(zone, secs, Some(DateOrder::DayFirst));
        let text = lines.join("\n");
        let got = extract(&TagInput { visible_text: &text, subject: "Re: [decision] x", dates: &c });
        for item in &got.items {
            prop_assert!(item.text.chars().count() <= MAX_TEXT_CHARS);
            prop_assert!(!item.text.contains('\n') && !item.text.contains("  "));
        }
        prop_assert!(serde_json::to_string(&got.items).is_ok());
    }

    #[test]
    fn tag_work_is_linear(lines in prop::collection::vec(tagish_line(), 1..30)) {
        let c = ctx("Europe/Berlin", 1_795_000_000, None);
        // Ten copies against a hundred (blank-line separated): past the first copy's edge effects.
        let one = lines.join("\n");
        let ten = [one.as_str(); 10].join("\n\n");
        let hundred = [one.as_str(); 100].join("\n\n");
        let (_, w10) = work::measure(|| extract(&TagInput { visible_text: &ten, subject: "", dates: &c }));
        let (_, w100) = work::measure(|| extract(&TagInput { visible_text: &hundred, subject: "", dates: &c }));
        prop_assert!(w100 < 20 * w10.max(1), "ten copies cost {}, a hundred {}", w10, w100);
    }

    #[test]
    fn arbitrary_dates_never_panic(text in "\\PC{0,40}", secs in -10_000_000_000i64..10_000_000_000) {
        let c = ctx("America/New_York", secs, None);
        if let Ok(t) = parse_due(&text, &c) {
            prop_assert!((t - c.now).num_days().abs() <= docket::parse::dates::MAX_DISTANCE_DAYS);
        }
    }
}

/// Work for `body(n)` and `body(10 * n)`: the larger must cost less than 20 times the smaller.
fn assert_linear(what: &str, n: usize, body: impl Fn(usize) -> String) {
    let c = ctx("Europe/Berlin", 1_795_000_000, None);
    let (small, large) = (body(n), body(10 * n));
    let (_, w1) = work::measure(|| extract(&TagInput { visible_text: &small, subject: "", dates: &c }));
    let (_, w10) = work::measure(|| extract(&TagInput { visible_text: &large, subject: "", dates: &c }));
    assert!(w1 > 0, "{what}: no work counted");
    assert!(
        w10 < 20 * w1,
        "{what}: {} bytes cost {w1}, {} bytes cost {w10} (x{:.1}; linear is about x10)",
        small.len(),
        large.len(),
        w10 as f64 / w1 as f64
    );
}

#[test]
fn work_is_linear_in_the_input() {
    assert_linear("tags", 1_000, |n| "- #todo something @bob by friday\n> #action quoted\n".repeat(n));
    assert_linear("run-on lines", 1_000, |n| format!("#action start\n{}", "more words by friday due T-1 @bob\n".repeat(n)));
    assert_linear("date words", 1_000, |n| format!("#action {}", "due by @x T-1 ".repeat(n)));
    assert_linear("one long word", 100_000, |n| format!("#propose {} by friday", "a".repeat(n)));
    assert_linear("blank lines", 10_000, |n| "\n".repeat(n));
    assert_linear("mentions", 1_000, |n| format!("#assign T-4 {}", "@carol ".repeat(n)));
    assert_linear("refs", 1_000, |n| format!("#done {}", "T-3 ".repeat(n)));
}

/// Bounded work on huge input, asserted by behaviour (no wall-clock thresholds):
/// the cap and cut warnings fire for 10,000 tags and 1 MB lines.
#[test]
fn large_inputs_are_bounded() {
    let c = ctx("Europe/Berlin", 1_795_000_000, None);
    let tags = "- #todo something @bob by friday\n> #action quoted\n".repeat(10_000);
    let got = extract(&TagInput { visible_text: &tags, subject: "", dates: &c });
    assert_eq!(got.items.len(), MAX_ITEMS);
    assert!(got.warnings.iter().any(|w| w.contains("9800 ignored")), "{:?}", got.warnings);
    let line = format!("#propose {} by friday", "a".repeat(1 << 20));
    let got = extract(&TagInput { visible_text: &line, subject: "", dates: &c });
    assert_eq!(got.items.len(), 1);
    assert!(got.warnings.iter().any(|w| w.contains("was cut")));
    let newlines = "\n".repeat(1 << 20);
    let got = extract(&TagInput { visible_text: &newlines, subject: "", dates: &c });
    assert!(got.items.is_empty() && got.warnings.is_empty());
}

//! Property tests for the tag and date parsers: arbitrary input never panics, work stays bounded.

use chrono::{DateTime, NaiveTime, Utc};
use docket::parse::dates::{DateContext, DateOrder, Zone, parse_due};
use docket::parse::tags::{MAX_ITEMS, MAX_TEXT_CHARS, TagInput, extract};
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
    fn arbitrary_dates_never_panic(text in "\\PC{0,40}", secs in -10_000_000_000i64..10_000_000_000) {
        let c = ctx("America/New_York", secs, None);
        if let Ok(t) = parse_due(&text, &c) {
            prop_assert!((t - c.now).num_days().abs() <= docket::parse::dates::MAX_DISTANCE_DAYS);
        }
    }
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
